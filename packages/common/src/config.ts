import { parseDuration } from '@alertbus/schemas';

/** A configuration value that stops the process at boot with a message naming the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** pino's levels, as LOG_LEVEL may name them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A log level as LOG_LEVEL gives it, or a ConfigError naming the variable (pino's own error names neither). */
export function checkLogLevel(level: string, name = 'LOG_LEVEL'): string {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  return level;
}

/** LOG_LEVEL, checked (default info). */
export function envLogLevel(env: Env): string {
  return checkLogLevel(env.LOG_LEVEL === undefined || env.LOG_LEVEL.trim() === '' ? 'info' : env.LOG_LEVEL.trim());
}

export function envString(env: Env, name: string, fallback?: string): string {
  const v = env[name];
  if (v === undefined || v === '') {
    if (fallback === undefined) throw new ConfigError(`${name} is required`);
    return fallback;
  }
  return v;
}

export function envOptional(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * A key, token or secret: the whitespace around it is dropped (a Kubernetes secret made from a file ends in a
 * newline, and a header carrying it is refused by Node before anything is sent: every call failed, with no answer
 * to classify); one with whitespace or control characters inside is refused, without quoting it.
 */
export function envSecret(env: Env, name: string): string | undefined {
  const v = envOptional(env, name)?.trim();
  if (v === undefined || v === '') return undefined;
  if (/[\s\u0000-\u001f\u007f]/.test(v)) {
    throw new ConfigError(`${name} holds whitespace or a control character inside it: a key or token has none (value not shown)`);
  }
  return v;
}

/** SLACK_COMMAND's default: the command the app's manifest declares. */
export const DEFAULT_SLACK_COMMAND = '/alertbus';

/**
 * SLACK_COMMAND: `/` and a name Slack allows (lower case, no spaces, at most 32 characters). Ingest answers it; the
 * router names it in the texts that tell people what to type.
 */
export function envSlashCommand(env: Env): string {
  const command = envOptional(env, 'SLACK_COMMAND') ?? DEFAULT_SLACK_COMMAND;
  if (!/^\/[a-z0-9_\-]{1,31}$/.test(command)) throw new ConfigError(`SLACK_COMMAND must be a slash command such as /alertbus, not ${JSON.stringify(command)}`);
  return command;
}

export function envInt(env: Env, name: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // Digits only: Number() would also take 0x1F90, 1e4 and 0b101, which nobody means in a port or a timeout.
  const n = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  if (opts.min !== undefined && n < opts.min) throw new ConfigError(`${name} must be ≥ ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new ConfigError(`${name} must be ≤ ${opts.max}, got ${n}`);
  return n;
}

/** A duration in Alertmanager's units (`500ms`, `90s`, `24h`, `7d`), as milliseconds. */
export function envDuration(env: Env, name: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const ms = parseDuration(raw.trim());
  if (ms === null) throw new ConfigError(`${name} must be a duration such as 90s, 30m, 24h or 7d, got "${raw}"`);
  if (opts.min !== undefined && ms < opts.min) throw new ConfigError(`${name} must be at least ${opts.min} ms, got "${raw}"`);
  if (opts.max !== undefined && ms > opts.max) throw new ConfigError(`${name} must be at most ${opts.max} ms, got "${raw}"`);
  return ms;
}

/**
 * A URL as an error may quote it: a user and password (`//admin:s3cret@host`) and the query (`?key=…`) are left out,
 * whether or not the text parses as a URL.
 */
export function quotableUrl(text: string): string {
  return text.replace(/\/\/[^/?#\s]*@/, '//[redacted]@').replace(/\?.*$/s, '?[redacted]');
}

/**
 * A webhook URL as it may be logged or shown to anyone but an admin: no query string, no credentials, and no path
 * segment that looks like a key (16 or more letters, digits, `_` or `-`, with both letters and digits), since webhook
 * URLs often carry their secret in the path (`/services/T000/B000/XXXXXXXX`, `/hooks/catch/123/<token>/`).
 */
export function webhookUrlShown(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname
      .split('/')
      .map((seg) => (/^[A-Za-z0-9_-]{16,}$/.test(seg) && /[0-9]/.test(seg) && /[A-Za-z]/.test(seg) ? '[redacted]' : seg))
      .join('/');
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return '(invalid url)';
  }
}

/** An http(s) URL, or a ConfigError naming the variable (quoting the value without its credentials). */
export function checkHttpUrl(name: string, v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${quotableUrl(v)}"`);
  }
  return v;
}

export function envUrl(env: Env, name: string, fallback: string): string {
  return checkHttpUrl(name, envString(env, name, fallback));
}

/** Parses sizes such as 1048576, 512kb, 1mb, 1MiB. */
export function envBytes(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const m = /^\s*(\d+)\s*(b|kb|kib|mb|mib)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(`${name} must be a size like 1048576, 512kb or 1mb, got "${raw}"`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  const bytes = Number(m[1]) * mult;
  // Sizes bound what one request may cost in memory: past a gibibyte (or past what a number counts) is no bound.
  if (!(bytes <= MAX_CONFIG_BYTES)) throw new ConfigError(`${name} must be at most 1024mb (${MAX_CONFIG_BYTES} bytes), got "${raw}"`);
  return bytes;
}

/** The largest size a *_BYTES or *_LIMIT variable takes. */
export const MAX_CONFIG_BYTES = 1024 * 1024 * 1024;

/**
 * KAFKA_TOPIC_PREFIX as Kafka can name topics with it (letters, digits, `.`, `_`, `-`; a topic name is at most 249
 * characters, and the longest alertbus adds is under 30): `alertbus prod.` made every topic name invalid, and the
 * services stopped on a KafkaJS error about one topic. Checked with the brokers, which every service and command reads.
 */
export function checkTopicPrefix(env: Env): void {
  const prefix = env.KAFKA_TOPIC_PREFIX ?? '';
  if (prefix.length > 200 || !/^[A-Za-z0-9._-]*$/.test(prefix)) {
    throw new ConfigError(`KAFKA_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-" (at most 200), got "${prefix.slice(0, 200)}"`);
  }
}

export function envBrokers(env: Env): string[] {
  checkTopicPrefix(env);
  const raw = envString(env, 'KAFKA_BROKERS');
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of list) {
    if (!/^[^\s:]+:\d+$/.test(b)) throw new ConfigError(`KAFKA_BROKERS entries must be host:port, got "${b}"`);
  }
  if (list.length === 0) throw new ConfigError('KAFKA_BROKERS is empty');
  return list;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/alertbus';

/**
 * DATABASE_URL: a postgres:// (or postgresql://) URL naming a database. Refused naming the variable, its password not
 * shown: pg's own error for a URL it cannot parse (a port over 65535, a stray character) was "Invalid URL", no more.
 */
export function envDatabaseUrl(env: Env): string {
  const url = envString(env, 'DATABASE_URL', DEFAULT_DATABASE_URL);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^postgres(?:ql)?:$/.test(parsed.protocol) || parsed.pathname.replace(/^\//, '') === '') {
    throw new ConfigError(`DATABASE_URL must be a postgres:// URL naming a database, as ${DEFAULT_DATABASE_URL}; got ${quotableUrl(url)}`);
  }
  return url;
}
