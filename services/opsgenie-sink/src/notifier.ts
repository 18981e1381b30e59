import { DeliveryError, type Logger } from '@alertbus/common';
import type { AnyEnvelope, EventType, PagerCommandType, PagerPriority } from '@alertbus/schemas';
import { DEFAULT_SETTLE_LOOKUP_INTERVAL_MS, throwWhileSettling, type DeliveryOutcome, type KeptRows, type Notifier } from '@alertbus/sink-runtime';
import type { PagerClient, PagerProvider } from './pager-client';
import { actionBody, createBody, describeRequest } from './requests';
import type { UnconfirmedClose, UnconfirmedCloseStore } from './unconfirmed-closes';
import type { Accepted, PagerAlert, RequestStatus } from './wire';

/** The delivery event each pager command produces. */
export const OUTCOME_TYPE: Record<PagerCommandType, EventType> = {
  CreatePagerAlert: 'PagerAlertCreated',
  ClosePagerAlert: 'PagerAlertClosed',
  AcknowledgePagerAlert: 'PagerAlertAcknowledged',
  AddPagerNote: 'PagerNoteAdded',
  UpdatePagerPriority: 'PagerPriorityUpdated',
};

const VERB: Record<PagerCommandType, string> = {
  CreatePagerAlert: 'create alert',
  ClosePagerAlert: 'close alert',
  AcknowledgePagerAlert: 'acknowledge alert',
  AddPagerNote: 'add note',
  UpdatePagerPriority: 'update priority',
};

export interface PagerNotifierOptions {
  provider: PagerProvider;
  /** Absent in dry-run (no API key): nothing is sent. */
  client?: PagerClient;
  /** How many times to ask for the request status after a 202 (first at once, then with doubling waits); default 4. */
  statusPolls?: number;
  /** First wait between status polls; default 250 ms. */
  statusPollDelayMs?: number;
  /**
   * How long after an attempt started a create or a note it sent may still be pending (in flight, or queued at the
   * pager: the API processes requests asynchronously), so that "no open alert with the alias" or "no such note" does
   * not yet mean it never arrived; default DEFAULT_CREATE_SETTLE_MS.
   */
  createSettleMs?: number;
  /** While a create may be pending, how often the alias is looked up again; default DEFAULT_SETTLE_LOOKUP_INTERVAL_MS (1 s). */
  settleLookupIntervalMs?: number;
  /**
   * How long after a close was accepted a create for its alias may still wait for it, while the close is not processed
   * and the alert it closes is still open (past createSettleMs: a slow pager); default DEFAULT_CLOSE_WAIT_MAX_MS. 0: never
   * past createSettleMs.
   */
  closeWaitMaxMs?: number;
  /**
   * Where closes whose status stayed unknown are written down (with their completion) and read back on every partition
   * assignment; absent, they are kept in memory only (a restart forgets them).
   */
  unconfirmedCloses?: UnconfirmedCloseStore;
  log?: Logger;
  now?: () => number;
}

/** See PagerNotifierOptions.createSettleMs (OPSGENIE_CREATE_SETTLE_MS). */
export const DEFAULT_CREATE_SETTLE_MS = 30_000;
/** Past the settle window, a held create's looks (the close's status, the alias's alert) are this many settle look-ups apart. */
const SLOW_PAGER_LOOKS_APART = 5;
/** See PagerNotifierOptions.closeWaitMaxMs (OPSGENIE_CLOSE_WAIT_MAX_MS). */
export const DEFAULT_CLOSE_WAIT_MAX_MS = 5 * 60_000;

/** How far before the first attempt a note it added may be dated (clock skew between the sink and the pager). */
export const NOTE_LOOKBACK_MS = 60_000;
/** How many pages of notes (100 each) a look-up reads, newest first, before it gives up reaching the first attempt. */
export const NOTE_LOOKUP_MAX_PAGES = 10;
/**
 * How long after an attempt a note look-up that keeps running out of pages holds its command, and the commands after it
 * in its partition, before the note is added anyway (as the Slack sink's look-ups do).
 */
export const UNFINISHED_NOTE_LOOKUP_GIVE_UP_MS = 15 * 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How long after a close was noted in memory its completion (which writes it down) may still be on its way to Postgres:
 * a read of the written-down closes begun within that time may miss it, so a partition assignment keeps it.
 */
export const COMPLETION_IN_FLIGHT_MS = 10_000;

/** An unconfirmed close as the notifier keeps it: when it was noted in memory (-Infinity: read from the store). */
type NotedClose = UnconfirmedClose & {
  notedAtMs: number;
  /** Set once a create was held for it past createSettleMs (logged then, and again if it stops holding at the bound). */
  heldPastSettle?: true;
};

/** Opsgenie's answer when an alias names no open alert (closed already, or never created). */
const ALERT_MISSING = /does not exist|already closed/i;
const alertMissing = (s: RequestStatus) => ALERT_MISSING.test(s.status);

/** A fault of the sink's configuration, the same for every command: its key refused, or its URL routing nowhere. */
type ConfigFault = 'key' | 'url';

function configFault(err: unknown): ConfigFault | undefined {
  if (!(err instanceof DeliveryError) || !err.permanent || err.httpStatus === undefined) return undefined;
  const status = err.httpStatus;
  if (status === 401 || status === 402 || status === 403 || (status === 422 && /key format/i.test(err.message))) return 'key';
  // Only the alert calls get here (a 404 of a status or look-up call is "not there yet", read by the client), and the
  // one 404 they answer by design says the alias's alert does not exist; any other is a path the API does not have.
  if (status === 404 && !ALERT_MISSING.test(err.message)) return 'url';
  return undefined;
}

/**
 * The key refused (401, 402, 403, or 422 "Key format is not valid!" from the wrong region's host), or an alert call
 * answered 404 "no such route" (an OPSGENIE_API_URL whose path or host does not fit PAGER_PROVIDER): a fault of the
 * sink's configuration, the same for every command, not of this command. Permanent, every page of a key rotation, of
 * an EU key sent to the US host or of a wrong URL was dead-lettered at its first attempt; retryable, pages wait within
 * DELIVERY_RETRY_BUDGET until the setting is fixed and the sink restarted, then go out in order.
 */
export function keyRefusedAsRetryable(err: unknown, provider: PagerProvider): unknown {
  const fault = configFault(err);
  if (fault === undefined) return err;
  const e = err as DeliveryError;
  const check =
    fault === 'key'
      ? `the ${provider} key was refused: check OPSGENIE_API_KEY (an API integration key) and OPSGENIE_API_URL (its region)`
      : `the ${provider} API has no such route: check OPSGENIE_API_URL (the API's base URL, without /v2 or /jsm/ops/integration) and PAGER_PROVIDER`;
  return new DeliveryError(`${e.message} — ${check}; the page waits and is retried`, false, e.httpStatus);
}

/**
 * A create the pager accepted (202) whose request status could not be learned in the polls: the page may exist, may
 * still be pending, or may never be made. Retryable and without an HTTP status, so the runner treats it as a call that
 * may have taken effect: the next attempt looks the alias up first (reconcile), waits while the create may still be
 * pending (OPSGENIE_CREATE_SETTLE_MS), and sends it again only after that, which the pager deduplicates by alias.
 */
export class CreateUnconfirmed extends DeliveryError {
  constructor(message: string) {
    super(message, false);
    this.name = 'CreateUnconfirmed';
  }
}

/**
 * Executes pager commands through a PagerClient. A 202 only means "queued", so each action is followed by
 * a few request-status polls: they give the alert id and reveal actions that were accepted but not applied.
 *
 * Decisions on "Alert does not exist" (the alias has no open alert):
 * - close → success (PagerAlertClosed without alertId): the state the command asks for already holds —
 *   someone closed the alert in Opsgenie, or an earlier run closed it before a crash — and dead-lettering
 *   that would page an operator about nothing;
 * - update priority → success with `changed: false`: there is no open page to raise (closed in Opsgenie, or its
 *   incident resolved meanwhile), and nothing is left to do;
 * - acknowledge / add note → permanent failure named `alert-not-open`: the effect asked for did not happen.
 * JSM's integration API cannot change a priority: there an update is done with `changed: false` (the note the router
 * adds beside it says what the priority should be).
 * A status still unknown after the polls (404: not processed yet; or the status call got no answer) counts as success
 * with the requestId only for a close, an acknowledge, a note or a priority (the request was accepted; sending a note
 * again would add it twice). Not for a create: a page that may not exist is never recorded as created (see
 * CreateUnconfirmed). Such a close is kept per alias (in memory, and written down with its completion): the next create
 * for the alias waits until it is processed (see holdMs), or a flapping alert's new occurrence could be counted on the
 * old alert and closed with it.
 */
export class PagerNotifier implements Notifier {
  readonly target = 'pager' as const;
  /**
   * A 500/502/504 is followed by the command at once, not by a look-up: the pager deduplicates a create by alias (a
   * second one counts, it pages nobody again), a second close, acknowledge or priority changes nothing. Looking first
   * would hold a create for OPSGENIE_CREATE_SETTLE_MS (30 s): a page late. Not a note: the pager adds every note it
   * is sent, and one added before the 5xx was added twice; a note is looked for first (see reconcile).
   */
  readonly repeatsSafelyAfterServerError = (command: AnyEnvelope): boolean => command.type !== 'AddPagerNote';
  readonly handles: ReadonlySet<string> = new Set(Object.keys(OUTCOME_TYPE));
  private readonly polls: number;
  private readonly pollDelayMs: number;

  private readonly settleMs: number;
  /** How long after it was accepted an unconfirmed close may hold a create back: the longer of createSettleMs and closeWaitMaxMs. */
  private readonly closeHoldMs: number;
  private readonly settleLookupMs: number;
  private readonly now: () => number;
  /**
   * By alias: its last close whose status stayed unknown after the polls, while it may hold a create back, in the order
   * the closes were accepted (see remember): one accepted closeHoldMs ago or more holds nothing, and goes from the
   * front (see prune). So the map keeps the closes of about one closeHoldMs, whether or not a create comes for them.
   */
  private readonly unconfirmed = new Map<string, NotedClose>();
  /** Creates that a close no longer holds back, with that close (its row is deleted with the create's completion). */
  private readonly releasedBy = new Map<string, UnconfirmedClose>();
  /** Whether `unconfirmed` holds what the store has since the last partition assignment; the read under way. */
  private loaded = false;
  private loading: Promise<void> | undefined;
  private generation = 0;

  constructor(private readonly opts: PagerNotifierOptions) {
    this.polls = opts.statusPolls ?? 4;
    this.pollDelayMs = opts.statusPollDelayMs ?? 250;
    this.settleMs = opts.createSettleMs ?? DEFAULT_CREATE_SETTLE_MS;
    this.closeHoldMs = Math.max(this.settleMs, opts.closeWaitMaxMs ?? DEFAULT_CLOSE_WAIT_MAX_MS);
    this.settleLookupMs = opts.settleLookupIntervalMs ?? DEFAULT_SETTLE_LOOKUP_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
    this.loaded = !opts.unconfirmedCloses;
  }

  /**
   * Partitions were assigned (at start, after a rebalance): what is written down is read again before any create, and
   * replaces what is kept in memory (see ensureLoaded), so closes of partitions this instance no longer owns go.
   */
  partitionsAssigned(): void {
    if (!this.opts.unconfirmedCloses || !this.opts.client) return;
    // A create released by a close that can no longer be pending needs no row deleted: any later prune deletes it.
    for (const [id, close] of this.releasedBy) if (this.stale(close)) this.releasedBy.delete(id);
    this.generation += 1;
    this.loaded = false;
    this.loading = undefined;
    this.ensureLoaded().catch((err: Error) => this.opts.log?.warn({ error: err.message }, 'reading the unconfirmed closes failed; read again before the next create'));
  }

  private ensureLoaded(): Promise<void> {
    if (this.loaded || !this.opts.unconfirmedCloses) return Promise.resolve();
    if (this.loading) return this.loading;
    const generation = this.generation;
    const readAtMs = this.now();
    const loading = this.opts.unconfirmedCloses.load(readAtMs - this.closeHoldMs).then(
      (closes) => {
        if (generation !== this.generation) return this.ensureLoaded();
        // Rebuilt from the rows, not merged: a close kept in memory that is not written down belongs to a partition
        // another instance owns now (or that one deleted its row). Except one noted so recently that its completion may
        // not have been committed when the read began: that one stays.
        const inFlight = [...this.unconfirmed.values()].filter((c) => c.notedAtMs >= readAtMs - COMPLETION_IN_FLIGHT_MS);
        const next = new Map<string, NotedClose>();
        for (const c of [...closes.map((r) => ({ ...r, notedAtMs: Number.NEGATIVE_INFINITY })), ...inFlight]) {
          const known = next.get(c.alias);
          if (!known || known.acceptedAtMs < c.acceptedAtMs) next.set(c.alias, c);
        }
        this.unconfirmed.clear();
        for (const c of [...next.values()].sort((a, b) => a.acceptedAtMs - b.acceptedAtMs)) this.unconfirmed.set(c.alias, c);
        this.prune();
        this.loaded = true;
        this.loading = undefined;
        return undefined;
      },
      (err: unknown) => {
        if (this.loading === loading) this.loading = undefined;
        throw err;
      },
    );
    this.loading = loading;
    return loading;
  }

  /**
   * A create for an alias whose last close was accepted but not known to be processed waits until it is: Opsgenie (and
   * JSM) process requests asynchronously, in no documented order, and a create processed before the close would only
   * count on the still-open alert, which the close then closes — the new occurrence's page lost. The close's request
   * status is asked again every settleLookupIntervalMs; the create goes out once it is processed (whatever its result),
   * once createSettleMs (OPSGENIE_CREATE_SETTLE_MS) has passed since the close was accepted and no alert with the alias
   * is open (a pager slower than that: it waits on while the alert is open, up to closeWaitMaxMs,
   * OPSGENIE_CLOSE_WAIT_MAX_MS), or when a look-up is refused for good. Every other command, and a create with no such close (the normal case), is not held: answered at
   * once, from memory. After a partition assignment the first create waits for the written-down closes to be read.
   */
  holdMs(command: AnyEnvelope): number | undefined | Promise<number> {
    if (command.type !== 'CreatePagerAlert' || !this.opts.client) return undefined;
    if (!this.loaded) return this.ensureLoaded().then(() => this.holdForClose(command));
    this.prune();
    return this.unconfirmed.has(command.alias) ? this.holdForClose(command) : undefined;
  }

  /** Whether the close was accepted closeHoldMs ago or more: it holds no create back any more. */
  private stale(close: UnconfirmedClose): boolean {
    return close.acceptedAtMs + this.closeHoldMs <= this.now();
  }

  /** Drops the closes that can hold nothing back any more: from the front, the oldest first (O(1) amortised). */
  private prune(): void {
    for (const [alias, close] of this.unconfirmed) {
      if (!this.stale(close)) return;
      this.unconfirmed.delete(alias);
      // A create was held for it past the settle window: it goes now, and may only count on the alert the close closes.
      if (close.heldPastSettle) {
        this.opts.log?.warn(
          { alias, closeCommandId: close.commandId, requestId: close.requestId },
          'the close before a held create is still not processed OPSGENIE_CLOSE_WAIT_MAX_MS after it was accepted: the create is sent, and may only count on the alert the close closes',
        );
      }
    }
  }

  /** Keeps the alias's last unconfirmed close, at the back (the map stays in the order the closes were accepted). */
  private remember(close: UnconfirmedClose): void {
    this.prune();
    this.unconfirmed.delete(close.alias);
    this.unconfirmed.set(close.alias, { ...close, notedAtMs: this.now() });
  }

  private async holdForClose(command: AnyEnvelope): Promise<number> {
    const { alias } = command;
    const close = this.unconfirmed.get(alias);
    if (!close) return 0;
    const sinceMs = this.now() - close.acceptedAtMs;
    const leftMs = this.closeHoldMs - sinceMs;
    const release = (why: string) => {
      this.unconfirmed.delete(alias);
      this.releasedBy.set(command.id, { alias: close.alias, commandId: close.commandId, requestId: close.requestId, acceptedAtMs: close.acceptedAtMs });
      this.opts.log?.info({ commandId: command.id, alias, closeCommandId: close.commandId, requestId: close.requestId }, `create sent: the close before it ${why}`);
      return 0;
    };
    // (holdMs pruned the closes that hold nothing back any more; this one's time may run out while it is asked about.)
    if (leftMs <= 0) return release('holds it no longer (OPSGENIE_CREATE_SETTLE_MS, OPSGENIE_CLOSE_WAIT_MAX_MS)');
    const pastSettle = sinceMs >= this.settleMs;
    let status: RequestStatus | undefined;
    try {
      status = await this.client.requestStatus(close.requestId);
    } catch (err) {
      if (err instanceof DeliveryError && err.permanent) return release(`cannot be checked (${err.message})`);
      // Within the settle window, or rate limited (its Retry-After honoured): asked again. Past the window, the alias's
      // alert decides (below), as for a close not processed.
      const limited = err instanceof DeliveryError && (err.retryAfterMs ?? 0) > 0;
      if (!pastSettle || limited) {
        return this.askAgain(command, close, err, pastSettle ? leftMs : Math.min(leftMs, this.settleMs - sinceMs), 'the status of the close before a create could not be read; asking again');
      }
    }
    if (status) return release(`was processed (${status.status})`);
    if (!pastSettle) {
      this.opts.log?.info(
        { commandId: command.id, alias, closeCommandId: close.commandId, requestId: close.requestId, waitsAtMostMs: this.settleMs - sinceMs },
        'create held: the close before it for the same alias is not processed yet',
      );
      return Math.min(this.settleMs - sinceMs, this.settleLookupMs);
    }
    // Past the settle window and not known to be processed: a slow pager. A create now would be processed before the
    // close (only counting on the open alert), and the close would then close that alert: the page lost. So it waits on
    // while the alert the close is for is still open, up to closeWaitMaxMs; with none open (closed in the pager
    // meanwhile, or a provider whose integration API answers no such look-up: JSM's reads as none) it goes.
    let open: PagerAlert | undefined;
    try {
      open = await this.client.getOpenByAlias(alias);
    } catch (err) {
      if (err instanceof DeliveryError && err.permanent) return release(`is not known to be processed and the alias cannot be looked up (${err.message})`);
      return this.askAgain(command, close, err, leftMs, 'the alert a pending close is for could not be looked up before a create; asking again');
    }
    if (!open) return release('is not known to be processed, but no alert with the alias is open');
    if (!close.heldPastSettle) {
      close.heldPastSettle = true;
      this.opts.log?.warn(
        { commandId: command.id, alias, closeCommandId: close.commandId, requestId: close.requestId, alertId: open.id, waitsAtMostMs: leftMs },
        'create held past OPSGENIE_CREATE_SETTLE_MS: the pager has not processed the close before it, and the alert it closes is still open (a create now would only count on it, then be closed with it)',
      );
    }
    // A pager this slow is asked less often than within the window: two calls a look.
    return Math.min(leftMs, SLOW_PAGER_LOOKS_APART * this.settleLookupMs);
  }

  /** A look-up for a held create got no answer: asked again within the hold (after Retry-After when the pager sent one). */
  private askAgain(command: AnyEnvelope, close: UnconfirmedClose, err: unknown, leftMs: number, message: string): number {
    const again = Math.max(this.settleLookupMs, err instanceof DeliveryError ? (err.retryAfterMs ?? 0) : 0);
    this.opts.log?.warn({ commandId: command.id, alias: command.alias, requestId: close.requestId, error: (err as Error).message }, message);
    return Math.min(leftMs, again);
  }

  /**
   * Kept with a completion: a close whose status stayed unknown is written down (so a restart or a rebalance before the
   * next create for its alias does not forget it); a create it held back, or a later close whose outcome is known,
   * deletes it. Nothing for every other completion.
   */
  persist(command: AnyEnvelope, _outcome: DeliveryOutcome): KeptRows | readonly KeptRows[] | undefined {
    const store = this.opts.unconfirmedCloses;
    const staleBeforeMs = this.now() - this.closeHoldMs;
    if (command.type === 'CreatePagerAlert') return this.forgetReleasing(command);
    if (command.type !== 'ClosePagerAlert') return undefined;
    const close = this.unconfirmed.get(command.alias);
    if (!close) return undefined;
    if (close.commandId === command.id) return store?.saveStatement(close, staleBeforeMs);
    // A later close whose outcome is known: the earlier one no longer decides when a create may go.
    this.unconfirmed.delete(command.alias);
    return store?.forgetStatement(close.alias, close.commandId, staleBeforeMs);
  }

  /**
   * Kept with a failed finish (a create refused for good, dead-lettered): the close that released it is forgotten as
   * with a completion, or its entry (and its row) would stay for as long as the process runs.
   */
  persistFailure(command: AnyEnvelope): KeptRows | undefined {
    return command.type === 'CreatePagerAlert' ? this.forgetReleasing(command) : undefined;
  }

  /** The close that released the create no longer matters once the create has finished: its row is deleted. */
  private forgetReleasing(command: AnyEnvelope): KeptRows | undefined {
    const close = this.releasedBy.get(command.id);
    if (!close) return undefined;
    this.releasedBy.delete(command.id);
    return this.opts.unconfirmedCloses?.forgetStatement(close.alias, close.commandId, this.now() - this.closeHoldMs);
  }

  private get client(): PagerClient {
    if (!this.opts.client) throw new DeliveryError('no pager API key configured (dry-run only)', true);
    return this.opts.client;
  }

  private outcome(command: AnyEnvelope, requestId?: string, alertId?: string, changed = true): DeliveryOutcome {
    const type = command.type as PagerCommandType;
    return {
      type: OUTCOME_TYPE[type],
      data: {
        provider: this.opts.provider,
        ...(requestId ? { requestId } : {}),
        ...(alertId ? { alertId } : {}),
        ...(type === 'UpdatePagerPriority' ? { priority: (command.data as { priority: PagerPriority }).priority, changed } : {}),
      },
    };
  }

  /** The pager's last refusal of the key or of the URL, until a call succeeds: what /readyz reports while pages wait for a right setting. */
  private keyRefused: string | undefined;

  /** Why pages cannot go out although the sink runs (the key was refused, or the URL routes nowhere), or undefined. */
  keyProblem(): string | undefined {
    return this.keyRefused;
  }

  async execute(command: AnyEnvelope): Promise<DeliveryOutcome> {
    try {
      const outcome = await this.executeOnce(command);
      this.keyRefused = undefined;
      return outcome;
    } catch (err) {
      const mapped = keyRefusedAsRetryable(err, this.opts.provider);
      const fault = configFault(err);
      if (fault === 'key') this.keyRefused = `the ${this.opts.provider} API refused the key (HTTP ${(err as DeliveryError).httpStatus}): pages wait until OPSGENIE_API_KEY or OPSGENIE_API_URL is fixed`;
      else if (fault === 'url') this.keyRefused = `the ${this.opts.provider} API has no such route (HTTP 404 at OPSGENIE_API_URL): pages wait until OPSGENIE_API_URL (or PAGER_PROVIDER) is fixed`;
      else if (err instanceof CreateUnconfirmed) this.keyRefused = undefined; // the create was accepted: so was the key
      else if (err instanceof DeliveryError && err.httpStatus !== undefined && err.httpStatus >= 400 && err.httpStatus < 500 && err.httpStatus !== 429) {
        this.keyRefused = undefined; // refused for the request itself: the key was taken
      }
      throw mapped;
    }
  }

  private async executeOnce(command: AnyEnvelope): Promise<DeliveryOutcome> {
    const type = command.type as PagerCommandType;
    const { alias } = command;
    const data = command.data as { note?: string; user?: string };
    let accepted: Accepted;
    let acceptedAtMs = 0;
    switch (type) {
      case 'CreatePagerAlert':
        accepted = await this.client.create(createBody(alias, (command as AnyEnvelope & { type: 'CreatePagerAlert' }).data));
        break;
      case 'ClosePagerAlert':
        try {
          accepted = await this.client.close(alias, actionBody(data));
          acceptedAtMs = this.now();
        } catch (err) {
          // The same answer given at once rather than through the request status: a 404 that says the alert does not
          // exist. The state the close asks for holds; dead-lettering it would leave a resolved incident "failed".
          if (err instanceof DeliveryError && err.httpStatus === 404 && ALERT_MISSING.test(err.message)) {
            this.opts.log?.info({ commandId: command.id, alias, error: err.message }, 'no open alert with the alias (404): already closed');
            return this.outcome(command);
          }
          throw err;
        }
        break;
      case 'AcknowledgePagerAlert':
        accepted = await this.client.acknowledge(alias, actionBody(data));
        break;
      case 'AddPagerNote':
        accepted = await this.client.addNote(alias, { ...actionBody(data), note: data.note! });
        break;
      case 'UpdatePagerPriority': {
        const { priority } = (command as AnyEnvelope & { type: 'UpdatePagerPriority' }).data;
        if (!this.client.updatePriority) {
          this.opts.log?.info({ commandId: command.id, alias, priority }, `the ${this.opts.provider} API cannot change an alert's priority: left as it is (the note beside it says ${priority})`);
          return this.outcome(command, undefined, undefined, false);
        }
        try {
          accepted = await this.client.updatePriority(alias, priority);
        } catch (err) {
          // No open alert with the alias, said at once: nothing to raise, as through the request status below.
          if (err instanceof DeliveryError && err.httpStatus === 404 && ALERT_MISSING.test(err.message)) return this.outcome(command, undefined, undefined, false);
          throw err;
        }
        break;
      }
      default:
        throw new DeliveryError(`not a pager command: ${String(type)}`, true);
    }

    const { status, unknowable } = await this.confirm(accepted.requestId, command);
    if (!status && !unknowable && type === 'ClosePagerAlert') {
      // Accepted, maybe not processed yet: a create for the alias sent now could be processed first, only count on the
      // still-open alert, and be closed with it. The next create for the alias confirms this close first (see holdMs).
      this.remember({ alias, commandId: command.id, requestId: accepted.requestId, acceptedAtMs });
      this.opts.log?.info(
        { commandId: command.id, alias, requestId: accepted.requestId },
        'close accepted but not processed yet: the next create for the alias waits until it is (see OPSGENIE_CREATE_SETTLE_MS, OPSGENIE_CLOSE_WAIT_MAX_MS)',
      );
    }
    if (!status && type === 'CreatePagerAlert') {
      if (!unknowable) {
        throw new CreateUnconfirmed(
          `${this.opts.provider} create alert accepted (request ${accepted.requestId}) but its status is still unknown: the alias is looked up before the create is sent again`,
        );
      }
      // Looking the alias up would be refused the same way, and sending the create again until it can be checked would
      // never end: recorded as accepted (requestId only), loudly.
      this.opts.log?.error(
        { commandId: command.id, alias, requestId: accepted.requestId },
        `the ${this.opts.provider} API refused the request-status call for good: the page was accepted but cannot be verified; check that OPSGENIE_API_KEY may read alerts`,
      );
    }
    if (status && !status.isSuccess) {
      const provider = this.opts.provider;
      if (alertMissing(status)) {
        if (type === 'ClosePagerAlert') {
          this.opts.log?.info({ commandId: command.id, alias, status: status.status }, 'no open alert with the alias: already closed');
          return this.outcome(command, accepted.requestId);
        }
        if (type === 'UpdatePagerPriority') {
          this.opts.log?.info({ commandId: command.id, alias, status: status.status }, 'no open alert with the alias: no priority to raise');
          return this.outcome(command, accepted.requestId, undefined, false);
        }
        throw new DeliveryError(
          `alert-not-open: ${provider} ${VERB[type]} not applied, no open alert with alias "${alias}" (request ${accepted.requestId}: ${status.status})`,
          true,
        );
      }
      throw new DeliveryError(
        `action-failed: ${provider} ${VERB[type]} accepted but not applied (request ${accepted.requestId}: ${status.status})`,
        true,
      );
    }
    return this.outcome(command, accepted.requestId, status?.alertId);
  }

  /**
   * Asks what became of an accepted request; never throws (the action was accepted, retrying it could repeat a note).
   * No status: not processed yet (404) or no answer, after every poll; `unknowable` when the pager refused the status
   * call for good (a 4xx other than 404 or 429, e.g. a key without read access), which no later look could change.
   */
  private async confirm(requestId: string, command: AnyEnvelope): Promise<{ status?: RequestStatus; unknowable?: boolean }> {
    for (let i = 0; i < this.polls; i++) {
      if (i > 0) await sleep(this.pollDelayMs * 2 ** (i - 1));
      try {
        const status = await this.client.requestStatus(requestId);
        if (status) return { status };
      } catch (err) {
        this.opts.log?.warn({ commandId: command.id, requestId, error: (err as Error).message }, 'request status check failed');
        if (err instanceof DeliveryError && err.permanent) return { unknowable: true };
      }
    }
    this.opts.log?.warn({ commandId: command.id, requestId }, 'request accepted but its status is still unknown');
    return {};
  }

  /**
   * After a crash between "started" and "completed", or an attempt that got no answer: looks at the pager to see
   * whether the effect already happened. A lookup that may succeed later (a timeout, a 5xx, a 429) throws: the
   * runner looks again after a back-off. Other lookup errors mean "unknown" → execute again, which is safe: create
   * is deduplicated by alias, close of a closed alias is treated as done, a second acknowledge changes nothing.
   * With JSM, a close is sent again. A note is looked for among the alert's notes (see reconcileNote); with JSM, whose
   * integration API cannot list them, it is added again.
   *
   * A create is asynchronous: the pager answers 202 and processes it later, and a request whose answer was lost
   * may not even have been read yet. "No open alert with the alias" therefore only counts once the earlier
   * attempt's create cannot be pending any more (createSettleMs after the attempt started); before that the
   * alias is looked up again every settleLookupIntervalMs (a retryable error with retryAfterMs: the runner waits),
   * so an alert whose create was slow to be processed is found, not created a second time.
   */
  async reconcile(command: AnyEnvelope, startedAt?: Date, firstAttemptAt?: Date): Promise<DeliveryOutcome | undefined> {
    const type = command.type as PagerCommandType;
    if (!this.opts.client) return undefined;
    if (type === 'AddPagerNote') return this.reconcileNote(command, startedAt, firstAttemptAt);
    let open;
    try {
      open = await this.client.getOpenByAlias(command.alias);
    } catch (err) {
      // No answer (a timeout, a 5xx): still unknown, and a create sent again would count twice. Looked up again later.
      if (err instanceof DeliveryError && !err.permanent) throw err;
      this.opts.log?.warn({ commandId: command.id, error: (err as Error).message }, 'reconcile lookup failed; executing again');
      return undefined;
    }
    if (type === 'CreatePagerAlert') {
      if (open) return this.outcome(command, undefined, open.id);
      const window = { settleMs: this.settleMs, lookAgainMs: this.settleLookupMs, now: this.now };
      throwWhileSettling(startedAt, window, `no open ${this.opts.provider} alert with alias "${command.alias}"`);
      return undefined;
    }
    // JSM documents no GET of an alert (its "none open" is a 404 for every alias), so there a close is sent again:
    // closing an alias with no open alert is done anyway (see execute). Opsgenie's answer is trusted: one close.
    if (type === 'ClosePagerAlert') return open || this.opts.provider === 'jsm' ? undefined : this.outcome(command);
    if (type === 'UpdatePagerPriority') {
      // Already at that priority: done. No open alert: nothing to raise (see execute). Else set it again (idempotent).
      if (!open) return this.outcome(command, undefined, undefined, false);
      return open.priority === (command.data as { priority: string }).priority ? this.outcome(command, undefined, open.id) : undefined;
    }
    return open?.acknowledged ? this.outcome(command, undefined, open.id) : undefined;
  }

  /**
   * A note whose add got no answer, a 500/502/504, or was cut by a crash may have been added: the pager adds every note
   * it is sent, so it is looked for first. The alert's notes are read newest first (List Alert Notes) back to
   * NOTE_LOOKBACK_MS before the first attempt began; one with the exact text the command sends counts as this
   * command's (any attempt's). Not found: the add may still be pending at the pager (it processes requests
   * asynchronously), so, as for a create, it is only taken as never made createSettleMs after the last attempt began;
   * until then the notes are read again every settleLookupIntervalMs. A look-up the pager does not answer (a timeout, a
   * 5xx, a 429) throws (looked for again after a back-off); one refused for good, or a provider that cannot list notes
   * (JSM's integration API), means "unknown": the note is added again, and may show twice. No open alert with the
   * alias: there is nothing to add a note to, and the add says so (alert-not-open).
   */
  private async reconcileNote(command: AnyEnvelope, startedAt?: Date, firstAttemptAt?: Date): Promise<DeliveryOutcome | undefined> {
    const client = this.client;
    const { alias } = command;
    if (!client.listNotes) {
      this.opts.log?.warn({ commandId: command.id, alias }, `the ${this.opts.provider} API cannot list an alert's notes: a note whose add may have taken effect is added again (it may show twice)`);
      return undefined;
    }
    const text = (command.data as { note: string }).note;
    const from = firstAttemptAt ?? startedAt;
    const since = from === undefined ? Number.NEGATIVE_INFINITY : from.getTime() - NOTE_LOOKBACK_MS;
    let found: 'found' | 'absent' | 'no-alert' | 'unfinished' = 'unfinished';
    try {
      let offset: string | undefined;
      for (let page = 0; page < NOTE_LOOKUP_MAX_PAGES && found === 'unfinished'; page++) {
        const notes = await client.listNotes(alias, offset);
        if (!notes) {
          found = 'no-alert';
          break;
        }
        for (const n of notes.notes) {
          // Newest first: a note older than the first attempt, and every one after it, is another command's.
          if (Date.parse(n.createdAt) < since) {
            found = 'absent';
            break;
          }
          if (n.note === text) {
            found = 'found';
            break;
          }
        }
        if (found !== 'unfinished') break;
        if (notes.next === undefined || notes.next === offset || notes.notes.length === 0) found = 'absent';
        offset = notes.next;
      }
    } catch (err) {
      // No answer (a timeout, a 5xx, a 429): still unknown, and a note added now could be the second. Looked for again later.
      if (err instanceof DeliveryError && !err.permanent) throw err;
      this.opts.log?.warn({ commandId: command.id, alias, error: (err as Error).message }, 'note look-up refused; adding the note again (it may show twice)');
      return undefined;
    }
    if (found === 'found') {
      this.opts.log?.info({ commandId: command.id, alias }, 'the note is on the alert already: not added again');
      return this.outcome(command);
    }
    if (found === 'no-alert') return undefined;
    if (found === 'unfinished') {
      const lookingForMs = startedAt === undefined ? Number.POSITIVE_INFINITY : this.now() - startedAt.getTime();
      if (lookingForMs < UNFINISHED_NOTE_LOOKUP_GIVE_UP_MS) {
        throw new DeliveryError(`${this.opts.provider} list notes: ${NOTE_LOOKUP_MAX_PAGES} pages of notes on alias "${alias}" read without reaching the first attempt; looked for again later`, false);
      }
      this.opts.log?.warn({ commandId: command.id, alias, lookingForMs }, 'could not read back to the first attempt among the alert\'s notes; adding the note (it may show twice)');
      return undefined;
    }
    const window = { settleMs: this.settleMs, lookAgainMs: this.settleLookupMs, now: this.now };
    throwWhileSettling(startedAt, window, `no such note on the open ${this.opts.provider} alert with alias "${alias}"`);
    return undefined;
  }

  dryRun(command: AnyEnvelope): DeliveryOutcome {
    const outcome = this.outcome(command, undefined, undefined, false);
    return { type: outcome.type, data: { ...outcome.data, request: describeRequest(this.opts.provider, command) } };
  }
}
