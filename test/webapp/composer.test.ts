import { expect } from 'chai';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { Channel, User } from '../../webapp/src/api/types.ts';
import {
  applySuggestion, canSend, findTrigger, formatBytes, insideCode, keyAction, moveSelection, rankChannels, rankEmoji, rankUsers, shouldSendTyping, typingText,
} from '../../webapp/src/lib/composer.ts';
import { emojiNames } from '../../webapp/src/lib/emoji.ts';
import { fakeBrowserGlobals, registerTsx } from './support/tsx.ts';

const user = (username: string, extra: Partial<User> = {}): User => ({ id: username, username, roles: 'system_user', delete_at: 0, ...extra });
const channel = (name: string, display: string, type: Channel['type'] = 'O'): Channel => ({
  id: name, team_id: 't', type, name, display_name: display, header: '', purpose: '', last_post_at: 0, total_msg_count: 0, delete_at: 0,
});
const idle = { suggesting: false, files: 0, uploading: false };

describe('webapp composer', () => {
  describe('autocomplete triggers', () => {
    it('finds @mentions, ~channels and :emoji at the caret', () => {
      expect(findTrigger('hello @al', 9)).to.deep.equal({ kind: 'mention', query: 'al', start: 6, end: 9 });
      expect(findTrigger('see ~town', 9)).to.deep.equal({ kind: 'channel', query: 'town', start: 4, end: 9 });
      expect(findTrigger('nice :tad', 9)).to.deep.equal({ kind: 'emoji', query: 'tad', start: 5, end: 9 });
      expect(findTrigger('@', 1)).to.deep.equal({ kind: 'mention', query: '', start: 0, end: 1 });
    });

    it('works after an opening bracket and mid-text, replacing the whole word', () => {
      expect(findTrigger('(@bo', 4)).to.deep.equal({ kind: 'mention', query: 'bo', start: 1, end: 4 });
      expect(findTrigger('hey @bo there', 6)).to.deep.equal({ kind: 'mention', query: 'b', start: 4, end: 7 });
    });

    it('ignores email addresses, times, short emoji queries and code', () => {
      expect(findTrigger('mail a@b.c', 10)).to.equal(undefined);
      expect(findTrigger('at 10:30', 8)).to.equal(undefined);
      expect(findTrigger('ok :t', 5)).to.equal(undefined);
      expect(findTrigger('`@al', 4)).to.equal(undefined);
      expect(findTrigger('```\n@al', 7)).to.equal(undefined);
      expect(insideCode('```\nx\n```\n@al', 13)).to.equal(false);
      expect(findTrigger('```\nx\n```\n@al', 13)?.kind).to.equal('mention');
    });

    it('inserts the chosen suggestion with one trailing space and puts the caret after it', () => {
      const trigger = findTrigger('hi @al', 6)!;
      expect(applySuggestion('hi @al', trigger, '@alice')).to.deep.equal({ text: 'hi @alice ', caret: 10 });
      const mid = findTrigger('hi @al there', 6)!;
      expect(applySuggestion('hi @al there', mid, '@alice')).to.deep.equal({ text: 'hi @alice there', caret: 10 });
    });
  });

  describe('ranking', () => {
    it('ranks username prefixes before name matches and leaves out deactivated users', () => {
      const users = [user('zed', { first_name: 'Alan' }), user('alice'), user('malory'), user('albert', { delete_at: 10 }), user('bob', { nickname: 'al-bob' })];
      expect(rankUsers(users, 'al').map((u) => u.username)).to.deep.equal(['alice', 'bob', 'zed', 'malory']);
    });

    it('ranks channels by name or display name and never offers direct messages', () => {
      const channels = [channel('town-square', 'Town Square'), channel('off-topic', 'Off-Topic'), channel('a__b', 'a__b', 'D'), channel('secret', 'Town Secrets', 'P')];
      expect(rankChannels(channels, 'town').map((c) => c.name)).to.deep.equal(['secret', 'town-square']); // both prefixes: by display name
      expect(rankChannels(channels, 'a_').map((c) => c.name)).to.deep.equal([]);
    });

    it('finds emoji by name', () => {
      expect(rankEmoji(emojiNames, 'thumbs')).to.deep.equal(['thumbsdown', 'thumbsup']);
      expect(rankEmoji(emojiNames, 'tada')).to.deep.equal(['tada']);
    });

    it('wraps the selection at both ends', () => {
      expect(moveSelection(0, -1, 3)).to.equal(2);
      expect(moveSelection(2, 1, 3)).to.equal(0);
      expect(moveSelection(0, 1, 0)).to.equal(0);
    });
  });

  describe('keys', () => {
    it('sends on Enter and adds a line on Shift+Enter', () => {
      expect(keyAction({ key: 'Enter' }, { ...idle, text: 'hi' })).to.equal('send');
      expect(keyAction({ key: 'Enter', shiftKey: true }, { ...idle, text: 'hi' })).to.equal('newline');
    });

    it('lets Enter confirm an input-method composition instead of sending', () => {
      expect(keyAction({ key: 'Enter', isComposing: true }, { ...idle, text: 'にほん' })).to.equal('default');
    });

    it('adds lines inside an open code fence until Ctrl+Enter', () => {
      expect(keyAction({ key: 'Enter' }, { ...idle, text: '```\ncode' })).to.equal('newline');
      expect(keyAction({ key: 'Enter', ctrlKey: true }, { ...idle, text: '```\ncode' })).to.equal('send');
      expect(keyAction({ key: 'Enter' }, { ...idle, text: '```\ncode\n```' })).to.equal('send');
    });

    it('drives the suggestion list while it is open', () => {
      const open = { ...idle, text: '@al', suggesting: true };
      expect(keyAction({ key: 'ArrowDown' }, open)).to.equal('suggestion-down');
      expect(keyAction({ key: 'ArrowUp' }, open)).to.equal('suggestion-up');
      expect(keyAction({ key: 'Enter' }, open)).to.equal('accept-suggestion');
      expect(keyAction({ key: 'Tab' }, open)).to.equal('accept-suggestion');
      expect(keyAction({ key: 'Escape' }, open)).to.equal('close-suggestions');
    });

    it('edits the last message on ArrowUp in an empty box', () => {
      expect(keyAction({ key: 'ArrowUp' }, { ...idle, text: '' })).to.equal('edit-last');
      expect(keyAction({ key: 'ArrowUp' }, { ...idle, text: 'x' })).to.equal('default');
      expect(keyAction({ key: 'ArrowUp' }, { ...idle, text: '', files: 1 })).to.equal('default');
    });

    it('sends text or files, but not blanks and not while uploading', () => {
      expect(canSend({ ...idle, text: '  \n ' })).to.equal(false);
      expect(canSend({ ...idle, text: 'hi' })).to.equal(true);
      expect(canSend({ ...idle, text: '', files: 1 })).to.equal(true);
      expect(canSend({ ...idle, text: 'hi', files: 1, uploading: true })).to.equal(false);
    });
  });

  it('throttles typing notices and words them for one, two, three and more people', () => {
    expect(shouldSendTyping(0, 10_000)).to.equal(true);
    expect(shouldSendTyping(10_000, 11_000)).to.equal(false);
    expect(typingText([])).to.equal('');
    expect(typingText(['ann'])).to.equal('ann is typing…');
    expect(typingText(['ann', 'bo'])).to.equal('ann and bo are typing…');
    expect(typingText(['ann', 'bo', 'cy'])).to.equal('ann, bo and cy are typing…');
    expect(typingText(['ann', 'bo', 'cy', 'di', 'ed'])).to.equal('ann, bo and 3 others are typing…');
  });

  it('formats file sizes', () => {
    expect(formatBytes(999)).to.equal('999 B');
    expect(formatBytes(1500)).to.equal('1.5 KB');
    expect(formatBytes(12_400_000)).to.equal('12 MB');
  });

  it('renders the composer with a labelled box, attach and emoji buttons, and a disabled Send for an empty draft', async () => {
    registerTsx();
    fakeBrowserGlobals('/team/channels/town-square');
    const { Composer } = await import('../../webapp/src/components/Composer.tsx');
    const { store, initialState } = await import('../../webapp/src/state/store.ts');
    store.set({ ...initialState, me: user('alice'), session: 'signed-in' });
    const team = { id: 't', name: 'team', display_name: 'Team', type: 'O' as const, delete_at: 0 };
    const markup = renderToStaticMarkup(createElement(Composer, { team, channel: channel('town-square', 'Town Square'), placeholder: 'Write to ~Town Square' }));
    expect(markup).to.include('aria-label="Write to ~Town Square"');
    expect(markup).to.include('role="combobox"');
    expect(markup).to.include('aria-label="Attach files"');
    expect(markup).to.include('aria-label="Insert emoji"');
    expect(markup).to.match(/<button[^>]*aria-label="Send"[^>]*disabled=""/);
  });
});
