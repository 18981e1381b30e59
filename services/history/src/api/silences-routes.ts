/**
 * Silences: created and expired by writing events to silences.v1 (the router applies them, this service
 * projects them); listed from the projection, with each one's state computed for the instant asked about.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { EventProducer } from '@alertbus/kafka';
import { silenceCreatedEvent, silenceExpiredEvent } from '../silences/events';
import { getSilence, listSilences } from '../silences/queries';
import { silenceState } from '../silences/state';
import { ErrorBody, ExpireQuery, IdParams, Silence, SilenceBody, SilenceList, SilenceListQuery } from './schemas';
import { silenceJson } from './serialize';

export interface SilenceDeps {
  pool: Pool;
  /** Absent: the routes that write answer 503. */
  producer?: EventProducer;
  now: () => Date;
  newId?: () => string;
}

const noProducer = { error: 'unavailable', message: 'this history instance cannot write to Kafka' };

export function silencesRoutes(deps: SilenceDeps) {
  const newId = deps.newId ?? randomUUID;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.post<{ Body: SilenceBody }>(
      '/api/silences',
      {
        schema: {
          summary: 'Create a silence or maintenance window',
          description:
            'Validates the matchers (Alertmanager syntax) and the window, then writes a SilenceCreated event to Kafka. ' +
            'Answers 201 once the broker acknowledged the write; the list shows it as soon as it is projected.',
          tags: ['silences'],
          body: SilenceBody,
          response: { 201: Silence, 400: ErrorBody, 503: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!deps.producer) return reply.code(503).send(noProducer);
        const now = deps.now();
        const built = silenceCreatedEvent(req.body, now, newId());
        if (!built.ok) return reply.code(400).send({ error: 'bad_request', message: built.error });
        await deps.producer.send([built.event]);
        const d = built.event.data;
        const row = { ...d, matchers: [...d.matchers], createdAt: built.event.recordedAt, expiredAt: null, expiredBy: null };
        return reply.code(201).header('location', `/api/silences/${d.silenceId}`).send(silenceJson(row, now.getTime()));
      },
    );

    app.get<{ Querystring: SilenceListQuery }>(
      '/api/silences',
      {
        schema: {
          summary: 'List silences by state',
          tags: ['silences'],
          querystring: SilenceListQuery,
          response: { 200: SilenceList, 400: ErrorBody },
        },
      },
      async (req) => {
        const now = req.query.now === undefined ? deps.now() : new Date(req.query.now);
        const rows = await listSilences(deps.pool, req.query.state, now, req.query.limit);
        return { silences: rows.map((r) => silenceJson(r, now.getTime())), now: now.toISOString(), state: req.query.state };
      },
    );

    app.get<{ Params: IdParams }>(
      '/api/silences/:id',
      {
        schema: { summary: 'One silence', tags: ['silences'], params: IdParams, response: { 200: Silence, 404: ErrorBody } },
      },
      async (req, reply) => {
        const row = await getSilence(deps.pool, req.params.id);
        if (!row) return reply.code(404).send({ error: 'not_found', message: `no silence with id "${req.params.id}"` });
        return silenceJson(row, deps.now().getTime());
      },
    );

    app.delete<{ Params: IdParams; Querystring: ExpireQuery }>(
      '/api/silences/:id',
      {
        schema: {
          summary: 'Expire a silence now',
          description: 'Writes a SilenceExpired event. Expiring one that is already over changes nothing and answers 200.',
          tags: ['silences'],
          params: IdParams,
          querystring: ExpireQuery,
          response: { 200: Silence, 404: ErrorBody, 503: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!deps.producer) return reply.code(503).send(noProducer);
        const row = await getSilence(deps.pool, req.params.id);
        if (!row) return reply.code(404).send({ error: 'not_found', message: `no silence with id "${req.params.id}"` });
        const now = deps.now();
        if (silenceState(row, now.getTime()) === 'expired') return silenceJson(row, now.getTime());
        const event = silenceExpiredEvent(row.silenceId, req.query.by, now);
        await deps.producer.send([event]);
        return silenceJson({ ...row, expiredAt: event.data.expiredAt, expiredBy: event.data.expiredBy }, now.getTime());
      },
    );
  };
}
