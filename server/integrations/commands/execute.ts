// Running a slash command: a team's custom command (which may override a built-in one) is sent to its
// integration; otherwise a built-in command runs. The CommandResponse then becomes a post in the
// channel (in_channel), or a message to the caller only (ephemeral, never stored).
import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor.ts';
import { authorizeChannel } from '../../channels/access.ts';
import { AppError, ForbiddenError, InvalidInputError, NotFoundError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EventBus } from '../../realtime/events.ts';
import type { TeamRow } from '../../teams/model.ts';
import { getTeamMember } from '../../teams/service.ts';
import { callIntegration } from '../http.ts';
import { builtInCommands, type CommandContext } from './builtins.ts';
import { handleCommandResponse, type ResponseTarget } from './responses.ts';
import { createCommandWebhook } from './webhooks.ts';
import { readCommandResponse, type CommandArgs, type CommandResponse, type CommandRow } from './model.ts';

export interface ExecuteDeps {
  db: Knex;
  events: EventBus;
  logger: Logger;
  siteUrl: string;
}

/** Mattermost's limit on how much of a trigger an error message repeats. */
const MAX_TRIGGER_ECHO = 512;

function failed(trigger: string, detail: string): AppError {
  // An integration that fails is the server's problem to report, not the caller's input: a 500, as in Mattermost.
  return new AppError('api.command.execute_command.failed.app_error', `Command with a trigger of '/${trigger}' failed.`, detail);
}

/** Splits "/Trigger rest of text" into the lower-cased trigger (without "/") and the text after the first space. */
export function parseCommand(command: string): { trigger: string; message: string } {
  const space = command.search(/\s/);
  const head = space === -1 ? command : command.slice(0, space);
  return { trigger: head.toLowerCase().replace(/^\//, ''), message: space === -1 ? '' : command.slice(space + 1) };
}

/**
 * Executes POST /commands/execute for the actor: checks they may post in the channel, runs the command
 * and handles its response. Returns the CommandResponse to answer with.
 */
export async function executeCommand(deps: ExecuteDeps, actor: Actor, args: CommandArgs): Promise<CommandResponse> {
  if (args.command.length <= 1 || !args.command.startsWith('/') || !/^[a-z0-9]{26}$/.test(args.channel_id)) {
    throw new InvalidInputError('api.command.execute_command.start.app_error', 'No command trigger found.');
  }
  const access = await authorizeChannel(deps.db, actor, args.channel_id, 'create_post');
  const { channel } = access;
  if (channel.delete_at !== 0) throw new InvalidInputError('api.command.execute_command.deleted.error', 'Can not run commands in an archived channel.');
  let team: TeamRow | undefined;
  if (channel.type !== 'D' && channel.type !== 'G') {
    // Commands of a team run only in its own channels.
    team = (await deps.db('teams').where({ id: channel.team_id }).first()) as TeamRow | undefined;
  } else if (args.team_id) {
    const member = await getTeamMember(deps.db, args.team_id, actor.userId);
    if (!member || member.delete_at > 0) throw new ForbiddenError('api.context.permissions.app_error', 'You do not have the appropriate permissions.', 'not a member of the team');
    team = (await deps.db('teams').where({ id: args.team_id }).first()) as TeamRow | undefined;
  }
  const { trigger, message } = parseCommand(args.command);
  const rootId = args.root_id || args.parent_id;
  const ctx: CommandContext = { db: deps.db, events: deps.events, actor, access, team, rootId, siteUrl: deps.siteUrl };
  const target: ResponseTarget = { actor, channelId: channel.id, rootId };

  const custom = team ? ((await deps.db('commands').where({ team_id: team.id, trigger, delete_at: 0 }).first()) as CommandRow | undefined) : undefined;
  if (custom && team) {
    const response = await callCustomCommand(deps, ctx, team, custom, trigger, message);
    return handleCommandResponse(deps, target, { username: custom.username, icon_url: custom.icon_url }, response, false);
  }
  const builtIn = builtInCommands.get(trigger);
  if (builtIn) return handleCommandResponse(deps, target, { username: '', icon_url: '' }, await builtIn.run(ctx, message), true);
  const shown = trigger.length > MAX_TRIGGER_ECHO ? `${trigger.slice(0, MAX_TRIGGER_ECHO)}...` : trigger;
  throw new NotFoundError('api.command.execute_command.not_found.app_error', `Command with a trigger of '/${shown}' not found. To send a message beginning with "/", try adding an empty space at the beginning of the message.`);
}

/** Sends the command to its integration with Mattermost's form fields and reads its CommandResponse. */
async function callCustomCommand(deps: ExecuteDeps, ctx: CommandContext, team: TeamRow, command: CommandRow, trigger: string, message: string): Promise<CommandResponse> {
  const user = await deps.db('users').where({ id: ctx.actor.userId }).first('username');
  const hookId = await createCommandWebhook(deps.db, { commandId: command.id, userId: ctx.actor.userId, channelId: ctx.access.channel.id, rootId: ctx.rootId });
  const fields = new URLSearchParams({
    token: command.token, team_id: command.team_id, team_domain: team.name, channel_id: ctx.access.channel.id,
    channel_name: ctx.access.channel.name, user_id: ctx.actor.userId, user_name: user?.username ?? '', command: `/${trigger}`,
    text: message, trigger_id: newId(), root_id: ctx.rootId,
    response_url: `${deps.siteUrl}/hooks/commands/${hookId}`,
  });
  let url = command.url;
  let body: string | undefined;
  const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Token ${command.token}` };
  if (command.method === 'G') {
    url += (url.includes('?') ? '&' : '?') + fields.toString();
  } else {
    body = fields.toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  let answer;
  try {
    answer = await callIntegration(url, { method: command.method === 'G' ? 'GET' : 'POST', headers, body });
  } catch (err) {
    deps.logger.warn({ command_id: command.id, err: { message: (err as Error).message, name: (err as Error).name } }, 'slash command request failed');
    throw failed(trigger, (err as Error).name === 'TimeoutError' ? 'the integration did not answer in time' : 'the integration could not be reached');
  }
  if (answer.status !== 200) {
    throw new AppError('api.command.execute_command.failed_resp.app_error', `Command with a trigger of '/${trigger}' returned response ${answer.status}.`, answer.body.slice(0, 500));
  }
  const read = readCommandResponse(answer.mediaType, answer.body);
  if ('problem' in read) throw failed(trigger, read.problem);
  return read.response;
}
