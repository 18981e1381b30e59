/** Request and response bodies of the Opsgenie Alert API v2, which JSM Ops' integration events API shares. */
import type { PagerPriority, Responder } from '@alertbus/schemas';

export interface CreateAlertBody {
  message: string;
  alias: string;
  description?: string;
  responders?: Responder[];
  tags?: string[];
  details?: Record<string, string>;
  entity?: string;
  source?: string;
  priority?: PagerPriority;
  user?: string;
  note?: string;
}

/** Body of close and acknowledge (all optional) and of add-note (`note` required). */
export interface ActionBody {
  user?: string;
  source?: string;
  note?: string;
}

/** The 202 answer: the action is queued, not done. */
export interface Accepted {
  result: string;
  requestId: string;
  took?: number;
}

/** `GET /v2/alerts/requests/{id}` → data: whether the queued action took effect, and on which alert. */
export interface RequestStatus {
  isSuccess: boolean;
  action: string;
  status: string;
  alertId: string;
  alias: string;
  processedAt?: string;
}

/** The fields of `GET /v2/alerts/{alias}?identifierType=alias` this service reads. */
export interface PagerAlert {
  id: string;
  tinyId?: string;
  alias: string;
  message: string;
  status: string;
  acknowledged: boolean;
  count: number;
  priority?: string;
  lastOccurredAt?: string;
}

/** One note of `GET /v2/alerts/{alias}/notes?identifierType=alias` (List Alert Notes): its text, and when it was added. */
export interface AlertNote {
  note: string;
  owner?: string;
  createdAt: string;
  offset: string;
}

/** A page of List Alert Notes, and the offset of the next one (from `paging.next`), if the API gave one. */
export interface AlertNotesPage {
  notes: AlertNote[];
  next?: string;
}
