/**
 * Where a response_url may point. A slash command or an interaction carries the URL its answer is posted to; the
 * request is signed with the app's signing secret (or came over the app's Socket Mode connection), but whoever holds
 * those could write any URL there, and the slack-sink would post answers (the open incidents, who is on call) to it.
 * So only Slack's own response-URL hosts are posted to, over https.
 *
 * Slack: response_urls are https://hooks.slack.com/commands/T…/… for slash commands (the sample command of
 * https://api.slack.com/authentication/verifying-requests-from-slack and of
 * https://api.slack.com/interactivity/slash-commands) and https://hooks.slack.com/actions/T…/… for interactions
 * (https://api.slack.com/interactivity/handling#message_responses).
 * GovSlack "does not run on the slack.com domain. Instead, it runs on the separate domain slack-gov.com"
 * (https://api.slack-gov.com/gov-slack/about): its hooks host is hooks.slack-gov.com.
 */
export const SLACK_RESPONSE_URL_HOSTS: readonly string[] = ['hooks.slack.com', 'hooks.slack-gov.com'];

/** The origins (`https://hooks.slack.com`) a response_url may be on. */
export type ResponseUrlOrigins = ReadonlySet<string>;

/** slack.com, slack-gov.com and their subdomains: Slack's own API, never a stand-in. */
const isSlackDomain = (host: string) => /(^|\.)slack(-gov)?\.com$/i.test(host);

/**
 * Slack's response-URL origins, and the origin of SLACK_API_URL when it is not Slack's (a local stand-in of the Web
 * API, which hands out response_urls on its own origin): the app already sends its bot token there, so trusting it
 * with an answer opens nothing new. Nothing else is ever added.
 */
export function responseUrlOrigins(apiUrl?: string): ResponseUrlOrigins {
  const origins = new Set(SLACK_RESPONSE_URL_HOSTS.map((host) => `https://${host}`));
  if (apiUrl !== undefined) {
    const api = new URL(apiUrl);
    if (!isSlackDomain(api.hostname) && (api.protocol === 'https:' || api.protocol === 'http:')) origins.add(api.origin);
  }
  return origins;
}

/** The host of a response_url (with its port), for logs: its path is the URL's secret, never shown. */
export function responseUrlHost(url: string): string | undefined {
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why `url` is not a response_url to post to (undefined: it is one). The reason names the host at most: the URL's
 * path is a bearer secret.
 */
export function responseUrlProblem(url: string, origins: ResponseUrlOrigins): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'response_url is not a URL';
  }
  const allowed = [...origins].join(', ');
  if (parsed.username !== '' || parsed.password !== '') return `response_url carries credentials before its host; only ${allowed} are posted to`;
  if (!origins.has(parsed.origin)) {
    const where = parsed.host ? `${parsed.protocol}//${parsed.host}` : `a ${parsed.protocol} URL`;
    return `response_url is on ${where}, not on Slack's response-URL hosts: only ${allowed} are posted to`;
  }
  return undefined;
}
