/**
 * The channels a Slack stand-in should know so that the rules in force can post: Slack answers `channel_not_found`
 * for a channel that does not exist, and so does the stand-in, so `npm start -- --stand-ins` creates every channel
 * the rules name. Kept free of the routing package: the rules are read through the shape below.
 */
import type { SlackChannelConfig } from './state';

interface SlackPart {
  readonly channel?: string;
  readonly channelBySeverity?: Readonly<Record<string, string>>;
  readonly channelByTag?: Readonly<Record<string, string>>;
}

interface RuleLike {
  readonly slack?: SlackPart;
  readonly routes: readonly RuleLike[];
}

/** What of compiled rules (`CompiledRules` of @alertbus/routing) names a Slack channel. */
export interface RulesWithChannels {
  readonly defaults: { readonly slack: SlackPart };
  readonly rules: readonly RuleLike[];
  readonly tags: Readonly<Record<string, { readonly channel: string; readonly levelChannels: Readonly<Partial<Record<string, string>>> }>>;
  readonly stormControl?: { readonly channels: Readonly<Record<string, unknown>> };
}

/** Every channel the rules may post to, as written there (`#db-alerts`, `C0123ABCD`), sorted, each once. */
export function channelsOfRules(rules: RulesWithChannels): string[] {
  const found = new Set<string>();
  const addSlack = (s: SlackPart | undefined) => {
    if (!s) return;
    if (s.channel) found.add(s.channel);
    for (const c of Object.values(s.channelBySeverity ?? {})) found.add(c);
    for (const c of Object.values(s.channelByTag ?? {})) found.add(c);
  };
  const walk = (rs: readonly RuleLike[]) => {
    for (const r of rs) {
      addSlack(r.slack);
      walk(r.routes);
    }
  };
  addSlack(rules.defaults.slack);
  walk(rules.rules);
  for (const tag of Object.values(rules.tags)) {
    found.add(tag.channel);
    for (const c of Object.values(tag.levelChannels)) if (c) found.add(c);
  }
  for (const c of Object.keys(rules.stormControl?.channels ?? {})) found.add(c);
  return [...found].filter((c) => c.trim() !== '').sort();
}

/** A Slack channel ID as written in rules (public C…, private G…), not a name. */
const looksLikeId = (ref: string) => /^[CG][A-Z0-9]{8,}$/.test(ref);

/**
 * `base` plus a channel for each reference not already among them: an ID keeps its ID, a name gets a readable
 * one (`#db-alerts` → C0DBALERTS), made unique when two names read the same.
 */
export function withChannels(base: readonly SlackChannelConfig[], refs: readonly string[]): SlackChannelConfig[] {
  const out = [...base];
  const ids = new Set(out.map((c) => c.id));
  const names = new Set(out.map((c) => c.name));
  for (const ref of refs) {
    if (looksLikeId(ref)) {
      if (ids.has(ref)) continue;
      out.push({ id: ref, name: ref.toLowerCase() });
      ids.add(ref);
      names.add(ref.toLowerCase());
      continue;
    }
    const name = ref.replace(/^#/, '');
    // No Slack channel is named with these, and they would break SLACK_STAND_IN_CHANNELS.
    if (name === '' || /[\s,:]/.test(name) || names.has(name)) continue;
    const stem = `C0${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 20);
    let id = stem;
    for (let n = 2; ids.has(id); n++) id = `${stem}${n}`;
    out.push({ id, name });
    ids.add(id);
    names.add(name);
  }
  return out;
}

/** SLACK_STAND_IN_CHANNELS (`C0ALERTS:alerts,C0OPS:ops`) → channels; throws naming the entry that is not ID:name. */
export function parseStandInChannels(raw: string): SlackChannelConfig[] {
  return raw
    .split(',')
    .filter((entry) => entry.trim() !== '')
    .map((entry) => {
      const [id, name] = entry.trim().split(':');
      if (!id || !name) throw new Error(`SLACK_STAND_IN_CHANNELS entries must be ID:name, got "${entry}"`);
      return { id, name };
    });
}

/** Channels as SLACK_STAND_IN_CHANNELS, for a stand-in started as a process. */
export function formatStandInChannels(channels: readonly SlackChannelConfig[]): string {
  return channels.map((c) => `${c.id}:${c.name}`).join(',');
}
