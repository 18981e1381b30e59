/** What suppressed an input, in words, for `alertbus suppressed`: the silence, the inhibiting incident, the storm or the rule. */

interface Suppression {
  reason: string;
  incident_id: string | null;
  rule: { name?: string; path: string } | null;
  suppressed_by: unknown;
  /** What the history holds of a storm (an API before it gave none). */
  storm_summary?: { alias: string | null; slack_channel: string | null; slack_ts: string | null; pager_alert_id: string | null } | null;
}

/**
 * A storm in words: where its summary message is (the summary's incident id leads nowhere a reader can open) and the
 * page it shares, else its alias (`GET /api/timeline?alias=`) while Slack has not taken the summary.
 */
function stormText(by: Record<string, any>, summary: Suppression['storm_summary']): string {
  const message = summary?.slack_ts ? `: summary message ${summary.slack_channel ?? by.channel} ${summary.slack_ts}` : summary?.alias ? ` (${summary.alias})` : '';
  const paged = by.pageGrouped ? `, paged with the storm${summary?.pager_alert_id ? ` (${summary.pager_alert_id})` : ''}` : '';
  return `storm in ${by.channel}${message}${paged}`;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function suppressedByText(s: Suppression): string {
  const by = (s.suppressed_by ?? {}) as Record<string, any>;
  const own = s.incident_id ? `, incident ${s.incident_id}` : '';
  switch (by.kind) {
    case 'silence': {
      const what = by.silenceKind === 'maintenance' ? 'maintenance window' : 'silence';
      const who = by.createdBy ? ` by ${by.createdBy}` : '';
      const why = typeof by.comment === 'string' && by.comment !== '' ? ` ("${clip(by.comment, 40)}")` : '';
      return `${what} ${by.silenceId}${who}${why}${own}`;
    }
    case 'inhibition': {
      const source = by.source ? ` (${by.source.reason}${by.source.silenceId ? ` by silence ${by.source.silenceId}` : ''}${by.source.dropRule ? ` by rule "${by.source.dropRule}"` : ''})` : '';
      const inhibitor = by.incidentId ? `by incident ${by.incidentId} (${by.alias})` : `by ${by.alias}${source}`;
      return `${inhibitor}, inhibit rule "${by.inhibitRule}"${own}`;
    }
    case 'storm':
      return `${stormText(by, s.storm_summary)}${own}`;
  }
  if (s.reason === 'dropped-by-rule' && s.rule) return `rule "${s.rule.name ?? s.rule.path}"${own}`;
  return own.slice(2);
}
