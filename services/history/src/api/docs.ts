/** The OpenAPI document of the API routes (not the ops probes or the page), served with Swagger UI at /docs. */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { SECURITY_SCHEME } from './auth';

export const DOCS_PREFIX = '/docs';

/** Register before the routes: the document is collected from the routes declared after it. */
export function registerDocs(app: FastifyInstance): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'alertbus history',
        version: '1',
        description:
          'What happened, when, who was told, who acknowledged, and why: a projection of the alertbus topics. ' +
          'Everything here is read from Postgres except silences, which are written to Kafka as events.',
      },
      components: {
        securitySchemes: {
          [SECURITY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A token from HISTORY_API_TOKENS (NAME:ROLE:TOKEN). Roles: viewer (reads), operator (reads and writes: ' +
              'silences), admin (also raw payloads and Slack response URLs in timelines). Reads need no token while ' +
              'history listens on loopback.',
          },
        },
      },
      tags: [
        { name: 'incidents', description: 'Incidents, their timelines and statistics.' },
        { name: 'silences', description: 'Silences and maintenance windows (events on silences.v1).' },
        { name: 'audit', description: 'Raw material for `alertbus audit`: an alias\'s projected events and the stored offsets.' },
      ],
    },
    hideUntagged: true,
  });
  // Assets are served from the package itself: no CDN, works offline.
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX, uiConfig: { docExpansion: 'list', deepLinking: false } });
}
