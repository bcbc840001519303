import type { Knex } from 'knex';

// Ids are Mattermost's 26-character strings; times are bigint epoch milliseconds, 0 meaning "not set".
const id = (t: Knex.CreateTableBuilder, name: string) => t.string(name, 26);
const time = (t: Knex.CreateTableBuilder, name: string) => t.bigInteger(name).notNullable().defaultTo(0);

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    id(t, 'id').primary();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
    t.string('username', 64).notNullable();
    t.string('email', 128).notNullable();
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.string('nickname', 64).notNullable().defaultTo('');
    t.string('first_name', 64).notNullable().defaultTo('');
    t.string('last_name', 64).notNullable().defaultTo('');
    t.string('position', 128).notNullable().defaultTo('');
    t.string('roles', 256).notNullable().defaultTo('system_user');
    t.string('locale', 5).notNullable().defaultTo('en');
    t.text('password_hash');
    time(t, 'last_password_update');
    t.string('auth_service', 32).notNullable().defaultTo('');
    t.string('auth_data', 256);
    t.boolean('is_bot').notNullable().defaultTo(false);
    t.jsonb('props').notNullable().defaultTo('{}');
    t.jsonb('notify_props').notNullable().defaultTo('{}');
    t.jsonb('timezone').notNullable().defaultTo('{}');
    time(t, 'last_activity_at');
  });
  await knex.raw('CREATE UNIQUE INDEX users_username_key ON users (lower(username))');
  await knex.raw('CREATE UNIQUE INDEX users_email_key ON users (lower(email))');
  await knex.raw("CREATE UNIQUE INDEX users_auth_key ON users (auth_service, auth_data) WHERE auth_data IS NOT NULL AND auth_service <> ''");

  await knex.schema.createTable('sessions', (t) => {
    id(t, 'id').primary();
    // Only a SHA-256 of the bearer token is stored, so a database leak yields no usable sessions.
    t.string('token_hash', 64).notNullable().unique();
    id(t, 'user_id').notNullable().references('users.id').onDelete('CASCADE');
    time(t, 'create_at');
    time(t, 'expires_at');
    time(t, 'last_activity_at');
    t.string('device_id', 512).notNullable().defaultTo('');
    t.string('roles', 256).notNullable().defaultTo('');
    t.string('csrf_token', 26).notNullable();
    t.boolean('is_oauth').notNullable().defaultTo(false);
    id(t, 'access_token_id');
    t.jsonb('props').notNullable().defaultTo('{}');
    t.index(['user_id']);
  });

  await knex.schema.createTable('user_access_tokens', (t) => {
    id(t, 'id').primary();
    t.string('token_hash', 64).notNullable().unique();
    id(t, 'user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('description', 512).notNullable().defaultTo('');
    t.boolean('is_active').notNullable().defaultTo(true);
    time(t, 'create_at');
    t.index(['user_id']);
  });

  await knex.schema.createTable('bots', (t) => {
    id(t, 'user_id').primary().references('users.id').onDelete('CASCADE');
    t.string('description', 1024).notNullable().defaultTo('');
    id(t, 'owner_id').notNullable();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
  });

  await knex.schema.createTable('login_failures', (t) => {
    t.bigIncrements('id');
    t.string('login_key', 128).notNullable();
    t.string('ip_address', 64).notNullable().defaultTo('');
    time(t, 'at');
    t.index(['login_key', 'at']);
  });

  await knex.schema.createTable('teams', (t) => {
    id(t, 'id').primary();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
    t.string('display_name', 64).notNullable();
    t.string('name', 64).notNullable().unique();
    t.string('description', 255).notNullable().defaultTo('');
    t.string('email', 128).notNullable().defaultTo('');
    t.string('type', 1).notNullable();
    t.string('company_name', 64).notNullable().defaultTo('');
    t.string('allowed_domains', 1000).notNullable().defaultTo('');
    id(t, 'invite_id').notNullable();
    t.boolean('allow_open_invite').notNullable().defaultTo(false);
    t.boolean('group_constrained').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('team_members', (t) => {
    id(t, 'team_id').notNullable().references('teams.id');
    id(t, 'user_id').notNullable().references('users.id');
    t.string('roles', 256).notNullable().defaultTo('');
    t.boolean('scheme_user').notNullable().defaultTo(true);
    t.boolean('scheme_admin').notNullable().defaultTo(false);
    t.boolean('scheme_guest').notNullable().defaultTo(false);
    time(t, 'create_at');
    time(t, 'delete_at');
    t.primary(['team_id', 'user_id']);
    t.index(['user_id']);
  });

  await knex.schema.createTable('channels', (t) => {
    id(t, 'id').primary();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
    t.string('team_id', 26).notNullable().defaultTo('');
    t.string('type', 1).notNullable();
    t.string('display_name', 64).notNullable().defaultTo('');
    t.string('name', 64).notNullable();
    t.string('header', 1024).notNullable().defaultTo('');
    t.string('purpose', 250).notNullable().defaultTo('');
    time(t, 'last_post_at');
    time(t, 'last_root_post_at');
    t.bigInteger('total_msg_count').notNullable().defaultTo(0);
    t.bigInteger('total_msg_count_root').notNullable().defaultTo(0);
    t.string('creator_id', 26).notNullable().defaultTo('');
    t.boolean('group_constrained').notNullable().defaultTo(false);
    t.unique(['team_id', 'name']);
  });

  await knex.schema.createTable('channel_members', (t) => {
    id(t, 'channel_id').notNullable().references('channels.id');
    id(t, 'user_id').notNullable().references('users.id');
    t.string('roles', 256).notNullable().defaultTo('');
    time(t, 'last_viewed_at');
    t.bigInteger('msg_count').notNullable().defaultTo(0);
    t.bigInteger('msg_count_root').notNullable().defaultTo(0);
    t.bigInteger('mention_count').notNullable().defaultTo(0);
    t.bigInteger('mention_count_root').notNullable().defaultTo(0);
    t.jsonb('notify_props').notNullable().defaultTo('{}');
    time(t, 'last_update_at');
    t.boolean('scheme_user').notNullable().defaultTo(true);
    t.boolean('scheme_admin').notNullable().defaultTo(false);
    t.boolean('scheme_guest').notNullable().defaultTo(false);
    t.primary(['channel_id', 'user_id']);
    t.index(['user_id']);
  });

  // Who was in which channel from when to when: compliance exports read joins and leaves from here.
  await knex.schema.createTable('channel_member_history', (t) => {
    t.bigIncrements('id');
    id(t, 'channel_id').notNullable();
    id(t, 'user_id').notNullable();
    t.bigInteger('join_time').notNullable();
    t.bigInteger('leave_time');
    t.index(['channel_id', 'join_time']);
    t.index(['user_id', 'join_time']);
  });
  await knex.raw('CREATE UNIQUE INDEX channel_member_history_open_key ON channel_member_history (channel_id, user_id) WHERE leave_time IS NULL');

  await knex.schema.createTable('posts', (t) => {
    id(t, 'id').primary();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'edit_at');
    time(t, 'delete_at');
    t.boolean('is_pinned').notNullable().defaultTo(false);
    id(t, 'user_id').notNullable();
    id(t, 'channel_id').notNullable();
    t.string('root_id', 26).notNullable().defaultTo('');
    t.string('original_id', 26).notNullable().defaultTo('');
    t.text('message').notNullable().defaultTo('');
    t.string('type', 64).notNullable().defaultTo('');
    t.jsonb('props').notNullable().defaultTo('{}');
    t.text('hashtags').notNullable().defaultTo('');
    t.jsonb('file_ids').notNullable().defaultTo('[]');
    t.string('pending_post_id', 64).notNullable().defaultTo('');
    t.integer('reply_count').notNullable().defaultTo(0);
    time(t, 'last_reply_at');
  });
  await knex.raw('CREATE INDEX posts_channel_create_at ON posts (channel_id, create_at)');
  await knex.raw("CREATE INDEX posts_root_id ON posts (root_id, create_at) WHERE root_id <> ''");
  await knex.raw('CREATE INDEX posts_update_at_id ON posts (update_at, id)');
  await knex.raw('CREATE INDEX posts_user_create_at ON posts (user_id, create_at)');

  // Every prior version of a post, recorded before an edit or a delete replaces it.
  await knex.schema.createTable('post_versions', (t) => {
    t.bigIncrements('id');
    id(t, 'post_id').notNullable();
    t.string('reason', 8).notNullable();
    t.text('message').notNullable();
    t.jsonb('props').notNullable();
    t.jsonb('file_ids').notNullable();
    t.boolean('is_pinned').notNullable();
    t.bigInteger('version_create_at').notNullable();
    t.bigInteger('replaced_at').notNullable();
    t.string('replaced_by', 26).notNullable();
    t.index(['post_id', 'id']);
  });

  await knex.schema.createTable('reactions', (t) => {
    id(t, 'user_id').notNullable();
    id(t, 'post_id').notNullable();
    t.string('emoji_name', 64).notNullable();
    id(t, 'channel_id').notNullable();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
    t.primary(['post_id', 'user_id', 'emoji_name']);
    t.index(['update_at']);
  });

  await knex.schema.createTable('file_infos', (t) => {
    id(t, 'id').primary();
    id(t, 'creator_id').notNullable();
    t.string('post_id', 26).notNullable().defaultTo('');
    id(t, 'channel_id').notNullable();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
    t.string('path', 512).notNullable();
    t.string('name', 256).notNullable();
    t.string('extension', 64).notNullable().defaultTo('');
    t.bigInteger('size').notNullable();
    t.string('mime_type', 256).notNullable();
    t.string('sha256', 64).notNullable();
    t.integer('width').notNullable().defaultTo(0);
    t.integer('height').notNullable().defaultTo(0);
    t.index(['post_id']);
    t.index(['channel_id', 'create_at']);
  });

  await knex.schema.createTable('incoming_webhooks', (t) => {
    id(t, 'id').primary();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
    id(t, 'user_id').notNullable();
    id(t, 'channel_id').notNullable();
    id(t, 'team_id').notNullable();
    t.string('display_name', 64).notNullable().defaultTo('');
    t.string('description', 500).notNullable().defaultTo('');
    t.string('username', 255).notNullable().defaultTo('');
    t.string('icon_url', 1024).notNullable().defaultTo('');
    t.boolean('channel_locked').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('outgoing_webhooks', (t) => {
    id(t, 'id').primary();
    t.string('token', 26).notNullable();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
    id(t, 'creator_id').notNullable();
    t.string('channel_id', 26).notNullable().defaultTo('');
    id(t, 'team_id').notNullable();
    t.jsonb('trigger_words').notNullable().defaultTo('[]');
    t.integer('trigger_when').notNullable().defaultTo(0);
    t.jsonb('callback_urls').notNullable().defaultTo('[]');
    t.string('display_name', 64).notNullable().defaultTo('');
    t.string('description', 500).notNullable().defaultTo('');
    t.string('content_type', 128).notNullable().defaultTo('application/x-www-form-urlencoded');
    t.string('username', 64).notNullable().defaultTo('');
    t.string('icon_url', 1024).notNullable().defaultTo('');
  });

  await knex.schema.createTable('commands', (t) => {
    id(t, 'id').primary();
    t.string('token', 26).notNullable();
    time(t, 'create_at');
    time(t, 'update_at');
    time(t, 'delete_at');
    id(t, 'creator_id').notNullable();
    id(t, 'team_id').notNullable();
    t.string('trigger', 128).notNullable();
    t.string('method', 1).notNullable().defaultTo('P');
    t.string('url', 1024).notNullable();
    t.string('username', 64).notNullable().defaultTo('');
    t.string('icon_url', 1024).notNullable().defaultTo('');
    t.boolean('auto_complete').notNullable().defaultTo(false);
    t.string('auto_complete_desc', 1024).notNullable().defaultTo('');
    t.string('auto_complete_hint', 1024).notNullable().defaultTo('');
    t.string('display_name', 64).notNullable().defaultTo('');
    t.string('description', 128).notNullable().defaultTo('');
  });

  await knex.schema.createTable('preferences', (t) => {
    id(t, 'user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('category', 32).notNullable();
    t.string('name', 32).notNullable();
    t.text('value').notNullable().defaultTo('');
    t.primary(['user_id', 'category', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'preferences', 'commands', 'outgoing_webhooks', 'incoming_webhooks', 'file_infos', 'reactions', 'post_versions', 'posts',
    'channel_member_history', 'channel_members', 'channels', 'team_members', 'teams', 'login_failures', 'bots',
    'user_access_tokens', 'sessions', 'users',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
