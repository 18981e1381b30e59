/** JSON parse errors that say where the text stopped being JSON without quoting it. */

/** How many characters V8 quotes on either side of a token it did not expect. */
const V8_EXCERPT_CONTEXT = 10;

/**
 * V8's parse error with the position of the token it did not expect instead of the excerpt of the input it quotes
 * (`Unexpected token 'o', "token=xyzz0"... is not valid JSON`, `..."c": secret"...`): the answer and the log line say
 * where the body stopped being JSON without repeating what was sent, which may hold a secret.
 */
export function jsonErrorWithoutExcerpt(message: string, text: string): string {
  const quoted = /^(?:Unexpected token '[\s\S]', )?(\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(message);
  // V8's other messages give a position and quote nothing; a quoting one this does not know is not repeated either.
  if (!quoted) return / is not valid JSON$/.test(message) ? 'Unexpected token in JSON' : message;
  const [, cutBefore, excerpt = '', cutAfter] = quoted;
  const at = !cutBefore
    ? cutAfter
      ? excerpt.length - V8_EXCERPT_CONTEXT // the start of the text, up to 10 characters past the token
      : firstUnexpectedToken(text) // a short text, quoted whole
    : cutAfter
      ? text.indexOf(excerpt) + V8_EXCERPT_CONTEXT // 10 characters either side
      : text.length - excerpt.length + V8_EXCERPT_CONTEXT; // from 10 characters before the token to the end
  return at !== undefined && at >= 0 && at < text.length ? `Unexpected token in JSON at position ${at}` : 'Unexpected token in JSON';
}

/** Where a short text stops being JSON: the first prefix V8 refuses for a token (a prefix that is merely cut short is not). */
function firstUnexpectedToken(text: string): number | undefined {
  if (text.length > 4 * V8_EXCERPT_CONTEXT) return undefined;
  for (let end = 1; end <= text.length; end++) {
    try {
      JSON.parse(text.slice(0, end));
    } catch (err) {
      if ((err as Error).message.endsWith(' is not valid JSON')) return end - 1;
    }
  }
  return undefined;
}
