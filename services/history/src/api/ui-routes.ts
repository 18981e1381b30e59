/** The people's page at `/`: static HTML, CSS and script over the JSON API; read-only, no build step, no CDN. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';

export const UI_DIR = resolve(__dirname, '../../ui');

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** Only same-origin scripts and styles, no forms posting anywhere, no framing: the page can only read. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function uiRoutes() {
  const contents = new Map(Object.entries(FILES).map(([url, f]) => [url, readFileSync(resolve(UI_DIR, f.file))]));
  return async function routes(app: FastifyInstance): Promise<void> {
    for (const [url, f] of Object.entries(FILES)) {
      // The files hold no data (the script reads the API, which checks tokens), so anyone may load them.
      app.get(url, { schema: { hide: true }, config: { access: 'public' } }, async (_req, reply) =>
        reply
          .header('content-type', f.type)
          .header('content-security-policy', CSP)
          .header('x-content-type-options', 'nosniff')
          .header('cache-control', 'no-cache')
          .send(contents.get(url)),
      );
    }
  };
}
