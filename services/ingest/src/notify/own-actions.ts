import { OWN_ACTION_ID_PREFIX } from '@alertbus/routing';

/**
 * Why a message built by its sender (POST /notify-directly) may not be posted because it carries a button, menu or
 * other interactive element with one of alertbus's own action_ids, at any depth of its blocks or attachments: a click
 * on it would come back as alertbus's Acknowledge or Resolve, keyed by whatever incident its value names, and act on
 * that incident in the clicker's name. Null when it carries none.
 */
export function ownActionProblem(name: 'blocks' | 'attachments', list: readonly unknown[] | undefined): string | null {
  const found = list === undefined ? undefined : ownActionIn(list, name);
  if (found === undefined) return null;
  return (
    `${found.path}.action_id "${found.actionId}" is reserved: action_ids starting with "${OWN_ACTION_ID_PREFIX}" are alertbus's own buttons ` +
    '(Acknowledge, Resolve), and a click on this one would act on an incident in the name of whoever clicked; give it another action_id'
  );
}

function ownActionIn(value: unknown, path: string): { path: string; actionId: string } | undefined {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = ownActionIn(v, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.action_id === 'string' && o.action_id.startsWith(OWN_ACTION_ID_PREFIX)) return { path, actionId: o.action_id };
  for (const [k, v] of Object.entries(o)) {
    const found = ownActionIn(v, `${path}.${k}`);
    if (found) return found;
  }
  return undefined;
}
