import type { Knex } from 'knex';
import type { Logger } from '../lib/logger.ts';
import type { EventBus, ServerEvent } from '../realtime/events.ts';
import { presentUserThread } from './model.ts';
import { REPLY_DELETED } from './service.ts';
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

/** A deleted reply, from the internal event `deletePost` publishes after commit. */
function removalOf(event: ServerEvent): { rootId: string; createAt: number; relieved: Set<string> } | undefined {
  if (event.event !== REPLY_DELETED) return undefined;
  const { root_id: rootId, reply_create_at: createAt, relieved } = event.data;
  if (typeof rootId !== 'string' || typeof createAt !== 'number' || !Array.isArray(relieved)) return undefined;
  return { rootId, createAt, relieved: new Set(relieved.filter((id): id is string => typeof id === 'string')) };
}

/**
 * Tells each follower of a thread how it looks to them (`thread_updated`) when a reply is posted,
 * and, when one is deleted, those for whom it was unread (one unread reply, perhaps a mention, fewer).
 * It listens to `posted` and to the deletion's internal event, both published after commit, so
 * followers never hear of a change that was rolled back; 'origin' scope sends each update once, from
 * the node that made the change. Only followers still in the channel are told.
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

  async function announceRemoval(removal: { rootId: string; createAt: number; relieved: Set<string> }): Promise<void> {
    const rows = await threadForFollowers(deps.db, removal.rootId, true);
    const affected = rows.filter((row) => row.last_viewed < removal.createAt || removal.relieved.has(row.follower_id));
    if (affected.length === 0) return;
    const participants = (await threadParticipants(deps.db, [removal.rootId])).get(removal.rootId) ?? [];
    for (const row of affected) {
      deps.events.publish({
        event: 'thread_updated',
        data: {
          thread: JSON.stringify(presentUserThread(row, participants)),
          previous_unread_replies: row.unread_replies + (row.last_viewed < removal.createAt ? 1 : 0),
          previous_unread_mentions: row.unread_mentions + (removal.relieved.has(row.follower_id) ? 1 : 0),
        },
        broadcast: { user_id: row.follower_id, team_id: row.team_id },
      });
    }
  }

  const track = (work: Promise<void>, rootId: string) => {
    const logged = work.catch((err) => log.error({ err, root_id: rootId }, 'could not announce a thread update'));
    inFlight.add(logged);
    void logged.finally(() => inFlight.delete(logged));
  };

  // A listener must never throw: the bus calls every listener from the publisher's stack.
  const unsubscribe = deps.events.subscribe((event) => {
    const reply = replyOf(event);
    if (reply) return track(announce(event, reply), reply.rootId);
    const removal = removalOf(event);
    if (removal) track(announceRemoval(removal), removal.rootId);
  }, 'origin');

  return async () => {
    unsubscribe();
    await Promise.all(inFlight);
  };
}
