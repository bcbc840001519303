// Reads an strace log of connect/sendto/sendmsg calls and reports the ones that named an IP address
// other than loopback: the proof that an offline install never tries to reach the network.

/** Addresses a process may talk to: loopback, and the unspecified address (which is local). */
export function isLocalAddress(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === '0.0.0.0' || address === '::' || /^::ffff:127\./.test(address);
}

/** Lines of an strace log where a socket call named a non-loopback IP address. */
export function networkAttempts(trace: string): string[] {
  const attempts: string[] = [];
  for (const line of trace.split('\n')) {
    if (!/\b(connect|sendto|sendmsg)\(/.test(line)) continue;
    const addresses = [...line.matchAll(/inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)"/g)].map((m) => m[1] ?? m[2]);
    if (addresses.some((a) => !isLocalAddress(a))) attempts.push(line.trim());
  }
  return attempts;
}
