/** Field checks of the Opsgenie create/action bodies, answering like the real API: `errors{field: reason}` for a 422. */

export type FieldErrors = Record<string, string>;

const PRIORITIES = new Set(['P1', 'P2', 'P3', 'P4', 'P5']);
const RESPONDER_TYPES = new Set(['team', 'user', 'escalation', 'schedule']);

/** Opsgenie counts characters, not UTF-16 units. */
const len = (s: string) => [...s].length;

function checkString(errors: FieldErrors, body: Record<string, unknown>, field: string, max: number, required = false): void {
  const v = body[field];
  if (v === undefined || v === null) {
    if (required) errors[field] = `${field} is required`;
    return;
  }
  if (typeof v !== 'string') errors[field] = `${field} must be a string`;
  else if (required && v.trim() === '') errors[field] = `${field} can not be empty`;
  else if (len(v) > max) errors[field] = `${field} can not be longer than ${max} characters`;
}

export function validateCreate(body: unknown): FieldErrors {
  const errors: FieldErrors = {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { body: 'body must be a JSON object' };
  const b = body as Record<string, unknown>;
  checkString(errors, b, 'message', 130, true);
  checkString(errors, b, 'alias', 512);
  checkString(errors, b, 'description', 15000);
  checkString(errors, b, 'entity', 512);
  checkString(errors, b, 'source', 100);
  checkString(errors, b, 'user', 100);
  checkString(errors, b, 'note', 25000);
  if (b.priority !== undefined && !PRIORITIES.has(b.priority as string)) {
    errors.priority = `Invalid priority '${String(b.priority)}', must be one of P1, P2, P3, P4, P5`;
  }
  if (b.tags !== undefined) {
    if (!Array.isArray(b.tags)) errors.tags = 'tags must be a list';
    else if (b.tags.length > 20) errors.tags = 'tags can not have more than 20 items';
    else {
      const bad = b.tags.find((t) => typeof t !== 'string' || len(t) > 50);
      if (bad !== undefined) errors.tags = `Invalid tag '${String(bad)}': tags can not be longer than 50 characters`;
    }
  }
  if (b.actions !== undefined) {
    if (!Array.isArray(b.actions)) errors.actions = 'actions must be a list';
    else if (b.actions.length > 10) errors.actions = 'actions can not have more than 10 items';
  }
  if (b.details !== undefined) {
    const d = b.details;
    if (d === null || typeof d !== 'object' || Array.isArray(d)) errors.details = 'details must be a map';
    else if (Object.values(d).some((v) => typeof v !== 'string')) errors.details = 'details values must be strings';
    else if (len(JSON.stringify(d)) > 8000) errors.details = 'details can not be longer than 8000 characters';
  }
  for (const field of ['responders', 'visibleTo'] as const) {
    const list = b[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      errors[field] = `${field} must be a list`;
      continue;
    }
    for (const r of list as Array<Record<string, unknown>>) {
      if (r === null || typeof r !== 'object' || !RESPONDER_TYPES.has(r.type as string)) {
        errors[`${field}#type`] = `Invalid recipient type '${String(r?.type)}'`;
        break;
      }
      if (r.id === undefined && r.name === undefined && r.username === undefined) {
        errors[field] = `${field} items need one of id, name or username`;
        break;
      }
    }
  }
  return errors;
}

/** Close, acknowledge and unacknowledge take an optional body; add-note requires `note`. */
export function validateAction(body: unknown, action: 'close' | 'acknowledge' | 'unacknowledge' | 'notes'): FieldErrors {
  const errors: FieldErrors = {};
  if (body === undefined || body === null) {
    return action === 'notes' ? { note: 'note is required' } : errors;
  }
  if (typeof body !== 'object' || Array.isArray(body)) return { body: 'body must be a JSON object' };
  const b = body as Record<string, unknown>;
  checkString(errors, b, 'note', 25000, action === 'notes');
  checkString(errors, b, 'user', 100);
  checkString(errors, b, 'source', 100);
  return errors;
}

/** Update-priority requires `priority`, one of P1–P5. */
export function validatePriority(body: unknown): FieldErrors {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { body: 'body must be a JSON object' };
  const p = (body as Record<string, unknown>).priority;
  if (p === undefined || p === null) return { priority: 'priority is required' };
  return PRIORITIES.has(p as string) ? {} : { priority: `Invalid priority '${String(p)}', must be one of P1, P2, P3, P4, P5` };
}
