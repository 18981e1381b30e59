import { AliasState, GROUPS, HEADERS, schemaAjv, SlackKeyState, TOPICS } from '@alertbus/schemas';
import type { ConsumedRecord, ConsumeLoopMetrics, OutputMessage, createKafka } from '@alertbus/kafka';
import type { InfraRetryPolicy } from '@alertbus/common';
import type { Logger } from 'pino';
import type { SharedFact, SuppressedFiring } from '@alertbus/routing';
import { TopicFollower } from './topic-follower';
import { STATE_HEADER_TYPE } from './state-codec';

type Kafka = ReturnType<typeof createKafka>;

const validState = schemaAjv.compile(AliasState);
const validKeyState = schemaAjv.compile(SlackKeyState);

/** On router.shared.v1: the router instance that wrote the fact (its ROUTER_INSTANCE_ID). */
export const SHARED_WRITER_HEADER = 'alertbus-writer';

/**
 * An incident's state, or a firing kept as an inhibitor (SuppressedFiring), for router.shared.v1 (null: forgotten), tagged with its alias's input partition and the instance
 * that wrote it; `value` is the state's JSON (or its UTF-8 bytes) when the caller already made it.
 */
export function sharedFactMessage(
  alias: string,
  state: AliasState | SuppressedFiring | null,
  partition: number,
  writer: string,
  timestamp?: string,
  value: string | Buffer | null = state === null ? null : JSON.stringify(state),
): OutputMessage {
  const ts = timestamp === undefined ? NaN : Date.parse(timestamp);
  return {
    partition: 0,
    key: alias,
    value,
    timestamp: Number.isNaN(ts) ? undefined : String(ts),
    headers: { [HEADERS.eventType]: STATE_HEADER_TYPE, [HEADERS.partition]: String(partition), [SHARED_WRITER_HEADER]: writer },
  };
}

export interface SharedFactsOptions {
  kafka: Kafka;
  log: Logger;
  /** Every fact read, in offset order (an instance's own included). */
  onFact: (fact: SharedFact) => void;
  /** This instance's id: the facts it wrote carry it (SHARED_WRITER_HEADER). */
  writer: string;
  /**
   * A fact this instance wrote (not a tombstone), before it is decoded: true when nothing more is needed of it, so it is
   * neither parsed nor checked (its partition is held, and the instance's committed state is that fact or newer).
   */
  onOwnFact?: (partition: number, alias: string) => boolean;
  /**
   * True while this instance holds every input partition: every fact is then its own or for a partition it holds, none
   * is needed for a decision, and the follower reads them about once a linger instead of once a transaction.
   */
  gather?: () => boolean;
  retry?: InfraRetryPolicy;
  loopMetrics?: ConsumeLoopMetrics;
}

/**
 * Follows router.shared.v1 (one partition, compacted): every router instance writes its incidents' states (and
 * the firings it keeps as inhibitors) there in the transaction of the decisions that made them, and every instance reads all of it, so
 * inhibition and storm control see the incidents of every partition, whichever instance holds it.
 */
export class SharedFactsFollower extends TopicFollower {
  constructor(opts: SharedFactsOptions) {
    super({
      kafka: opts.kafka,
      log: opts.log,
      topic: TOPICS.routerShared,
      name: 'shared facts',
      groupPrefix: GROUPS.router,
      retry: opts.retry,
      loopMetrics: opts.loopMetrics,
      ...(opts.gather ? { gather: opts.gather } : {}),
      onRecords: (records) => {
        for (const r of records) {
          // An instance holding every partition reads back all it wrote: parsing and checking it was a tenth of its CPU.
          if (r.value !== null && r.key !== null && r.headers[SHARED_WRITER_HEADER] === opts.writer && opts.onOwnFact?.(Number(r.headers[HEADERS.partition]), r.key)) continue;
          const fact = decodeSharedFact(r);
          if (fact === 'invalid') opts.log.warn({ offset: r.offset, key: r.key }, 'skipping an invalid record on the shared facts topic');
          else if (fact) opts.onFact(fact);
        }
      },
    });
  }

  /** The next offset of router.shared.v1 not yet read: what a decision taken now has seen. */
  offset(): string {
    return this.position(0).toString();
  }
}

/** A record of router.shared.v1 as a fact; undefined when it is not one (no key or partition), 'invalid' when its state fails the schema. */
function decodeSharedFact(r: ConsumedRecord): SharedFact | undefined | 'invalid' {
  const partition = Number(r.headers[HEADERS.partition]);
  if (r.key === null || !Number.isInteger(partition)) return undefined;
  if (r.value === null) return { offset: BigInt(r.offset), partition, alias: r.key, state: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.value.toString('utf8'));
  } catch {
    return 'invalid';
  }
  const kept = typeof parsed === 'object' && parsed !== null && (parsed as { kind?: unknown }).kind === 'alert-suppressed';
  if (kept ? !validKeyState(parsed) : !validState(parsed)) return 'invalid';
  return { offset: BigInt(r.offset), partition, alias: r.key, state: parsed as AliasState | SuppressedFiring };
}
