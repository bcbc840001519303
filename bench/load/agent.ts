// A load agent: a separate process (forked by coordinator.ts) that runs simulated users against a
// server on loopback and reports what they saw to the coordinator over IPC once a second. It exits
// when told to stop, when the coordinator goes away, or after its own hard time limit.
import { rng } from '../lib/text.ts';
import { Http, type Outcome, type Recorder } from './http.ts';
import type { AgentConfig, AgentReport, FromAgent, ToAgent, UserSpec } from './protocol.ts';
import { actionTable, SimUser, type UserEnv } from './user.ts';

const send = (msg: FromAgent) => process.send?.(msg);
const HARD_LIMIT_MS = Number(process.env.BENCH_AGENT_MAX_MS ?? 30 * 60_000);

class Collector implements Recorder {
  latency: Record<string, number[]> = {};
  errors: Record<string, number> = {};
  timeouts: Record<string, number> = {};
  clientErrors: Record<string, number> = {};
  actions: Record<string, number> = {};
  skipped: Record<string, number> = {};
  samples: string[] = [];

  request(endpoint: string, ms: number, outcome: Outcome, detail?: string): void {
    if (outcome === 'timeout') {
      this.timeouts[endpoint] = (this.timeouts[endpoint] ?? 0) + 1;
    } else {
      (this.latency[endpoint] ??= []).push(Math.round(ms * 100) / 100);
      if (outcome === 'error' || outcome >= 500) this.errors[endpoint] = (this.errors[endpoint] ?? 0) + 1;
      else if (outcome >= 400) this.clientErrors[endpoint] = (this.clientErrors[endpoint] ?? 0) + 1;
    }
    if (detail && this.samples.length < 5) this.samples.push(detail);
  }

  take(): Omit<AgentReport, 'type' | 'agent' | 'at' | 'users' | 'starting' | 'ws'> {
    const out = { latency: this.latency, errors: this.errors, timeouts: this.timeouts, client_errors: this.clientErrors, actions: this.actions, skipped: this.skipped, samples: this.samples };
    this.latency = {};
    this.errors = {};
    this.timeouts = {};
    this.clientErrors = {};
    this.actions = {};
    this.skipped = {};
    this.samples = [];
    return out;
  }
}

let config: AgentConfig | undefined;
let env: UserEnv | undefined;
const collector = new Collector();
const users: SimUser[] = [];
let starting = 0;
let reporter: NodeJS.Timeout | undefined;

function report(): void {
  if (!config || !env) return;
  const ws = env.ws;
  const msg: AgentReport = {
    type: 'report',
    agent: config.agent,
    at: Date.now(),
    users: users.filter((u) => u.running).length,
    starting,
    ...collector.take(),
    ws: { open: ws.open, opened: ws.opened, closed_unexpectedly: ws.closedUnexpectedly, frames: ws.frames, posted: ws.posted, posted_delivery_ms: ws.deliveryMs },
  };
  ws.opened = 0;
  ws.closedUnexpectedly = 0;
  ws.frames = 0;
  ws.posted = 0;
  ws.deliveryMs = [];
  send(msg);
}

function init(c: AgentConfig): void {
  config = c;
  const random = rng(c.seed);
  env = {
    http: new Http(c.baseUrl, { maxSockets: c.maxSockets, timeoutMs: c.timeoutMs, recorder: collector }),
    rec: collector,
    config: c,
    random,
    wsUrl: c.baseUrl.replace(/^http/, 'ws') + '/api/v4/websocket',
    action(name, skipped) {
      const into = skipped ? collector.skipped : collector.actions;
      into[name] = (into[name] ?? 0) + 1;
    },
    ws: { open: 0, opened: 0, closedUnexpectedly: 0, frames: 0, posted: 0, deliveryMs: [] },
  };
  reporter = setInterval(report, 1000);
  send({ type: 'ready', agent: c.agent });
}

function add(specs: UserSpec[]): void {
  for (const spec of specs) {
    const user = new SimUser(env!, spec);
    users.push(user);
    starting++;
    let started = false;
    const markStarted = () => {
      if (!started) {
        started = true;
        starting--;
      }
    };
    // `running` turns true once the initial load is done; poll cheaply instead of adding hooks.
    const check = setInterval(() => {
      if (user.running) {
        markStarted();
        clearInterval(check);
      }
    }, 100);
    user.run().catch((err: unknown) => collector.request('user', 0, 'error', `user ${spec.index}: ${(err as Error).message}`)).finally(() => {
      markStarted();
      clearInterval(check);
    });
  }
}

function remove(count: number): void {
  for (const user of users.splice(Math.max(0, users.length - count))) user.stop();
}

async function stop(): Promise<void> {
  clearInterval(reporter);
  for (const user of users.splice(0)) user.stop();
  report();
  env?.http.close();
  send({ type: 'stopped', agent: config?.agent ?? -1 });
  setTimeout(() => process.exit(0), 200);
}

process.on('message', (msg: ToAgent) => {
  if (msg.type === 'init') init(msg.config);
  else if (msg.type === 'add') add(msg.users);
  else if (msg.type === 'remove') remove(msg.count);
  else if (msg.type === 'stop') void stop();
});
// The coordinator went away: stop at once.
process.on('disconnect', () => process.exit(0));
setTimeout(() => {
  console.error(`agent: hard time limit of ${HARD_LIMIT_MS / 60000} min reached`);
  process.exit(2);
}, HARD_LIMIT_MS).unref();
// Keep the action table in the agent's output for reference when run by hand.
if (!process.send) console.log(JSON.stringify(actionTable, null, 1));
