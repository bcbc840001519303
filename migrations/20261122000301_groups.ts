import type { Knex } from 'knex';

// Mattermost's group model: groups from LDAP, SAML, OIDC or made by hand, their members, and the
// teams and channels they are linked to ("syncables"). A group may also grant system roles.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('groups', (t) => {
    t.string('id', 26).primary();
    t.string('name', 64);
    t.string('display_name', 128).notNullable();
    t.string('description', 1024).notNullable().defaultTo('');
    t.string('source', 16).notNullable();
    // The directory's stable id for the group (LDAP entryUUID/objectGUID, SAML or OIDC group value).
    t.string('remote_id', 512).notNullable();
    // System roles the group grants its members (space-separated), e.g. compliance_officer.
    t.string('roles', 256).notNullable().defaultTo('');
    t.boolean('allow_reference').notNullable().defaultTo(false);
    t.bigInteger('create_at').notNullable().defaultTo(0);
    t.bigInteger('update_at').notNullable().defaultTo(0);
    t.bigInteger('delete_at').notNullable().defaultTo(0);
    t.unique(['source', 'remote_id']);
  });
  await knex.raw("ALTER TABLE groups ADD CONSTRAINT groups_source_check CHECK (source IN ('ldap', 'saml', 'oidc', 'custom'))");
  await knex.raw('CREATE UNIQUE INDEX groups_name_key ON groups (lower(name)) WHERE name IS NOT NULL AND delete_at = 0');

  await knex.schema.createTable('group_members', (t) => {
    t.string('group_id', 26).notNullable().references('groups.id').onDelete('CASCADE');
    t.string('user_id', 26).notNullable().references('users.id').onDelete('CASCADE');
    t.bigInteger('create_at').notNullable().defaultTo(0);
    t.bigInteger('delete_at').notNullable().defaultTo(0);
    t.primary(['group_id', 'user_id']);
    t.index(['user_id']);
  });

  await knex.schema.createTable('group_syncables', (t) => {
    t.string('group_id', 26).notNullable().references('groups.id').onDelete('CASCADE');
    t.string('syncable_id', 26).notNullable();
    t.string('type', 8).notNullable();
    t.boolean('auto_add').notNullable().defaultTo(true);
    t.boolean('scheme_admin').notNullable().defaultTo(false);
    t.bigInteger('create_at').notNullable().defaultTo(0);
    t.bigInteger('update_at').notNullable().defaultTo(0);
    t.bigInteger('delete_at').notNullable().defaultTo(0);
    t.primary(['group_id', 'syncable_id', 'type']);
    t.index(['syncable_id', 'type']);
  });
  await knex.raw("ALTER TABLE group_syncables ADD CONSTRAINT group_syncables_type_check CHECK (type IN ('team', 'channel'))");

  // Roles a user holds through groups, kept apart from the roles an admin gave them so that leaving
  // the group takes exactly those away. Recomputed whenever memberships or a group's roles change.
  await knex.schema.alterTable('users', (t) => {
    t.string('group_roles', 256).notNullable().defaultTo('');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => t.dropColumn('group_roles'));
  await knex.schema.dropTableIfExists('group_syncables');
  await knex.schema.dropTableIfExists('group_members');
  await knex.schema.dropTableIfExists('groups');
}
