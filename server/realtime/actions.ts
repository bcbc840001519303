import { isId } from '../lib/ids.ts';
import type { Connection } from './connection.ts';
import type { Hub } from './hub.ts';
import type { Members } from './membership.ts';
import { failReply, okReply, serverVersion, type ClientRequest } from './wire.ts';

// Client → server actions on an authenticated connection. Every request gets exactly one reply,
// `{"status":"OK","seq_reply":n}` or `{"status":"FAIL","seq_reply":n,"error":{...}}`.

const MAX_STATUS_IDS = 1_000;

/** The FAIL reply for a request without an action or with seq ≤ 0 (Mattermost's router checks). */
export function requestProblem(req: ClientRequest): string | undefined {
  if (!req.action) return failReply(req.seq, 'api.web_socket_router.no_action.app_error', 'No websocket action.', 400);
  if (req.seq <= 0) return failReply(req.seq, 'api.web_socket_router.bad_seq.app_error', 'Invalid sequence for WebSocket message.', 400);
  return undefined;
}

function invalidParam(req: ClientRequest, name: string): string {
  return failReply(req.seq, 'api.websocket_handler.invalid_param.app_error', `Invalid ${name} parameter.`, 400);
}

export function handleAction(hub: Hub, conn: Connection, req: ClientRequest): void {
  const reply = (text: string) => conn.reply(text, hub.settings);
  const problem = requestProblem(req);
  if (problem) return reply(problem);
  switch (req.action) {
    case 'authentication_challenge':
      // Already authenticated (header or cookie): nothing to do.
      return reply(okReply(req.seq));
    case 'ping':
      return reply(okReply(req.seq, { text: 'pong', version: serverVersion, server_time: Date.now(), node_id: '' }));
    case 'user_typing':
      return userTyping(hub, conn, req);
    case 'get_statuses':
      return reply(okReply(req.seq, hub.statuses()));
    case 'get_statuses_by_ids': {
      const ids = req.data.user_ids;
      if (!Array.isArray(ids) || ids.length > MAX_STATUS_IDS || !ids.every(isId)) return reply(invalidParam(req, 'user_ids'));
      return reply(okReply(req.seq, hub.statuses(ids)));
    }
    case 'user_update_active_status':
      if (req.data.user_is_active === true) hub.touch(conn);
      return reply(okReply(req.seq));
    case 'presence':
    case 'posted_notify_ack':
      // Accepted for compatibility; Custodian does not track the active channel or push receipts.
      return reply(okReply(req.seq));
    default:
      return reply(failReply(req.seq, 'api.web_socket_router.bad_action.app_error', 'Unknown WebSocket action.', 400));
  }
}

/** `user_typing {channel_id, parent_id}`: tells the channel's other members, if the sender is a member. */
function userTyping(hub: Hub, conn: Connection, req: ClientRequest): void {
  const channelId = req.data.channel_id;
  const parentId = req.data.parent_id ?? '';
  if (!isId(channelId)) return conn.reply(invalidParam(req, 'channel_id'), hub.settings);
  if (parentId !== '' && !isId(parentId)) return conn.reply(invalidParam(req, 'parent_id'), hub.settings);
  const decide = (members: Members) => {
    if (members.archived || !members.userIds.has(conn.userId)) {
      conn.reply(failReply(req.seq, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.', 403), hub.settings);
      return;
    }
    hub.events.publish({
      event: 'typing',
      data: { parent_id: parentId, user_id: conn.userId },
      broadcast: { channel_id: channelId, omit_users: { [conn.userId]: true } },
    });
    hub.touch(conn);
    conn.reply(okReply(req.seq), hub.settings);
  };
  const found = hub.members.channel(channelId);
  if (!(found instanceof Promise)) return decide(found);
  found.then(decide, () => conn.reply(failReply(req.seq, 'api.web_socket_handler.internal.app_error', 'Could not check channel membership.', 500), hub.settings));
}
