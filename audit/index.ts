// The audit log's public face. Callers record events with `recordAudit(trx, record)` inside the
// transaction of the action; the rest is for the server runtime, the CLI and the API.
export { recordAudit } from './store.ts';
export type { AuditActor, AuditError, AuditEvent, AuditMeta, AuditRecord, AuditStatus, SealedAuditRecord } from './record.ts';
export { isSecretField, redact, REDACTED } from './record.ts';
export { AuditService, type AuditServiceOptions } from './service.ts';
export { verifyDatabase, type Finding, type TamperReason, type VerifyResult } from './verify.ts';
export { exportBundle, verifyBundle, BUNDLE_FORMAT, type BundleRange } from './bundle.ts';
export { rotateAuditKey } from './rotate.ts';
export { AuditKeyDir, readPublicKeys, type PublicAuditKey } from './keys.ts';
export { checkpointFilePath } from './checkpoints.ts';
export { sealAll } from './sealer.ts';
