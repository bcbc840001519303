import type { Knex } from 'knex';
import type { Logger } from '../lib/logger.ts';
import type { EventBus, ServerEvent } from '../realtime/events.ts';
import { presentUserThread } from './model.ts';
import { threadForFollowers, threadParticipants } from './queries.ts';

function replyOf(event: ServerEvent): { rootId: string; userId: string } | undefined {
  if (event.event !== 'posted' || typeof event.data.post !== 'string') return undefined;
  try {
    const post = JSON.parse(event.data.post) as { root_id?: unknown; user_id?: unknown };
    return typeof post.root_id === 'string' && post.root_id && typeof post.user_id === 'string' ? { rootId: post.root_id, userId: post.user_id } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tells each follower of a thread how it looks to them (`thread_updated`) when a reply is posted.
 * It listens to `posted`, which is published after the reply (and the memberships it created) were
 * committed, so followers never hear of a reply that was rolled back; 'origin' scope sends each
 * update once, from the node that took the reply. Only followers still in the channel are told.
 */
export function startThreadEvents(deps: { db: Knex; events: EventBus; logger: Logger }): () => Promise<void> {
  const log = deps.logger.child({ component: 'thread-events' });
  const inFlight = new Set<Promise<void>>();

  async function announce(event: ServerEvent, reply: { rootId: string; userId: string }): Promise<void> {
    const rows = await threadForFollowers(deps.db, reply.rootId);
    if (rows.length === 0) return;
    const participants = (await threadParticipants(deps.db, [reply.rootId])).get(reply.rootId) ?? [];
    const mentioned = new Set<string>(typeof event.data.mentions === 'string' ? (JSON.parse(event.data.mentions) as string[]) : []);
    for (const row of rows) {
      const own = row.follower_id === reply.userId;
      const thread = presentUserThread(row, participants);
      deps.events.publish({
        event: 'thread_updated',
        data: {
          thread: JSON.stringify(thread),
          previous_unread_replies: own ? 0 : Math.max(row.unread_replies - 1, 0),
          previous_unread_mentions: !own && mentioned.has(row.follower_id) ? Math.max(row.unread_mentions - 1, 0) : row.unread_mentions,
        },
        broadcast: { user_id: row.follower_id, team_id: row.team_id },
      });
    }
  }

  // A listener must never throw: the bus calls every listener from the publisher's stack.
  const unsubscribe = deps.events.subscribe((event) => {
    const reply = replyOf(event);
    if (!reply) return;
    const work = announce(event, reply).catch((err) => log.error({ err, root_id: reply.rootId }, 'could not announce a thread update'));
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }, 'origin');

  return async () => {
    unsubscribe();
    await Promise.all(inFlight);
  };
}
