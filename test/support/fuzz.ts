/**
 * Seeded mutations of the real payloads in ../shared/fixtures, for the fuzz test: the same seed gives the same
 * requests, byte for byte, so a failure is replayed with FUZZ_SEED. Slack requests are signed over their final
 * bytes, so they get past the signature check and exercise what comes after it.
 */
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mulberry32 } from '@alertbus/spec';

const FIXTURES = resolve(__dirname, '../../../shared/fixtures');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Endpoint = '/webhooks/alertmanager' | '/webhooks/grafana' | '/webhooks/generic' | '/slack/events' | '/slack/interactions';

export interface FuzzRequest {
  index: number;
  endpoint: Endpoint;
  headers: Record<string, string>;
  body: Buffer;
  /** What was done to the fixture, to read a failure. */
  story: string[];
}

const read = (p: string): Json => JSON.parse(readFileSync(resolve(FIXTURES, p), 'utf8')) as Json;
const names = (dir: string) => readdirSync(resolve(FIXTURES, dir)).filter((f) => f.endsWith('.json')).sort();

/** Alertmanager's alerts in alertbus's generic shape, so the generic webhook gets real text too. */
function asGeneric(am: Json): Json {
  const alerts = ((am as { alerts: Array<Record<string, Json>> }).alerts ?? []).map((a) => {
    const labels = (a.labels ?? {}) as Record<string, Json>;
    const annotations = (a.annotations ?? {}) as Record<string, Json>;
    return {
      title: (annotations.summary ?? labels.alertname ?? 'alert') as Json,
      ...(a.status ? { status: a.status } : {}),
      labels,
      annotations,
      ...(annotations.description ? { description: annotations.description } : {}),
      ...(a.generatorURL ? { links: [{ title: 'Source', url: a.generatorURL }] } : {}),
    };
  });
  return { alerts, sender: 'fuzz' };
}

/** Slack fixtures that hold only the inner event are sent inside the envelope of a real event_callback. */
function slackEvents(): Json[] {
  const envelope = read('slack/event_callback_message_channel.json') as Record<string, Json>;
  return names('slack')
    .filter((n) => !n.startsWith('block_actions'))
    .map((n) => {
      const j = read(`slack/${n}`) as Record<string, Json>;
      if (n.startsWith('socket_mode')) return j.payload!;
      if (typeof j.type === 'string' && ['event_callback', 'url_verification', 'app_rate_limited'].includes(j.type)) return j;
      return { ...envelope, event_id: `Ev${n.length}${n.charCodeAt(6)}`, event: j };
    });
}

export interface Corpus {
  alertmanager: Json[];
  grafana: Json[];
  generic: Json[];
  slackEvents: Json[];
  slackActions: Json[];
}

export function loadCorpus(): Corpus {
  const alertmanager = names('alertmanager').map((n) => read(`alertmanager/${n}`));
  return {
    alertmanager,
    grafana: names('grafana').map((n) => read(`grafana/${n}`)),
    generic: alertmanager.map(asGeneric),
    slackEvents: slackEvents(),
    slackActions: names('slack')
      .filter((n) => n.startsWith('block_actions'))
      .map((n) => read(`slack/${n}`)),
  };
}

/** Text that has broken something somewhere: what Postgres, Slack, a regex or a terminal may choke on. */
const NASTY = [
  '\u0000', '\uD800', '\uDFFF', '\uDBFF\uDBFF', '\uDC00\uD800', '\u0007', '\u001B[31m', '\r\n', '\u0085', '\u2028',
  '\u202E', '\uFEFF', '\u200B', '\uFFFF', '🔥', '👩‍👩‍👧', 'Ω≈ç√', '日本語', '<!channel>', '<@U123|x>', '<https://evil.example|ok>',
  '"', '\\', '\\u0000', '%00', '${jndi:x}', '{{.}}', '\t', '&amp;&lt;', 'a'.repeat(40),
];

/** Every path to a value (and to each object key) in a JSON tree, in a stable order. */
function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k]!, [...at, k], out);
  return out;
}

function get(root: Json, path: Array<string | number>): Json {
  return path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k]!, root);
}

/** Replaces the value at `path` (root excluded) and returns the new root. */
function set(root: Json, path: Array<string | number>, value: Json): Json {
  if (path.length === 0) return value;
  const parent = get(root, path.slice(0, -1)) as Record<string | number, Json>;
  parent[path[path.length - 1]!] = value;
  return root;
}

function renameKey(root: Json, path: Array<string | number>, to: string): boolean {
  const key = path[path.length - 1];
  const parent = path.length > 0 ? get(root, path.slice(0, -1)) : null;
  if (typeof key !== 'string' || parent === null || Array.isArray(parent) || typeof parent !== 'object' || to in parent) return false;
  const entries = Object.entries(parent);
  for (const k of Object.keys(parent)) delete parent[k];
  for (const [k, v] of entries) parent[k === key ? to : k] = v;
  return true;
}

/** One seeded mutator: pick(), chance() and the mutations over a JSON tree and over bytes. */
class Mutator {
  constructor(readonly rnd: () => number) {}

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  chance(p: number): boolean {
    return this.rnd() < p;
  }

  nasty(): string {
    return this.chance(0.1) ? this.pick(NASTY).repeat(1 + this.int(200)) : this.pick(NASTY);
  }

  junk(depth = 0): Json {
    const kind = this.int(depth > 2 ? 4 : 6);
    switch (kind) {
      case 0: return null;
      case 1: return this.chance(0.5);
      case 2: return this.pick([0, -1, 1e308, -1e-308, 2 ** 53 + 1, 3.14]);
      case 3: return `x${this.nasty()}y`;
      case 4: return Array.from({ length: this.int(4) }, () => this.junk(depth + 1));
      default: return Object.fromEntries(Array.from({ length: this.int(4) }, () => [`k${this.nasty()}`, this.junk(depth + 1)]));
    }
  }

  /** One mutation of the tree; returns the new root and what it did. */
  mutate(root: Json): [Json, string] {
    const all = paths(root);
    const path = this.pick(all);
    const target = get(root, path);
    const where = `/${path.join('/')}`;
    switch (this.int(9)) {
      case 0:
      case 1: {
        // Text with nasty characters inserted: the most common real-world trouble, so the most frequent.
        const strings = all.filter((p) => typeof get(root, p) === 'string');
        if (strings.length === 0) return [root, 'no string to touch'];
        const p = this.pick(strings);
        const s = get(root, p) as string;
        const at = this.int(s.length + 1);
        return [set(root, p, s.slice(0, at) + this.nasty() + s.slice(at)), `nasty text in /${p.join('/')}`];
      }
      case 2: {
        const keyed = all.filter((p) => typeof p[p.length - 1] === 'string');
        if (keyed.length === 0) return [root, 'no key to touch'];
        const p = this.pick(keyed);
        const k = p[p.length - 1] as string;
        return [root, renameKey(root, p, this.chance(0.5) ? `${k}${this.nasty()}` : `${this.nasty()}${k}`) ? `nasty key at /${p.join('/')}` : 'key kept'];
      }
      case 3:
        return [set(root, path, this.junk()), `junk at ${where}`];
      case 4: {
        if (path.length === 0) return [root, 'root kept'];
        const parent = get(root, path.slice(0, -1));
        const k = path[path.length - 1]!;
        if (Array.isArray(parent)) parent.splice(k as number, 1);
        else delete (parent as Record<string, Json>)[k];
        return [root, `deleted ${where}`];
      }
      case 5: {
        const arrays = all.filter((p) => Array.isArray(get(root, p)) && (get(root, p) as Json[]).length > 0);
        if (arrays.length === 0) return [root, 'no array to grow'];
        const p = this.pick(arrays);
        const arr = get(root, p) as Json[];
        const times = this.pick([1, 2, 5, 40]);
        for (let i = 0; i < times; i++) arr.push(JSON.parse(JSON.stringify(this.pick(arr))) as Json);
        return [root, `grew /${p.join('/')} by ${times}`];
      }
      case 6: {
        const objects = all.filter((p) => { const v = get(root, p); return v !== null && typeof v === 'object' && !Array.isArray(v); });
        const p = this.pick(objects.length > 0 ? objects : [[]]);
        const obj = get(root, p);
        if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return [root, 'no object to add to'];
        obj[`extra${this.nasty()}`] = this.junk();
        return [root, `extra field in /${p.join('/')}`];
      }
      case 7:
        return [set(root, path, typeof target === 'string' ? target.repeat(1 + this.int(2000)).slice(0, 200_000) : `${String(target)}`), `stretched or stringified ${where}`];
      default:
        return [root, 'unchanged'];
    }
  }

  /** Rarely, the bytes themselves: truncated, a byte flipped or inserted (invalid JSON or invalid UTF-8). */
  bytes(body: Buffer): [Buffer, string | undefined] {
    if (!this.chance(0.08) || body.length === 0) return [body, undefined];
    const at = this.int(body.length);
    switch (this.int(3)) {
      case 0: return [body.subarray(0, at), `truncated at ${at}`];
      case 1: { const b = Buffer.from(body); b[at] = this.int(256); return [b, `byte ${at} flipped`]; }
      default: return [Buffer.concat([body.subarray(0, at), Buffer.from([this.pick([0x00, 0xc0, 0xff, 0xed, 0x80])]), body.subarray(at)]), `byte inserted at ${at}`];
    }
  }
}

export interface FuzzOptions {
  seed: number;
  count: number;
  signingSecret: string;
  /** Unix seconds for the Slack timestamps (the test's now). */
  now: () => number;
}

const ENDPOINTS: Endpoint[] = ['/webhooks/alertmanager', '/webhooks/grafana', '/webhooks/generic', '/slack/events', '/slack/interactions'];

/** `count` requests, spread over every endpoint, each a fixture with 1–4 mutations. */
export function* fuzzRequests(corpus: Corpus, opts: FuzzOptions): Generator<FuzzRequest> {
  const m = new Mutator(mulberry32(opts.seed));
  for (let index = 0; index < opts.count; index++) {
    const endpoint = ENDPOINTS[index % ENDPOINTS.length]!;
    const pool = {
      '/webhooks/alertmanager': corpus.alertmanager,
      '/webhooks/grafana': corpus.grafana,
      '/webhooks/generic': corpus.generic,
      '/slack/events': corpus.slackEvents,
      '/slack/interactions': corpus.slackActions,
    }[endpoint];
    let doc = JSON.parse(JSON.stringify(m.pick(pool))) as Json;
    const story: string[] = [];
    // Some requests go unmutated, so plenty are accepted and travel through the whole pipeline.
    const mutations = m.chance(0.15) ? 0 : 1 + m.int(4);
    for (let i = 0; i < mutations; i++) {
      const [next, what] = m.mutate(doc);
      doc = next;
      story.push(what);
    }
    if (endpoint.startsWith('/webhooks/') && doc !== null && typeof doc === 'object' && !Array.isArray(doc) && Array.isArray(doc.alerts)) {
      // Distinct fingerprints per request, so most accepted alerts open an incident of their own.
      for (const a of doc.alerts) if (a && typeof a === 'object' && !Array.isArray(a) && typeof a.fingerprint === 'string') a.fingerprint = `${a.fingerprint}-${index}`;
    }
    const json = Buffer.from(JSON.stringify(doc) ?? 'null', 'utf8');
    const [payload, damage] = m.bytes(
      endpoint === '/slack/interactions' ? Buffer.from(new URLSearchParams({ payload: json.toString('utf8') }).toString()) : json,
    );
    if (damage) story.push(damage);
    let contentType = endpoint === '/slack/interactions' ? 'application/x-www-form-urlencoded' : 'application/json';
    if (m.chance(0.03)) {
      contentType = m.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8']);
      story.push(`content type ${contentType}`);
    }
    const headers: Record<string, string> = { 'content-type': contentType };
    if (endpoint.startsWith('/slack/')) {
      const ts = String(opts.now());
      headers['x-slack-request-timestamp'] = ts;
      headers['x-slack-signature'] = `v0=${createHmac('sha256', opts.signingSecret).update(`v0:${ts}:`).update(payload).digest('hex')}`;
    }
    yield { index, endpoint, headers, body: payload, story };
  }
}
