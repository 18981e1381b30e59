import { deriveId, makeEnvelope, newId, type AnyEnvelope } from '@alertbus/schemas';

/** A valid PostSlackMessage root command of `alias` (its incident derived from the alias), with `text`. */
export function slackRootCommand(alias: string, text: string): AnyEnvelope {
  const at = new Date().toISOString();
  const id = newId();
  return makeEnvelope({
    id,
    type: 'PostSlackMessage',
    alias,
    occurredAt: at,
    recordedAt: at,
    source: 'router',
    causationId: id,
    correlationId: id,
    data: { incidentId: deriveId('incident', alias, 1), rule: { path: 'default', rulesVersion: 'test' }, channel: '#alerts', purpose: 'root', text },
  } as never) as AnyEnvelope;
}
