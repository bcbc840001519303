// Calls to integrations' own servers (outgoing webhooks, custom slash commands): bounded in time and in
// the size of what is read back.

/** How long an integration's server has to answer (Mattermost's OutgoingIntegrationRequestsTimeout). */
export const INTEGRATION_TIMEOUT_MS = 10_000;
/** The most of an integration's answer that is read (Mattermost's MaxIntegrationResponseSize). */
export const MAX_INTEGRATION_RESPONSE_BYTES = 1024 * 1024;

export interface IntegrationResponse {
  status: number;
  /** The media type without parameters, lower-cased. */
  mediaType: string;
  body: string;
}

/**
 * Sends one request to an integration and reads at most MAX_INTEGRATION_RESPONSE_BYTES of the answer.
 * Rejects on network errors and on timeout; `signal` aborts it early (server shutdown).
 */
export async function callIntegration(
  url: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<IntegrationResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? INTEGRATION_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const res = await fetch(url, { method: init.method, headers: init.headers, body: init.body, signal, redirect: 'follow' });
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = MAX_INTEGRATION_RESPONSE_BYTES - size;
      chunks.push(value.length > room ? value.subarray(0, room) : value);
      size += Math.min(value.length, room);
      if (size >= MAX_INTEGRATION_RESPONSE_BYTES) {
        await reader.cancel();
        break;
      }
    }
  }
  return {
    status: res.status,
    mediaType: (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase(),
    body: Buffer.concat(chunks).toString('utf8'),
  };
}
