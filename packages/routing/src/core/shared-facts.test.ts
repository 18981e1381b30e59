/**
 * Two router instances, each holding one partition, decide against their own states plus the facts they have
 * read from router.shared.v1 (simulated here as an array). Every decision that consults other aliases records how
 * far it had read (`shared.offset`); folding the shared log up to that offset and deciding the batch again gives
 * byte-identical outputs — whatever order the instances' transactions interleaved in.
 */
import type { AliasState, AnyEnvelope, Envelope } from '@alertbus/schemas';
import type { CompiledRules } from '../rules/types';
import { decide, isIncidentState } from '../decider';
import { firing, MINUTE } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { StateIndex } from './neighbours';
import { sharedNeighbours, type SharedFact } from './shared-facts';

type Input = Envelope<'AlertReceived'>;

interface RecordedBatch {
  partition: number;
  inputs: Input[];
  /** What the instance had read of the shared log when it decided. */
  offset: bigint;
  events: AnyEnvelope[];
}

/** The shared log, and the record of every batch decided (what incidents.v1 and the commands topics hold). */
class Cluster {
  readonly log: SharedFact[] = [];
  readonly recorded: RecordedBatch[] = [];

  constructor(readonly rules: CompiledRules) {}

  instance(partition: number): Instance {
    return new Instance(this, partition);
  }
}

/** One router instance as the processor runs it: its own committed states, the other partitions' facts read so far. */
class Instance {
  private readonly own = new Map<string, AliasState>();
  private read = 0;

  constructor(
    private readonly cluster: Cluster,
    readonly partition: number,
  ) {}

  /** Reads the shared log to its end (the catch-up before a batch). */
  catchUp(): void {
    this.read = this.cluster.log.length;
  }

  /** Decides a batch against what it has read; returns the commit, to be applied when the transaction commits. */
  decideBatch(inputs: Input[]): () => void {
    const offset = BigInt(this.read);
    const index = new StateIndex();
    for (const f of this.cluster.log.slice(0, this.read)) {
      if (f.partition === this.partition) continue;
      index.put(f.alias, f.state ?? undefined);
    }
    for (const s of this.own.values()) index.set(s);
    const staged = new Map<string, AliasState>();
    const events: AnyEnvelope[] = [];
    for (const input of inputs) {
      const d = decide(input, staged.get(input.alias) ?? this.own.get(input.alias), this.cluster.rules, { neighbours: index, sharedOffset: String(offset) });
      events.push(...d.events);
      if (isIncidentState(d.state)) {
        staged.set(input.alias, d.state);
        index.set(d.state);
      }
    }
    return () => {
      for (const [alias, s] of staged) {
        this.own.set(alias, s);
        this.cluster.log.push({ offset: BigInt(this.cluster.log.length), partition: this.partition, alias, state: s });
      }
      this.cluster.recorded.push({ partition: this.partition, inputs, offset, events });
    };
  }
}

/** Decides a recorded batch again from nothing but the shared log, the offset it recorded and its inputs. */
function replay(rules: CompiledRules, log: readonly SharedFact[], batch: RecordedBatch, offset = batch.offset): AnyEnvelope[] {
  const index = sharedNeighbours(log, offset);
  const events: AnyEnvelope[] = [];
  for (const input of batch.inputs) {
    const d = decide(input, index.get(input.alias), rules, { neighbours: index, sharedOffset: String(offset) });
    events.push(...d.events);
    if (isIncidentState(d.state)) index.set(d.state);
  }
  return events;
}

const latencyEu = { alertname: 'HighLatency', cluster: 'eu' };
const crit = (alias: string, at: number) => firing(alias, { at, severity: 'critical', labels: latencyEu });
const warn = (alias: string, at: number, n = 0) => firing(alias, { at, n, severity: 'warning', labels: latencyEu });
const suppressedBy = (events: AnyEnvelope[]) => events.flatMap((e) => (e.type === 'EventSuppressed' ? [e.data] : []));

describe('decisions across router instances replay from the shared facts they recorded', () => {
  test('inhibition: a source decided on instance A mutes a target on instance B once B has read it; the replay agrees, batch by batch', () => {
    const cluster = new Cluster(rulesFrom('rules.inhibit.yaml'));
    const a = cluster.instance(0);
    const b = cluster.instance(1);

    // A decides the critical; B decides a warning before A's transaction committed: B could not have seen it.
    a.catchUp();
    const commitSource = a.decideBatch([crit('am:crit', 0)]);
    b.catchUp();
    const commitEarly = b.decideBatch([warn('am:early', MINUTE)]);
    commitSource();
    commitEarly();
    // B's next batch starts after A's commit: the catch-up reads it, and the warnings are muted by A's incident.
    b.catchUp();
    b.decideBatch([warn('am:late', 2 * MINUTE), warn('am:early', 3 * MINUTE, 1)])();

    const [source, early, late] = cluster.recorded;
    expect(early!.events.map(brief)).toEqual(['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3']);
    expect(early!.events[0]!.data).toMatchObject({ shared: { offset: '0' } });
    expect(late!.events.map(brief)).toEqual(['EventSuppressed:inhibited', 'EventSuppressed:inhibited']);
    const sourceIncident = (source!.events[0]!.data as { incidentId: string }).incidentId;
    const muted = { kind: 'inhibition', alias: 'am:crit', incidentId: sourceIncident, inhibitRule: 'critical-mutes-warnings' };
    // Both decided after reading the source's fact and B's own earlier incident (offsets 0 and 1 of the log).
    expect(suppressedBy(late!.events)).toEqual([
      expect.objectContaining({ suppressedBy: muted, shared: { offset: '2' } }),
      expect.objectContaining({ suppressedBy: muted, shared: { offset: '2' } }),
    ]);

    for (const batch of cluster.recorded) expect(JSON.stringify(replay(cluster.rules, cluster.log, batch))).toBe(JSON.stringify(batch.events));
    // The recorded offset is what makes the early warning reproducible: with everything known now it would be muted.
    expect(replay(cluster.rules, cluster.log, early!, BigInt(cluster.log.length)).map(brief)).toEqual(['EventSuppressed:inhibited']);
  });

  test('storm control counts the openings of both instances for a channel, and records the count it saw', () => {
    const cluster = new Cluster(rulesFrom('rules.storm.yaml'));
    const a = cluster.instance(0);
    const b = cluster.instance(1);
    const open = (name: string, at: number) => firing(`am:${name}`, { at, labels: { team: 'web' }, severity: 'warning' });

    a.catchUp();
    a.decideBatch([open('a1', 0), open('a2', MINUTE)])();
    b.catchUp();
    b.decideBatch([open('b1', 2 * MINUTE)])();
    // Three opened for #alerts within 10 minutes, two of them on the other instance: B's next one is gathered.
    b.catchUp();
    b.decideBatch([open('b2', 3 * MINUTE)])();
    a.catchUp();
    a.decideBatch([open('a3', 4 * MINUTE)])();

    const gathered = cluster.recorded.slice(2).map((batch) => suppressedBy(batch.events).map((d) => d.suppressedBy));
    expect(gathered).toEqual([
      [expect.objectContaining({ kind: 'storm', channel: '#alerts', recent: 3 })],
      [expect.objectContaining({ kind: 'storm', channel: '#alerts', recent: 4 })],
    ]);
    // One storm, whichever instance gathered into it: the same summary incident.
    const ids = gathered.flat().map((s) => (s as { summaryIncidentId: string }).summaryIncidentId);
    expect(new Set(ids).size).toBe(1);
    for (const batch of cluster.recorded) expect(JSON.stringify(replay(cluster.rules, cluster.log, batch))).toBe(JSON.stringify(batch.events));
  });
});
