/** Pager commands → API request bodies (pure), shared by execution and dry-run. */
import type { AnyEnvelope, CreatePagerAlert, PagerCommandType } from '@alertbus/schemas';
import type { PagerProvider } from './pager-client';
import type { ActionBody, CreateAlertBody } from './wire';

/** Who the pager shows as the actor when a command names nobody. */
export const PAGER_USER = 'alertbus';
export const PAGER_SOURCE = 'alertbus';
const MESSAGE_MAX_CHARS = 130;

/** Opsgenie limits the message to 130 characters (not UTF-16 units); cut by code points, as Alertmanager does. */
export function truncateChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

export function createBody(alias: string, cmd: CreatePagerAlert): CreateAlertBody {
  return {
    message: truncateChars(cmd.message, MESSAGE_MAX_CHARS),
    alias,
    ...(cmd.description !== undefined ? { description: cmd.description } : {}),
    responders: cmd.responders,
    tags: cmd.tags,
    details: cmd.details,
    ...(cmd.entity !== undefined ? { entity: cmd.entity } : {}),
    source: cmd.source,
    priority: cmd.priority,
  };
}

export function actionBody(cmd: { note?: string; user?: string }): ActionBody {
  return { user: cmd.user ?? PAGER_USER, source: PAGER_SOURCE, ...(cmd.note !== undefined ? { note: cmd.note } : {}) };
}

const ACTION_PATH: Record<Exclude<PagerCommandType, 'CreatePagerAlert' | 'UpdatePagerPriority'>, string> = {
  ClosePagerAlert: 'close',
  AcknowledgePagerAlert: 'acknowledge',
  AddPagerNote: 'notes',
};

/** The request a command turns into, as `METHOD path` plus body: what dry-run records and what is sent. */
export function describeRequest(provider: PagerProvider, command: AnyEnvelope): { method: string; body: unknown } {
  const prefix = provider === 'jsm' ? '/jsm/ops/integration' : '';
  if (command.type === 'CreatePagerAlert') {
    return { method: `POST ${prefix}/v2/alerts`, body: createBody(command.alias, command.data) };
  }
  if (command.type === 'UpdatePagerPriority') {
    // JSM's integration API has no such call: nothing would be sent.
    if (provider === 'jsm') return { method: 'NONE (the JSM integration API cannot change a priority)', body: { priority: command.data.priority } };
    return { method: `PUT /v2/alerts/${encodeURIComponent(command.alias)}/priority?identifierType=alias`, body: { priority: command.data.priority } };
  }
  const type = command.type as Exclude<PagerCommandType, 'CreatePagerAlert' | 'UpdatePagerPriority'>;
  const path = `${prefix}/v2/alerts/${encodeURIComponent(command.alias)}/${ACTION_PATH[type]}?identifierType=alias`;
  return { method: `POST ${path}`, body: actionBody(command.data as { note?: string; user?: string }) };
}
