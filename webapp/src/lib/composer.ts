// The composer's logic, kept out of React so it can be tested on its own: which autocomplete the
// caret is in (@user, ~channel, :emoji:), ranking suggestions, inserting the chosen one, and what a key
// press means (send, new line, move through suggestions, edit the last message).

import type { Channel, User } from '../api/types.ts';

export type TriggerKind = 'mention' | 'channel' | 'emoji';

/** The word being completed: `text.slice(start, end)` is replaced by the suggestion. */
export interface Trigger {
  kind: TriggerKind;
  query: string;
  start: number;
  end: number;
}

const WORD_CHARS: Record<TriggerKind, RegExp> = {
  mention: /^[a-z0-9._-]*$/i,
  channel: /^[a-z0-9_-]*$/i,
  emoji: /^[a-z0-9_+-]*$/i,
};
const SIGILS: Record<string, TriggerKind> = { '@': 'mention', '~': 'channel', ':': 'emoji' };

/** True when `pos` is inside a fenced code block or an inline code span (no autocomplete there). */
export function insideCode(text: string, pos: number): boolean {
  const before = text.slice(0, pos);
  if (openFence(before)) return true;
  const line = before.slice(before.lastIndexOf('\n') + 1);
  return (line.match(/`/g)?.length ?? 0) % 2 === 1;
}

/** True when `text` opens a ``` code block it does not close. */
export function openFence(text: string): boolean {
  return (text.match(/^ {0,3}```/gm)?.length ?? 0) % 2 === 1;
}

/** The autocomplete trigger at the caret, if any. */
export function findTrigger(text: string, caret: number): Trigger | undefined {
  let start = caret;
  while (start > 0 && !/\s/.test(text[start - 1])) start--;
  let end = caret;
  while (end < text.length && !/\s/.test(text[end])) end++;
  const word = text.slice(start, caret);
  // A word may open with punctuation such as "(" before the sigil: "(@ali".
  const lead = /^[([{"'“]*/.exec(word)![0].length;
  const sigil = word[lead];
  const kind = sigil ? SIGILS[sigil] : undefined;
  if (!kind) return undefined;
  const query = word.slice(lead + 1);
  if (!WORD_CHARS[kind].test(query)) return undefined;
  // ":" appears in times and URLs; suggest emoji only after two letters, as Mattermost does.
  if (kind === 'emoji' && query.length < 2) return undefined;
  if (insideCode(text, caret)) return undefined;
  return { kind, query, start: start + lead, end };
}

/** Replaces the trigger's word with `insert` plus a space; returns the new text and caret. */
export function applySuggestion(text: string, trigger: Trigger, insert: string): { text: string; caret: number } {
  const after = text.slice(trigger.end);
  const spacer = after.startsWith(' ') ? '' : ' ';
  const next = text.slice(0, trigger.start) + insert + spacer + after;
  return { text: next, caret: trigger.start + insert.length + 1 };
}

/** How well `candidate` matches `query`: 0 exact prefix, 1 word prefix, 2 substring, -1 none. */
function score(candidate: string, query: string): number {
  const c = candidate.toLowerCase();
  if (c.startsWith(query)) return 0;
  if (c.split(/[\s._-]+/).some((part) => part.startsWith(query))) return 1;
  return c.includes(query) ? 2 : -1;
}

function rank<T>(items: readonly T[], query: string, keys: (item: T) => string[], name: (item: T) => string, limit: number): T[] {
  const q = query.toLowerCase();
  const scored: { item: T; s: number }[] = [];
  for (const item of items) {
    let best = -1;
    for (const key of keys(item)) {
      if (!key) continue;
      const s = score(key, q);
      if (s >= 0 && (best < 0 || s < best)) best = s;
    }
    if (best >= 0) scored.push({ item, s: best });
  }
  scored.sort((a, b) => a.s - b.s || name(a.item).localeCompare(name(b.item)));
  return scored.slice(0, limit).map((x) => x.item);
}

/** The special mentions everybody can use. */
export const CHANNEL_WIDE_MENTIONS = [
  { username: 'here', description: 'Notifies everyone online in this channel' },
  { username: 'channel', description: 'Notifies everyone in this channel' },
  { username: 'all', description: 'Notifies everyone in this channel' },
] as const;

/** Users matching an @query: username prefix first, then names and nicknames; deactivated users left out. */
export function rankUsers(users: readonly User[], query: string, limit = 8): User[] {
  const active = users.filter((u) => u.delete_at === 0);
  return rank(active, query, (u) => [u.username, u.first_name ?? '', u.last_name ?? '', `${u.first_name ?? ''} ${u.last_name ?? ''}`.trim(), u.nickname ?? ''], (u) => u.username, limit);
}

/** Channels matching a ~query, by name or display name; direct and group messages are left out. */
export function rankChannels(channels: readonly Channel[], query: string, limit = 8): Channel[] {
  const named = channels.filter((c) => (c.type === 'O' || c.type === 'P') && c.delete_at === 0);
  return rank(named, query, (c) => [c.name, c.display_name], (c) => c.display_name, limit);
}

/** Emoji names matching a :query. */
export function rankEmoji(names: readonly string[], query: string, limit = 8): string[] {
  return rank(names, query, (n) => [n], (n) => n, limit);
}

/** Moves a selection through `length` suggestions, wrapping at both ends. */
export function moveSelection(index: number, delta: number, length: number): number {
  if (length <= 0) return 0;
  return (((index + delta) % length) + length) % length;
}

export interface KeyInput {
  key: string;
  shiftKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  /** True while an input method (IME) is composing: Enter then confirms the composition. */
  isComposing?: boolean;
}

export interface ComposerSnapshot {
  text: string;
  /** Suggestions are showing. */
  suggesting: boolean;
  /** Files attached (uploaded or uploading). */
  files: number;
  uploading: boolean;
}

export type KeyAction = 'send' | 'newline' | 'accept-suggestion' | 'suggestion-up' | 'suggestion-down' | 'close-suggestions' | 'edit-last' | 'default';

/** What a key press in the composer does. */
export function keyAction(key: KeyInput, state: ComposerSnapshot): KeyAction {
  if (key.isComposing) return 'default';
  if (state.suggesting) {
    if (key.key === 'ArrowUp') return 'suggestion-up';
    if (key.key === 'ArrowDown') return 'suggestion-down';
    if ((key.key === 'Enter' && !key.shiftKey) || key.key === 'Tab') return 'accept-suggestion';
    if (key.key === 'Escape') return 'close-suggestions';
  }
  if (key.key === 'Enter') {
    if (key.shiftKey || key.altKey) return 'newline';
    // Inside an unclosed code fence Enter adds a line; Ctrl/Cmd+Enter still sends.
    if (!key.ctrlKey && !key.metaKey && openFence(state.text)) return 'newline';
    return 'send';
  }
  if (key.key === 'ArrowUp' && state.text === '' && state.files === 0 && !key.shiftKey) return 'edit-last';
  return 'default';
}

/** True when the composer holds something to send and no upload is still running. */
export function canSend(state: ComposerSnapshot): boolean {
  return !state.uploading && (state.text.trim() !== '' || state.files > 0);
}

/** Typing notices go out at most this often while someone types. */
export const TYPING_INTERVAL_MS = 3_000;

/** True when a typing notice should be sent now. */
export function shouldSendTyping(lastSentAt: number, now: number): boolean {
  return now - lastSentAt >= TYPING_INTERVAL_MS;
}

/** "alice is typing…", "alice and bob are typing…", "alice, bob and 2 others are typing…". */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
}

/** A file size for people: 999 B, 1.5 KB, 12 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
