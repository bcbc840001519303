import { isLoopbackHost } from './identity.ts';
import { settingSources, type RawConfig } from './schema.ts';

const name = (key: keyof typeof settingSources) => settingSources[key];

/**
 * Rules across the export store settings, one line per problem: an S3 store needs a bucket and
 * credentials, and its endpoint must be https:// (credentials and compliance data cross it) unless it
 * is on this host.
 */
export function exportStoreProblems(value: RawConfig): string[] {
  if (value.exportStore !== 's3') return [];
  const problems: string[] = [];
  for (const key of ['exportS3Bucket', 'exportS3AccessKeyId', 'exportS3SecretAccessKey'] as const) {
    if (!value[key]) problems.push(`${name(key)}: required when ${name('exportStore')} is s3`);
  }
  if (value.exportS3Endpoint && URL.canParse(value.exportS3Endpoint)) {
    const url = new URL(value.exportS3Endpoint);
    if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) problems.push(`${name('exportS3Endpoint')}: must be https:// (exports and signed requests would cross the network in clear text)`);
  }
  return problems;
}
