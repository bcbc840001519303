// Fires outgoing webhooks for committed posts. Listens to `posted` events on the event bus (published
// only after commit), so the poster's request never waits for an integration and never sees its errors.
import type { Knex } from 'knex';
import { z } from 'zod';
import { loadChannelAccess } from '../channels/access.ts';
import { inTransaction } from '../db/transaction.ts';
import type { Logger } from '../lib/logger.ts';
import type { EventBus, ServerEvent } from '../realtime/events.ts';
import { callIntegration } from './http.ts';
import { OutgoingHookCache } from './outgoing-hook-cache.ts';
import type { OutgoingWebhookRow } from './outgoing-webhooks.ts';
import { activeUser, actorForUser, createIntegrationPosts } from './posting.ts';
import { attachmentsSchema, processSlackMarkup } from './slack.ts';

export interface DispatchDeps {
  db: Knex;
  events: EventBus;
  logger: Logger;
}

/** The parts of a posted post (a JSON string in the event) the dispatcher reads. */
const postedPostSchema = z.object({
  id: z.string(),
  create_at: z.number(),
  user_id: z.string(),
  channel_id: z.string(),
  root_id: z.string().default(''),
  message: z.string().default(''),
  type: z.string().default(''),
  props: z.record(z.string(), z.unknown()).nullable().default({}).transform((p) => p ?? {}),
  file_ids: z.array(z.string()).nullable().default([]).transform((f) => f ?? []),
});
type PostedPost = z.output<typeof postedPostSchema>;

function postedPost(raw: unknown): PostedPost | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed = postedPostSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Mattermost's OutgoingWebhookResponse. */
const hookResponseSchema = z.object({
  text: z.string().nullable().optional(),
  username: z.string().nullable().optional(),
  icon_url: z.string().nullable().optional(),
  props: z.record(z.string(), z.unknown()).nullable().optional(),
  attachments: attachmentsSchema,
  type: z.string().nullable().optional(),
  response_type: z.string().nullable().optional(),
});

/** The hooks a post triggers, with the trigger word each matched (Mattermost's handleWebhookEvents). */
export function matchingHooks(hooks: OutgoingWebhookRow[], post: { channel_id: string; message: string }): { hook: OutgoingWebhookRow; triggerWord: string }[] {
  const firstWord = post.message.trim().split(/\s+/)[0] ?? '';
  const matches: { hook: OutgoingWebhookRow; triggerWord: string }[] = [];
  for (const hook of hooks) {
    if (hook.channel_id && hook.channel_id !== post.channel_id) continue;
    if (hook.channel_id === post.channel_id && hook.trigger_words.length === 0) {
      matches.push({ hook, triggerWord: '' });
      continue;
    }
    if (!firstWord) continue;
    const word = hook.trigger_when === 1 ? hook.trigger_words.find((w) => firstWord.startsWith(w)) : hook.trigger_words.find((w) => w === firstWord);
    if (word !== undefined) matches.push({ hook, triggerWord: word });
  }
  return matches;
}

/** The body Mattermost sends: JSON (timestamp in ms) or a form (timestamp in seconds), by the hook's content type. */
export function hookRequestBody(hook: OutgoingWebhookRow, payload: Record<string, string | number>): { contentType: string; body: string } {
  if (hook.content_type === 'application/json') return { contentType: 'application/json', body: JSON.stringify(payload) };
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(payload)) form.set(key, key === 'timestamp' ? String(Math.floor(Number(value) / 1000)) : String(value));
  return { contentType: 'application/x-www-form-urlencoded', body: form.toString() };
}

/**
 * Starts dispatching outgoing webhooks; returns a function that stops listening, aborts calls in flight
 * and waits for them to settle (so nothing touches the database after shutdown).
 */
export function startOutgoingWebhooks(deps: DispatchDeps): () => Promise<void> {
  const log = deps.logger.child({ module: 'outgoing-webhooks' });
  const inFlight = new Set<Promise<void>>();
  const shutdown = new AbortController();
  const hookCache = new OutgoingHookCache(deps.db, deps.events);

  const track = (work: Promise<void>) => {
    const tracked = work.catch((err) => log.error({ err }, 'outgoing webhook dispatch failed')).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  // A listener must never throw: the bus calls every listener in turn from the publisher's stack.
  // 'origin': a hook fires once, on the node where the post was made, however many nodes run.
  const unsubscribe = deps.events.subscribe((event: ServerEvent) => {
    if (event.event !== 'posted' || event.data.channel_type !== 'O' || shutdown.signal.aborted) return;
    const post = postedPost(event.data.post);
    // Integration posts never trigger hooks: a hook answering another hook would loop.
    if (!post || post.props.from_webhook === 'true' || post.type.startsWith('system_')) return;
    track(dispatch(post, String(event.data.team_id ?? ''), String(event.data.channel_name ?? '')));
  }, 'origin');

  async function dispatch(post: PostedPost, teamId: string, channelName: string): Promise<void> {
    if (!teamId) return;
    const hooks = await hookCache.forTeam(teamId);
    const matches = matchingHooks(hooks, post);
    if (matches.length === 0) return;
    const [team, user] = await Promise.all([deps.db('teams').where({ id: teamId }).first('name'), deps.db('users').where({ id: post.user_id }).first('username')]);
    const calls: Promise<void>[] = [];
    for (const { hook, triggerWord } of matches) {
      const payload = {
        token: hook.token, team_id: hook.team_id, team_domain: team?.name ?? '', channel_id: post.channel_id, channel_name: channelName,
        timestamp: post.create_at, user_id: post.user_id, user_name: user?.username ?? '', post_id: post.id, text: post.message,
        trigger_word: triggerWord, file_ids: post.file_ids.join(','),
      };
      const request = hookRequestBody(hook, payload);
      for (const url of hook.callback_urls) calls.push(callOne(hook, url, request, post));
    }
    await Promise.all(calls);
  }

  async function callOne(hook: OutgoingWebhookRow, url: string, request: { contentType: string; body: string }, post: PostedPost): Promise<void> {
    const hookLog = log.child({ outgoing_webhook_id: hook.id, post_id: post.id, channel_id: post.channel_id });
    let answer;
    try {
      answer = await callIntegration(url, { method: 'POST', headers: { 'Content-Type': request.contentType, Accept: 'application/json' }, body: request.body }, { signal: shutdown.signal });
    } catch (err) {
      hookLog.warn({ err: { message: (err as Error).message, name: (err as Error).name } }, 'outgoing webhook POST failed');
      return;
    }
    if (!answer.body.trim()) return;
    let parsed;
    try {
      parsed = hookResponseSchema.safeParse(JSON.parse(answer.body));
    } catch {
      hookLog.warn({ status: answer.status }, 'outgoing webhook answered with something other than JSON');
      return;
    }
    if (!parsed.success) {
      hookLog.warn({ status: answer.status, problem: parsed.error.issues[0]?.message }, 'outgoing webhook answer is not a valid response');
      return;
    }
    const reply = parsed.data;
    if ((reply.text === undefined || reply.text === null) && !reply.attachments?.length) return;
    if (shutdown.signal.aborted) return;
    try {
      await postReply(hook, reply, post);
    } catch (err) {
      hookLog.warn({ err: { message: (err as Error).message, id: (err as { id?: string }).id } }, 'could not post the outgoing webhook\'s reply');
    }
  }

  async function postReply(hook: OutgoingWebhookRow, reply: z.output<typeof hookResponseSchema>, post: PostedPost): Promise<void> {
    await inTransaction(deps.db, async (trx, afterCommit) => {
      const creator = await activeUser(trx, hook.creator_id);
      if (!creator) throw new Error('the hook\'s creator is deactivated');
      const actor = actorForUser(creator);
      const access = await loadChannelAccess(trx, actor, post.channel_id);
      const { text, attachments } = await processSlackMarkup(trx, reply.text ?? '', reply.attachments ?? []);
      await createIntegrationPosts(trx, { events: deps.events }, afterCommit, actor, access, {
        text, attachments, type: reply.type ?? '', props: reply.props ?? {}, fromWebhook: true,
        // A comment goes into the thread of the post that triggered the hook.
        rootId: reply.response_type === 'comment' ? post.root_id || post.id : '',
        overrideUsername: reply.username || hook.username, overrideIconUrl: reply.icon_url || hook.icon_url,
        webhookDisplayName: hook.display_name,
      });
    });
  }

  return async () => {
    unsubscribe();
    hookCache.stop();
    shutdown.abort();
    await Promise.allSettled([...inFlight]);
  };
}
