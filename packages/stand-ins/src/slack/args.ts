/** Reading Web API arguments the way Slack does: form fields are strings, objects arrive JSON-encoded. */

export type Args = Record<string, unknown>;

/** An `ok:false` answer (HTTP 200), as the real Web API gives for every non-HTTP error. */
export class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
    this.name = 'SlackApiError';
  }
}

export function str(args: Args, name: string): string | undefined {
  const v = args[name];
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : String(v);
}

export function required(args: Args, name: string, error = 'invalid_arguments'): string {
  const v = str(args, name);
  if (v === undefined) throw new SlackApiError(error, { response_metadata: { messages: [`[ERROR] missing required field: ${name}`] } });
  return v;
}

export function bool(args: Args, name: string): boolean {
  const v = args[name];
  return v === true || v === 'true' || v === '1' || v === 1;
}

export function int(args: Args, name: string, fallback: number, max: number): number {
  const v = str(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new SlackApiError('invalid_limit');
  return n === 0 ? fallback : Math.min(n, max);
}

/** A JSON argument: already parsed (JSON body) or a JSON string (form body); `error` when it is not JSON. */
export function json(args: Args, name: string, error: string): unknown {
  const v = args[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new SlackApiError(error);
  }
}

export function blocksArg(args: Args): unknown[] | undefined {
  const blocks = json(args, 'blocks', 'invalid_blocks');
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) throw new SlackApiError('invalid_blocks');
  for (const b of blocks) {
    if (typeof b !== 'object' || b === null || typeof (b as { type?: unknown }).type !== 'string') {
      throw new SlackApiError('invalid_blocks', {
        response_metadata: { messages: ['[ERROR] every block needs a string "type"'] },
      });
    }
  }
  return blocks;
}

/** Legacy attachments: a non-empty array of objects (each may carry a colour, text, fields, blocks…). */
export function attachmentsArg(args: Args): unknown[] | undefined {
  const attachments = json(args, 'attachments', 'invalid_attachments');
  if (attachments === undefined) return undefined;
  if (!Array.isArray(attachments) || attachments.some((a) => typeof a !== 'object' || a === null || Array.isArray(a))) {
    throw new SlackApiError('invalid_attachments');
  }
  return attachments.length > 0 ? attachments : undefined;
}

export function metadataArg(args: Args): { event_type: string; event_payload: Record<string, unknown> } | undefined {
  const meta = json(args, 'metadata', 'invalid_metadata_format');
  if (meta === undefined) return undefined;
  const m = meta as { event_type?: unknown; event_payload?: unknown };
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.event_type !== 'string' ||
    typeof m.event_payload !== 'object' ||
    m.event_payload === null ||
    Array.isArray(m.event_payload)
  ) {
    throw new SlackApiError('invalid_metadata_schema');
  }
  return { event_type: m.event_type, event_payload: m.event_payload as Record<string, unknown> };
}

/** Opaque pagination cursors, base64 like Slack's (`dGVhbTpDMDYx...`). */
export function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

export function decodeCursor(cursor: string | undefined, prefix: string): string | undefined {
  if (cursor === undefined) return undefined;
  const raw = Buffer.from(cursor, 'base64').toString('utf8');
  if (!raw.startsWith(`${prefix}:`)) throw new SlackApiError('invalid_cursor');
  return raw.slice(prefix.length + 1);
}
