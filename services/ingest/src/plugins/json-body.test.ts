import { cleanWebhookBody, mayNeedCleaning, parseJsonBody } from './json-body';
import { fixtureText } from '../../../../test/support/fixtures';

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const changedAnything = (text: string): boolean => {
  const { cleaning } = cleanWebhookBody(parseJsonBody(text));
  return cleaning.group > 0 || (cleaning.alerts ?? []).some((n) => n > 0);
};

it('says a body may need cleaning whenever cleaning it changes something', () => {
  const r = rng(17);
  // Plain text, escapes JSON.stringify writes (\b \f \r \u0000, lone surrogates), raw DEL and C1, pairs, \\ before u.
  const plain = ['a', ' ', 'é', '€', '😀', '\t', '\n', '\\', 'u', 'r', '"'];
  const suspect = ['\r', '\b', '\f', '\u0000', '\u001f', '\u007f', '\u0085', '\ud83d', '\ude00'];
  const pick = (list: string[]) => list[Math.floor(r() * list.length)]!;
  const text = () => Array.from({ length: Math.floor(r() * 8) }, () => (r() < 0.1 ? pick(suspect) : pick(plain))).join('');
  const missed: string[] = [];
  let clean = 0;
  for (let n = 0; n < 3000; n++) {
    const body = JSON.stringify({ status: 'firing', [text()]: text(), alerts: [{ labels: { [text()]: text() }, annotations: { summary: text() } }] });
    // The same body with DEL, C1 and surrogates written raw instead of escaped, as a sender may.
    const raw = body.replace(/\\u(00[89][0-9a-f]|007f|d[89ab][0-9a-f]{2}|d[c-f][0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    for (const t of [body, raw]) {
      if (!mayNeedCleaning(t)) {
        clean++;
        if (changedAnything(t)) missed.push(t);
      }
    }
  }
  expect(missed).toEqual([]);
  expect(clean).toBeGreaterThan(100); // the quick answer is taken often enough to matter
});

it('answers no for the usual webhook and yes for an escaped control character', () => {
  expect(mayNeedCleaning('{"alerts":[{"labels":{"alertname":"Disk €"},"annotations":{"summary":"a\\nb\\t\\"c\\""}}]}')).toBe(false);
  expect(mayNeedCleaning('{"alerts":[{"labels":{"alertname":"Disk\\u0000"}}]}')).toBe(true);
  expect(mayNeedCleaning('{"alerts":[{"labels":{"alertname":"Disk\\r"}}]}')).toBe(true);
});

describe('a body that is not JSON', () => {
  const refusal = (text: string): string => {
    try {
      parseJsonBody(text);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`parsed: ${text}`);
  };

  it('is refused with where it stops being JSON, never with the excerpt V8 quotes (a slash command begins with its verification token)', () => {
    const slash = fixtureText('slack/slash_command_signed_body.txt').trim();
    expect(refusal(slash)).toBe('invalid JSON body: Unexpected token in JSON at position 1');
    expect(refusal('token=xyzz0')).toBe('invalid JSON body: Unexpected token in JSON at position 1');
    expect(refusal('NaN')).toBe('invalid JSON body: Unexpected token in JSON at position 0');
    // V8's own messages that give a position and quote nothing are kept.
    expect(refusal('{"a":1} trailing')).toBe('invalid JSON body: Unexpected non-whitespace character after JSON at position 8');
    expect(refusal('{"alerts": [')).toBe('invalid JSON body: Unexpected end of JSON input');
  });

  it('names the position of an unexpected token at the start, middle or end of a body of any length, and nothing of the body', () => {
    const secret = 'xyzz0WbapA4vBCDEFasx0q6G';
    const wrong: string[] = [];
    for (let before = 0; before <= 60; before++) {
      for (const after of [0, 1, 5, 9, 10, 11, 40]) {
        const head = `{"k":"${'a'.repeat(before)}","t":`;
        const text = `${head}${secret}${' '.repeat(after)}}`;
        const message = refusal(text);
        if (message !== `invalid JSON body: Unexpected token in JSON at position ${head.length}`) wrong.push(`${text} → ${message}`);
        if (/xyzz|apA4|x0q6G/.test(message)) wrong.push(`echoed: ${message}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
