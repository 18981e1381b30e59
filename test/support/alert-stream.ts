/**
 * A steady stream of Alertmanager webhooks into ingest, sent the way Alertmanager sends them: a request that
 * fails (5xx, a refused or reset connection, a timeout) is sent again with backoff, honouring Retry-After, until
 * ingest answers 2xx. Every alert is a new alias; every `resolveEvery`-th one is resolved again a little later,
 * once its firing was accepted, so incidents are both opened and closed while a fault is on.
 */

export interface AlertStreamOptions {
  /** Base URL of ingest (read for every request, so a restarted ingest on the same port is found again). */
  ingestUrl: () => string;
  /** Distinguishes the aliases of one stream from another's: 1 to 4 letters. */
  prefix: string;
  ratePerSec: number;
  /** Every n-th alias is resolved (0 = none). */
  resolveEvery: number;
  /** A resolved alias is resolved when the alias this many places later fires. */
  resolveLag: number;
  /** Requests in flight at most. */
  concurrency?: number;
  /** A request not answered within this is abandoned and sent again. */
  requestTimeoutMs?: number;
  /** How long one alert is retried before the stream gives up on it (it then counts as abandoned). */
  giveUpAfterMs?: number;
}

interface Request {
  alias: string;
  kind: 'firing' | 'resolved';
  body: string;
}

export interface StreamAlias {
  alias: string;
  /** When the firing alert got its 2xx (epoch ms). */
  firingAcceptedAt?: number;
  resolveAcceptedAt?: number;
  resolveWanted: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function alertmanagerBody(fingerprint: string, status: 'firing' | 'resolved', i: number): string {
  return JSON.stringify({
    version: '4',
    status,
    receiver: 'alertbus',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am.example',
    alerts: [
      {
        status,
        labels: { alertname: 'FaultSuite', severity: i % 2 ? 'critical' : 'warning', instance: `host-${i}` },
        annotations: { summary: `fault suite alert ${fingerprint}` },
        startsAt: '2026-11-22T08:00:00Z',
        endsAt: status === 'resolved' ? '2026-11-22T09:00:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prom.example/graph',
        fingerprint,
      },
    ],
  });
}

export class AlertStream {
  /** Every alias the stream started, in order. */
  readonly aliases: StreamAlias[] = [];
  /** How ingest answered, by status code ('network' for no answer): the 503s a fault caused show up here. */
  readonly answers: Record<string, number> = {};
  /** Requests given up on after `giveUpAfterMs` (each still may or may not have been written). */
  readonly abandoned: Array<{ alias: string; kind: string; lastAnswer: string }> = [];
  /** 4xx answers: the stream's own bug, never a fault's effect. */
  readonly rejected: Array<{ alias: string; status: number; body: string }> = [];

  private readonly queue: Request[] = [];
  private readonly byAlias = new Map<string, StreamAlias>();
  private readonly opts: Required<AlertStreamOptions>;
  private timer: NodeJS.Timeout | undefined;
  private workers: Array<Promise<void>> = [];
  private stopping = false;
  private next = 0;

  constructor(opts: AlertStreamOptions) {
    if (!/^[a-z]{1,4}$/.test(opts.prefix)) throw new Error('prefix must be 1 to 4 lower-case letters');
    this.opts = { concurrency: 4, requestTimeoutMs: 20_000, giveUpAfterMs: 180_000, ...opts };
  }

  /** Aliases whose firing alert was accepted (got 2xx). */
  accepted(): string[] {
    return this.aliases.filter((a) => a.firingAcceptedAt !== undefined).map((a) => a.alias);
  }

  /** Accepted aliases whose resolve was accepted too. */
  resolved(): string[] {
    return this.aliases.filter((a) => a.firingAcceptedAt !== undefined && a.resolveAcceptedAt !== undefined).map((a) => a.alias);
  }

  /** Aliases whose firing alert was accepted at or after `from` (and before `to`, when given). */
  acceptedBetween(from: number, to = Number.POSITIVE_INFINITY): string[] {
    return this.aliases
      .filter((a) => a.firingAcceptedAt !== undefined && a.firingAcceptedAt >= from && a.firingAcceptedAt < to)
      .map((a) => a.alias);
  }

  start(): void {
    this.workers = Array.from({ length: this.opts.concurrency }, () => this.work());
    this.timer = setInterval(() => this.tick(), 1000 / this.opts.ratePerSec);
  }

  /** Sends no new alerts; resolves when everything already started got its 2xx (or was given up on). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    await Promise.all(this.workers);
  }

  private tick(): void {
    const i = this.next++;
    const fingerprint = `${this.opts.prefix}${String(i).padStart(16 - this.opts.prefix.length, '0')}`;
    const alias = `alertmanager:${fingerprint}`;
    const resolveWanted = this.opts.resolveEvery > 0 && i % this.opts.resolveEvery === 0;
    const entry: StreamAlias = { alias, resolveWanted };
    this.aliases.push(entry);
    this.byAlias.set(alias, entry);
    this.queue.push({ alias, kind: 'firing', body: alertmanagerBody(fingerprint, 'firing', i) });
    const due = i - this.opts.resolveLag;
    if (due >= 0) {
      const earlier = this.aliases[due]!;
      if (earlier.resolveWanted) {
        const fp = earlier.alias.slice('alertmanager:'.length);
        this.queue.push({ alias: earlier.alias, kind: 'resolved', body: alertmanagerBody(fp, 'resolved', due) });
      }
    }
  }

  private async work(): Promise<void> {
    for (;;) {
      const req = this.takeReady();
      if (req) {
        await this.send(req);
        continue;
      }
      if (this.stopping && this.queue.length === 0) return;
      await sleep(20);
    }
  }

  /** The next request that may go: a resolve waits until its alias's firing alert was accepted. */
  private takeReady(): Request | undefined {
    const idx = this.queue.findIndex((r) => r.kind === 'firing' || this.byAlias.get(r.alias)?.firingAcceptedAt !== undefined);
    if (idx < 0) {
      // Only resolves of aliases whose firing was given up on are left: drop them.
      if (this.stopping && this.queue.every((r) => this.abandoned.some((a) => a.alias === r.alias))) this.queue.length = 0;
      return undefined;
    }
    return this.queue.splice(idx, 1)[0];
  }

  private count(answer: string): void {
    this.answers[answer] = (this.answers[answer] ?? 0) + 1;
  }

  private async send(req: Request): Promise<void> {
    const started = Date.now();
    let delay = 200;
    let lastAnswer = '';
    while (Date.now() - started < this.opts.giveUpAfterMs) {
      let wait = delay;
      try {
        const res = await fetch(`${this.opts.ingestUrl()}/webhooks/alertmanager`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: req.body,
          signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
        });
        const text = await res.text();
        lastAnswer = String(res.status);
        this.count(lastAnswer);
        if (res.ok) {
          const entry = this.byAlias.get(req.alias)!;
          if (req.kind === 'firing') entry.firingAcceptedAt = Date.now();
          else entry.resolveAcceptedAt = Date.now();
          return;
        }
        if (res.status < 500 && res.status !== 429) {
          this.rejected.push({ alias: req.alias, status: res.status, body: text.slice(0, 500) });
          return;
        }
        const retryAfter = Number(res.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.min(retryAfter * 1000, 10_000);
      } catch {
        lastAnswer = 'network';
        this.count(lastAnswer);
      }
      await sleep(wait);
      delay = Math.min(delay * 2, 5_000);
    }
    this.abandoned.push({ alias: req.alias, kind: req.kind, lastAnswer });
  }
}
