// deploy/nginx/custodian.conf: parsed into blocks and directives (a small nginx tokenizer), checked for
// the WebSocket upgrade, the upload size and TLS; `nginx -t` too when nginx is installed.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { generateTlsCertificate } from '../../server/http/tls.ts';
import { repoRoot } from '../support/cli.ts';

const confFile = path.join(repoRoot, 'deploy', 'nginx', 'custodian.conf');
const confText = fs.readFileSync(confFile, 'utf8');

interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

/** nginx's syntax: words, quoted strings, `;` ends a directive, `{ ... }` a block, `#` a comment. */
function parseNginx(text: string): Directive[] {
  const tokens: string[] = [];
  const re = /#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};#"']+/g;
  for (const [token] of text.matchAll(re)) if (!token.startsWith('#')) tokens.push(token);
  let i = 0;
  const parseBlock = (nested: boolean): Directive[] => {
    const out: Directive[] = [];
    let words: string[] = [];
    while (i < tokens.length) {
      const token = tokens[i++];
      if (token === ';') {
        if (!words.length) throw new Error('empty directive');
        out.push({ name: words[0], args: words.slice(1) });
        words = [];
      } else if (token === '{') {
        if (!words.length) throw new Error('block without a name');
        out.push({ name: words[0], args: words.slice(1), block: parseBlock(true) });
        words = [];
      } else if (token === '}') {
        if (!nested) throw new Error('unbalanced }');
        if (words.length) throw new Error(`"${words.join(' ')}" is missing its ;`);
        return out;
      } else {
        words.push(token.replace(/^["'](.*)["']$/, '$1'));
      }
    }
    if (nested) throw new Error('unclosed {');
    if (words.length) throw new Error(`"${words.join(' ')}" is missing its ;`);
    return out;
  };
  return parseBlock(false);
}

const conf = parseNginx(confText);
const all = (list: Directive[], name: string) => list.filter((d) => d.name === name);
const one = (list: Directive[], name: string) => {
  const found = all(list, name);
  expect(found, name).to.have.length(1);
  return found[0];
};

describe('deploy/nginx/custodian.conf', () => {
  const servers = all(conf, 'server');
  const tlsServer = servers.find((s) => all(s.block!, 'listen').some((l) => l.args.includes('ssl')))!;

  it('parses: balanced blocks, every directive terminated', () => {
    expect(() => parseNginx('server { listen 80 }')).to.throw(/missing its ;/);
    expect(() => parseNginx('server { listen 80;')).to.throw(/unclosed/);
    expect(servers).to.have.length(2);
  });

  it('upgrades WebSockets: HTTP/1.1 to the upstream with Upgrade and Connection from the map', () => {
    const map = one(conf, 'map');
    expect(map.args).to.deep.equal(['$http_upgrade', '$connection_upgrade']);
    expect(map.block!.map((d) => [d.name, ...d.args])).to.deep.include.members([['default', 'upgrade'], ['', '']]);
    const body = tlsServer.block!;
    expect(one(body, 'proxy_http_version').args).to.deep.equal(['1.1']);
    const headers = all(body, 'proxy_set_header').map((d) => d.args);
    expect(headers).to.deep.include(['Upgrade', '$http_upgrade']);
    expect(headers).to.deep.include(['Connection', '$connection_upgrade']);
    expect(headers).to.deep.include(['X-Forwarded-Proto', '$scheme']);
    const ws = all(body, 'location').find((l) => l.args[0] === '/api/v4/websocket')!;
    expect(parseInt(one(ws.block!, 'proxy_read_timeout').args[0], 10)).to.be.at.least(3600);
    expect(one(ws.block!, 'proxy_buffering').args).to.deep.equal(['off']);
  });

  it('accepts uploads of 100 MiB and more, and proxies every location to the upstream of several nodes', () => {
    const size = one(tlsServer.block!, 'client_max_body_size').args[0];
    const mb = parseInt(size, 10) * (size.endsWith('g') ? 1024 : size.endsWith('m') ? 1 : 1 / 1048576);
    expect(mb).to.be.at.least(100);
    const upstream = one(conf, 'upstream');
    expect(all(upstream.block!, 'server').length).to.be.at.least(2);
    for (const location of all(tlsServer.block!, 'location')) expect(one(location.block!, 'proxy_pass').args).to.deep.equal([`http://${upstream.args[0]}`]);
  });

  it('terminates TLS 1.2+ and redirects plain HTTP', () => {
    expect(one(tlsServer.block!, 'ssl_protocols').args).to.deep.equal(['TLSv1.2', 'TLSv1.3']);
    const plain = servers.find((s) => s !== tlsServer)!;
    expect(one(plain.block!, 'return').args[0]).to.equal('301');
  });

  it('passes `nginx -t` when nginx is installed', function () {
    if (spawnSync('nginx', ['-v']).status !== 0) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-nginx-'));
    try {
      const pair = generateTlsCertificate('chat.example.com');
      fs.writeFileSync(path.join(dir, 'site.crt'), pair.cert);
      fs.writeFileSync(path.join(dir, 'site.key'), pair.key);
      const site = confText.replace('/etc/nginx/tls/chat.example.com.crt', path.join(dir, 'site.crt')).replace('/etc/nginx/tls/chat.example.com.key', path.join(dir, 'site.key'));
      fs.writeFileSync(path.join(dir, 'custodian.conf'), site);
      fs.writeFileSync(path.join(dir, 'nginx.conf'), `pid ${dir}/nginx-${crypto.randomUUID()}.pid;\nerror_log stderr;\nevents {}\nhttp {\n  include ${dir}/custodian.conf;\n}\n`);
      const result = spawnSync('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      expect(result.status, result.stderr).to.equal(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
