import fs from 'node:fs';
import type { Config } from '../../server/config/schema.ts';
import { readZip } from './zip-read.ts';

/** Global Relay takes at most this many mails per SMTP connection. */
const MAILS_PER_CONNECTION = 400;

/**
 * Sends a committed batch's EML files, read back from its zip (what is sent is exactly what the signed
 * manifest lists), to the configured SMTP host. STARTTLS is required and the server's certificate is
 * verified. Delivery is at least once: a crash between sending and committing the batch sends it
 * again, with the same Message-IDs, so the archive can drop the duplicates.
 */
export async function deliverBySmtp(config: Config, zipFile: string, names: string[], signal?: AbortSignal): Promise<number> {
  if (!config.exportSmtpHost || !config.exportSmtpTo) throw new Error('Global Relay SMTP delivery needs CUSTODIAN_EXPORT_SMTP_HOST and CUSTODIAN_EXPORT_SMTP_TO.');
  // Loaded only when mail goes out: most exports never need an SMTP client in memory.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: config.exportSmtpHost,
    port: config.exportSmtpPort,
    secure: false,
    requireTLS: true,
    pool: true,
    maxConnections: 1,
    maxMessages: MAILS_PER_CONNECTION,
    auth: config.exportSmtpUsername ? { user: config.exportSmtpUsername, pass: config.exportSmtpPassword ?? '' } : undefined,
    tls: { ca: config.exportSmtpCaFile ? fs.readFileSync(config.exportSmtpCaFile) : undefined, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
  });
  const wanted = new Set(names);
  let sent = 0;
  try {
    for await (const entry of readZip(zipFile)) {
      if (!wanted.has(entry.name)) continue;
      signal?.throwIfAborted();
      await transport.sendMail({ envelope: { from: config.exportSmtpFrom, to: [config.exportSmtpTo] }, raw: await entry.open() });
      sent++;
    }
  } finally {
    transport.close();
  }
  if (sent !== wanted.size) throw new Error(`sent ${sent} of ${wanted.size} mails of ${zipFile}`);
  return sent;
}
