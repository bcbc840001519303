// AWS Signature Version 4 for S3 requests (header-signed). Reference: the AWS "Signature Version 4
// signing process" documentation; S3 encodes each path segment once (no double encoding).
import crypto from 'node:crypto';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The hex SHA-256 S3 wants in x-amz-content-sha256 for a body (or of the empty body). */
export function payloadHash(body?: Buffer | string): string {
  return crypto.createHash('sha256').update(body ?? '').digest('hex');
}

/** RFC 3986 percent-encoding: everything but unreserved characters (and '/' where asked). */
export function uriEncode(value: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(ch) || (keepSlash && ch === '/')) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const hmac = (key: Buffer | string, data: string) => crypto.createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * The headers to add to a request so S3 accepts it: x-amz-date, x-amz-content-sha256 and
 * Authorization, signed over the method, path, query, the given headers and host.
 */
export function signRequest(props: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  payloadSha256: string;
  credentials: S3Credentials;
  now?: Date;
}): Record<string, string> {
  const { url, credentials } = props;
  const amzDate = (props.now ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...props.headers, host: url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': props.payloadSha256 };
  const names = Object.keys(headers).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')]));
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join('');
  const signedHeaders = names.join(';');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalPath = uriEncode(decodeURIComponent(url.pathname), true);
  const canonicalRequest = [props.method, canonicalPath, query, canonicalHeaders, signedHeaders, props.payloadSha256].join('\n');
  const scope = `${day}/${credentials.region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, crypto.createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), credentials.region), 's3'), 'aws4_request');
  const signature = crypto.createHmac('sha256', key).update(stringToSign).digest('hex');
  const { host: _host, ...sent } = headers;
  return { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` };
}
