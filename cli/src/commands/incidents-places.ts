/** Where an incident went, in words, for `alertbus incidents show`: its Slack place and its page, a storm member's included. */

interface Places {
  slack_channel: string | null;
  slack_target_channel: string | null;
  slack_root_ts: string | null;
  pager_alert_id: string | null;
  pager_priority: string | null;
  storm_incident_id?: string | null;
  storm_slack_ts?: string | null;
  storm_pager_alert_id?: string | null;
}

/** A storm member has no thread or page of its own: Slack showed it in the storm's summary, the pager in the storm's page. */
export function placesLine(i: Places): string {
  const channel = i.slack_target_channel ?? i.slack_channel ?? '-';
  const slack = i.slack_root_ts
    ? `${i.slack_channel} thread ${i.slack_root_ts}`
    : i.storm_incident_id
      ? `${channel} (in the storm summary ${i.storm_slack_ts ?? `${i.storm_incident_id}, not posted yet`})`
      : (i.slack_target_channel ?? '-');
  const pager = i.storm_pager_alert_id ? `pager: the storm's page ${i.storm_pager_alert_id}` : `pager ${i.pager_alert_id ?? '-'} ${i.pager_priority ?? ''}`;
  return `  slack ${slack}, ${pager}`;
}
