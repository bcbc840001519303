// The eDiscovery query language: Mattermost's search syntax (server/search/terms.ts parses its
// filters) plus explicit AND / OR / NOT and parentheses between text terms, and three filters of its
// own: has:file, custodian:<username> and hold:<id or name>. Text terms compile to one PostgreSQL
// tsquery, used for matching and for highlighting; legal holds use the same text syntax for their
// optional query.
import { InvalidInputError } from '../../server/lib/errors.ts';
import { parseSearchTerms, type ParsedSearch } from '../../server/search/terms.ts';
import type { TextNode } from '../../server/search/text-query.ts';

export type { TextNode } from '../../server/search/text-query.ts';
export { tsquerySql } from '../../server/search/text-query.ts';

export interface EdiscoveryQuery {
  text?: TextNode;
  /** from:, in:, before:, after:, on: (and -from:, -in:) as Mattermost's parser reads them. */
  filters: Pick<ParsedSearch, 'fromUsers' | 'excludedFromUsers' | 'inChannels' | 'excludedInChannels' | 'before' | 'after' | 'on'>;
  hasFile: boolean;
  custodians: string[];
  holds: string[];
}

const MAX_TERMS = 64;
const filterToken = /^(-?)(from|in|channel|before|after|on|has|custodian|hold):(.+)$/i;

function queryError(detail: string): InvalidInputError {
  return new InvalidInputError('api.ediscovery.query.invalid.app_error', `The search query is not valid: ${detail}`, detail);
}

type Token = { kind: 'term'; node: TextNode; negated: boolean } | { kind: 'op'; op: 'AND' | 'OR' | 'NOT' } | { kind: 'open'; negated: boolean } | { kind: 'close' };

/** Splits the query into filters and text tokens; quotes keep phrases (and filter-looking text) whole. */
function tokenize(input: string): { tokens: Token[]; filters: string[] } {
  const tokens: Token[] = [];
  const filters: string[] = [];
  const pattern = /(-?)"([^"]*)"?|(-?)\(|\)|([^\s()"]+)/g;
  for (const m of input.slice(0, 4000).matchAll(pattern)) {
    if (m[2] !== undefined) {
      const text = m[2].trim();
      if (text) tokens.push({ kind: 'term', node: { type: 'phrase', text }, negated: m[1] === '-' });
      continue;
    }
    if (m[0].endsWith('(')) {
      tokens.push({ kind: 'open', negated: m[3] === '-' });
      continue;
    }
    if (m[0] === ')') {
      tokens.push({ kind: 'close' });
      continue;
    }
    const raw = m[4];
    if (raw === 'AND' || raw === 'OR' || raw === 'NOT') {
      tokens.push({ kind: 'op', op: raw });
      continue;
    }
    if (filterToken.test(raw)) {
      filters.push(raw);
      continue;
    }
    const negated = raw.startsWith('-') && raw.length > 1;
    const word = (negated ? raw.slice(1) : raw).replace(/^#/, '');
    if (!word) continue;
    const node: TextNode = word.endsWith('*') && word.length > 1 ? { type: 'prefix', text: word.slice(0, -1) } : { type: 'word', text: word };
    tokens.push({ kind: 'term', node, negated });
  }
  return { tokens, filters };
}

/** Recursive descent: or := and (OR and)*; and := unary ((AND)? unary)*; unary := NOT unary | ( or ) | term. */
class TextParser {
  private readonly tokens: Token[];
  private readonly defaultOr: boolean;
  private at = 0;
  terms = 0;

  constructor(tokens: Token[], defaultOr: boolean) {
    this.tokens = tokens;
    this.defaultOr = defaultOr;
  }

  parse(): TextNode | undefined {
    if (this.tokens.length === 0) return undefined;
    const node = this.or();
    if (this.at < this.tokens.length) throw queryError('unbalanced parentheses');
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private or(): TextNode {
    const items = [this.and()];
    while (this.peek()?.kind === 'op' && (this.peek() as { op: string }).op === 'OR') {
      this.at++;
      items.push(this.and());
    }
    return items.length === 1 ? items[0] : { type: 'or', items };
  }

  private and(): TextNode {
    // Terms side by side are joined by the default operator (AND, or OR for is_or_search); an
    // explicit AND always binds its neighbours.
    const groups: TextNode[][] = [];
    let current = [this.unary()];
    for (;;) {
      const next = this.peek();
      if (!next || next.kind === 'close' || (next.kind === 'op' && next.op === 'OR')) break;
      if (next.kind === 'op' && next.op === 'AND') {
        this.at++;
        current.push(this.unary());
      } else if (this.defaultOr) {
        groups.push(current);
        current = [this.unary()];
      } else {
        current.push(this.unary());
      }
    }
    groups.push(current);
    const joined = groups.map((g): TextNode => (g.length === 1 ? g[0] : { type: 'and', items: g }));
    return joined.length === 1 ? joined[0] : { type: 'or', items: joined };
  }

  private unary(): TextNode {
    const token = this.tokens[this.at++];
    if (!token) throw queryError('the query ends where a term was expected');
    if (token.kind === 'op') {
      if (token.op !== 'NOT') throw queryError(`${token.op} needs a term on each side`);
      return { type: 'not', item: this.unary() };
    }
    if (token.kind === 'close') throw queryError('unbalanced parentheses');
    if (token.kind === 'open') {
      const inner = this.or();
      if (this.tokens[this.at++]?.kind !== 'close') throw queryError('unbalanced parentheses');
      return token.negated ? { type: 'not', item: inner } : inner;
    }
    if (token.kind !== 'term') throw queryError('unexpected operator');
    if (++this.terms > MAX_TERMS) throw queryError(`at most ${MAX_TERMS} terms`);
    return token.negated ? { type: 'not', item: token.node } : token.node;
  }
}

/** Parses an eDiscovery query. `defaultOr` joins side-by-side terms with OR (Mattermost's is_or_search). */
export function parseEdiscoveryQuery(input: string, options: { defaultOr?: boolean } = {}): EdiscoveryQuery {
  const { tokens, filters } = tokenize(input);
  const text = new TextParser(tokens, options.defaultOr ?? false).parse();
  const custodians: string[] = [];
  const holds: string[] = [];
  let hasFile = false;
  const mattermostFilters: string[] = [];
  for (const raw of filters) {
    const [, negated, kindRaw, valueRaw] = filterToken.exec(raw)!;
    const kind = kindRaw.toLowerCase();
    const value = valueRaw.replace(/^[@~]/, '');
    if (kind === 'has') {
      if (negated || !['file', 'files', 'attachment', 'attachments'].includes(value.toLowerCase())) throw queryError(`unknown filter ${raw} (has:file is supported)`);
      hasFile = true;
    } else if (kind === 'custodian') {
      if (negated) throw queryError('-custodian: is not supported');
      custodians.push(value.toLowerCase());
    } else if (kind === 'hold') {
      if (negated) throw queryError('-hold: is not supported');
      holds.push(value);
    } else {
      mattermostFilters.push(raw);
    }
  }
  const parsed = parseSearchTerms(mattermostFilters.join(' '));
  if (parsed.words.length) throw queryError(`${parsed.words.join(', ')}: dates are written YYYY-MM-DD`);
  const { fromUsers, excludedFromUsers, inChannels, excludedInChannels, before, after, on } = parsed;
  return { text, filters: { fromUsers, excludedFromUsers, inChannels, excludedInChannels, before, after, on }, hasFile, custodians, holds };
}

/** True when the query has a filter (text terms aside), so a filter-only search is allowed. */
export function hasFilters(q: EdiscoveryQuery): boolean {
  const f = q.filters;
  return Boolean(q.hasFile || q.custodians.length || q.holds.length || f.fromUsers.length || f.excludedFromUsers.length || f.inChannels.length || f.excludedInChannels.length || f.before || f.after || f.on);
}

/** The words worth highlighting in a client (positive terms only). */
export function highlightTerms(node: TextNode | undefined, negated = false): string[] {
  if (!node) return [];
  switch (node.type) {
    case 'word':
    case 'phrase':
      return negated ? [] : [node.text];
    case 'prefix':
      return negated ? [] : [`${node.text}*`];
    case 'not':
      return highlightTerms(node.item, !negated);
    default:
      return node.items.flatMap((n) => highlightTerms(n, negated));
  }
}

/** The text-only query of a legal hold: filters are refused (a hold's scope has its own fields). */
export function parseHoldQuery(input: string): TextNode | undefined {
  const q = parseEdiscoveryQuery(input);
  if (hasFilters(q)) throw queryError('a legal hold query holds text terms only; custodians, channels and dates are fields of the hold');
  return q.text;
}
