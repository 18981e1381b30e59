import { randomUUID } from 'node:crypto';
import { TokenBuckets, type OpsgenieRateDomain, type OpsgenieRateLimit } from './rate-limit';

/** Route names for fault injection and the call log. */
export type OpsgenieRoute =
  | 'create'
  | 'close'
  | 'acknowledge'
  | 'unacknowledge'
  | 'notes'
  | 'listNotes'
  | 'priority'
  | 'getAlert'
  | 'requestStatus'
  | 'onCalls';
export const OPSGENIE_ROUTES: readonly OpsgenieRoute[] = [
  'create',
  'close',
  'acknowledge',
  'unacknowledge',
  'notes',
  'listNotes',
  'priority',
  'getAlert',
  'requestStatus',
  'onCalls',
];

/** Which URL prefix a call came through: Opsgenie's `/v2/...` or JSM Ops' `/jsm/ops/integration/v2/...`. */
export type OpsgenieFlavour = 'opsgenie' | 'jsm';

/** A scripted failure: the next matching request answers this instead of being processed. */
export interface OpsgenieFault {
  status: number;
  /** JSON body (an object) or raw text (a string, sent as text/html like a proxy error page). */
  body?: unknown;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  headers?: Record<string, string>;
  /**
   * The request is taken and processed as usual, and this is answered instead of the 202: a 500 of the API mid-way,
   * or a gateway's 502/504 after it gave up waiting for the API, which acted meanwhile.
   */
  afterWork?: boolean;
}

export interface OpsgenieNote {
  note: string;
  user?: string;
  source?: string;
  createdAt: string;
  /** Where the note sits in List Alert Notes' paging: `<createdAt ms>_<position>`, growing with every note added. */
  offset: string;
}

export interface OpsgenieResponder {
  type: string;
  id?: string;
  name?: string;
  username?: string;
}

export interface OpsgenieAlert {
  id: string;
  tinyId: string;
  alias: string;
  message: string;
  description?: string;
  status: 'open' | 'closed';
  acknowledged: boolean;
  count: number;
  createdAt: string;
  updatedAt: string;
  lastOccurredAt: string;
  priority: string;
  tags: string[];
  responders: OpsgenieResponder[];
  visibleTo: OpsgenieResponder[];
  actions: string[];
  details: Record<string, string>;
  source: string;
  entity?: string;
  owner: string;
  /** Stand-in bookkeeping, not part of Opsgenie's alert shape. */
  notes: OpsgenieNote[];
  createdBy: string;
  flavour: OpsgenieFlavour;
  closedBy?: string;
  acknowledgedBy?: string;
}

export type OpsgenieAction = 'Create' | 'Close' | 'Acknowledge' | 'UnAcknowledge' | 'AddNote' | 'UpdatePriority';

/** The route each action is requested through (for holdNext). */
const ROUTE_OF: Record<OpsgenieAction, OpsgenieRoute> = {
  Create: 'create',
  Close: 'close',
  Acknowledge: 'acknowledge',
  UnAcknowledge: 'unacknowledge',
  AddNote: 'notes',
  UpdatePriority: 'priority',
};

export interface OpsgenieRequest {
  requestId: string;
  action: OpsgenieAction;
  processed: boolean;
  processedAt?: string;
  isSuccess: boolean;
  status: string;
  alertId: string;
  alias: string;
}

export interface OpsgenieCall {
  at: string;
  method: string;
  url: string;
  route: OpsgenieRoute | 'unknown';
  flavour: OpsgenieFlavour;
  status: number;
  /** The decoded path identifier (alias, id or tiny id) and its type, for alert actions and gets. */
  identifier?: string;
  identifierType?: string;
  body?: unknown;
  /** The requestId the stand-in answered with. */
  requestId?: string;
  fault?: boolean;
  /** The request was taken (and is processed) but its answer was dropped (loseAnswerNext): `status` is what it would have been. */
  answerLost?: boolean;
}

export interface OpsgenieOnCall {
  id: string;
  name: string;
  /** Usernames (emails) currently on call. */
  recipients: string[];
  /** Optional nested participants for flat=false (defaults to the recipients as users). */
  participants?: unknown[];
}

export const INTEGRATION_ID = 'c9cec2cb-e782-4ebb-bc1d-1b2fa703cf03';

/** An Acknowledge, UnAcknowledge or Close that changed an alert, as the pager's outgoing webhook reports it. */
export interface OpsgenieAlertAction {
  action: 'Acknowledge' | 'UnAcknowledge' | 'Close';
  alert: OpsgenieAlert;
  /** The request's `user` (who acted), `source` (where from) and when it took effect. */
  user?: string;
  source?: string;
  at: string;
}

/** Everything the Opsgenie stand-in knows, exposed to tests for assertions and scripted faults. */
export class OpsgenieState {
  /** Every alert created, in order; created and cleared only here (the look-ups below follow them). */
  readonly alerts: OpsgenieAlert[] = [];
  /**
   * `alerts` by id, by tiny id, and the latest by alias (the only one that can be open: a create finds an open alert
   * with its alias and counts it instead, and nothing reopens a closed one). Each call looks up one; scanning every
   * alert made a long run's creates cost more the more had been created before.
   */
  private readonly byId = new Map<string, OpsgenieAlert>();
  private readonly byTinyId = new Map<string, OpsgenieAlert>();
  private readonly latestByAlias = new Map<string, OpsgenieAlert>();
  readonly requests = new Map<string, OpsgenieRequest>();
  readonly calls: OpsgenieCall[] = [];
  private readonly faults = new Map<OpsgenieRoute | '*', Array<{ fault: OpsgenieFault; left: number }>>();
  /** Faults that answer every matching request until `until` (epoch ms): an outage, or a storm of 429s. */
  private windows: Array<{ route: OpsgenieRoute | '*'; fault: OpsgenieFault; until: number }> = [];
  private readonly onCall = new Map<string, OpsgenieOnCall>();
  private buckets: TokenBuckets | null = null;
  /** Accepted requests not processed yet (processingDelayMs), with what processes them. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly lostAnswers = new Map<OpsgenieRoute, number>();
  private readonly dropped = new Map<OpsgenieRoute, number>();
  /** How many of the next accepted requests of each route are held (holdNext), and those held, in the order accepted. */
  private readonly toHold = new Map<OpsgenieRoute, number>();
  private readonly held: Array<() => void> = [];
  private tiny = 0;
  private noteSeq = 0;
  private readonly actionListeners: Array<(a: OpsgenieAlertAction) => void> = [];

  constructor(
    private readonly now: () => Date,
    /** Delay before an accepted (202) request takes effect and its status becomes visible. */
    public processingDelayMs = 0,
  ) {}

  // ------------------------------------------------------------ test controls

  /** The next `times` requests to `route` ('*' = any route) fail with `fault` and change nothing. */
  failNext(route: OpsgenieRoute | '*', fault: OpsgenieFault, times = 1): void {
    const list = this.faults.get(route) ?? [];
    list.push({ fault, left: times });
    this.faults.set(route, list);
  }

  /**
   * Every request to `route` ('*' = any route) fails with `fault` for the next `durationMs`, after any faults
   * queued with failNext: the API down (5xx) or throttling everything (429 with a Retry-After).
   */
  failFor(route: OpsgenieRoute | '*', fault: OpsgenieFault, durationMs: number): void {
    this.windows.push({ route, fault, until: this.now().getTime() + durationMs });
  }

  /**
   * The next `times` requests to `route` are taken and processed as usual, but their answer never reaches the caller:
   * the connection drops (a timeout or a lost connection on the caller's side, after the pager accepted the request).
   */
  loseAnswerNext(route: OpsgenieRoute, times = 1): void {
    this.lostAnswers.set(route, (this.lostAnswers.get(route) ?? 0) + times);
  }

  /**
   * The next `times` requests to `route` are lost on the way in: the connection drops before the pager reads them
   * (nothing changes), and the caller, as with loseAnswerNext, gets no HTTP answer.
   */
  dropNext(route: OpsgenieRoute, times = 1): void {
    this.dropped.set(route, (this.dropped.get(route) ?? 0) + times);
  }

  /** Which of the two (if any) happens to this request of `route`: dropped before it is read, or its answer lost. */
  takeLost(route: OpsgenieRoute): 'drop' | 'lose-answer' | undefined {
    for (const [map, what] of [[this.dropped, 'drop'], [this.lostAnswers, 'lose-answer']] as const) {
      const left = map.get(route) ?? 0;
      if (left <= 0) continue;
      if (left === 1) map.delete(route);
      else map.set(route, left - 1);
      return what;
    }
    return undefined;
  }

  /**
   * The next `times` requests to `route` are accepted (202) as usual but not processed until releaseHeld() (or
   * processPending()): their request status answers 404 ("not processed yet") meanwhile, while the requests accepted
   * after them are processed as usual. Opsgenie documents no order of processing, not even per alias: a close held
   * here is processed after a create sent later for the same alias (which, the alert being still open, only counts).
   */
  holdNext(route: OpsgenieRoute, times = 1): void {
    this.toHold.set(route, (this.toHold.get(route) ?? 0) + times);
  }

  /** How many accepted requests are held by holdNext. */
  get heldRequests(): number {
    return this.held.length;
  }

  /** Processes the requests holdNext held, now, in the order they were accepted. */
  releaseHeld(): void {
    for (const run of this.held.splice(0)) run();
  }

  /** How many accepted requests wait to be processed (see processingDelayMs and holdNext). */
  get pendingRequests(): number {
    return this.timers.size + this.held.length;
  }

  /** Processes every accepted request still waiting, now: the held ones (holdNext), then the delayed ones, each in the order accepted. */
  processPending(): void {
    this.releaseHeld();
    for (const [t, run] of [...this.timers]) {
      clearTimeout(t);
      this.timers.delete(t);
      run();
    }
  }

  /** Ends every queued fault and every window at once: the API is healthy again. */
  clearFaults(): void {
    this.faults.clear();
    this.windows = [];
    this.lostAnswers.clear();
    this.dropped.clear();
    this.toHold.clear();
  }

  takeFault(route: OpsgenieRoute): OpsgenieFault | undefined {
    for (const key of [route, '*'] as const) {
      const list = this.faults.get(key);
      const head = list?.[0];
      if (!list || !head) continue;
      head.left -= 1;
      if (head.left <= 0) list.shift();
      return head.fault;
    }
    const now = this.now().getTime();
    this.windows = this.windows.filter((w) => w.until > now);
    return this.windows.find((w) => w.route === route || w.route === '*')?.fault;
  }

  setRateLimit(opts: OpsgenieRateLimit | null): void {
    this.buckets = opts ? new TokenBuckets(opts, () => this.now().getTime()) : null;
  }

  /** Seconds to wait when the domain is throttled, 0 when the request may go ahead. */
  throttle(domain: OpsgenieRateDomain): { waitSec: number; periodInSec: number } {
    if (!this.buckets) return { waitSec: 0, periodInSec: 0 };
    return { waitSec: this.buckets.take(domain), periodInSec: this.buckets.opts.periodInSec ?? 60 };
  }

  setOnCall(schedule: string, recipients: string[], opts: { id?: string; participants?: unknown[] } = {}): void {
    this.onCall.set(schedule, { id: opts.id ?? randomUUID(), name: schedule, recipients, participants: opts.participants });
  }

  findSchedule(identifier: string, type: 'id' | 'name'): OpsgenieOnCall | undefined {
    if (type === 'name') return this.onCall.get(identifier);
    return [...this.onCall.values()].find((s) => s.id === identifier);
  }

  reset(): void {
    this.alerts.length = 0;
    this.byId.clear();
    this.byTinyId.clear();
    this.latestByAlias.clear();
    this.requests.clear();
    this.calls.length = 0;
    this.clearFaults();
    for (const t of this.timers.keys()) clearTimeout(t);
    this.timers.clear();
    this.held.length = 0;
  }

  dispose(): void {
    for (const t of this.timers.keys()) clearTimeout(t);
    this.timers.clear();
    this.held.length = 0;
  }

  /** Called after every Acknowledge or Close that changed an alert (the outgoing webhook listens here). */
  onAlertAction(listener: (a: OpsgenieAlertAction) => void): void {
    this.actionListeners.push(listener);
  }

  // ------------------------------------------------------------ lookups

  openByAlias(alias: string): OpsgenieAlert | undefined {
    const alert = this.latestByAlias.get(alias);
    return alert?.status === 'open' ? alert : undefined;
  }

  /** Alias addresses open alerts only; id and tiny id address any alert. */
  find(identifier: string, type: string): OpsgenieAlert | undefined {
    if (type === 'alias') return this.openByAlias(identifier);
    if (type === 'tiny') return this.byTinyId.get(identifier);
    return this.byId.get(identifier);
  }

  /** A note as Opsgenie keeps it, with the offset List Alert Notes pages by (the shape Opsgenie's offsets have). */
  private note(note: string, at: string, user?: string, source?: string): OpsgenieNote {
    const ms = Date.parse(at);
    return { note, user, source, createdAt: at, offset: `${ms}_${ms}${String(++this.noteSeq).padStart(6, '0')}` };
  }

  // ------------------------------------------------------------ the async request model

  /** Accepts a request (the 202) and applies it now or after the processing delay. */
  accept(action: OpsgenieAction, alias: string, apply: (requestId: string) => Pick<OpsgenieRequest, 'isSuccess' | 'status' | 'alertId' | 'alias'>): string {
    const requestId = randomUUID();
    const record: OpsgenieRequest = { requestId, action, processed: false, isSuccess: false, status: 'Pending', alertId: '', alias };
    this.requests.set(requestId, record);
    const run = () => {
      Object.assign(record, apply(requestId), { processed: true, processedAt: this.now().toISOString() });
    };
    const route = ROUTE_OF[action];
    const holds = this.toHold.get(route) ?? 0;
    if (holds > 0) {
      if (holds === 1) this.toHold.delete(route);
      else this.toHold.set(route, holds - 1);
      this.held.push(run);
    } else if (this.processingDelayMs <= 0) run();
    else {
      const t = setTimeout(() => {
        this.timers.delete(t);
        run();
      }, this.processingDelayMs);
      this.timers.set(t, run);
    }
    return requestId;
  }

  create(body: Record<string, unknown>, flavour: OpsgenieFlavour, callerIp: string): string {
    const alias = typeof body.alias === 'string' && body.alias !== '' ? body.alias : '';
    return this.accept('Create', alias, (requestId) => {
      const at = this.now().toISOString();
      const existing = alias ? this.openByAlias(alias) : undefined;
      if (existing) {
        // Opsgenie's dedup: no new alert, the counter goes up; message and description stay as they were.
        existing.count += 1;
        existing.lastOccurredAt = at;
        existing.updatedAt = at;
        return { isSuccess: true, status: 'Created alert', alertId: existing.id, alias: existing.alias };
      }
      const id = randomUUID();
      const alert: OpsgenieAlert = {
        id,
        tinyId: String(++this.tiny),
        alias: alias || id,
        message: body.message as string,
        description: body.description as string | undefined,
        status: 'open',
        acknowledged: false,
        count: 1,
        createdAt: at,
        updatedAt: at,
        lastOccurredAt: at,
        priority: (body.priority as string | undefined) ?? 'P3',
        tags: (body.tags as string[] | undefined) ?? [],
        responders: (body.responders as OpsgenieResponder[] | undefined) ?? [],
        visibleTo: (body.visibleTo as OpsgenieResponder[] | undefined) ?? [],
        actions: (body.actions as string[] | undefined) ?? [],
        details: (body.details as Record<string, string> | undefined) ?? {},
        source: (body.source as string | undefined) ?? callerIp,
        entity: body.entity as string | undefined,
        owner: '',
        notes: [],
        createdBy: requestId,
        flavour,
      };
      if (typeof body.note === 'string') alert.notes.push(this.note(body.note, at, body.user as string | undefined));
      this.alerts.push(alert);
      this.byId.set(alert.id, alert);
      this.byTinyId.set(alert.tinyId, alert);
      this.latestByAlias.set(alert.alias, alert);
      return { isSuccess: true, status: 'Created alert', alertId: id, alias: alert.alias };
    });
  }

  action(
    kind: 'close' | 'acknowledge' | 'unacknowledge' | 'notes',
    identifier: string,
    identifierType: string,
    body: Record<string, unknown>,
  ): string {
    const action: OpsgenieAction = kind === 'close' ? 'Close' : kind === 'acknowledge' ? 'Acknowledge' : kind === 'unacknowledge' ? 'UnAcknowledge' : 'AddNote';
    return this.accept(action, identifierType === 'alias' ? identifier : '', () => {
      const alert = this.find(identifier, identifierType);
      if (!alert) return { isSuccess: false, status: 'Alert does not exist', alertId: '', alias: '' };
      const at = this.now().toISOString();
      const done = (status: string) => ({ isSuccess: true, status, alertId: alert.id, alias: alert.alias });
      const note = typeof body.note === 'string' ? body.note : undefined;
      const user = typeof body.user === 'string' ? body.user : undefined;
      if (kind === 'notes') {
        alert.notes.push(this.note(note!, at, user, body.source as string | undefined));
        alert.updatedAt = at;
        return done('Added note');
      }
      if (alert.status === 'closed') return { isSuccess: false, status: 'Alert is already closed', alertId: alert.id, alias: alert.alias };
      if (note) alert.notes.push(this.note(note, at, user, body.source as string | undefined));
      alert.updatedAt = at;
      const source = typeof body.source === 'string' ? body.source : undefined;
      const report = (action: OpsgenieAlertAction['action']) => {
        for (const l of this.actionListeners) l({ action, alert, ...(user !== undefined ? { user } : {}), ...(source !== undefined ? { source } : {}), at });
      };
      if (kind === 'close') {
        alert.status = 'closed';
        alert.closedBy = user;
        report('Close');
        return done('Closed alert');
      }
      // Unacknowledging an alert nobody acknowledged changes nothing, so the pager reports nothing.
      if (kind === 'unacknowledge') {
        const wasAcknowledged = alert.acknowledged;
        alert.acknowledged = false;
        delete alert.acknowledgedBy;
        if (wasAcknowledged) report('UnAcknowledge');
        return done('Unacknowledged alert');
      }
      // Acknowledging an acknowledged alert changes nothing, so the pager reports nothing.
      const changed = !alert.acknowledged;
      alert.acknowledged = true;
      alert.acknowledgedBy = user;
      if (changed) report('Acknowledge');
      return done('Acknowledged alert');
    });
  }

  /** `PUT /v2/alerts/{identifier}/priority` (Opsgenie only: JSM's integration API has no such call). */
  updatePriority(identifier: string, identifierType: string, priority: string): string {
    return this.accept('UpdatePriority', identifierType === 'alias' ? identifier : '', () => {
      const alert = this.find(identifier, identifierType);
      if (!alert) return { isSuccess: false, status: 'Alert does not exist', alertId: '', alias: '' };
      alert.priority = priority;
      alert.updatedAt = this.now().toISOString();
      return { isSuccess: true, status: 'Updated priority', alertId: alert.id, alias: alert.alias };
    });
  }
}

/** The alert as Opsgenie's GET answers it (without the stand-in's bookkeeping). */
export function alertWire(a: OpsgenieAlert): Record<string, unknown> {
  const { notes: _notes, createdBy: _createdBy, flavour: _flavour, closedBy, acknowledgedBy, ...wire } = a;
  return {
    ...wire,
    isSeen: false,
    snoozed: false,
    integration: { id: INTEGRATION_ID, name: 'alertbus stand-in', type: 'API' },
    report: { ...(closedBy ? { closedBy } : {}), ...(acknowledgedBy ? { acknowledgedBy } : {}) },
  };
}
