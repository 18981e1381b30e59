import type { PagerPriority } from '@alertbus/schemas';
import { matches } from './matcher';
import type { CompiledRule, CompiledRules, PagerSettings, RoutableAlert, Route } from './types';

/** Priority by severity when neither the rule nor the defaults say otherwise. */
export function builtinPriority(severity: string): PagerPriority {
  switch (severity.trim().toLowerCase()) {
    case 'critical':
    case 'page':
      return 'P1';
    case 'error':
    case 'high':
      return 'P2';
    case 'warning':
      return 'P3';
    case 'info':
      return 'P5';
    default:
      return 'P3';
  }
}

/** Labels plus the pseudo-labels source, severity and status (which win over labels of the same name). */
export function matchLabels(alert: RoutableAlert): Record<string, string> {
  return { ...alert.labels, source: alert.source, severity: alert.severity, status: alert.status };
}

/** Rules that match, in order: the first one, and the ones after it while `continue: true` says go on. */
export function matchingRules(rules: CompiledRules, alert: RoutableAlert): CompiledRule[] {
  const labels = matchLabels(alert);
  const chain: CompiledRule[] = [];
  for (const rule of rules.rules) {
    if (!rule.matchers.every((m) => matches(m, labels))) continue;
    chain.push(rule);
    if (!rule.continue) break;
  }
  return chain;
}

/** The rule's own priority or severity map first, then the defaults', then the built-in map. */
function priorityFor(rule: Partial<PagerSettings> | undefined, defaults: PagerSettings, severity: string): PagerPriority {
  const sev = severity.trim().toLowerCase();
  return (
    rule?.priority ??
    rule?.priorityBySeverity?.[sev] ??
    defaults.priority ??
    defaults.priorityBySeverity[sev] ??
    builtinPriority(severity)
  );
}

/**
 * Where an alert goes. Ordered rules, first match wins; with `continue: true` later matches join the
 * chain, and each setting (Slack, pager, repeat interval) comes from the first rule of the chain that
 * sets it, else from the defaults. A drop anywhere in the chain drops the alert. No match: the defaults.
 */
export function route(rules: CompiledRules, alert: RoutableAlert): Route {
  const chain = matchingRules(rules, alert);
  const d = rules.defaults;
  const dropper = chain.find((r) => r.drop);
  const ref = (rs: readonly CompiledRule[]) => {
    const names = rs.map((r) => r.name).filter((n): n is string => n !== undefined);
    return {
      path: rs.map((r) => r.path).join(','),
      ...(names.length > 0 ? { name: names.join(',') } : {}),
      rulesVersion: rules.version,
    };
  };
  if (dropper) return { rule: ref([dropper]), drop: true, repeatIntervalMs: d.repeatIntervalMs };
  const rule = chain.length === 0 ? { path: 'defaults', rulesVersion: rules.version } : ref(chain);

  const slackFrom = chain.find((r) => r.slack !== undefined)?.slack;
  const slack = { ...d.slack, ...slackFrom };
  const pagerFrom = chain.find((r) => r.pager !== undefined)?.pager;
  const pager: PagerSettings = { ...d.pager, ...pagerFrom };
  const repeatIntervalMs = chain.find((r) => r.repeatIntervalMs !== undefined)?.repeatIntervalMs ?? d.repeatIntervalMs;
  return {
    rule,
    drop: false,
    ...(slack.enabled && slack.channel ? { slackChannel: slack.channel } : {}),
    ...(pager.enabled
      ? {
          pager: {
            priority: priorityFor(pagerFrom, d.pager, alert.severity),
            tags: pager.tags,
            responders: pager.responders,
            noteOnRepeat: pager.noteOnRepeat,
          },
        }
      : {}),
    repeatIntervalMs,
  };
}
