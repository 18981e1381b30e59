/**
 * Slack over Socket Mode (SLACK_APP_TOKEN): ingest opens the connection itself, so no public URL is needed.
 * Every envelope takes the path a signed HTTP request takes (slack/inbox.ts) and is acknowledged only once
 * its events are on Kafka (acks=all); an envelope that could not be written is not acknowledged, and Slack
 * delivers it again.
 */
import { keepableJson, scrubSecrets, slackLogger, type Logger } from '@alertbus/common';
import { SocketModeClient } from '@slack/socket-mode';
import { Value } from '@sinclair/typebox/value';
import { SlackEventsBody, SlackInteractionBody } from '@alertbus/normalise';
import { HttpError } from './http-error';
import { receiveSlackEvent, receiveSlackInteraction, type SlackInboxDeps } from './slack/inbox';
import { receiveSlashCommand, SlashCommandFields } from './slack/slash-command';

export interface SlackSocketOptions {
  appToken: string;
  /** Web API base URL, ending in `/` (apps.connections.open is asked there). */
  apiUrl: string;
  inbox: SlackInboxDeps;
  log: Logger;
  /** Waits between attempts to open the first connection; the last one repeats. */
  retryDelaysMs?: number[];
}

interface SocketEvent {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  envelope_id: string;
  type: string;
  body: unknown;
  retry_num?: number;
  retry_reason?: string;
}

/**
 * The client, except that a message it cannot dispatch (an events_api envelope without an event, which it
 * reads blindly) is logged instead of becoming an unhandled rejection that would end the process.
 */
class GuardedSocketModeClient extends SocketModeClient {
  constructor(
    opts: ConstructorParameters<typeof SocketModeClient>[0],
    private readonly onBadMessage: (err: Error) => void,
  ) {
    super(opts);
  }

  protected override async onWebSocketMessage(...args: Parameters<SocketModeClient['onWebSocketMessage']>): Promise<void> {
    try {
      await super.onWebSocketMessage(...args);
    } catch (err) {
      this.onBadMessage(err as Error);
    }
  }
}

export class SlackSocket {
  private readonly client: SocketModeClient;
  private connected = false;
  private lastError: string | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** Envelopes being written now: Slack may deliver one again before the first delivery is acknowledged. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly opts: SlackSocketOptions) {
    this.client = new GuardedSocketModeClient(
      {
        appToken: opts.appToken,
        // It prints envelopes, which carry user text: debug only, but its warnings stay warnings.
        logger: slackLogger(opts.log.child({ component: 'slack-socket-mode' }), [opts.appToken], 'warn'),
        clientOptions: { slackApiUrl: opts.apiUrl, retryConfig: { retries: 0 } },
      },
      (err) => opts.log.warn({ error: err.message }, 'Socket Mode message that could not be dispatched; dropped unacknowledged'),
    );
    this.client.on('connected', () => {
      this.connected = true;
      this.lastError = undefined;
      opts.log.info('Slack Socket Mode connected');
    });
    for (const state of ['disconnected', 'reconnecting', 'disconnecting']) {
      this.client.on(state, () => {
        if (this.connected) opts.log.warn({ state }, 'Slack Socket Mode connection lost');
        this.connected = false;
      });
    }
    this.client.on('slack_event', (e: SocketEvent) => void this.receive(e));
  }

  /** Why Slack events cannot arrive now (for /readyz), or null while the socket is connected. */
  problem(): string | null {
    if (this.connected) return null;
    return `the Slack Socket Mode connection is not open${this.lastError ? ` (${this.lastError})` : ''}`;
  }

  /** Resolves after the first attempt to connect; when it fails, attempts go on in the background. */
  async start(): Promise<void> {
    await this.attempt(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
    await this.client.disconnect().catch(() => undefined);
  }

  private async attempt(n: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.client.start();
    } catch (err) {
      this.lastError = scrubSecrets((err as Error).message ?? String(err), [this.opts.appToken]);
      const delays = this.opts.retryDelaysMs ?? [1_000, 2_000, 5_000, 15_000, 60_000];
      const wait = delays[Math.min(n, delays.length - 1)]!;
      this.opts.log.error({ error: this.lastError, retryInMs: wait }, 'could not open the Slack Socket Mode connection');
      this.timer = setTimeout(() => void this.attempt(n + 1), wait);
      this.timer.unref();
    }
  }

  private receive(e: SocketEvent): Promise<void> {
    const running = this.inFlight.get(e.envelope_id);
    if (running) return running;
    const work = this.handle(e).finally(() => this.inFlight.delete(e.envelope_id));
    this.inFlight.set(e.envelope_id, work);
    return work;
  }

  private async handle(e: SocketEvent): Promise<void> {
    const log = this.opts.log.child({ envelopeId: e.envelope_id, envelopeType: e.type });
    const inbox = { ...this.opts.inbox, log };
    let response: Record<string, unknown> | undefined;
    try {
      const kept = keepableJson(e.body);
      const facts = {
        ...(typeof e.retry_num === 'number' && e.retry_num > 0 ? { retryNum: e.retry_num } : {}),
        ...(e.retry_reason ? { retryReason: e.retry_reason } : {}),
        ...(kept.changed > 0 ? { sanitised: kept.changed } : {}),
      };
      const body = kept.value;
      // The same schemas as the HTTP endpoints' bodies.
      const invalid = () => new HttpError(400, 'invalid_payload', 'envelope without a payload object with a type');
      if (e.type === 'events_api') {
        if (!Value.Check(SlackEventsBody, body)) throw invalid();
        await receiveSlackEvent(inbox, body, facts);
      } else if (e.type === 'interactive') {
        if (!Value.Check(SlackInteractionBody, body)) throw invalid();
        await receiveSlackInteraction(inbox, body, facts);
      } else if (e.type === 'slash_commands') {
        if (!Value.Check(SlashCommandFields, body)) {
          // What the HTTP endpoint answers 400 (`/text` longer than 4,000 characters…), named.
          const first = Value.Errors(SlashCommandFields, body).First();
          throw new HttpError(400, 'invalid_payload', first ? `${first.path || 'the payload'}: ${first.message}` : 'not a slash command payload');
        }
        // The answer follows at the response_url; only a command that is not ours is answered with the ack.
        response = await receiveSlashCommand(inbox, body, { ...facts, via: 'socket-mode' });
      } else log.info(`Socket Mode ${e.type} envelopes are not handled by alertbus yet; acknowledged and dropped`);
    } catch (err) {
      if (err instanceof HttpError && err.statusCode < 500) {
        // No redelivery can change the answer: acknowledged so Slack stops, and logged. A slash command's refusal is
        // also shown to who typed it, in the acknowledgement (as the HTTP endpoint's answer would be): it is not
        // recorded, so no answer follows at its response_url, and without this they saw nothing at all.
        log.warn({ error: err.message }, 'Slack envelope refused');
        if (e.type === 'slash_commands') {
          response = { response_type: 'ephemeral', text: `alertbus could not take this command: ${err.message.replace(/[&<>]/g, '')}` };
        }
      } else {
        log.error({ error: (err as Error).message }, 'Slack envelope not written to Kafka; not acknowledged, so Slack delivers it again');
        return;
      }
    }
    await e.ack(response).catch((err: Error) => log.warn({ error: err.message }, 'could not acknowledge the Slack envelope'));
  }
}
