import { z } from 'zod';
import { attachmentsSchema, type Attachment } from '../slack.ts';

/** A commands row: a custom slash command of a team, answered by the integration at `url`. */
export interface CommandRow {
  id: string;
  token: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  creator_id: string;
  team_id: string;
  trigger: string;
  method: 'P' | 'G';
  url: string;
  username: string;
  icon_url: string;
  auto_complete: boolean;
  auto_complete_desc: string;
  auto_complete_hint: string;
  display_name: string;
  description: string;
}

/** What a built-in command shows in command lists. */
export interface CommandDescriptor {
  trigger: string;
  auto_complete_desc: string;
  auto_complete_hint: string;
  display_name: string;
}

/** The Command object of API v4. `sanitized` hides what only its managers may see (token, URL, creator). */
export function presentCommand(row: CommandRow, sanitized = false): Record<string, unknown> {
  return {
    id: row.id, token: sanitized ? '' : row.token, create_at: row.create_at, update_at: row.update_at, delete_at: row.delete_at,
    creator_id: sanitized ? '' : row.creator_id, team_id: row.team_id, trigger: row.trigger, method: sanitized ? '' : row.method,
    username: sanitized ? '' : row.username, icon_url: sanitized ? '' : row.icon_url, auto_complete: row.auto_complete,
    auto_complete_desc: row.auto_complete_desc, auto_complete_hint: row.auto_complete_hint, display_name: row.display_name,
    description: row.description, url: sanitized ? '' : row.url, plugin_id: '',
  };
}

/** A built-in command as a Command object (no id: it is not stored). */
export function presentBuiltIn(d: CommandDescriptor): Record<string, unknown> {
  return {
    id: '', token: '', create_at: 0, update_at: 0, delete_at: 0, creator_id: '', team_id: '', trigger: d.trigger, method: '',
    username: '', icon_url: '', auto_complete: true, auto_complete_desc: d.auto_complete_desc, auto_complete_hint: d.auto_complete_hint,
    display_name: d.display_name, description: '', url: '', plugin_id: '',
  };
}

const id = z.string().regex(/^[a-z0-9]{26}$/, 'must be an id');
const httpUrl = z.string().min(1).max(1024).refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http:// or https:// URL');

const commandFields = {
  trigger: z.string().trim().min(1).max(128).refine((t) => !t.startsWith('/') && !/\s/.test(t), 'must not start with "/" or contain spaces').transform((t) => t.toLowerCase()),
  method: z.enum(['P', 'G']).default('P'),
  url: httpUrl,
  username: z.string().max(64).default(''),
  icon_url: z.string().max(1024).default(''),
  auto_complete: z.boolean().default(false),
  auto_complete_desc: z.string().max(1024).default(''),
  auto_complete_hint: z.string().max(1024).default(''),
  display_name: z.string().max(64).default(''),
  description: z.string().max(128).default(''),
};

export const newCommandSchema = z.object({ team_id: id, creator_id: z.union([id, z.literal('')]).optional(), ...commandFields });
export type NewCommand = z.output<typeof newCommandSchema>;

export const commandUpdateSchema = z.object({ id, team_id: id, ...commandFields });
export type CommandUpdate = z.output<typeof commandUpdateSchema>;

/** POST /commands/execute: Mattermost's CommandArgs as clients send them. */
export const commandArgsSchema = z.object({
  command: z.string().max(16_383),
  channel_id: z.string(),
  team_id: z.union([id, z.literal('')]).default(''),
  root_id: z.union([id, z.literal('')]).default(''),
  parent_id: z.union([id, z.literal('')]).default(''),
});
export type CommandArgs = z.output<typeof commandArgsSchema>;

const optionalText = z.string().nullable().optional().transform((v) => v ?? '');

const baseResponse = z.object({
  response_type: optionalText,
  text: optionalText,
  username: optionalText,
  channel_id: optionalText,
  icon_url: optionalText,
  type: optionalText,
  props: z.record(z.string(), z.unknown()).nullable().optional().transform((v) => v ?? null),
  goto_location: optionalText,
  trigger_id: optionalText,
  skip_slack_parsing: z.boolean().nullable().optional().transform((v) => v ?? false),
  attachments: attachmentsSchema.transform((v) => v ?? null),
});

/** Mattermost's CommandResponse, as an integration answers a command. */
export const commandResponseSchema = baseResponse.extend({ extra_responses: z.array(baseResponse).max(20).nullable().optional().transform((v) => v ?? null) });
export type CommandResponse = z.output<typeof baseResponse> & { extra_responses?: z.output<typeof baseResponse>[] | null };

/** A response with everything empty but what is given (built-in commands build theirs this way). */
export function commandResponse(fields: Partial<CommandResponse> = {}): CommandResponse {
  return {
    response_type: '', text: '', username: '', channel_id: '', icon_url: '', type: '', props: null, goto_location: '',
    trigger_id: '', skip_slack_parsing: false, attachments: null as Attachment[] | null, extra_responses: null, ...fields,
  };
}

/** The CommandResponse JSON the execute endpoint answers with. */
export function presentCommandResponse(r: CommandResponse): Record<string, unknown> {
  const one = (x: CommandResponse): Record<string, unknown> => ({
    response_type: x.response_type, text: x.text, username: x.username, channel_id: x.channel_id, icon_url: x.icon_url, type: x.type,
    props: x.props, goto_location: x.goto_location, trigger_id: x.trigger_id, skip_slack_parsing: x.skip_slack_parsing, attachments: x.attachments,
  });
  return { ...one(r), extra_responses: r.extra_responses ? r.extra_responses.map((x) => one(x)) : null };
}

/**
 * Reads an integration's answer as Mattermost does: JSON when its media type says so, otherwise the
 * body is the response's text. Returns the problem instead when the JSON is not a CommandResponse.
 */
export function readCommandResponse(mediaType: string, body: string): { response: CommandResponse } | { problem: string } {
  if (mediaType !== 'application/json') return { response: commandResponse({ text: body }) };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { problem: `the answer is not JSON: ${(err as Error).message}` };
  }
  const parsed = commandResponseSchema.safeParse(value);
  if (!parsed.success) return { problem: `the answer is not a CommandResponse: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}` };
  return { response: parsed.data };
}
