import { bootApp, type TestApp } from './app.ts';
import { makeTeam, makeUser, type TestUser } from './factories.ts';

/** A booted app with two users who share one team: the start of most messaging suites. */
export async function bootWithTwoTeammates(names: { alice?: string; bob?: string } = {}): Promise<{ app: TestApp; alice: TestUser; bob: TestUser; teamId: string }> {
  const app = await bootApp();
  const alice = await makeUser(app, names.alice ? { username: names.alice } : {});
  const bob = await makeUser(app, names.bob ? { username: names.bob } : {});
  const teamId = (await makeTeam(app.ownerDb, { members: [alice.user, bob.user] })).id;
  return { app, alice, bob, teamId };
}
