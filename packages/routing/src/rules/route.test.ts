import { severityEmoji } from '../core/slack-format';
import { builtinPriority } from './route';

describe('built-in priority: one vocabulary with the Slack header', () => {
  test.each([
    ['critical', 'P1'], ['Critical', 'P1'], ['page', 'P1'], ['fatal', 'P1'], ['emergency', 'P1'], ['emerg', 'P1'], ['disaster', 'P1'], ['crit', 'P1'],
    ['P1', 'P1'], ['sev1', 'P1'], ['SEV-1', 'P1'],
    ['error', 'P2'], ['high', 'P2'], ['major', 'P2'], ['err', 'P2'], ['p2', 'P2'],
    ['warning', 'P3'], ['warn', 'P3'], ['average', 'P3'],
    ['info', 'P5'], ['notice', 'P5'], ['low', 'P5'], ['P4', 'P4'], ['sev5', 'P5'],
    ['something-else', 'P3'], ['', 'P3'],
  ])('%j → %s', (severity, priority) => {
    expect(builtinPriority(severity)).toBe(priority);
  });

  test('every severity shown red pages at P1, orange at P2', () => {
    for (const s of ['critical', 'crit', 'fatal', 'emergency', 'emerg', 'alert', 'disaster', 'page', 'p1', 'sev1', 'sev-1']) {
      expect([severityEmoji(s, 'open'), builtinPriority(s)]).toEqual(['🔴', 'P1']);
    }
    for (const s of ['error', 'err', 'high', 'major', 'p2', 'sev2', 'sev-2']) {
      expect([severityEmoji(s, 'open'), builtinPriority(s)]).toEqual(['🟠', 'P2']);
    }
  });
});
