/**
 * Runs the Opsgenie / JSM Ops stand-in on its own, for demos and manual tries:
 *
 *   OPSGENIE_STAND_IN_PORT=8090 npx tsx packages/stand-ins/src/opsgenie/main.ts
 *
 * Env: OPSGENIE_STAND_IN_PORT (default 0 = any free port), OPSGENIE_STAND_IN_KEYS (comma-separated GenieKeys,
 * default the stand-in key), OPSGENIE_STAND_IN_ONCALL (`schedule=a@x.com,b@x.com;other=c@x.com`),
 * OPSGENIE_STAND_IN_WEBHOOK_URL (post every Acknowledge, UnAcknowledge and Close there, as Opsgenie's Webhook integration does, e.g.
 * `http://127.0.0.1:8080/webhooks/opsgenie`) with OPSGENIE_STAND_IN_WEBHOOK_AUTHORIZATION (e.g. `Bearer <token>`).
 * Prints `OPSGENIE_API_URL=<url>` on stdout.
 */
import { OPSGENIE_STAND_IN_KEY, startOpsgenieStandIn } from './server';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function parseOnCall(raw: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of (raw ?? '').split(';').map((s) => s.trim()).filter(Boolean)) {
    const [name, emails] = part.split('=', 2);
    if (!name || emails === undefined) fail(`OPSGENIE_STAND_IN_ONCALL: expected schedule=email,email, got "${part}"`);
    out[name.trim()] = emails.split(',').map((e) => e.trim()).filter(Boolean);
  }
  return out;
}

async function main(): Promise<void> {
  const rawPort = process.env.OPSGENIE_STAND_IN_PORT ?? '0';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`OPSGENIE_STAND_IN_PORT must be a port number, got "${rawPort}"`);
  // Accepts the keys the sinks were given (as the Slack stand-in does their token), so `npm start -- --stand-ins`
  // pages with or without OPSGENIE_API_KEY / ONCALL_OPSGENIE_API_KEY set in the shell.
  const configured =
    process.env.OPSGENIE_STAND_IN_KEYS ?? [OPSGENIE_STAND_IN_KEY, process.env.OPSGENIE_API_KEY ?? '', process.env.ONCALL_OPSGENIE_API_KEY ?? ''].join(',');
  const apiKeys = configured.split(',').map((k) => k.trim()).filter(Boolean);
  const webhookUrl = process.env.OPSGENIE_STAND_IN_WEBHOOK_URL;
  if (webhookUrl !== undefined && !/^https?:\/\//.test(webhookUrl)) fail(`OPSGENIE_STAND_IN_WEBHOOK_URL must be an http(s) URL, got "${webhookUrl}"`);
  const authorization = process.env.OPSGENIE_STAND_IN_WEBHOOK_AUTHORIZATION;
  const webhook = webhookUrl ? { url: webhookUrl, ...(authorization ? { authorization } : {}) } : undefined;
  const standIn = await startOpsgenieStandIn({ port, apiKeys, onCall: parseOnCall(process.env.OPSGENIE_STAND_IN_ONCALL), ...(webhook ? { webhook } : {}) });
  process.stdout.write(`OPSGENIE_API_URL=${standIn.url}\n`);
  process.stderr.write(`Opsgenie / JSM Ops stand-in listening at ${standIn.url} (GenieKey ${apiKeys.length} key(s) accepted)\n`);
  const stop = () => void standIn.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main().catch((err: Error) => fail(`stand-in failed to start: ${err.message}`));
