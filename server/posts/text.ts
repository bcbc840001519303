// Message text analysis: @mentions and #hashtags, following Mattermost's rules closely enough that
// the same words notify the same people.

const mentionPattern = /(?:^|[^\w@])@([a-z0-9][a-z0-9._-]*)/gi;
const hashtagPattern = /(?:^|[\s(])#([A-Za-z][\w-]{2,})/g;
const codeBlock = /```[\s\S]*?```|`[^`\n]*`/g;

export const channelWideMentions = new Set(['all', 'channel', 'here']);

/** Usernames mentioned with @, lower-cased, without trailing dots; code spans are ignored. */
export function extractMentions(message: string): Set<string> {
  const text = message.replace(codeBlock, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(mentionPattern)) names.add(match[1].toLowerCase().replace(/[._-]+$/, ''));
  return names;
}

/** Space-separated hashtags as Mattermost stores them ("#one #two"), at most 1000 characters. */
export function extractHashtags(message: string): string {
  const text = message.replace(codeBlock, ' ');
  const tags: string[] = [];
  for (const match of text.matchAll(hashtagPattern)) {
    const tag = `#${match[1].replace(/[-_]+$/, '')}`;
    if (!tags.includes(tag)) tags.push(tag);
  }
  let out = '';
  for (const tag of tags) {
    if (out.length + tag.length + 1 > 1000) break;
    out = out ? `${out} ${tag}` : tag;
  }
  return out;
}

/** Length in characters as users count them (code points, like Go's runes), not UTF-16 units. */
export function charLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
