// A small, safe Markdown dialect for messages. The parser never produces HTML: it turns text into a
// tree of the few constructs below, and the renderer (markdown-react.ts) turns that tree into React
// elements, so every character of the message reaches the page as text. Raw HTML in a message stays
// literal text. Links are kept only for http, https and mailto addresses.

import { emojiChar } from './emoji.ts';

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'strong' | 'em' | 'del'; c: Inline[] }
  | { t: 'code'; v: string }
  | { t: 'link'; href: string; c: Inline[] }
  | { t: 'mention'; name: string }
  | { t: 'channel'; name: string }
  | { t: 'emoji'; name: string; char: string }
  | { t: 'br' };

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'h'; level: number; c: Inline[] }
  | { t: 'pre'; lang: string; v: string }
  | { t: 'quote'; c: Block[] }
  | { t: 'list'; ordered: boolean; start: number; items: Block[][] }
  | { t: 'hr' };

/** Nesting limit for quotes, lists and emphasis: deeper input is kept as plain text. */
const MAX_DEPTH = 8;

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/**
 * The address to link to, or undefined when it is not an absolute http, https or mailto URL.
 * Control characters and spaces are refused outright, so `java\tscript:` tricks never get parsed.
 */
export function safeUrl(raw: string): string | undefined {
  const value = raw.trim();
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (!value || /[\u0000-\u0020\u007f-\u009f]/.test(value)) return undefined;
  if (!/^(https?:\/\/|mailto:)/i.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (!SAFE_PROTOCOLS.has(url.protocol)) return undefined;
  if (url.protocol !== 'mailto:' && !url.hostname) return undefined;
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Blocks

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$/;
const LIST_ITEM = /^( {0,3})([-*+]|(\d{1,9})[.)])(?: +|$)(.*)$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const RULE = /^ {0,3}([-*_])( *\1){2,} *$/;

/** Parses a message into blocks. */
export function parseMarkdown(text: string): Block[] {
  return parseBlocks(text.replace(/\r\n?/g, '\n').split('\n'), 0);
}

function parseBlocks(lines: string[], depth: number): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1];
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i].trim().startsWith(marker) && lines[i].trim().replace(marker[0] === '`' ? /`/g : /~/g, '') === '')) body.push(lines[i++]);
      i++; // the closing fence (or the end of the message)
      blocks.push({ t: 'pre', lang: fence[2].toLowerCase(), v: body.join('\n') });
      continue;
    }
    if (depth < MAX_DEPTH && QUOTE.test(line)) {
      const inner: string[] = [];
      while (i < lines.length && lines[i].trim()) {
        const m = QUOTE.exec(lines[i]);
        inner.push(m ? m[1] : lines[i]);
        i++;
      }
      blocks.push({ t: 'quote', c: parseBlocks(inner, depth + 1) });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ t: 'h', level: heading[1].length, c: parseInline(heading[2], depth) });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ t: 'hr' });
      i++;
      continue;
    }
    const item = depth < MAX_DEPTH ? LIST_ITEM.exec(line) : null;
    if (item) {
      const consumed = parseList(lines, i, depth);
      blocks.push(consumed.block);
      i = consumed.next;
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i].trim() && !startsBlock(lines[i])) para.push(lines[i++]);
    if (para.length === 0) para.push(lines[i++]);
    blocks.push({ t: 'p', c: joinLines(para, depth) });
  }
  return blocks;
}

function startsBlock(line: string): boolean {
  return FENCE.test(line) || QUOTE.test(line) || HEADING.test(line) || LIST_ITEM.test(line) || RULE.test(line);
}

/** Lines of a paragraph joined by line breaks, as chat users expect (one Enter = one new line). */
function joinLines(lines: string[], depth: number): Inline[] {
  const out: Inline[] = [];
  lines.forEach((l, n) => {
    if (n > 0) out.push({ t: 'br' });
    out.push(...parseInline(l.trim(), depth));
  });
  return out;
}

function parseList(lines: string[], start: number, depth: number): { block: Block; next: number } {
  const first = LIST_ITEM.exec(lines[start])!;
  const ordered = first[3] !== undefined;
  const items: Block[][] = [];
  let i = start;
  while (i < lines.length) {
    const m = LIST_ITEM.exec(lines[i]);
    if (!m || (m[3] !== undefined) !== ordered) break;
    const indent = m[1].length + m[2].length + 1;
    const body = [m[4]];
    i++;
    // Continuation: indented lines (nested lists, wrapped text), and blank lines followed by indented text.
    while (i < lines.length) {
      const next = lines[i];
      if (next.trim() === '') {
        if (i + 1 < lines.length && /^ {2,}\S/.test(lines[i + 1])) {
          body.push('');
          i++;
          continue;
        }
        break;
      }
      if (/^ {2,}\S/.test(next)) body.push(next.slice(Math.min(indent, next.length - next.trimStart().length)));
      else if (!startsBlock(next)) body.push(next);
      else break;
      i++;
    }
    items.push(parseBlocks(body, depth + 1));
    if (i < lines.length && lines[i].trim() === '' && i + 1 < lines.length && LIST_ITEM.test(lines[i + 1])) i++;
  }
  return { block: { t: 'list', ordered, start: ordered ? Number(first[3]) : 1, items }, next: i };
}

// ---------------------------------------------------------------------------------------------
// Inlines

const PUNCTUATION = /[!-/:-@[-`{-~]/;
const URL_START = /^(https?:\/\/|mailto:)/i;
const MENTION = /^@([a-z0-9][a-z0-9._-]*)/i;
const CHANNEL = /^~([a-z0-9][a-z0-9_-]*)/i;
const EMOJI = /^:([a-z0-9_+-]{1,64}):/;

/** Parses one line of text into inline nodes. */
export function parseInline(text: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ t: 'text', v: buf });
    buf = '';
  };
  const push = (node: Inline) => {
    flush();
    out.push(node);
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const prev = i > 0 ? text[i - 1] : ' ';
    const rest = text.slice(i);

    if (ch === '\\' && i + 1 < text.length && PUNCTUATION.test(text[i + 1])) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === '`') {
      const run = /^`+/.exec(rest)![0];
      const close = text.indexOf(run, i + run.length);
      if (close > 0) {
        push({ t: 'code', v: text.slice(i + run.length, close).replace(/^ (.+) $/, '$1') });
        i = close + run.length;
        continue;
      }
      buf += run;
      i += run.length;
      continue;
    }
    if (depth < MAX_DEPTH && (ch === '*' || ch === '_' || ch === '~')) {
      const em = emphasis(text, i, depth);
      if (em) {
        push(em.node);
        i = em.next;
        continue;
      }
    }
    if (ch === '[' && depth < MAX_DEPTH) {
      const link = bracketLink(text, i, depth);
      if (link) {
        push(link.node);
        i = link.next;
        continue;
      }
    }
    if (ch === '<' && /^<(https?:\/\/|mailto:)[^\s<>]+>/i.test(rest)) {
      const end = text.indexOf('>', i);
      const href = safeUrl(text.slice(i + 1, end));
      if (href) {
        push({ t: 'link', href, c: [{ t: 'text', v: text.slice(i + 1, end) }] });
        i = end + 1;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H' || ch === 'm' || ch === 'M') && !/[\w]/.test(prev) && URL_START.test(rest)) {
      const raw = trimUrl(/^\S+/.exec(rest)![0]);
      const href = safeUrl(raw);
      if (href && raw.length > 8) {
        push({ t: 'link', href, c: [{ t: 'text', v: raw }] });
        i += raw.length;
        continue;
      }
    }
    if (ch === '@' && !/[\w@.]/.test(prev)) {
      const m = MENTION.exec(rest);
      if (m) {
        const name = m[1].replace(/[._-]+$/, '');
        push({ t: 'mention', name });
        i += name.length + 1;
        continue;
      }
    }
    if (ch === '~' && !/[\w~]/.test(prev)) {
      const m = CHANNEL.exec(rest);
      if (m) {
        const name = m[1].replace(/[_-]+$/, '');
        push({ t: 'channel', name });
        i += name.length + 1;
        continue;
      }
    }
    if (ch === ':') {
      const m = EMOJI.exec(rest);
      const char = m ? emojiChar(m[1]) : undefined;
      if (m && char) {
        push({ t: 'emoji', name: m[1], char });
        i += m[0].length;
        continue;
      }
    }
    buf += ch;
    i++;
  }
  flush();
  return out;
}

/** Drops trailing punctuation a sentence adds after a URL, and a closing parenthesis it did not open. */
function trimUrl(raw: string): string {
  let url = raw;
  for (;;) {
    const last = url[url.length - 1];
    if (/[.,;:!?'"*_~]/.test(last)) url = url.slice(0, -1);
    else if (last === ')' && count(url, '(') < count(url, ')')) url = url.slice(0, -1);
    else if (last === '>' || last === ']') url = url.slice(0, -1);
    else return url;
  }
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** `**strong**`, `__strong__`, `*em*`, `_em_`, `~~strike~~` when the delimiters pair up sensibly. */
function emphasis(text: string, i: number, depth: number): { node: Inline; next: number } | undefined {
  const ch = text[i];
  const double = text[i + 1] === ch;
  if (ch === '~' && !double) return undefined;
  const delim = double ? ch + ch : ch;
  const openAfter = text[i + delim.length];
  if (!openAfter || /\s/.test(openAfter) || openAfter === ch) return undefined;
  // Underscores inside words (snake_case) are not emphasis.
  if (ch === '_' && i > 0 && /\w/.test(text[i - 1])) return undefined;
  let from = i + delim.length;
  for (;;) {
    const close = text.indexOf(delim, from);
    if (close < 0) return undefined;
    const before = text[close - 1];
    const after = text[close + delim.length];
    const okClose = !/\s/.test(before) && !(ch === '_' && after && /\w/.test(after)) && !(!double && after === ch);
    if (okClose && close > i + delim.length) {
      const inner = parseInline(text.slice(i + delim.length, close), depth + 1);
      const t = ch === '~' ? 'del' : double ? 'strong' : 'em';
      return { node: { t, c: inner }, next: close + delim.length };
    }
    from = close + 1;
  }
}

/** `[label](url)`: a link when the URL is safe, otherwise nothing (the text stays literal). */
function bracketLink(text: string, i: number, depth: number): { node: Inline; next: number } | undefined {
  let level = 0;
  let close = -1;
  for (let j = i; j < text.length; j++) {
    if (text[j] === '\\') {
      j++;
      continue;
    }
    if (text[j] === '[') level++;
    else if (text[j] === ']' && --level === 0) {
      close = j;
      break;
    }
  }
  if (close < 0 || text[close + 1] !== '(') return undefined;
  const m = /^\(\s*<?([^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)>?(?:\s+"[^"]*")?\s*\)/.exec(text.slice(close + 1));
  if (!m) return undefined;
  const href = safeUrl(m[1]);
  if (!href) return undefined;
  const label = text.slice(i + 1, close);
  return { node: { t: 'link', href, c: label ? parseInline(label, depth + 1) : [{ t: 'text', v: m[1] }] }, next: close + 1 + m[0].length };
}

/** Every @mention in a message, lower-cased (for highlighting the messages that mention you). */
export function mentionsIn(blocks: Block[]): Set<string> {
  const names = new Set<string>();
  const visitInline = (nodes: Inline[]) => {
    for (const n of nodes) {
      if (n.t === 'mention') names.add(n.name.toLowerCase());
      else if ('c' in n) visitInline(n.c);
    }
  };
  const visit = (bs: Block[]) => {
    for (const b of bs) {
      if (b.t === 'p' || b.t === 'h') visitInline(b.c);
      else if (b.t === 'quote') visit(b.c);
      else if (b.t === 'list') b.items.forEach(visit);
    }
  };
  visit(blocks);
  return names;
}
