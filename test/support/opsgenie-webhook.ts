/**
 * The body Opsgenie's Webhook integration posts for an action on an alert, as its docs show it
 * (https://docs.opsgenie.com/docs/marid-alert-action-data), for the ingest and end-to-end tests of the way back
 * from the pager.
 */

/** The pager alert the action was taken on (as the Opsgenie stand-in keeps one). */
export interface PagerAlertRef {
  id: string;
  alias: string;
  tinyId: string;
  createdAt: string;
}

/** The docs' sample body of `action`, taken by `username` on `alert`. */
export function docsActionBody<A extends string>(action: A, alert: PagerAlertRef, username: string) {
  return {
    source: { name: '', type: 'web' },
    alert: {
      updatedAt: 1420452224764002246,
      tags: ['tag1', 'tag2'],
      message: 'test alert',
      username,
      alertId: alert.id,
      source: 'fili@ifountain.com',
      alias: alert.alias,
      tinyId: alert.tinyId,
      createdAt: Date.parse(alert.createdAt),
      userId: 'daed1180-0ce8-438b-8f8e-57e1a5920a2d',
      entity: '',
    },
    action,
    integrationId: '37c8f316-17c6-49d7-899b-9c7e540c048d',
    integrationName: 'alertbus',
  };
}
