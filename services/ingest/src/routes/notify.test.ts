import { passThroughProblem } from './notify';

describe('POST /notify-directly: blocks and attachments', () => {
  it('accepts objects (blocks with a string type) within the limits', () => {
    expect(passThroughProblem('blocks', undefined)).toBeNull();
    expect(passThroughProblem('blocks', [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }, { type: 'divider' }])).toBeNull();
    expect(passThroughProblem('attachments', [{ color: '#f00', text: 'x' }])).toBeNull();
  });

  it('names what is wrong: shape, count or size', () => {
    expect(passThroughProblem('blocks', [{ type: 'divider' }, 'text'])).toBe('blocks[1] must be an object');
    expect(passThroughProblem('blocks', [{ text: 'no type' }])).toBe('blocks[0] must have a string "type"');
    expect(passThroughProblem('attachments', [[1]])).toBe('attachments[0] must be an object');
    expect(passThroughProblem('blocks', Array.from({ length: 51 }, () => ({ type: 'divider' })))).toBe('blocks has 51 entries, more than the 50 Slack accepts');
    expect(passThroughProblem('blocks', [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(12_000) } }])).toMatch(
      /^blocks come to \d+ characters as JSON, more than the 12000 accepted$/,
    );
  });
});
