import type { PagerPriority } from '@alertbus/schemas';
import type { Accepted, ActionBody, AlertNotesPage, CreateAlertBody, PagerAlert, RequestStatus } from './wire';

export type PagerProvider = 'opsgenie' | 'jsm';

/**
 * The one interface both pager providers (Opsgenie via its SDK, JSM Ops via fetch) implement, so the
 * notifier never knows which one it talks to. Failures are thrown as DeliveryError (retry or permanent).
 */
export interface PagerClient {
  readonly provider: PagerProvider;
  create(body: CreateAlertBody): Promise<Accepted>;
  close(alias: string, body: ActionBody): Promise<Accepted>;
  acknowledge(alias: string, body: ActionBody): Promise<Accepted>;
  addNote(alias: string, body: ActionBody & { note: string }): Promise<Accepted>;
  /** Sets the open alert's priority; absent where the provider's API has no such call (JSM's integration API). */
  updatePriority?(alias: string, priority: PagerPriority): Promise<Accepted>;
  /**
   * One page of the notes of the open alert with this alias, newest first, from `offset` on (the first page without it),
   * or undefined when no alert with the alias is open (404). Absent where the provider's API cannot list notes (JSM's
   * integration API).
   */
  listNotes?(alias: string, offset?: string): Promise<AlertNotesPage | undefined>;
  /** The open alert with this alias, or undefined when none is open (404). */
  getOpenByAlias(alias: string): Promise<PagerAlert | undefined>;
  /** What became of an accepted request, or undefined while it is not processed yet (404). */
  requestStatus(requestId: string): Promise<RequestStatus | undefined>;
}

export interface PagerClientOptions {
  apiKey: string;
  /** Opsgenie's host (e.g. https://api.eu.opsgenie.com); JSM paths are appended to it. */
  apiUrl: string;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
}
