/**
 * Silences: created and expired by writing events to silences.v1 (the router applies them, this service
 * projects them); listed from the projection, with each one's state computed for the instant asked about.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { ProduceRefused, type EventProducer } from '@alertbus/kafka';
import { formatDuration, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { silenceCreatedEvent, silenceExpiredEvent } from '../silences/events';
import { bodyDigest, findRequest, forgetRequest, idempotencyKeyOf, recordRequest, type SilenceRequestRecord } from '../silences/idempotency';
import { getSilence, listSilences } from '../silences/queries';
import { BadCursorError } from './queries';
import { silenceState, type SilenceRow } from '@alertbus/projection';
import { ErrorBody, ExpireQuery, IdParams, Silence, SilenceBody, SilenceHeaders, SilenceList, SilenceListQuery } from './schemas';
import { silenceJson } from './serialize';

export interface SilenceDeps {
  pool: Pool;
  /** Absent: the routes that write answer 503. */
  producer?: EventProducer;
  now: () => Date;
  /** SILENCE_MAX_DURATION. */
  maxDurationMs: number;
  newId?: () => string;
  /**
   * How long an expiry waits for the projection (default 3 s): for a silence it has not shown yet (one created a
   * moment ago is on silences.v1 before it is in Postgres, and "no silence with id" would send its author away while
   * it mutes), and for the expiry itself, to tell whether it was the first.
   */
  projectionWaitMs?: number;
  /** HISTORY_KAFKA_TIMEOUT_MS (default 10 s). */
  kafkaTimeoutMs?: number;
}

const PROJECTION_POLL_MS = 100;

/** How long a silence's write waits for Kafka before the request is answered 503 (HISTORY_KAFKA_TIMEOUT_MS). */
export const DEFAULT_KAFKA_WRITE_TIMEOUT_MS = 10_000;

/** `mayBeWritten`: Kafka took the events and did not answer in time, so they may still land. */
type Written = { ok: true } | { ok: false; status: 503; body: { error: string; message: string }; mayBeWritten: boolean };

/**
 * The write of a silence or its expiry, within a deadline: a hung broker held the request for as long as the client
 * waited (five minutes), and the silence was written later anyway. Refused before Kafka had it, nothing is written;
 * handed over and unanswered, it may still be, and the answer says to look before trying again.
 */
async function writeWithin(producer: EventProducer, events: AnyEnvelope[], timeoutMs: number, what: string): Promise<Written> {
  let timer: NodeJS.Timeout | undefined;
  const sent = producer.send(events, { queueTimeoutMs: timeoutMs });
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  try {
    const first = await Promise.race([sent.then(() => 'sent' as const), deadline]);
    if (first === 'sent') return { ok: true };
    sent.catch(() => undefined); // answered already: a late failure has no one to tell
    return {
      ok: false,
      status: 503,
      mayBeWritten: true,
      body: {
        error: 'unavailable',
        message: `Kafka did not acknowledge the ${what} within ${timeoutMs} ms (HISTORY_KAFKA_TIMEOUT_MS); it may still be written when Kafka answers: look (alertbus silence list) before trying again`,
      },
    };
  } catch (err) {
    if (err instanceof ProduceRefused) {
      return {
        ok: false,
        status: 503,
        mayBeWritten: false,
        body: { error: 'unavailable', message: `Kafka did not take the ${what}: ${err.message}; nothing was written, try again` },
      };
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const noProducer = { error: 'unavailable', message: 'this history instance cannot write to Kafka' };

/**
 * Who writes is the token's holder: a body or query that names an author is refused rather than ignored, so a
 * caller never believes it recorded a name it did not.
 */
function refuseAuthorField(part: 'body' | 'query', field: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const value: unknown = req[part];
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, field)) {
      return reply.code(400).send({
        error: 'bad_request',
        message:
          `${part === 'body' ? 'body field' : 'query parameter'} "${field}" is not accepted: ` +
          `the author is the name of the token that makes the request${req.principal ? ` ("${req.principal.name}")` : ''}`,
      });
    }
  };
}

/** Polls the projection until `done` holds of the silence's row or the wait is over; the last row read either way. */
async function waitForRow(pool: Pool, id: string, now: Date, waitMs: number, done: (row: SilenceRow | null) => boolean): Promise<SilenceRow | null> {
  let row = await getSilence(pool, id, now);
  for (const until = Date.now() + waitMs; !done(row) && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, PROJECTION_POLL_MS));
    row = await getSilence(pool, id, now);
  }
  return row;
}

/**
 * A silence expired by hand by someone other than `by`: their expiry is the one that counts (the first on the
 * silence's partition, which the router and the projection both apply), so this one changed nothing.
 */
function expiredByOther(row: SilenceRow, by: string) {
  if (row.expiredAt === null || row.expiredBy === null || row.expiredBy === by) return null;
  return {
    error: 'conflict',
    message: `silence "${row.silenceId}" was already expired by ${row.expiredBy} at ${row.expiredAt}: this expiry changed nothing`,
  };
}

/** The silence a SilenceCreated makes, as the projection will hold it. */
function createdRow(event: Envelope<'SilenceCreated'>): SilenceRow {
  const d = event.data;
  return { ...d, matchers: [...d.matchers], createdAt: event.recordedAt, expiredAt: null, expiredBy: null };
}

/** A silence of every alert is answered with what that means, each time it is asked for. */
function withNotice<T extends { matches_all: boolean; ends_at: string }>(body: T): T & { notice?: string } {
  if (!body.matches_all) return body;
  return { ...body, notice: `this silence matches every alert: nothing is posted to Slack or paged until it ends at ${body.ends_at} (allowAll)` };
}

/** The principal is set by the auth hook on every write; a write without one is a wiring mistake, not a user's. */
function author(req: FastifyRequest): string {
  if (!req.principal) throw new Error(`${req.method} ${req.routeOptions.url} ran without an authenticated principal`);
  return req.principal.name;
}

export function silencesRoutes(deps: SilenceDeps) {
  const newId = deps.newId ?? randomUUID;
  const routes: FastifyPluginAsyncTypebox = async (app) => {
    app.post(
      '/api/silences',
      {
        schema: {
          summary: 'Create a silence or maintenance window',
          description:
            'Validates the matchers (Alertmanager syntax) and the window, then writes a SilenceCreated event to Kafka. ' +
            'Answers 201 once the broker acknowledged the write; the list shows it as soon as it is projected. The author ' +
            `is the token's name (a body with createdBy is refused). At most SILENCE_MAX_DURATION (${formatDuration(deps.maxDurationMs)} here) ` +
            'from now; a silence of every alert needs allowAll and a comment, and its answer says so in `notice`. ' +
            'With an `Idempotency-Key` header (1-200 printable ASCII characters, e.g. a UUID per silence), the same key from ' +
            'the same token name within 24 h answers 200 with the silence the first request made (no second silence or ' +
            'event), and the same key with another body is a 422.',
          tags: ['silences'],
          headers: SilenceHeaders,
          body: SilenceBody,
          response: { 200: Silence, 201: Silence, 400: ErrorBody, 422: ErrorBody, 503: ErrorBody },
        },
        preValidation: refuseAuthorField('body', 'createdBy'),
      },
      async (req, reply) => {
        if (!deps.producer) return reply.code(503).send(noProducer);
        const producer = deps.producer;
        const keyed = idempotencyKeyOf(req.headers['idempotency-key']);
        if (!keyed.ok) return reply.code(400).send({ error: 'bad_request', message: keyed.error });
        const now = deps.now();
        const by = author(req);
        const kafkaTimeoutMs = deps.kafkaTimeoutMs ?? DEFAULT_KAFKA_WRITE_TIMEOUT_MS;

        /** A request with a key already used: the first one's silence, whatever happened to the first answer. */
        const answerAgain = async (first: SilenceRequestRecord) => {
          if (first.bodyDigest !== bodyDigest(req.body)) {
            return reply.code(422).send({
              error: 'unprocessable',
              message:
                `this Idempotency-Key came with another body in the last 24 h (silence "${first.silenceId}"): ` +
                'a retry must send the same body; use a new key for a new silence',
            });
          }
          let row = await waitForRow(deps.pool, first.silenceId, now, deps.projectionWaitMs ?? 3_000, (r) => r !== null);
          if (!row) {
            // Not in the history: the first write timed out, or the history is behind. The same event again (same id,
            // same content) is what a first write that landed already is; the router and projection keep one.
            const written = await writeWithin(producer, [first.event], kafkaTimeoutMs, `silence ${first.silenceId}`);
            if (!written.ok) return reply.code(written.status).header('retry-after', '5').send(written.body);
            row = createdRow(first.event);
          }
          return reply.code(200).header('location', `/api/silences/${first.silenceId}`).send(withNotice(silenceJson(row, now.getTime())));
        };

        if (keyed.key !== undefined) {
          const first = await findRequest(deps.pool, by, keyed.key, now);
          if (first) return answerAgain(first);
        }
        const built = silenceCreatedEvent(req.body, { now, silenceId: newId(), createdBy: by, maxDurationMs: deps.maxDurationMs });
        if (!built.ok) return reply.code(400).send({ error: 'bad_request', message: built.error });
        if (keyed.key !== undefined) {
          const record = { bodyDigest: bodyDigest(req.body), silenceId: built.event.data.silenceId, event: built.event };
          if (!(await recordRequest(deps.pool, by, keyed.key, now, record))) {
            // Another request with the key was recorded between the look and the insert (a retry sent at once).
            const first = await findRequest(deps.pool, by, keyed.key, now);
            if (first) return answerAgain(first);
          }
        }
        const written = await writeWithin(producer, [built.event], kafkaTimeoutMs, `silence ${built.event.data.silenceId}`);
        if (!written.ok) {
          if (keyed.key !== undefined && !written.mayBeWritten) await forgetRequest(deps.pool, by, keyed.key, built.event.data.silenceId);
          return reply.code(written.status).header('retry-after', '5').send(written.body);
        }
        const d = built.event.data;
        return reply
          .code(201)
          .header('location', `/api/silences/${d.silenceId}`)
          .send(withNotice(silenceJson(createdRow(built.event), now.getTime())));
      },
    );

    app.get(
      '/api/silences',
      {
        schema: {
          summary: 'List silences by state',
          description:
            'Newest first, in keyset pages: pass `next_cursor` back as `cursor` with the same `state` for the next page ' +
            '(null on the last). A next page computes states for the instant of the first (its `now`, or the time of its ' +
            'request), so a silence that ends while the pages are read is neither lost nor listed twice.',
          tags: ['silences'],
          querystring: SilenceListQuery,
          response: { 200: SilenceList, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const { state, now, cursor, limit } = req.query;
        try {
          const page = await listSilences(deps.pool, { state, now, cursor, limit }, deps.now());
          const at = page.now;
          return {
            silences: page.items.map((r) => silenceJson(r, at.getTime())),
            now: at.toISOString(),
            state,
            truncated: page.nextCursor !== null,
            next_cursor: page.nextCursor,
          };
        } catch (err) {
          if (err instanceof BadCursorError) return reply.code(400).send({ error: 'bad_request', message: err.message });
          throw err;
        }
      },
    );

    app.get(
      '/api/silences/:id',
      {
        schema: { summary: 'One silence', tags: ['silences'], params: IdParams, response: { 200: Silence, 404: ErrorBody } },
      },
      async (req, reply) => {
        const now = deps.now();
        const row = await getSilence(deps.pool, req.params.id, now);
        if (!row) return reply.code(404).send({ error: 'not_found', message: `no silence with id "${req.params.id}"` });
        return silenceJson(row, now.getTime());
      },
    );

    app.delete(
      '/api/silences/:id',
      {
        schema: {
          summary: 'Expire a silence now',
          description:
            "Writes a SilenceExpired event, by the token's name (a query with `by` is refused), and waits for the projection " +
            'to show it. Expiring one that already ended, or that the same name expired, changes nothing and answers 200. ' +
            'One that someone else expired, before or at the same moment (the first expiry counts), is a 409 saying who and ' +
            'when. When the projection is too far behind to tell, the answer is 200 with a `notice` saying so.',
          tags: ['silences'],
          params: IdParams,
          querystring: ExpireQuery,
          response: { 200: Silence, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody },
        },
        preValidation: refuseAuthorField('query', 'by'),
      },
      async (req, reply) => {
        if (!deps.producer) return reply.code(503).send(noProducer);
        const now = deps.now();
        const by = author(req);
        const waitMs = deps.projectionWaitMs ?? 3_000;
        const row = await waitForRow(deps.pool, req.params.id, now, waitMs, (r) => r !== null);
        if (!row) {
          return reply.code(404).send({
            error: 'not_found',
            message: `no silence with id "${req.params.id}" in the history (one created in the last seconds may not be in it yet while the history catches up: try again)`,
          });
        }
        const before = expiredByOther(row, by);
        if (before) return reply.code(409).send(before);
        if (silenceState(row, now.getTime()) === 'expired') return silenceJson(row, now.getTime());
        const event = silenceExpiredEvent(row.silenceId, by, now);
        const written = await writeWithin(deps.producer, [event], deps.kafkaTimeoutMs ?? DEFAULT_KAFKA_WRITE_TIMEOUT_MS, `expiry of silence ${row.silenceId}`);
        if (!written.ok) return reply.code(written.status).header('retry-after', '5').send(written.body);
        // Another expiry may have been written in the same moment, before the projection showed either: the first on
        // the partition is the one that counts, and only the projection can say which that was.
        const applied = await waitForRow(deps.pool, row.silenceId, now, waitMs, (r) => r?.expiredAt != null);
        if (applied?.expiredAt != null) {
          const lost = expiredByOther(applied, by);
          if (lost) return reply.code(409).send(lost);
          return silenceJson(applied, now.getTime());
        }
        const mine = silenceJson({ ...row, expiredAt: event.data.expiredAt, expiredBy: event.data.expiredBy }, now.getTime());
        return {
          ...mine,
          notice:
            `the expiry is written, but the history did not show it within ${waitMs} ms: if someone else expired this silence ` +
            `at the same moment, theirs may be the one that counts (GET /api/silences/${row.silenceId} says whose)`,
        };
      },
    );
  };
  return routes;
}
