/**
 * Slack's Socket Mode, locally: `apps.connections.open` (with an app-level token) answers a ws:// URL of this
 * stand-in; a client that connects gets `{"type":"hello"}`, then whatever envelopes a test pushes, and every
 * message it sends back (`{envelope_id, payload?}`, the acknowledgement) is recorded.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { SLACK_STAND_IN_BOT } from './state';

export const SOCKET_PATH = '/_stand-in/socket';

/** What Slack sends over the socket: an events_api, interactive or slash_commands envelope. */
export interface SocketEnvelope {
  envelope_id: string;
  type: 'events_api' | 'interactive' | 'slash_commands' | string;
  payload: unknown;
  accepts_response_payload?: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
  /** ISO 8601, when the acknowledgement arrived. */
  at: string;
}

export class SocketModeEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly pinger: NodeJS.Timeout;
  /** Every acknowledgement received, in order. */
  readonly acks: SocketAck[] = [];
  /** Envelopes pushed so far (what a client was sent). */
  readonly pushed: SocketEnvelope[] = [];
  /** apps.connections.open calls answered. */
  opened = 0;

  constructor(
    private readonly appTokens: ReadonlySet<string>,
    private readonly now: () => number,
  ) {
    // Slack pings its clients; @slack/socket-mode reconnects when it hears nothing for 30 s.
    this.pinger = setInterval(() => {
      for (const s of this.sockets) if (s.readyState === WebSocket.OPEN) s.ping();
    }, 5_000);
    this.pinger.unref();
  }

  accepts(token: string): boolean {
    return this.appTokens.has(token);
  }

  /** The answer of apps.connections.open: a one-time URL on this server. */
  open(baseUrl: string): { url: string } {
    const ticket = randomBytes(12).toString('hex');
    this.tickets.add(ticket);
    this.opened++;
    return { url: `${baseUrl.replace(/^http/, 'ws')}${SOCKET_PATH}?ticket=${ticket}` };
  }

  /** The HTTP server's `upgrade` handler: only a ticket apps.connections.open issued gets a socket. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== SOCKET_PATH || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
  }

  private connected(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      let msg: { envelope_id?: unknown; payload?: unknown };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        return;
      }
      if (typeof msg.envelope_id !== 'string') return;
      this.acks.push({ envelope_id: msg.envelope_id, ...(msg.payload !== undefined ? { payload: msg.payload } : {}), at: new Date(this.now()).toISOString() });
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'stand-in', approximate_connection_time: 18060 },
        connection_info: { app_id: SLACK_STAND_IN_BOT.appId },
      }),
    );
  }

  /** How many clients are connected now. */
  get connections(): number {
    return [...this.sockets].filter((s) => s.readyState === WebSocket.OPEN).length;
  }

  /** Sends an envelope to every connected client (Slack sends each to one; tests connect one); returns how many got it. */
  push(envelope: SocketEnvelope): number {
    this.pushed.push(envelope);
    let sent = 0;
    for (const s of this.sockets) {
      if (s.readyState !== WebSocket.OPEN) continue;
      s.send(JSON.stringify(envelope));
      sent++;
    }
    return sent;
  }

  /** Asks every client to reconnect, as Slack does when it recycles a connection. */
  disconnectAll(): void {
    for (const s of this.sockets) s.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested' }));
  }

  close(): void {
    clearInterval(this.pinger);
    for (const s of this.sockets) s.terminate();
    this.wss.close();
  }
}
