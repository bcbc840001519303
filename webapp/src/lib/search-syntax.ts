// The server's search syntax, for the search box: words, "quoted phrases", -excluded words,
// #hashtags, from:username, in:channel, on:/before:/after:YYYY-MM-DD. The box sends the terms as typed
// (after light normalisation); this module reads them to show what the search means, to offer
// completions for the modifier being typed, and to highlight hits in the results.

export type DateModifier = 'on' | 'before' | 'after';

export interface ParsedSearch {
  words: string[];
  phrases: string[];
  excluded: string[];
  hashtags: string[];
  from: string[];
  in: string[];
  dates: Partial<Record<DateModifier, string>>;
  /** Problems worth telling the user about before searching (an impossible date, say). */
  problems: string[];
}

const MODIFIER = /^(-?)(from|in|on|before|after):(.*)$/i;

/** Splits a query into tokens, keeping "quoted phrases" (and -"excluded phrases") whole. */
export function tokenize(query: string): string[] {
  const tokens: string[] = [];
  const re = /(-?"[^"]*"?)|(\S+)/g;
  for (let m = re.exec(query); m; m = re.exec(query)) tokens.push(m[0]);
  return tokens;
}

/** True for a real calendar date written YYYY-MM-DD. */
export function isValidDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Reads a query the way the server will. */
export function parseSearch(query: string): ParsedSearch {
  const out: ParsedSearch = { words: [], phrases: [], excluded: [], hashtags: [], from: [], in: [], dates: {}, problems: [] };
  for (const token of tokenize(query)) {
    if (token.startsWith('"') || token.startsWith('-"')) {
      const excluded = token.startsWith('-');
      const phrase = token.replace(/^-?"/, '').replace(/"$/, '').trim();
      if (!phrase) continue;
      (excluded ? out.excluded : out.phrases).push(phrase);
      continue;
    }
    const mod = MODIFIER.exec(token);
    if (mod) {
      const [, minus, nameRaw, valueRaw] = mod;
      const name = nameRaw.toLowerCase();
      const value = valueRaw.trim();
      if (!value) {
        out.problems.push(`${name}: needs a value`);
        continue;
      }
      if (name === 'from') (minus ? out.excluded : out.from).push(minus ? token.slice(1) : value.replace(/^@/, ''));
      else if (name === 'in') (minus ? out.excluded : out.in).push(minus ? token.slice(1) : value.replace(/^~/, ''));
      else if (!isValidDate(value)) out.problems.push(`${name}: wants a date like 2024-03-31, not "${value}"`);
      else out.dates[name as DateModifier] = value;
      continue;
    }
    if (token.startsWith('-') && token.length > 1) out.excluded.push(token.slice(1));
    else if (token.startsWith('#') && token.length > 1) out.hashtags.push(token);
    else if (token !== '-') out.words.push(token);
  }
  if (out.dates.before && out.dates.after && out.dates.after >= out.dates.before) out.problems.push('after: is not earlier than before:');
  return out;
}

/** True when the query asks for anything at all (modifiers alone are a valid search). */
export function hasCriteria(p: ParsedSearch): boolean {
  return p.words.length + p.phrases.length + p.hashtags.length + p.from.length + p.in.length + Object.keys(p.dates).length > 0;
}

export type SearchHintKind = 'from' | 'in' | 'date';

/** The modifier the caret is in, so the box can suggest users, channels or a date format. */
export interface SearchHint {
  kind: SearchHintKind;
  modifier: string;
  query: string;
  start: number;
  end: number;
}

/** The modifier being typed at the caret (`from:al|` → users starting with "al"). */
export function searchHint(text: string, caret: number): SearchHint | undefined {
  let start = caret;
  while (start > 0 && !/\s/.test(text[start - 1])) start--;
  let end = caret;
  while (end < text.length && !/\s/.test(text[end])) end++;
  const word = text.slice(start, caret);
  const m = /^-?(from|in|on|before|after):(.*)$/i.exec(word);
  if (!m) return undefined;
  const modifier = m[1].toLowerCase();
  const valueStart = start + word.indexOf(':') + 1;
  const kind: SearchHintKind = modifier === 'from' ? 'from' : modifier === 'in' ? 'in' : 'date';
  return { kind, modifier, query: m[2].replace(/^[@~]/, ''), start: valueStart, end };
}

/** Puts a chosen user or channel name in place of the hint's value, followed by a space. */
export function completeHint(text: string, hint: SearchHint, value: string): { text: string; caret: number } {
  const after = text.slice(hint.end).replace(/^ /, '');
  const next = `${text.slice(0, hint.start)}${value} ${after}`;
  return { text: next, caret: hint.start + value.length + 1 };
}

/** Normalises what is sent: collapses spaces and strips the @ and ~ people type out of habit. */
export function normalizeTerms(query: string): string {
  return tokenize(query)
    .map((t) => t.replace(/^(-?from:)@/i, '$1').replace(/^(-?in:)~/i, '$1'))
    .join(' ');
}

/** The body of `POST /teams/{team_id}/posts/search`. */
export function searchRequest(query: string, options: { page?: number; perPage?: number; timeZoneOffsetSeconds?: number } = {}) {
  return {
    terms: normalizeTerms(query),
    is_or_search: false,
    time_zone_offset: options.timeZoneOffsetSeconds ?? -new Date().getTimezoneOffset() * 60,
    page: options.page ?? 0,
    per_page: options.perPage ?? 20,
    include_deleted_channels: false,
  };
}

/** Words to highlight in results: the searched words and phrases, without wildcards. */
export function highlightTerms(p: ParsedSearch): string[] {
  return [...p.words, ...p.phrases, ...p.hashtags].map((w) => w.replace(/\*+$/, '')).filter((w) => w.length > 0);
}

/** The chips shown under the box: one per modifier, in a stable order. */
export function describe(p: ParsedSearch): string[] {
  const chips: string[] = [];
  for (const u of p.from) chips.push(`from @${u}`);
  for (const c of p.in) chips.push(`in ~${c}`);
  if (p.dates.on) chips.push(`on ${p.dates.on}`);
  if (p.dates.after) chips.push(`after ${p.dates.after}`);
  if (p.dates.before) chips.push(`before ${p.dates.before}`);
  for (const x of p.excluded) chips.push(`without ${x}`);
  return chips;
}
