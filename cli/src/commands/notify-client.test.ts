import { fitNotify, fitText } from './notify-client';

test('alertbus notify keeps the beginning of a long text or title and says it cut them; run keeps the end of its output', () => {
  const report = `START-OF-MESSAGE ${'x'.repeat(13_000)}`;
  const fitted = fitNotify(report, `T${'t'.repeat(200)}`);
  expect(fitted.text.startsWith('START-OF-MESSAGE')).toBe(true);
  expect(Array.from(fitted.text)).toHaveLength(12_000);
  expect(fitted.text.endsWith('…')).toBe(true);
  expect(Array.from(fitted.title!)).toHaveLength(150);
  expect(fitted.warnings).toEqual([
    'the text is 13017 characters; its first 11999 are posted (at most 12000)',
    'the title is 201 characters; its first 149 are posted (at most 150)',
  ]);
  expect(fitNotify('short', undefined)).toEqual({ text: 'short', warnings: [] });
  // A job's output: its end says what went wrong.
  expect(fitText(report).startsWith('…x')).toBe(true);
});
