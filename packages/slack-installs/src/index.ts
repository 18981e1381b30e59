export { SLACK_APP_TOKEN_SCOPES, SLACK_BOT_EVENTS, SLACK_BOT_SCOPES } from './scopes';
export { decryptToken, encryptToken, parseTokenKey, TokenKeyError } from './token-cipher';
export { InstallationStore, migrateSlackInstalls, type Installation, type InstallationInfo } from './store';
export { TeamTokens, type TeamCredentials, type TeamTokensOptions } from './team-tokens';
