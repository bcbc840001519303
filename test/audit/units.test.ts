import crypto from 'node:crypto';
import { expect } from 'chai';
import { canonicalJson, CanonicalJsonError } from '../../audit/canonical.ts';
import { emptyRoot, leafHash, merkleRoot, MerkleTree, nodeHash, verifyInclusion } from '../../audit/merkle.ts';
import { embeddedSeq, isSecretField, normalizeRecord, recordJson, redact, REDACTED } from '../../audit/record.ts';
import { withSeq } from '../../audit/sealer.ts';
import { streamedRecord } from '../../audit/stream.ts';

// MTH(D[n]) exactly as RFC 6962 §2.1 defines it, for comparison.
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return crypto.createHash('sha256').digest();
  if (leaves.length === 1) return leafHash(leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

describe('audit building blocks', () => {
  it('canonicalizes JSON as RFC 8785 does: sorted members, ES number and string forms', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1e21, y: 0.000001, x: -0 } })).to.equal('{"a":[true,null,"x"],"b":1,"c":{"x":0,"y":0.000001,"z":1e+21}}');
    // RFC 8785 §3.2.3: members sorted by UTF-16 code units.
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '\ufb33': 3, '1': 4, '\u00f6': 5, '\u{1f600}': 6, '\u0080': 7 })).to.equal('{"\\r":2,"1":4,"\u0080":7,"\u00f6":5,"\u20ac":1,"\u{1f600}":6,"\ufb33":3}');
    expect(canonicalJson('\u2028 "q" \u0001')).to.equal('"\u2028 \\"q\\" \\u0001"');
    expect(() => canonicalJson({ n: NaN })).to.throw(CanonicalJsonError);
    expect(() => canonicalJson('\ud800')).to.throw(CanonicalJsonError);
  });

  it('builds RFC 6962 Merkle roots and inclusion proofs that verify, for every tree size up to 70', () => {
    expect(merkleRoot([]).equals(emptyRoot)).to.equal(true);
    for (let n = 1; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => crypto.createHash('sha256').update(String(i)).digest());
      const tree = new MerkleTree(leaves);
      expect(tree.root().equals(referenceRoot(leaves)), `root of ${n}`).to.equal(true);
      expect(merkleRoot(leaves).equals(tree.root())).to.equal(true);
      for (let i = 0; i < n; i++) {
        const proof = tree.proof(i);
        expect(verifyInclusion(leaves[i], i, n, proof, tree.root()), `leaf ${i} of ${n}`).to.equal(true);
        if (n > 1) expect(verifyInclusion(leaves[(i + 1) % n], i, n, proof, tree.root())).to.equal(false);
      }
    }
  });

  it('redacts secrets by field name wherever they are nested, and keeps ids that merely mention tokens', () => {
    const clean = redact({ login_id: 'alice', password: 'hunter2', nested: { new_password: 'x', csrf_token: 'y', token_id: 'abc', client_secret: 's', SAMLResponse: 'PHNhbWw+' }, list: [{ access_token: 't' }] });
    expect(clean).to.deep.equal({ login_id: 'alice', password: REDACTED, nested: { new_password: REDACTED, csrf_token: REDACTED, token_id: 'abc', client_secret: REDACTED, SAMLResponse: REDACTED }, list: [{ access_token: REDACTED }] });
    for (const name of ['password', 'Authorization', 'cookie', 'api-key', 'private_key', 'mfa_code']) expect(isSecretField(name), name).to.equal(true);
    for (const name of ['token_id', 'description', 'user_id', 'hashtags']) expect(isSecretField(name), name).to.equal(false);
  });

  it('reads the top-level sequence number of a stored record even when parameters mention "seq"', () => {
    const record = { ...normalizeRecord({ event_name: 'x', status: 'success', actor: {}, meta: {}, event: { parameters: { seq: 99, s: '"seq":7' } } }), seq: 42 };
    expect(embeddedSeq(recordJson(record))).to.equal(42);
  });

  it('seals a queued record by splicing its sequence number into the canonical text, byte for byte', () => {
    const records = [
      normalizeRecord({ event_name: 'login', status: 'fail', actor: { user_id: '' }, meta: { api_path: '/x' }, error: { id: 'e', status_code: 401 } }),
      normalizeRecord({ event_name: 'x', status: 'success', actor: {}, meta: {}, event: { parameters: { status: 'fail', timestamp: 5, nested: { status: 'success', timestamp: 1 } } } }),
      normalizeRecord({ event_name: 'y', status: 'attempt', actor: { user_agent: '"quoted" \u00e9' }, meta: {}, event: { parameters: { seq: 3 } } }),
    ];
    for (const record of records) expect(withSeq(recordJson(record), 77)).to.equal(recordJson({ ...record, seq: 77 }));
    expect(withSeq('{"event_name":"z","status":"success"}', 5)).to.include('"seq":5');
  });

  it('reads a stream line\'s event name and failure from the canonical text, not from nested parameters', () => {
    const nested = { ...normalizeRecord({ event_name: 'get_audits', status: 'success', actor: {}, meta: {}, event: { parameters: { event_name: 'login', status: 'fail' } } }), seq: 3 };
    expect(streamedRecord(3, recordJson(nested), 'ab')).to.include({ seq: 3, eventName: 'get_audits', failed: false, line: `{"hash":"ab","record":${recordJson(nested)}}` });
    const failed = { ...normalizeRecord({ event_name: 'login', status: 'fail', actor: {}, meta: {} }), seq: 4 };
    expect(streamedRecord(4, recordJson(failed), 'cd')).to.include({ eventName: 'login', failed: true });
  });
});
