/** The notification tags ingest takes from the rules file, and what an unknown tag is told when none is known. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { TagBook } from './tag-book';

const silent = pino({ level: 'silent' });
const TAGS = 'tags:\n  db:\n    channel: "#db"\n';

test('no tag known: the answer says why (no ROUTING_RULES, a file that is invalid or missing, or one without tags:)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alertbus-tags-'));
  const unset = new TagBook(undefined, silent);
  expect(unset.current()).toEqual({});
  expect(unset.whyNone()).toBe('ROUTING_RULES is not set, so there are no tags');

  const invalid = join(dir, 'invalid.yaml');
  writeFileSync(invalid, 'rules:\n  - match: [\'team=="db"\']\n');
  const book = new TagBook(invalid, silent);
  expect(book.current()).toEqual({});
  // The router refuses this file too: the answer points at it rather than at a missing tags: section.
  expect(book.whyNone()).toMatch(/^the rules file \(ROUTING_RULES\) gives none: it is invalid: .*invalid\.yaml:2:\d+: rules\[0\]\.match\[0\]: bad matcher/);

  const missing = new TagBook(join(dir, 'nope.yaml'), silent);
  missing.current();
  expect(missing.whyNone()).toMatch(/^the rules file \(ROUTING_RULES\) gives none: cannot read .*nope\.yaml: ENOENT/);

  const plain = join(dir, 'plain.yaml');
  writeFileSync(plain, 'rules: []\n');
  const none = new TagBook(plain, silent);
  expect(none.current()).toEqual({});
  expect(none.whyNone()).toBe('the rules file has no tags:');

  // Fixed: its tags, and no trouble left to report.
  writeFileSync(invalid, TAGS);
  expect(Object.keys(book.current())).toEqual(['db']);
  expect(book.whyNone()).toBe('the rules file has no tags:');
});
