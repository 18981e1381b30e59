import { createHash } from 'node:crypto';
import type { AliasState } from '@alertbus/schemas';
import type { RouterState } from '../state';

/**
 * The bytes a sequence of packed states comes out as must not change unnoticed: the router tells a state unchanged by
 * its packed bytes, and the arena holds equal records once. Packing numbers strings by how often they were seen, so
 * the same states packed in the same order by a fresh process give the same bytes. `packState`'s strings, and the
 * records `StateIndex.set` holds in the arena, are checked against the digest the packing of `8da2f51` gave for them.
 */
const DIGEST_8DA2F51 = 'f264254a463ab396b57b0c68472245be65eab999dbf66862ac2eddaf7aa2bf59';
const N = 1_500;
/** The digest `4323aeb`'s packing gave for the states of hundreds of strings below. */
const DIGEST_LARGE_4323AEB = '5701bdb7b3eb1582fafc6ff81edfb105a3459f6118b45e18fe9846a253702d9a';

/** A deterministic state of many forms: repeated and one-off strings, UUIDs, instants (and near misses), wide text, numbers. */
function states(): AliasState[] {
  let seed = 7;
  const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
  const instant = () => new Date(Date.UTC(2026, 0, 1) + Math.floor(rand() * 1e10)).toISOString();
  const texts = ['DiskFull', 'warning', 'critical', '#alerts', 'Disk almost full 🔥 <&>', 'é', '', 'x'.repeat(120), 'Nœud plein', '2026-13-01T00:00:00.000Z', '5B26C9D0-2053-8141-BEAF-6D4A82D49D52'];
  const text = (alias: string): string =>
    pick<() => string>([
      () => pick(texts),
      () => `host-${Math.floor(rand() * 50)}:9100`,
      () => `http://prometheus:9090/graph?host=${Math.floor(rand() * 5000)}`,
      () => uuid(),
      () => instant(),
      () => alias,
      () => `${pick(texts)}/${Math.floor(rand() * 1e6)}`,
      () => 'ü'.repeat(Math.floor(rand() * 200)),
      () => `Nœud ${Math.floor(rand() * 1e6)} plein 🔥`,
    ])();
  const out: AliasState[] = [];
  for (let i = 0; i < N; i++) {
    const alias = `alertmanager:${pick(['a', 'ü', 'ŵ'])}${Math.floor(rand() * 400)}`;
    const openedAt = instant();
    const labels: Record<string, string> = {};
    for (let k = 0, n = Math.floor(rand() * 6); k < n; k++) labels[pick(['alertname', 'instance', 'team', 'cluster', 'sévérité', ''])] = text(alias);
    const s: Record<string, unknown> = {
      alias,
      incidentId: uuid(),
      occurrence: 1 + Math.floor(rand() * 3),
      status: pick(['open', 'acknowledged', 'resolved']),
      count: pick([1, 127, 128, 16_383, 16_384, 2 ** 40, 2 ** 60, 1.5, -2, -0]),
      title: text(alias),
      severity: pick(['warning', 'critical']),
      source: 'alertmanager',
      ...(rand() < 0.3 ? { description: text(alias) } : {}),
      labels,
      links: rand() < 0.5 ? [] : [{ title: 'Source', url: text(alias) }],
      openedAt,
      lastSeenAt: rand() < 0.5 ? openedAt : instant(),
      lastNotifiedAt: rand() < 0.5 ? openedAt : text(alias),
      ...(rand() < 0.7 ? { slackChannel: pick(['#alerts', '#storm', '#ops']) } : {}),
      paged: rand() < 0.5,
      rule: { path: pick(['defaults', 'routes[0]', 'routes[1].routes[0]']), rulesVersion: hex(64) },
      lastInputId: rand() < 0.9 ? uuid() : text(alias),
      ...(rand() < 0.3 ? { storm: { id: uuid(), channel: '#storm', since: instant(), threshold: 30, window: '1m', ...(rand() < 0.5 ? { pageGrouped: true } : {}) } } : {}),
      ...(rand() < 0.2 ? { resolvedAt: instant(), skipped: undefined, odd: [null, true, false, 0.1, -5, text(alias), [text(alias)]] } : {}),
    };
    out.push(s as unknown as AliasState);
  }
  return out;
}

/** Each packed state's UTF-16 units, after its length: one digest for the whole sequence. */
function digestOf(packed: string[]): string {
  const h = createHash('sha256');
  for (const p of packed) h.update(`${p.length}:`).update(Buffer.from(p, 'utf16le'));
  return h.digest('hex');
}

type Routing = { packState: typeof import('./packed-state').packState; StateIndex: typeof import('./neighbours').StateIndex };
/** The packing modules as a fresh process has them: no string numbered yet. */
function fresh(): Routing {
  let m: Routing | undefined;
  jest.isolateModules(() => {
    m = { packState: (require('./packed-state') as typeof import('./packed-state')).packState, StateIndex: (require('./neighbours') as typeof import('./neighbours')).StateIndex };
  });
  return m!;
}

describe('packed state bytes', () => {
  const all = states();

  it('packState gives the same bytes as before, state by state in order', () => {
    const { packState } = fresh();
    expect(digestOf(all.map((s) => packState(s as RouterState, s.alias)))).toBe(DIGEST_8DA2F51);
  });

  it('StateIndex.set holds the same bytes in the arena as packState gives, and they unpack to the same JSON', () => {
    const strings = fresh();
    const index = fresh();
    const states = new index.StateIndex();
    const held: string[] = [];
    for (const s of all) {
      const expected = strings.packState(s as RouterState, s.alias);
      states.set(s);
      const packed = states.packed(s.alias)!;
      // Unit by unit first, so a failure names the state.
      if (packed !== expected) expect({ alias: s.alias, packed: [...packed].map((c) => c.charCodeAt(0)) }).toEqual({ alias: s.alias, packed: [...expected].map((c) => c.charCodeAt(0)) });
      expect(JSON.stringify(states.get(s.alias))).toBe(JSON.stringify(s));
      held.push(packed);
    }
    expect(digestOf(held)).toBe(DIGEST_8DA2F51);
  });

  it('gives the same bytes for states of hundreds of strings, each repeated within its state (the repeats refer back)', () => {
    // More distinct strings in one state than the table of a state's strings starts with (256 slots, half full at most):
    // it grows while the state is packed, and every later repeat must still be found, at its first place.
    const { packState } = fresh();
    const big = (n: number, round: number): AliasState => {
      const labels: Record<string, string> = {};
      for (let i = 0; i < n; i++) labels[`k${i}`] = `value ${round}-${i} ${'é'.repeat(i % 3)}`;
      const again = Object.values(labels).filter((_, i) => i % 2 === 0);
      return { ...all[round]!, labels, links: again.map((url) => ({ title: 'Source', url })), description: again[again.length - 1] } as AliasState;
    };
    const packed = [big(150, 0), big(700, 1), big(150, 0), big(1_500, 2), big(40, 3)].map((s) => packState(s as RouterState, s.alias));
    expect(digestOf(packed)).toBe(DIGEST_LARGE_4323AEB);
  });

  it('covers wide states (two bytes a unit in the arena) as well as narrow ones', () => {
    const { packState } = fresh();
    const packed = all.map((s) => packState(s as RouterState, s.alias));
    expect(packed.filter((p) => [...p].some((c) => c.charCodeAt(0) > 0xff)).length).toBeGreaterThan(40);
    expect(packed.filter((p) => [...p].every((c) => c.charCodeAt(0) <= 0xff)).length).toBeGreaterThan(100);
  });
});
