/** Epoch milliseconds; one place so tests and jobs agree on "now". */
export function nowMs(): number {
  return Date.now();
}
