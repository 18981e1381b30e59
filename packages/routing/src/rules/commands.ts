/** The rules file's `commands:` and `permissions:`, compiled: patterns checked and built once, templates checked against them. */
import { RE2JS } from 're2js';
import { DURATION_PATTERN, parseDuration, PATTERN_LIMITS, sizeProblem, type RulesCommands, type RulesPermissions } from '@alertbus/schemas';
import type { CommandPattern, CompiledCommandHandler, CompiledCommands, CompiledPermissions, Role } from './types';

/** A webhook gets this long when the entry names no timeout; a person waits in the thread meanwhile. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;
export const MAX_WEBHOOK_TIMEOUT_MS = 30_000;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** What a reply template may name besides the pattern's groups. */
const BUILTIN_PLACEHOLDERS: ReadonlySet<string> = new Set(['user']);

export type PatternResult = { ok: true; pattern: CommandPattern; groups: readonly string[] } | { ok: false; error: string };

/**
 * A handler's regex: RE2 (linear time, whatever the sender types), anchored to the whole text, case-insensitive,
 * its named groups known so the reply template can be checked at compile time.
 */
export function compileCommandPattern(source: string): PatternResult {
  const length = Array.from(source).length;
  if (length > PATTERN_LIMITS.maxLength) return { ok: false, error: `the regex is ${length} characters long; at most ${PATTERN_LIMITS.maxLength} are allowed` };
  // Bounded like every other user regex: re2js would compile `\pL{1000}` written out to 1000 characters for seconds.
  const problem = sizeProblem(source);
  if (problem) return { ok: false, error: problem };
  let re: RE2JS;
  try {
    RE2JS.compile(source); // on its own first, so `a)|(b` cannot escape the anchors
    re = RE2JS.compile(`^(?:${source})$`, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    return { ok: false, error: `bad regex: ${(err as Error).message} (patterns use RE2 syntax: no lookaround, no backreferences)` };
  }
  const groups = Object.keys(re.namedGroups());
  const exec = (text: string): Readonly<Record<string, string>> | null => {
    // re2js answers in the shape of RegExp#exec, named groups included.
    const m = re.exec(text) as RegExpExecArray | null;
    if (!m) return null;
    const out: Record<string, string> = {};
    for (const g of groups) out[g] = m.groups?.[g] ?? '';
    return out;
  };
  return { ok: true, pattern: Object.freeze({ source, exec }), groups };
}

/** Names a placeholder of a reply template that neither the pattern nor the built-ins fill. */
export function replyPlaceholderProblem(reply: string, groups: readonly string[]): string | null {
  for (const m of reply.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (!groups.includes(name) && !BUILTIN_PLACEHOLDERS.has(name)) {
      const known = [...groups.map((g) => `{{${g}}}`), '{{user}}'].join(', ');
      return `unknown placeholder {{${name}}}: the pattern has no group (?P<${name}>…) (known: ${known})`;
    }
  }
  return null;
}

type Problem = { segments: Array<string | number>; message: string };

/** Problems the schema cannot see in `commands:`: bad regexes, unknown placeholders, not exactly one action, timeouts. */
export function commandProblems(value: unknown): Problem[] {
  const problems: Problem[] = [];
  if (typeof value !== 'object' || value === null) return problems;
  const handlers = (value as { handlers?: unknown }).handlers;
  if (!Array.isArray(handlers)) return problems;
  handlers.forEach((h: unknown, i) => {
    if (typeof h !== 'object' || h === null) return;
    const e = h as Record<string, unknown>;
    const at = (message: string, ...rest: string[]) => problems.push({ segments: ['commands', 'handlers', i, ...rest], message });
    const actions = ['reply', 'webhook', 'command'].filter((k) => e[k] !== undefined);
    if (actions.length !== 1) at(`needs exactly one of reply, webhook, command (has ${actions.length ? actions.join(', ') : 'none'})`);
    if (typeof e.pattern !== 'string') return;
    const p = compileCommandPattern(e.pattern);
    if (!p.ok) {
      at(p.error, 'pattern');
      return;
    }
    if (typeof e.reply === 'string') {
      const problem = replyPlaceholderProblem(e.reply, p.groups);
      if (problem) at(problem, 'reply');
    }
    const webhook = e.webhook as { timeout?: unknown } | undefined;
    if (webhook && typeof webhook.timeout === 'string') {
      const ms = parseDuration(webhook.timeout);
      const tooLong = ms === null && new RegExp(DURATION_PATTERN).test(webhook.timeout);
      if (tooLong || (ms !== null && (ms <= 0 || ms > MAX_WEBHOOK_TIMEOUT_MS))) at(`must be more than 0 and at most ${MAX_WEBHOOK_TIMEOUT_MS / 1000}s`, 'webhook', 'timeout');
    }
  });
  return problems;
}

/** Problems the schema cannot see in `permissions:`: user keys that are not Slack user ids (a name would never match). */
export function permissionProblems(value: unknown): Problem[] {
  const users = (value as { users?: unknown } | null)?.users;
  if (typeof users !== 'object' || users === null) return [];
  return Object.keys(users)
    .filter((id) => !/^[UW][A-Z0-9]{2,}$/.test(id))
    .map((id) => ({ segments: ['permissions', 'users', id], message: 'is not a Slack user id (U… or W…: in the person\'s profile, "Copy member ID")' }));
}

/** `commands:` of a file the checks above passed. */
export function compileCommands(c: RulesCommands | undefined): CompiledCommands {
  const handlers: CompiledCommandHandler[] = [];
  (c?.handlers ?? []).forEach((h, i) => {
    const p = compileCommandPattern(h.pattern);
    if (!p.ok) return;
    const action = h.reply !== undefined
      ? { kind: 'reply' as const, template: h.reply }
      : h.webhook !== undefined
        ? { kind: 'webhook' as const, url: h.webhook.url, timeoutMs: (h.webhook.timeout ? parseDuration(h.webhook.timeout) : null) ?? DEFAULT_WEBHOOK_TIMEOUT_MS }
        : { kind: 'command' as const, name: h.command!.name };
    handlers.push({
      path: `commands.handlers[${i}]`,
      ...(h.name !== undefined ? { name: h.name } : {}),
      ...(h.description !== undefined ? { description: h.description } : {}),
      pattern: p.pattern,
      action,
      ...(h.role !== undefined ? { role: h.role } : {}),
    });
  });
  return { default: c?.default ?? 'oncall', handlers };
}

/** `permissions:`; absent stays absent (open). Group handles lose their @ and case, as the check compares them. */
export function compilePermissions(p: RulesPermissions | undefined): CompiledPermissions | undefined {
  if (!p) return undefined;
  const groups: Record<string, Role> = {};
  for (const [handle, role] of Object.entries(p.groups ?? {})) groups[handle.trim().replace(/^@/, '').toLowerCase()] = role;
  return { default: p.default ?? 'viewer', users: { ...(p.users ?? {}) }, groups };
}
