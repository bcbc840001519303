import { expect } from 'chai';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { buildMessageRows, continuesGroup, dateLabel, dayOf } from '../../webapp/src/lib/grouping.ts';
import { fakeBrowserGlobals, registerTsx } from './support/tsx.ts';
import { post } from './support/posts.ts';

const shape = (rows: ReturnType<typeof buildMessageRows>) => rows.map((r) => (r.kind === 'date' ? `date:${new Date(r.day).getDate()}` : `${r.post.user_id}${r.continuation ? '+' : ''}`));

describe('webapp message grouping', () => {
  it('groups consecutive posts by the same person within five minutes', () => {
    const rows = buildMessageRows([
      post({ user_id: 'alice', at: [2026, 2, 3, 10, 0] }),
      post({ user_id: 'alice', at: [2026, 2, 3, 10, 4] }),
      post({ user_id: 'alice', at: [2026, 2, 3, 10, 9] }), // 5 min after the previous: still grouped
      post({ user_id: 'alice', at: [2026, 2, 3, 10, 15] }), // 6 min gap: new group
      post({ user_id: 'bob', at: [2026, 2, 3, 10, 16] }),
      post({ user_id: 'alice', at: [2026, 2, 3, 10, 17] }),
    ]);
    expect(shape(rows)).to.deep.equal(['date:3', 'alice', 'alice+', 'alice+', 'alice', 'bob', 'alice']);
  });

  it('puts a date separator before the first post of each day and restarts groups there', () => {
    const rows = buildMessageRows([
      post({ user_id: 'alice', at: [2026, 2, 3, 23, 58] }),
      post({ user_id: 'alice', at: [2026, 2, 4, 0, 1] }),
      post({ user_id: 'alice', at: [2026, 2, 4, 0, 2] }),
      post({ user_id: 'bob', at: [2026, 2, 9, 8, 0] }),
    ]);
    expect(shape(rows)).to.deep.equal(['date:3', 'alice', 'date:4', 'alice', 'alice+', 'date:9', 'bob']);
  });

  it('never groups system messages, webhook posts with their own name, or deleted posts', () => {
    const base = post({ at: [2026, 0, 1, 9, 0] });
    expect(continuesGroup(base, post({ at: [2026, 0, 1, 9, 1], type: 'system_join_channel' }))).to.equal(false);
    expect(continuesGroup(base, post({ at: [2026, 0, 1, 9, 1], props: { override_username: 'bot' } }))).to.equal(false);
    expect(continuesGroup(post({ at: [2026, 0, 1, 9, 0], delete_at: 5 }), post({ at: [2026, 0, 1, 9, 1] }))).to.equal(false);
    expect(continuesGroup(base, post({ at: [2026, 0, 1, 9, 1] }))).to.equal(true);
  });

  it('labels days as Today, Yesterday, a weekday this week, and a full date otherwise', () => {
    const now = new Date(2026, 2, 10, 15, 0).getTime();
    expect(dateLabel(dayOf(now), now, 'en-US')).to.equal('Today');
    expect(dateLabel(dayOf(new Date(2026, 2, 9, 1, 0).getTime()), now, 'en-US')).to.equal('Yesterday');
    expect(dateLabel(dayOf(new Date(2026, 2, 6, 12, 0).getTime()), now, 'en-US')).to.equal('Friday, March 6');
    expect(dateLabel(dayOf(new Date(2026, 0, 20, 12, 0).getTime()), now, 'en-US')).to.equal('Tue, January 20');
    expect(dateLabel(dayOf(new Date(2024, 6, 4, 12, 0).getTime()), now, 'en-US')).to.equal('July 4, 2024');
  });

  it('renders the list component with separators and compact continuation posts', async () => {
    registerTsx();
    fakeBrowserGlobals('/team/channels/town-square');
    const { Rows } = await import('../../webapp/src/components/PostList.tsx');
    const { store, initialState } = await import('../../webapp/src/state/store.ts');
    const me = { id: 'alice', username: 'alice', roles: 'system_user', delete_at: 0 };
    store.set({ ...initialState, me, session: 'signed-in', users: { alice: me, bob: { id: 'bob', username: 'bob', roles: 'system_user', delete_at: 0 } } });
    const rows = buildMessageRows([
      post({ user_id: 'alice', message: 'first **one**', at: [2026, 2, 3, 10, 0] }),
      post({ user_id: 'alice', message: 'second', at: [2026, 2, 3, 10, 1] }),
      post({ user_id: 'bob', message: 'hi @alice', at: [2026, 2, 4, 9, 0] }),
    ]);
    const team = { id: 't', name: 'team', display_name: 'Team', type: 'O' as const, delete_at: 0 };
    const channel = { id: 'c1', team_id: 't', type: 'O' as const, name: 'town-square', display_name: 'Town Square', header: '', purpose: '', last_post_at: 0, total_msg_count: 0, delete_at: 0 };
    const markup = renderToStaticMarkup(createElement(Rows, { rows, team, channel, inChannel: true }));
    expect(markup.match(/class="date-separator"/g)).to.have.length(2);
    expect(markup.match(/class="post"/g), 'group starts').to.have.length(1);
    expect(markup.match(/class="post continuation"/g), 'continuations').to.have.length(1);
    expect(markup.match(/class="post mentioned"/g), 'mentions of the reader').to.have.length(1);
    expect(markup).to.include('<strong>one</strong>');
    expect(markup.match(/class="author"/g), 'names shown once per group').to.have.length(2);
  });
});
