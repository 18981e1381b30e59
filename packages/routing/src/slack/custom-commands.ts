/** The rules file's own commands (`commands.handlers`): which one a text is, and what its reply says. Pure. */
import { RE2JS } from 're2js';
import { own } from '../core/own';
import { escapeMrkdwn, slackUserRef, truncate, truncateMrkdwn } from '../core/text';
import { withoutCredentials } from '../core/shown-text';
import type { CompiledCommandHandler, CompiledRules } from '../rules/types';

/** Longest value of one named group put into a reply (sender text), and of the whole reply. */
export const GROUP_VALUE_MAX = 300;
export const REPLY_MAX = 3000;

/** The first handler whose pattern matches the whole text, with its named groups; undefined when none does. */
export function matchHandler(rules: CompiledRules, text: string): { handler: CompiledCommandHandler; groups: Readonly<Record<string, string>> } | undefined {
  for (const handler of rules.commands.handlers) {
    const groups = handler.pattern.exec(text);
    if (groups) return { handler, groups };
  }
  return undefined;
}

const unescapeSlack = (text: string) => text.replace(/&(lt|gt|amp);/g, (_, e: string) => (e === 'lt' ? '<' : e === 'gt' ? '>' : '&'));

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * A `reply:` template filled in: each group's value is what the sender typed, so it is escaped (no markup, no
 * `<!channel>`), without credentials, and bounded; {{user}} mentions who asked. The template itself is the rules author's, as written.
 */
export function renderReply(template: string, groups: Readonly<Record<string, string>>, user: string | undefined): string {
  const out = template.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === 'user') return user ? slackUserRef(user) : 'someone';
    const v = own(groups, name);
    // Slack sends `<`, `>`, `&` typed by people as entities: undone, then escaped once, so it shows as typed.
    return v === undefined ? whole : escapeMrkdwn(truncate(withoutCredentials(unescapeSlack(v)), GROUP_VALUE_MAX));
  });
  return truncateMrkdwn(out, REPLY_MAX);
}

/** One word, as someone types a command: letters first, then letters, digits, - or _ (at most 40). */
const ONE_WORD = RE2JS.compile(String.raw`^\pL[\pL\pN_-]{0,39}$`);

/** A message that says a single word to the app (`@bot frobnicate`): a command it does not know, not a request for help. */
export function isSingleWord(text: string): boolean {
  return ONE_WORD.testExact(text);
}

export const NOT_UNDERSTOOD_TEXT = "I didn't understand — try `help`.";

export function notUnderstoodHelp(help: string): string {
  return `I didn't understand that. ${help}`;
}
