import { Router } from '@koa/router';
import { verifyDatabase } from '../../../audit/index.ts';
import { authorize } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import type { Services } from '../../services.ts';
import { openAudit } from '../audited.ts';
import { routeKit } from '../kit.ts';

/** Findings returned at most: the first one says where the chain breaks, the rest are context. */
const MAX_FINDINGS = 20;

/**
 * `POST /audits/verify`: `custodian audit verify` for auditors and system admins in the browser. The
 * whole chain, every checkpoint signature and the checkpoint file are checked in one snapshot; the
 * verification is itself an audited event (`verify_audit_log`), with its outcome.
 */
export function auditVerifyRoutes(services: Services): Router<AppState> {
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/audits/verify', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const audit = openAudit(services, ctx, 'verify_audit_log', { objectType: 'audit_log' });
    const result = await audit.run(async () => {
      authorize(actor, 'read_audits', { kind: 'system' });
      // Records committed a moment ago are chained first, so they are part of what is verified.
      await services.audit.flush();
      const verified = await verifyDatabase(services.db, { trustedKeys: services.audit.keys.publicKeys(), checkpointFiles: [services.audit.checkpointFile] });
      audit.result({ intact: verified.ok, records: verified.records, first_bad_seq: verified.first?.seq ?? null, reason: verified.first?.reason ?? null });
      return verified;
    });
    sendJson(ctx, 200, {
      ok: result.ok, records: result.records, checkpoints: result.checkpoints, signed_through: result.signedThrough, verified_at: Date.now(),
      first: result.first ?? null, findings: result.findings.slice(0, MAX_FINDINGS), warnings: result.warnings,
    });
  });

  return router;
}
