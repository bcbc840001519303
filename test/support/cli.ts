import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const launcher = path.join(repoRoot, 'bin', 'custodian');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/custodian` with the given arguments and environment to completion. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(launcher, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`custodian ${args.join(' ')} timed out:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `custodian start` in the background; resolves once ping answers, with the elapsed time. */
export async function startServerProcess(env: Record<string, string>, port: number, timeoutMs = 30_000): Promise<{ child: ChildProcess; ms: number; output: () => string }> {
  const started = Date.now();
  const child = spawn(launcher, ['start'], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', CUSTODIAN_PORT: String(port), CUSTODIAN_LISTEN_ADDRESS: '127.0.0.1', ...env } });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  while (Date.now() - started < timeoutMs) {
    if (exited) throw new Error(`server exited during start:\n${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v4/system/ping`);
      if (res.status === 200) return { child, ms: Date.now() - started, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not answer ping within ${timeoutMs} ms:\n${output}`);
}

/** Waits for a child process to exit. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
