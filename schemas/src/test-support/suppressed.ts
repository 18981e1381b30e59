/** A valid EventSuppressed envelope, as the router writes one: what the schema tests start from. */
export const suppressed = {
  id: 'e1',
  type: 'EventSuppressed',
  version: 1,
  alias: 'alertmanager:a',
  occurredAt: '2026-12-01T00:00:00.000Z',
  recordedAt: '2026-12-01T00:00:00.000Z',
  source: 'router',
  causationId: 'i1',
  correlationId: 'i1',
  data: { inputId: 'i1', inputType: 'AlertReceived', reason: 'silenced', rule: { path: 'default', rulesVersion: 'v' } },
};
