/** How a Slack channel given to a filter is matched against what the projection stores. */

/**
 * The spellings of a channel the incidents may store: rules name a channel `#alerts` (or `alerts`, which Slack takes
 * too), so a name given with or without its `#` matches both; an id (C0123) has no `#` and matches itself and `#C0123`,
 * which nothing stores.
 */
export function channelSpellings(channel: string): string[] {
  const bare = channel.startsWith('#') ? channel.slice(1) : channel;
  return bare === '' ? [channel] : [bare, `#${bare}`];
}
