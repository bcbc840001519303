// Custom slash commands: stored per team, managed by those with manage_slash_commands on the team.
import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor.ts';
import { authorize, can } from '../../auth/policy.ts';
import { InvalidInputError, NotFoundError, invalidParam } from '../../lib/errors.ts';
import { newId, newToken } from '../../lib/ids.ts';
import { nowMs } from '../../lib/clock.ts';
import { loadTeamResource } from '../access.ts';
import { activeUser } from '../posting.ts';
import { builtInTriggers } from './builtins.ts';
import type { CommandRow, CommandUpdate, NewCommand } from './model.ts';

// The answer for a command the actor may not see is the same as for one that does not exist, so that
// command ids do not leak across teams (as in Mattermost).
function notFound(): NotFoundError {
  return new NotFoundError('store.sql_command.save.get.app_error', 'We could not find the command.');
}

/** A trigger is unique in its team among live commands and may not shadow a built-in command. */
async function assertTriggerFree(db: Knex | Knex.Transaction, teamId: string, trigger: string, exceptId = ''): Promise<void> {
  const taken = builtInTriggers.has(trigger) || (await db('commands').where({ team_id: teamId, trigger, delete_at: 0 }).whereNot({ id: exceptId }).first('id'));
  if (taken) throw new InvalidInputError('api.command.duplicate_trigger.app_error', 'This trigger word is already in use. Please choose another word.');
}

/** Creates a custom command in a team (manage_slash_commands there). */
export async function createCommand(trx: Knex.Transaction, actor: Actor, input: NewCommand): Promise<CommandRow> {
  const { resource } = await loadTeamResource(trx, actor, input.team_id);
  authorize(actor, 'manage_slash_commands', resource);
  let creatorId = actor.userId;
  if (input.creator_id && input.creator_id !== actor.userId) {
    if (!(await activeUser(trx, input.creator_id))) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
    creatorId = input.creator_id;
  }
  // Serialise creations per team so that two requests cannot both take a free trigger.
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`custodian.commands.${input.team_id}`]);
  await assertTriggerFree(trx, input.team_id, input.trigger);
  const now = nowMs();
  const { team_id: teamId, creator_id: _ignored, ...fields } = input;
  const [row] = (await trx('commands').insert({ id: newId(), token: newToken(), create_at: now, update_at: now, delete_at: 0, creator_id: creatorId, team_id: teamId, ...fields }).returning('*')) as CommandRow[];
  return row;
}

/** Loads a live command the actor may manage; 404 otherwise. */
export async function getCommand(db: Knex | Knex.Transaction, actor: Actor, commandId: string, forUpdate = false): Promise<CommandRow> {
  const query = db('commands').where({ id: commandId, delete_at: 0 }).first();
  if (forUpdate) query.forUpdate();
  const row = (await query) as CommandRow | undefined;
  if (!row) throw notFound();
  const { resource } = await loadTeamResource(db, actor, row.team_id);
  if (!can(actor, 'manage_slash_commands', resource)) throw notFound();
  return row;
}

export async function updateCommand(trx: Knex.Transaction, actor: Actor, commandId: string, input: CommandUpdate): Promise<CommandRow> {
  if (input.id !== commandId) throw invalidParam('command', 'the id in the body does not match the URL');
  const old = await getCommand(trx, actor, commandId, true);
  if (input.team_id !== old.team_id) throw new InvalidInputError('api.command.team_mismatch.app_error', 'Unable to update commands across teams.');
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`custodian.commands.${old.team_id}`]);
  await assertTriggerFree(trx, old.team_id, input.trigger, old.id);
  const { id: _id, team_id: _team, ...fields } = input;
  const [row] = (await trx('commands').where({ id: commandId }).update({ ...fields, update_at: nowMs() }).returning('*')) as CommandRow[];
  return row;
}

export async function deleteCommand(trx: Knex.Transaction, actor: Actor, commandId: string): Promise<void> {
  await getCommand(trx, actor, commandId, true);
  const now = nowMs();
  await trx('commands').where({ id: commandId }).update({ delete_at: now, update_at: now });
}

/** Gives a command a new token (sent to its integration with every call). */
export async function regenCommandToken(trx: Knex.Transaction, actor: Actor, commandId: string): Promise<CommandRow> {
  await getCommand(trx, actor, commandId, true);
  const [row] = (await trx('commands').where({ id: commandId }).update({ token: newToken(), update_at: nowMs() }).returning('*')) as CommandRow[];
  return row;
}

/** A team's live custom commands, oldest first. */
export async function teamCommands(db: Knex | Knex.Transaction, teamId: string): Promise<CommandRow[]> {
  return (await db('commands').where({ team_id: teamId, delete_at: 0 }).orderBy('create_at').orderBy('id')) as CommandRow[];
}
