// Renders the tree from markdown.ts as React elements. Text always goes through React as text, so
// nothing in a message can become markup; links only carry the checked addresses from the parser.

import { createElement as h, Fragment, type ReactNode } from 'react';
import { parseMarkdown, type Block, type Inline } from './markdown.ts';

export interface RenderOptions {
  /** The signed-in user's name: mentions of them (and @here/@channel/@all) are highlighted. */
  myUsername?: string;
  /** Link target for ~channel mentions; without it they render as plain text. */
  channelHref?: (name: string) => string;
  /** Words to highlight (search results). */
  highlight?: readonly string[];
}

const EVERYONE = new Set(['here', 'channel', 'all']);

function highlightText(text: string, words: readonly string[] | undefined, key: number): ReactNode {
  if (!words?.length) return text;
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const parts = text.split(new RegExp(`(${escaped})`, 'gi'));
  if (parts.length === 1) return text;
  return h(Fragment, { key }, ...parts.map((p, i) => (i % 2 === 1 ? h('mark', { key: i }, p) : p)));
}

function inline(nodes: Inline[], o: RenderOptions): ReactNode[] {
  return nodes.map((n, key) => {
    switch (n.t) {
      case 'text':
        return o.highlight ? highlightText(n.v, o.highlight, key) : n.v;
      case 'strong':
        return h('strong', { key }, ...inline(n.c, o));
      case 'em':
        return h('em', { key }, ...inline(n.c, o));
      case 'del':
        return h('del', { key }, ...inline(n.c, o));
      case 'code':
        return h('code', { key }, n.v);
      case 'br':
        return h('br', { key });
      case 'link':
        return h('a', { key, href: n.href, target: '_blank', rel: 'noopener noreferrer' }, ...inline(n.c, o));
      case 'emoji':
        return h('span', { key, className: 'emoji', title: `:${n.name}:`, role: 'img', 'aria-label': n.name }, n.char);
      case 'mention': {
        const lower = n.name.toLowerCase();
        const me = lower === o.myUsername?.toLowerCase() || EVERYONE.has(lower);
        return h('span', { key, className: me ? 'mention mention-me' : 'mention', 'data-mention': n.name }, `@${n.name}`);
      }
      case 'channel':
        return o.channelHref ? h('a', { key, className: 'channel-link', href: o.channelHref(n.name), 'data-internal': 'true' }, `~${n.name}`) : `~${n.name}`;
    }
  });
}

function block(b: Block, key: number, o: RenderOptions): ReactNode {
  switch (b.t) {
    case 'p':
      return h('p', { key }, ...inline(b.c, o));
    case 'h':
      return h(`h${Math.min(6, b.level + 2)}`, { key, className: 'md-heading' }, ...inline(b.c, o));
    case 'pre':
      return h('pre', { key, className: 'code-block', 'data-lang': b.lang || undefined }, h('code', null, b.v));
    case 'quote':
      return h('blockquote', { key }, ...b.c.map((c, i) => block(c, i, o)));
    case 'list':
      return h(
        b.ordered ? 'ol' : 'ul',
        { key, start: b.ordered && b.start !== 1 ? b.start : undefined },
        ...b.items.map((item, i) => h('li', { key: i }, ...item.map((c, j) => block(c, j, o)))),
      );
    case 'hr':
      return h('hr', { key });
  }
}

/** A message as React elements. */
export function renderBlocks(blocks: Block[], options: RenderOptions = {}): ReactNode {
  return h(Fragment, null, ...blocks.map((b, i) => block(b, i, options)));
}

const cache = new Map<string, Block[]>();
const CACHE_SIZE = 2000;

/** Parses with a bounded cache: re-renders of the same messages skip the parser. */
export function parseCached(text: string): Block[] {
  let blocks = cache.get(text);
  if (!blocks) {
    blocks = parseMarkdown(text);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(text, blocks);
  }
  return blocks;
}

/** Renders a message's text. */
export function renderMarkdown(text: string, options: RenderOptions = {}): ReactNode {
  return renderBlocks(parseCached(text), options);
}
