import { expect } from 'chai';
import { renderToStaticMarkup } from 'react-dom/server';
import { parseInline, parseMarkdown, safeUrl, mentionsIn } from '../../webapp/src/lib/markdown.ts';
import { renderMarkdown } from '../../webapp/src/lib/markdown-react.ts';

const html = (text: string, options = {}) => renderToStaticMarkup(renderMarkdown(text, options) as never);

describe('webapp markdown', () => {
  describe('constructs', () => {
    it('renders bold, italic, strike and inline code', () => {
      expect(html('**bold** *it* _also_ ~~gone~~ `x < y`')).to.equal('<p><strong>bold</strong> <em>it</em> <em>also</em> <del>gone</del> <code>x &lt; y</code></p>');
    });

    it('leaves underscores inside words alone (snake_case)', () => {
      expect(html('call my_var_name now')).to.equal('<p>call my_var_name now</p>');
    });

    it('renders fenced code blocks verbatim, with the language noted', () => {
      expect(html('before\n```ts\nconst a = "<b>";\n**not bold**\n```\nafter')).to.equal(
        '<p>before</p><pre class="code-block" data-lang="ts"><code>const a = &quot;&lt;b&gt;&quot;;\n**not bold**</code></pre><p>after</p>',
      );
    });

    it('keeps an unclosed fence as code to the end of the message', () => {
      expect(parseMarkdown('```\nline')).to.deep.equal([{ t: 'pre', lang: '', v: 'line' }]);
    });

    it('turns single newlines into line breaks within a paragraph', () => {
      expect(html('one\ntwo\n\nthree')).to.equal('<p>one<br/>two</p><p>three</p>');
    });

    it('renders block quotes, and lists with nesting and numbering', () => {
      expect(html('> quoted **text**\n> more')).to.equal('<blockquote><p>quoted <strong>text</strong><br/>more</p></blockquote>');
      expect(html('- a\n- b\n  - c')).to.equal('<ul><li><p>a</p></li><li><p>b</p><ul><li><p>c</p></li></ul></li></ul>');
      expect(html('3. x\n4. y')).to.equal('<ol start="3"><li><p>x</p></li><li><p>y</p></li></ol>');
    });

    it('links http, https and mailto addresses, in brackets or bare, opening safely', () => {
      expect(html('[docs](https://example.com/a?b=1)')).to.equal('<p><a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer">docs</a></p>');
      expect(html('see https://example.com/x.')).to.equal('<p>see <a href="https://example.com/x" target="_blank" rel="noopener noreferrer">https://example.com/x</a>.</p>');
      expect(html('(https://en.wikipedia.org/wiki/Foo_(bar))')).to.include('href="https://en.wikipedia.org/wiki/Foo_(bar)"');
      expect(html('[mail me](mailto:a@example.com)')).to.include('href="mailto:a@example.com"');
    });

    it('marks @mentions and highlights the reader and channel-wide mentions', () => {
      expect(html('hi @alice and @bob.', { myUsername: 'bob' })).to.equal(
        '<p>hi <span class="mention" data-mention="alice">@alice</span> and <span class="mention mention-me" data-mention="bob">@bob</span>.</p>',
      );
      expect(html('@here now')).to.include('mention-me');
      expect(html('mail a@b.com')).to.equal('<p>mail a@b.com</p>');
      expect([...mentionsIn(parseMarkdown('@Alice > and @bob'))]).to.deep.equal(['alice', 'bob']);
    });

    it('links ~channels inside the team when given a target', () => {
      expect(html('see ~town-square', { channelHref: (n: string) => `/t/channels/${n}` })).to.equal(
        '<p>see <a class="channel-link" href="/t/channels/town-square" data-internal="true">~town-square</a></p>',
      );
    });

    it('renders known :emoji: and leaves unknown ones as text', () => {
      expect(html(':tada: :nope:')).to.equal('<p><span class="emoji" title=":tada:" role="img" aria-label="tada">🎉</span> :nope:</p>');
    });

    it('honours backslash escapes', () => {
      expect(html('\\*not em\\*')).to.equal('<p>*not em*</p>');
    });
  });

  describe('safety', () => {
    const attacks = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[x](javascript:alert(1))',
      '[x](JaVaScRiPt:alert(1))',
      '[x](java\tscript:alert(1))',
      '[x]( javascript:alert(1))',
      '[x](data:text/html;base64,PHNjcmlwdD4=)',
      '[x](vbscript:msgbox)',
      '[x](&#106;avascript:alert(1))',
      '<a href="javascript:alert(1)">x</a>',
      '[x](https://ok.example/" onmouseover="alert(1))',
      '**<svg onload=alert(1)>**',
      '`<iframe src=//evil>`',
      '```\n</code><script>alert(1)</script>\n```',
      '[<img src=x onerror=alert(1)>](https://example.com)',
      '<javascript:alert(1)>',
      'javascript:alert(1)',
      '[x](//evil.example/path)',
      '[x](/relative/path)',
    ];

    for (const attack of attacks) {
      it(`renders ${JSON.stringify(attack)} without markup or a script URL`, () => {
        const out = html(attack);
        expect(out).not.to.match(/<(script|img|svg|iframe|object|embed|style)/i);
        expect(out).not.to.match(/<[^>]*\son\w+=/i); // no event handler attribute inside any tag
        expect(out).not.to.match(/href="(?!https?:|mailto:|\/t\/)/i);
        expect(out.toLowerCase()).not.to.include('href="javascript');
        expect(out.toLowerCase()).not.to.include('href="data');
      });
    }

    it('only keeps absolute http, https and mailto URLs', () => {
      expect(safeUrl('https://a.example/')).to.equal('https://a.example/');
      expect(safeUrl('HTTP://A.example')).to.equal('http://a.example/');
      expect(safeUrl('mailto:x@y.z')).to.equal('mailto:x@y.z');
      for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'ftp://x', '//x.example', '/x', 'https://', 'https://a b', 'http://\u0000x']) {
        expect(safeUrl(bad), bad).to.equal(undefined);
      }
    });

    it('survives pathological nesting without blowing the stack', () => {
      const deep = '>'.repeat(5000) + ' x';
      expect(() => html(deep)).not.to.throw();
      const emph = '**'.repeat(3000) + 'x' + '**'.repeat(3000);
      expect(() => parseInline(emph)).not.to.throw();
      const list = Array.from({ length: 200 }, (_, i) => ' '.repeat(i * 2) + '- x').join('\n');
      expect(() => html(list)).not.to.throw();
    });
  });
});
