/** @alertbus/history-client: the history service as its users reach it, over its HTTP API. */
export { credentialsInUrl, unsendableToken, DEFAULT_HISTORY_URL, HistoryApiError, HistoryClient, historyUrl, type Json } from './client';
export { auditAlias, type AuditOptions, type AuditResult } from './audit';
