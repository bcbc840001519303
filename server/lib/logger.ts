import pino, { type Logger } from 'pino';

/** Paths whose values never reach a log line: credentials, cookies, tokens, SAML payloads. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'res.headers.token',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.client_secret',
  '*.SAMLResponse',
  '*.databaseUrl',
  'password',
  'token',
  'databaseUrl',
];

export type { Logger };

/** Creates the process logger: JSON lines on stdout, secrets replaced by "[redacted]". */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'custodian' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
