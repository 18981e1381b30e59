import { GenericPayload, normaliseGeneric } from '@alertbus/normalise';
import { webhookRoute } from './webhook';

/** POST /webhooks/generic: alertbus's own JSON shape, for scripts and tools without a native integration. */
export const genericRoutes = webhookRoute('generic', GenericPayload, normaliseGeneric);
