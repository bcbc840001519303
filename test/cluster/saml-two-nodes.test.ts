import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { bootApp, bootSecondNode, request, type TestApp } from '../support/app.ts';
import { readRedirectRequest, TestIdp } from '../sso/saml-idp.ts';

const SITE = 'https://chat.example.test';
const ACS = `${SITE}/login/sso/saml`;

describe('two nodes on one PostgreSQL: SAML sign-in', function () {
  this.timeout(60_000);
  let nodeA: TestApp;
  let nodeB: Awaited<ReturnType<typeof bootSecondNode>>;
  let idp: TestIdp;
  let metadataDir: string;

  before(async () => {
    idp = new TestIdp();
    metadataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-idp-'));
    fs.writeFileSync(path.join(metadataDir, 'idp.xml'), idp.metadata());
    const env = { CUSTODIAN_SITE_URL: SITE, CUSTODIAN_SAML_ENABLE: 'true', CUSTODIAN_SAML_IDP_METADATA_FILE: path.join(metadataDir, 'idp.xml') };
    nodeA = await bootApp({ CUSTODIAN_NODE_ID: 'node-1', ...env });
    nodeB = await bootSecondNode(nodeA, { CUSTODIAN_NODE_ID: 'node-2', ...env });
  });
  after(async () => {
    await nodeB?.close();
    await nodeA?.close();
    fs.rmSync(metadataDir, { recursive: true, force: true });
  });

  const post = (node: { url: string }, xml: string) =>
    fetch(`${node.url}/login/sso/saml`, { method: 'POST', body: new URLSearchParams({ SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: '/' }), redirect: 'manual' });

  it('serves the same SP metadata and certificate on both nodes, kept in PostgreSQL rather than in a node\'s data directory', async () => {
    // The document's own ID is fresh on every request; everything else must match.
    const [a, b] = await Promise.all([nodeA, nodeB].map(async (node) => (await (await fetch(`${node.url}/api/v4/saml/metadata`)).text()).replace(/ ID="[^"]+"/, '')));
    expect(a).to.include('X509Certificate');
    expect(b).to.equal(a);
    const stored = await nodeA.ownerDb('sso_key_pairs').where({ name: 'saml-sp' }).first();
    expect(a).to.include(stored.certificate.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '').slice(0, 64));
    expect(fs.existsSync(path.join(nodeA.dataDir, 'keys', 'saml-sp.key')), 'no per-node key file').to.equal(false);
  });

  it('accepts on node B the answer to a request started on node A, and refuses its replay on node A', async () => {
    const start = await fetch(`${nodeA.url}/login/sso/saml`, { redirect: 'manual' });
    expect(start.status).to.equal(302);
    const requestId = readRedirectRequest(start.headers.get('location')!).id;
    const response = idp.validResponse({
      inResponseTo: requestId, acsUrl: ACS, audience: ACS, nameId: 'carol@corp.example',
      attributes: { email: ['carol@corp.example'], username: ['carol'], firstName: ['Carol'], lastName: ['Danvers'], groups: [] },
    });

    const signedIn = await post(nodeB, response);
    expect(signedIn.status, await signedIn.clone().text()).to.equal(302);
    const me = await request(nodeA, 'GET', '/api/v4/users/me', { token: signedIn.headers.get('token')! });
    expect(me.json).to.include({ username: 'carol', auth_service: 'saml' });

    const replay = await post(nodeA, response);
    expect(replay.status, 'the request id was consumed cluster-wide').to.equal(401);
  });
});
