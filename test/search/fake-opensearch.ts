// A small HTTP server speaking the part of OpenSearch's REST API Custodian uses (index exists,
// create and delete, _bulk, _search, _delete_by_query, _refresh), for tests where no cluster can run.
// Queries are evaluated over documents kept in memory with an approximation of the English analyzer
// (lower case, stop words, a light stemmer): enough for fixtures whose words stem plainly. The
// contract tests in backend-contract.test.ts hold it to the same answers as PostgreSQL.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Doc = Record<string, unknown>;
type Query = Record<string, unknown>;

const STOP = new Set('a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with'.split(' '));

function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Tokens with their positions (stop words keep their position, as in OpenSearch and PostgreSQL). */
function analyze(text: string): { token: string; at: number }[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean).flatMap((w, at) => (STOP.has(w) ? [] : [{ token: stem(w), at }]));
}

function matches(doc: Doc, q: Query): boolean {
  const [kind, arg] = Object.entries(q)[0] as [string, Record<string, unknown>];
  switch (kind) {
    case 'match_all':
      return true;
    case 'bool': {
      const list = (k: string) => (arg[k] as Query[] | undefined) ?? [];
      const should = list('should');
      const required = list('must').length + list('filter').length === 0 ? 1 : 0;
      return list('must').every((x) => matches(doc, x)) && list('filter').every((x) => matches(doc, x)) && !list('must_not').some((x) => matches(doc, x))
        && should.filter((x) => matches(doc, x)).length >= Number(arg.minimum_should_match ?? (should.length ? required : 0));
    }
    case 'match': {
      const [field, spec] = Object.entries(arg)[0] as [string, { query: string }];
      const terms = analyze(spec.query).map((t) => t.token);
      const tokens = new Set(analyze(String(doc[field] ?? '')).map((t) => t.token));
      return terms.length > 0 && terms.every((t) => tokens.has(t));
    }
    case 'match_phrase': {
      const [field, text] = Object.entries(arg)[0] as [string, string];
      const phrase = analyze(text);
      const tokens = analyze(String(doc[field] ?? ''));
      return phrase.length > 0 && tokens.some((start) => phrase.every((p) => tokens.some((t) => t.token === p.token && t.at - start.at === p.at - phrase[0].at)));
    }
    case 'prefix': {
      const [field, spec] = Object.entries(arg)[0] as [string, { value: string }];
      return analyze(String(doc[field] ?? '')).some((t) => t.token.startsWith(spec.value));
    }
    case 'term': {
      const [field, value] = Object.entries(arg)[0];
      return doc[field] === value;
    }
    case 'terms': {
      const [field, values] = Object.entries(arg)[0] as [string, unknown[]];
      return values.includes(doc[field]);
    }
    case 'range': {
      const [field, r] = Object.entries(arg)[0] as [string, { gte?: number; lt?: number }];
      const v = Number(doc[field]);
      return (r.gte === undefined || v >= r.gte) && (r.lt === undefined || v < r.lt);
    }
    default:
      throw new Error(`the fake OpenSearch does not know the query "${kind}"`);
  }
}

function compare(sort: Record<string, 'asc' | 'desc'>[]) {
  return (a: Doc, b: Doc) => {
    for (const s of sort) {
      const [field, order] = Object.entries(s)[0];
      const x = a[field] as number | string;
      const y = b[field] as number | string;
      if (x !== y) return (x < y ? -1 : 1) * (order === 'desc' ? -1 : 1);
    }
    return 0;
  };
}

export interface FakeOpenSearch {
  url: string;
  /** Documents per index, by _id. */
  indexes: Map<string, Map<string, Doc>>;
  /** Requests received, as "METHOD /path" (without the query string). */
  requests: string[];
  /** While true, every request gets a 503, as from a cluster that lost its nodes. */
  failing: boolean;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeOpenSearch(): Promise<FakeOpenSearch> {
  const indexes = new Map<string, Map<string, Doc>>();
  const fake = { indexes, requests: [] as string[], failing: false } as FakeOpenSearch;

  const handle = async (req: http.IncomingMessage): Promise<[number, unknown]> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const parts = url.pathname.split('/').filter(Boolean);
    const body = await readBody(req);
    const json = () => (body ? (JSON.parse(body) as Record<string, unknown>) : {});
    const index = parts[0];
    if (req.method === 'HEAD' && parts.length === 1) return [indexes.has(index) ? 200 : 404, undefined];
    if (req.method === 'PUT' && parts.length === 1) {
      if (indexes.has(index)) return [400, { error: { type: 'resource_already_exists_exception' }, status: 400 }];
      indexes.set(index, new Map());
      return [200, { acknowledged: true, index }];
    }
    if (req.method === 'DELETE' && parts.length === 1) {
      if (!indexes.delete(index) && url.searchParams.get('ignore_unavailable') !== 'true') return [404, { error: { type: 'index_not_found_exception' }, status: 404 }];
      return [200, { acknowledged: true }];
    }
    if (parts[0] === '_bulk') {
      const lines = body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, { _index: string; _id: string }>);
      const items: unknown[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const action = lines[i].index;
        const docs = indexes.get(action._index);
        if (!docs) {
          items.push({ index: { _id: action._id, status: 404, error: { type: 'index_not_found_exception' } } });
          continue;
        }
        docs.set(action._id, lines[i + 1]);
        items.push({ index: { _id: action._id, status: 201 } });
      }
      return [200, { took: 1, errors: items.some((it) => (it as { index: { error?: unknown } }).index.error), items }];
    }
    const docs = indexes.get(index);
    if (!docs) return [404, { error: { type: 'index_not_found_exception', reason: `no such index [${index}]` }, status: 404 }];
    if (parts[1] === '_refresh') return [200, { _shards: { failed: 0 } }];
    if (parts[1] === '_search') {
      const q = json() as { query: Query; sort: Record<string, 'asc' | 'desc'>[]; from?: number; size?: number; _source?: string[] };
      const found = [...docs.entries()].filter(([, d]) => matches(d, q.query)).sort(([, a], [, b]) => compare(q.sort ?? [])(a, b));
      const page = found.slice(q.from ?? 0, (q.from ?? 0) + (q.size ?? 10));
      const pick = (d: Doc) => (q._source ? Object.fromEntries(q._source.map((k) => [k, d[k]])) : d);
      return [200, { took: 1, timed_out: false, hits: { total: { value: found.length, relation: 'eq' }, hits: page.map(([id, d]) => ({ _index: index, _id: id, _source: pick(d) })) } }];
    }
    if (parts[1] === '_delete_by_query') {
      const q = json() as { query: Query };
      let deleted = 0;
      for (const [id, d] of docs) if (matches(d, q.query) && docs.delete(id)) deleted++;
      return [200, { deleted, failures: [] }];
    }
    return [400, { error: { type: 'unsupported', reason: `${req.method} ${url.pathname}` }, status: 400 }];
  };

  const server = http.createServer((req, res) => {
    fake.requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://fake').pathname}`);
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (fake.failing) return send(503, { error: { type: 'cluster_block_exception', reason: 'no master' }, status: 503 });
    handle(req).then(([status, payload]) => send(status, payload), (err: Error) => send(500, { error: { type: 'fake_error', reason: err.message }, status: 500 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return fake;
}
