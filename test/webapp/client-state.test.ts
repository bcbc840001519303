import { expect } from 'chai';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { Channel, ChannelMember, User } from '../../webapp/src/api/types.ts';
import { channelLabel, sidebarSections, signInOptions, teamUnread, unreadState } from '../../webapp/src/lib/channels.ts';
import { parseRoute } from '../../webapp/src/lib/router.ts';
import { RealtimeClient, type SocketLike } from '../../webapp/src/realtime/socket.ts';
import { countNewPost, countReply, initialState, markRead, mergePosts, type State } from '../../webapp/src/state/store.ts';
import { post } from './support/posts.ts';
import { fakeBrowserGlobals, registerTsx } from './support/tsx.ts';

const me: User = { id: 'me', username: 'me', roles: 'system_user', delete_at: 0 };
const chan = (id: string, fields: Partial<Channel> = {}): Channel => ({
  id, team_id: 't', type: 'O', name: id, display_name: id, header: '', purpose: '', last_post_at: 0, total_msg_count: 0, delete_at: 0, ...fields,
});
const member = (channelId: string, fields: Partial<ChannelMember> = {}): ChannelMember => ({ channel_id: channelId, user_id: 'me', last_viewed_at: 0, msg_count: 0, mention_count: 0, ...fields });

describe('webapp client state', () => {
  describe('posts', () => {
    it('replaces an optimistic post with the server copy, wherever the confirmation comes from', () => {
      const optimistic = post({ id: 'pending:me:1', pending_post_id: 'me:1', user_id: 'me', channel_id: 'c' });
      let s: State = mergePosts(initialState, [optimistic]);
      expect(s.channelPosts.c.order).to.deep.equal(['pending:me:1']);
      const confirmed = post({ id: 'x'.repeat(26), pending_post_id: 'me:1', user_id: 'me', channel_id: 'c', create_at: optimistic.create_at + 5 });
      s = mergePosts(s, [confirmed]);
      s = mergePosts(s, [confirmed]); // the WebSocket echo after the HTTP answer
      expect(s.channelPosts.c.order).to.deep.equal(['x'.repeat(26)]);
      expect(s.posts['pending:me:1']).to.equal(undefined);
    });

    it('keeps roots in the channel in time order and replies in their thread', () => {
      const root = post({ channel_id: 'c', create_at: 100, reply_count: 1 });
      const older = post({ channel_id: 'c', create_at: 50 });
      const reply = post({ channel_id: 'c', root_id: root.id, create_at: 200 });
      const s = mergePosts(initialState, [root, reply, older]);
      expect(s.channelPosts.c.order).to.deep.equal([older.id, root.id]);
      expect(s.threads[root.id]).to.deep.equal([reply.id]);
      expect(s.posts[root.id].reply_count).to.equal(1, 'loaded posts keep the server’s count');
    });

    it('counts a new reply on its root once', () => {
      const root = post({ channel_id: 'c', reply_count: 3 });
      const reply = post({ channel_id: 'c', root_id: root.id });
      const s = countReply(mergePosts(mergePosts(initialState, [root]), [reply]), reply);
      expect(s.posts[root.id].reply_count).to.equal(4);
      expect(countReply(s, post({ channel_id: 'c' }))).to.equal(s, 'a root post changes nothing');
    });

    it('ignores stale copies and blanks deleted posts', () => {
      const p = post({ channel_id: 'c', update_at: 10, message: 'new' });
      let s = mergePosts(initialState, [p]);
      s = mergePosts(s, [{ ...p, update_at: 5, message: 'old' }]);
      expect(s.posts[p.id].message).to.equal('new');
      s = mergePosts(s, [{ ...p, update_at: 20, delete_at: 20 }]);
      expect(s.posts[p.id].message).to.equal('');
      expect(s.posts[p.id].delete_at).to.equal(20);
    });
  });

  describe('unreads', () => {
    it('counts new posts, mentions of me, and clears them when viewed', () => {
      let s: State = { ...initialState, me, channels: { c: chan('c', { total_msg_count: 3 }) }, members: { c: member('c', { msg_count: 3 }) } };
      expect(unreadState(s.channels.c, s.members.c)).to.deep.equal({ unread: false, mentions: 0 });
      s = countNewPost(s, post({ channel_id: 'c', user_id: 'bob' }), true);
      expect(unreadState(s.channels.c, s.members.c)).to.deep.equal({ unread: true, mentions: 1 });
      expect(teamUnread([s.channels.c], s.members)).to.deep.equal({ unread: true, mentions: 1 });
      s = countNewPost(s, post({ channel_id: 'c', user_id: 'me' }), false);
      expect(s.members.c.msg_count).to.equal(4, 'my own post counts as read');
      s = markRead(s, 'c', Date.now());
      expect(unreadState(s.channels.c, s.members.c)).to.deep.equal({ unread: false, mentions: 0 });
    });

    it('lists channels by name and direct messages by recent activity, naming DMs after the other person', () => {
      const users = { me, bob: { ...me, id: 'bob', username: 'bob' }, cy: { ...me, id: 'cy', username: 'cy' } };
      const list = [
        chan('b', { display_name: 'beta' }), chan('a', { display_name: 'Alpha', type: 'P' }), chan('gone', { delete_at: 1 }),
        chan('d1', { type: 'D', name: 'bob__me', last_post_at: 10 }), chan('d2', { type: 'D', name: 'cy__me', last_post_at: 20 }),
      ];
      const sections = sidebarSections(list, 'me', users);
      expect(sections.channels.map((c) => c.id)).to.deep.equal(['a', 'b']);
      expect(sections.direct.map((c) => channelLabel(c, 'me', users))).to.deep.equal(['cy', 'bob']);
      expect(channelLabel(chan('self', { type: 'D', name: 'me__me' }), 'me', users)).to.equal('me (you)');
    });
  });

  describe('sign-in options', () => {
    it('shows the password form alone without a configuration', () => {
      expect(signInOptions(undefined)).to.deep.equal({ password: true, sso: [] });
    });

    it('adds SAML and OpenID buttons when the server turns them on, keeping the page to return to', () => {
      const options = signInOptions({ EnableSignInWithEmail: 'true', EnableSignInWithUsername: 'true', EnableSaml: 'true', SamlLoginButtonText: 'Corp SSO', EnableSignUpWithOpenId: 'true', OpenIdButtonText: '' }, '/team/channels/x');
      expect(options.password).to.equal(true);
      expect(options.sso).to.deep.equal([
        { provider: 'saml', label: 'Corp SSO', href: '/login/sso/saml?redirect_to=%2Fteam%2Fchannels%2Fx' },
        { provider: 'openid', label: 'OpenID Connect', href: '/oauth/openid/login?redirect_to=%2Fteam%2Fchannels%2Fx' },
      ]);
      expect(signInOptions({ EnableSignInWithUsername: 'true', EnableSignUpWithGitLab: 'true' }).sso).to.deep.equal([{ provider: 'gitlab', label: 'GitLab', href: '/oauth/gitlab/login' }]);
    });

    it('hides the password form when only SSO is allowed, and never redirects off-site', () => {
      const options = signInOptions({ EnableSignInWithEmail: 'false', EnableSignInWithUsername: 'false', EnableLdap: 'false', EnableSaml: 'true' }, '//evil.example');
      expect(options.password).to.equal(false);
      expect(options.sso.map((o) => o.href)).to.deep.equal(['/login/sso/saml']);
      expect(signInOptions({ EnableSignInWithEmail: 'false', EnableSignInWithUsername: 'false' }).password, 'never no way in').to.equal(true);
    });

    it('renders the sign-in page with the configured buttons and the session-expired notice', async () => {
      registerTsx();
      fakeBrowserGlobals('/team/channels/town-square');
      const { Login } = await import('../../webapp/src/components/Login.tsx');
      const { store } = await import('../../webapp/src/state/store.ts');
      store.set({ ...initialState, session: 'signed-out', expired: true, config: { SiteName: 'Acme Chat', EnableSignInWithUsername: 'true', EnableSaml: 'true', SamlLoginButtonText: 'Okta', EnableSignUpWithOpenId: 'false' } });
      const markup = renderToStaticMarkup(createElement(Login));
      expect(markup).to.include('<h1 id="login-title">Acme Chat</h1>');
      expect(markup).to.include('Your session has expired');
      expect(markup).to.include('href="/login/sso/saml?redirect_to=%2Fteam%2Fchannels%2Ftown-square"');
      expect(markup).to.match(/Sign in with (<!-- -->)?Okta/);
      expect(markup).not.to.include('data-provider="openid"');
      expect(markup).to.include('autoComplete="current-password"');
    });
  });

  describe('routes', () => {
    it('reads Mattermost-style paths, thread ids and console prefixes', () => {
      expect(parseRoute('/')).to.deep.equal({ kind: 'root' });
      expect(parseRoute('/login')).to.deep.equal({ kind: 'login' });
      expect(parseRoute('/acme')).to.deep.equal({ kind: 'team', team: 'acme' });
      expect(parseRoute('/acme/channels/town-square/')).to.deep.equal({ kind: 'channel', team: 'acme', channel: 'town-square' });
      expect(parseRoute(`/acme/channels/dev/${'a'.repeat(26)}`)).to.deep.equal({ kind: 'channel', team: 'acme', channel: 'dev', thread: 'a'.repeat(26) });
      expect(parseRoute('/acme/channels/dev/not-an-id')).to.deep.equal({ kind: 'not-found' });
      expect(parseRoute('/admin_console/users', ['/admin_console'])).to.deep.equal({ kind: 'console', prefix: '/admin_console', rest: '/users' });
      expect(parseRoute('/%E0%A4%A')).to.deep.equal({ kind: 'not-found' });
    });
  });

  describe('realtime connection', () => {
    class FakeSocket implements SocketLike {
      readyState = 0;
      sent: string[] = [];
      closed?: { code?: number };
      onopen: ((ev: unknown) => void) | null = null;
      onmessage: ((ev: { data: unknown }) => void) | null = null;
      onclose: ((ev: { code: number; reason: string }) => void) | null = null;
      onerror: ((ev: unknown) => void) | null = null;
      readonly url: string;
      constructor(url: string) {
        this.url = url;
      }
      send(data: string) {
        this.sent.push(data);
      }
      close(code?: number) {
        this.closed = { code };
        this.readyState = 3;
        this.onclose?.({ code: code ?? 1000, reason: '' });
      }
      open() {
        this.readyState = 1;
        this.onopen?.({});
      }
      receive(msg: unknown) {
        this.onmessage?.({ data: JSON.stringify(msg) });
      }
      drop(code = 1006, reason = '') {
        this.readyState = 3;
        this.onclose?.({ code, reason });
      }
    }

    function harness() {
      const sockets: FakeSocket[] = [];
      const timers: (() => void)[] = [];
      const log: string[] = [];
      const client = new RealtimeClient(
        { url: 'ws://h/api/v4/websocket', createSocket: (url) => sockets[sockets.push(new FakeSocket(url)) - 1], backoff: () => 10, setTimer: (fn) => timers.push(fn), clearTimer: () => undefined },
        { onEvent: (e) => log.push(`${e.event}#${e.seq}`), onResync: () => log.push('resync'), onState: (s) => log.push(`state:${s}`), onPolicyClose: (r) => log.push(`policy:${r}`) },
      );
      return { client, sockets, timers, log };
    }
    const hello = (id: string, seq = 0) => ({ event: 'hello', data: { connection_id: id }, broadcast: {}, seq });
    const ev = (seq: number) => ({ event: 'posted', data: {}, broadcast: {}, seq });

    it('resumes with connection_id and sequence_number after a drop, without a resync when the server replays', () => {
      const { client, sockets, timers, log } = harness();
      client.start();
      sockets[0].open();
      sockets[0].receive(hello('conn1'));
      sockets[0].receive(ev(1));
      sockets[0].drop();
      timers.shift()!();
      expect(sockets[1].url).to.equal('ws://h/api/v4/websocket?connection_id=conn1&sequence_number=2');
      sockets[1].open();
      sockets[1].receive(ev(2)); // replayed
      expect(log).to.deep.equal(['state:connecting', 'state:connected', 'hello#0', 'posted#1', 'state:reconnecting', 'state:reconnecting', 'state:connected', 'posted#2']);
    });

    it('resynchronises when the server starts a new connection instead of replaying', () => {
      const { client, sockets, timers, log } = harness();
      client.start();
      sockets[0].open();
      sockets[0].receive(hello('conn1'));
      sockets[0].drop();
      timers.shift()!();
      sockets[1].open();
      sockets[1].receive(hello('conn2'));
      expect(log.filter((l) => l === 'resync')).to.have.length(1);
    });

    it('treats a skipped seq as lost events: reconnects fresh and resynchronises', () => {
      const { client, sockets, timers, log } = harness();
      client.start();
      sockets[0].open();
      sockets[0].receive(hello('conn1'));
      sockets[0].receive(ev(1));
      sockets[0].receive(ev(3));
      expect(sockets[0].closed?.code).to.equal(4000);
      expect(log).not.to.include('posted#3');
      timers.shift()!();
      expect(sockets[1].url).to.equal('ws://h/api/v4/websocket');
      sockets[1].open();
      sockets[1].receive(hello('conn2'));
      expect(log).to.include('resync');
    });

    it('reports policy closes (session ended) and pairs action replies with requests', async () => {
      const { client, sockets, log } = harness();
      client.start();
      sockets[0].open();
      sockets[0].receive(hello('conn1'));
      const reply = client.send('user_typing', { channel_id: 'c' });
      expect(JSON.parse(sockets[0].sent[0])).to.deep.equal({ seq: 1, action: 'user_typing', data: { channel_id: 'c' } });
      sockets[0].receive({ status: 'OK', seq_reply: 1 });
      expect(await reply).to.deep.equal({ status: 'OK', seq_reply: 1 });
      sockets[0].drop(1008, 'session expired');
      expect(log).to.include('policy:session expired');
      client.stop();
      expect(log[log.length - 1]).to.equal('state:closed');
    });
  });
});
