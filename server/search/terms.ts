/**
 * Mattermost's search syntax, parsed: words, "quoted phrases", -excluded words, word* prefixes,
 * #hashtags, from:user, in:channel, before:/after:/on:YYYY-MM-DD (and their -excluded forms for
 * from: and in:). Pure and shared by the server and the webapp's search helper.
 */
export interface ParsedSearch {
  words: string[];
  phrases: string[];
  prefixes: string[];
  excluded: string[];
  hashtags: string[];
  fromUsers: string[];
  excludedFromUsers: string[];
  inChannels: string[];
  excludedInChannels: string[];
  before?: string;
  after?: string;
  on?: string;
}

const date = /^\d{4}-\d{2}-\d{2}$/;
const token = /(-?)"([^"]*)"|(\S+)/g;

function emptySearch(): ParsedSearch {
  return { words: [], phrases: [], prefixes: [], excluded: [], hashtags: [], fromUsers: [], excludedFromUsers: [], inChannels: [], excludedInChannels: [] };
}

/** Parses the terms of a search box; unknown or malformed filters are treated as plain words. */
export function parseSearchTerms(terms: string): ParsedSearch {
  const out = emptySearch();
  for (const match of terms.slice(0, 1000).matchAll(token)) {
    if (match[2] !== undefined) {
      const phrase = match[2].trim();
      if (phrase) (match[1] ? out.excluded : out.phrases).push(phrase);
      continue;
    }
    const raw = match[3];
    const negated = raw.startsWith('-') && raw.length > 1;
    const word = negated ? raw.slice(1) : raw;
    const filter = /^(from|in|channel|before|after|on):(.+)$/i.exec(word);
    if (filter) {
      const value = filter[2].replace(/^[@~]/, '').toLowerCase();
      const kind = filter[1].toLowerCase();
      if (kind === 'from') (negated ? out.excludedFromUsers : out.fromUsers).push(value);
      else if (kind === 'in' || kind === 'channel') (negated ? out.excludedInChannels : out.inChannels).push(value);
      else if (date.test(value)) out[kind as 'before' | 'after' | 'on'] = value;
      else out.words.push(word);
      continue;
    }
    if (word.startsWith('#') && word.length > 1) {
      if (!negated) out.hashtags.push(word.toLowerCase());
      else out.excluded.push(word.slice(1));
      continue;
    }
    if (negated) out.excluded.push(word);
    else if (word.endsWith('*') && word.length > 1) out.prefixes.push(word.slice(0, -1));
    else out.words.push(word);
  }
  return out;
}

/** True when the search has nothing to match on but filters (Mattermost allows "from:alice" alone). */
export function hasTextTerms(s: ParsedSearch): boolean {
  return s.words.length + s.phrases.length + s.prefixes.length + s.hashtags.length > 0;
}
