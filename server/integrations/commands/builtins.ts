// Built-in slash commands, answering as Mattermost's do (same texts, same response types).
import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor.ts';
import { can } from '../../auth/policy.ts';
import { loadChannelAccess, type ChannelAccess } from '../../channels/access.ts';
import { presentChannel, type ChannelRow } from '../../channels/model.ts';
import { addMemberToChannel, openDirectChannel, removeMemberFromChannel } from '../../channels/service.ts';
import { inTransaction } from '../../db/transaction.ts';
import { AppError, ForbiddenError, NotFoundError } from '../../lib/errors.ts';
import { nowMs } from '../../lib/clock.ts';
import { createPost } from '../../posts/service.ts';
import { charLength } from '../../posts/text.ts';
import type { EventBus } from '../../realtime/events.ts';
import type { TeamRow } from '../../teams/model.ts';
import { findVisibleUser } from '../../users/queries.ts';
import { commandResponse, type CommandDescriptor, type CommandResponse } from './model.ts';

/** What a command runs with: the caller, the channel it was typed in (with the caller's memberships), its team. */
export interface CommandContext {
  db: Knex;
  events: EventBus;
  actor: Actor;
  access: ChannelAccess;
  /** The channel's team, or for a direct/group message the team the client named (if the caller is in it). */
  team?: TeamRow;
  rootId: string;
  siteUrl: string;
}

export interface BuiltInCommand extends CommandDescriptor {
  run(ctx: CommandContext, message: string): Promise<CommandResponse>;
}

const ephemeral = (text: string) => commandResponse({ response_type: 'ephemeral', text });

/** Runs `work` in its own transaction; a refused action becomes `failure` (shown to the caller only). */
async function attempt(ctx: CommandContext, failure: string, work: (trx: Knex.Transaction, afterCommit: (effect: () => void) => void) => Promise<void>): Promise<CommandResponse | undefined> {
  try {
    await inTransaction(ctx.db, work);
    return undefined;
  } catch (err) {
    if (err instanceof AppError) return ephemeral(failure);
    throw err;
  }
}

const channelUrl = (ctx: CommandContext, team: TeamRow, channelName: string) => `${ctx.siteUrl}/${team.name}/channels/${channelName}`;

const join: BuiltInCommand = {
  trigger: 'join', display_name: 'join', auto_complete_desc: 'Join the open channel', auto_complete_hint: '~[channel]',
  async run(ctx, message) {
    const name = (message.startsWith('~') ? message.slice(1) : message).trim().toLowerCase();
    const channel = ctx.team && name ? ((await ctx.db('channels').where({ team_id: ctx.team.id, name }).first()) as ChannelRow | undefined) : undefined;
    if (!ctx.team || !channel) return ephemeral('An error occurred while listing channels.');
    const failed = await attempt(ctx, 'An error occurred while joining the channel.', async (trx, afterCommit) => {
      const access = await loadChannelAccess(trx, ctx.actor, channel.id);
      // Private channels can only be "joined" by those already allowed to read them, as in Mattermost.
      if (channel.type === 'P' && !can(ctx.actor, 'read_channel', access.resource)) throw new ForbiddenError('api.command_join.fail.app_error', 'Not allowed.');
      await addMemberToChannel(trx, { events: ctx.events }, afterCommit, ctx.actor, access, ctx.actor.userId);
    });
    return failed ?? commandResponse({ goto_location: channelUrl(ctx, ctx.team, channel.name) });
  },
};

const leave: BuiltInCommand = {
  trigger: 'leave', display_name: 'leave', auto_complete_desc: 'Leave the current channel', auto_complete_hint: '',
  async run(ctx) {
    const { channel } = ctx.access;
    if (channel.name === 'town-square') return ephemeral('Unable to leave the default channel town-square.');
    const failed = await attempt(ctx, 'An error occurred while leaving the channel.', async (trx, afterCommit) => {
      const access = await loadChannelAccess(trx, ctx.actor, channel.id);
      await removeMemberFromChannel(trx, { events: ctx.events }, afterCommit, ctx.actor, access, ctx.actor.userId);
    });
    if (failed) return failed;
    return commandResponse({ goto_location: ctx.team ? channelUrl(ctx, ctx.team, 'town-square') : `${ctx.siteUrl}/` });
  },
};

const me: BuiltInCommand = {
  trigger: 'me', display_name: 'me', auto_complete_desc: 'Do an action', auto_complete_hint: '[message]',
  async run(_ctx, message) {
    return commandResponse({ response_type: 'in_channel', type: 'me', text: `*${message}*` });
  },
};

const msg: BuiltInCommand = {
  trigger: 'msg', display_name: 'message', auto_complete_desc: 'Send Direct Message to a user', auto_complete_hint: '@[username] \'message\'',
  async run(ctx, message) {
    const space = message.indexOf(' ');
    const target = (space === -1 ? message : message.slice(0, space)).replace(/^@/, '').toLowerCase();
    const text = space === -1 ? '' : message.slice(space + 1);
    let user;
    try {
      user = await findVisibleUser(ctx.db, ctx.actor, (q) => q.whereRaw('lower(users.username) = ?', [target]).where('users.delete_at', 0));
    } catch (err) {
      if (err instanceof NotFoundError) return ephemeral('We couldn\'t find the user.');
      throw err;
    }
    if (user.id === ctx.actor.userId) return ephemeral('We couldn\'t find the user.');
    let dm: ChannelRow | undefined;
    const failed = await attempt(ctx, 'An error occurred while messaging the user.', async (trx, afterCommit) => {
      dm = await openDirectChannel(trx, { events: ctx.events }, afterCommit, ctx.actor, [ctx.actor.userId, user.id]);
      if (text.trim()) {
        await createPost(trx, { events: ctx.events }, afterCommit, ctx.actor, { channel_id: dm.id, message: text, root_id: '', file_ids: [], props: {}, pending_post_id: '' });
      }
    });
    if (failed || !dm) return failed ?? ephemeral('An error occurred while messaging the user.');
    return commandResponse({ response_type: 'ephemeral', goto_location: ctx.team ? channelUrl(ctx, ctx.team, dm.name) : '' });
  },
};

const echo: BuiltInCommand = {
  trigger: 'echo', display_name: 'echo', auto_complete_desc: 'Echo back text from your account', auto_complete_hint: '\'message\' [delay in seconds]',
  async run(ctx, message) {
    if (!message) return ephemeral('A message must be provided with the /echo command.');
    let text = message;
    let delay = 0;
    const endQuote = message.lastIndexOf('"');
    if (message.startsWith('"') && endQuote > 1) {
      const after = message.slice(endQuote).replace(/^[\s"]+|[\s"]+$/g, '');
      if (/^-?\d+$/.test(after)) delay = Number(after);
      text = message.slice(1, endQuote);
    } else if (message.includes(' ')) {
      const last = message.slice(message.lastIndexOf(' ')).trim();
      if (/^-?\d+$/.test(last)) {
        delay = Number(last);
        text = message.slice(0, message.lastIndexOf(' '));
      }
    }
    if (delay > 10000) return ephemeral('Delays must be under 10000 seconds.');
    // Mattermost posts the echo after `delay` seconds from memory; here it is posted at once, so that a
    // restart cannot lose it.
    const failed = await attempt(ctx, 'Unable to create /echo post.', async (trx, afterCommit) => {
      await createPost(trx, { events: ctx.events }, afterCommit, ctx.actor, { channel_id: ctx.access.channel.id, message: text, root_id: ctx.rootId, file_ids: [], props: {}, pending_post_id: '' });
    });
    return failed ?? commandResponse();
  },
};

const shrug: BuiltInCommand = {
  trigger: 'shrug', display_name: 'shrug', auto_complete_desc: 'Adds ¯\\_(ツ)_/¯ to your message', auto_complete_hint: '[message]',
  async run(_ctx, message) {
    const face = '¯\\\\\\_(ツ)\\_/¯';
    return commandResponse({ response_type: 'in_channel', text: message ? `${message} ${face}` : face });
  },
};

/** /header and /purpose: who may change a channel property, and how long it may be. */
function channelPropertyCommand(field: 'header' | 'purpose', options: { maxLength: number; desc: string; missing: string; noPermission: string; directRefusal?: string }): BuiltInCommand {
  return {
    trigger: field, display_name: field, auto_complete_desc: options.desc, auto_complete_hint: '[text]',
    async run(ctx, message) {
      const { channel, channelMember, resource } = ctx.access;
      const direct = channel.type === 'D' || channel.type === 'G';
      if (direct && options.directRefusal) return ephemeral(options.directRefusal);
      const allowed = direct ? Boolean(channelMember) : can(ctx.actor, 'manage_channel_properties', resource);
      if (!allowed) return ephemeral(options.noPermission);
      if (!message) return ephemeral(options.missing);
      if (charLength(message) > options.maxLength) return ephemeral(`The text entered exceeds the character limit. The channel ${field} is limited to ${options.maxLength} characters.`);
      return (
        (await attempt(ctx, `Unable to update the channel ${field}.`, async (trx, afterCommit) => {
          const [row] = (await trx('channels').where({ id: channel.id }).update({ [field]: message, update_at: nowMs() }).returning('*')) as ChannelRow[];
          afterCommit(() => ctx.events.publish({ event: 'channel_updated', data: { channel: JSON.stringify(presentChannel(row)) }, broadcast: { channel_id: row.id } }));
        })) ?? commandResponse()
      );
    },
  };
}

const header = channelPropertyCommand('header', {
  maxLength: 1024, desc: 'Edit the channel header', missing: 'Text must be provided with the /header command.',
  noPermission: 'You don\'t have the appropriate permissions to edit the channel header.',
});

const purpose = channelPropertyCommand('purpose', {
  maxLength: 250, desc: 'Edit the channel purpose', missing: 'A message must be provided with the /purpose command.',
  noPermission: 'You don\'t have the appropriate permissions to edit the channel purpose.',
  directRefusal: 'Unable to set purpose for direct message channels. Use /header to set the header instead.',
});

/** The built-in commands by trigger. */
export const builtInCommands: ReadonlyMap<string, BuiltInCommand> = new Map([join, leave, me, msg, echo, shrug, header, purpose].map((c) => [c.trigger, c]));
export const builtInTriggers: ReadonlySet<string> = new Set(builtInCommands.keys());
