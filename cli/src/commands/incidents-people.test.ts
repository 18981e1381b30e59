/** Who acted, in `alertbus incidents`: the name when the history has one, else the id. */
import { acknowledgedByFull, acknowledgedByShown, resolvedByFull } from './incidents-people';

describe('who acted, in the CLI', () => {
  const acked = { acknowledged_by: 'U012ABCDEF', acknowledged_by_name: 'Alice Martin', resolved_by: 'jane@example.com', resolved_by_name: 'jane@example.com' };

  it('the list shows the name, else the id, else nothing', () => {
    expect(acknowledgedByShown(acked)).toBe('Alice Martin');
    expect(acknowledgedByShown({ acknowledged_by: 'U012ABCDEF', acknowledged_by_name: null, resolved_by: null })).toBe('U012ABCDEF');
    // An older history API, without the name fields.
    expect(acknowledgedByShown({ acknowledged_by: 'U012ABCDEF', resolved_by: null })).toBe('U012ABCDEF');
    expect(acknowledgedByShown({ acknowledged_by: null, acknowledged_by_name: null, resolved_by: null })).toBe('');
  });

  it('show gives the name with the id, once when they are the same', () => {
    expect(acknowledgedByFull(acked)).toBe('Alice Martin (U012ABCDEF)');
    expect(resolvedByFull(acked)).toBe('jane@example.com');
    expect(resolvedByFull({ ...acked, resolved_by: null, resolved_by_name: null })).toBe('');
  });

  it("a name's terminal control characters are left out", () => {
    expect(acknowledgedByShown({ ...acked, acknowledged_by_name: 'Al\u001b[2Jice\u0007' })).toBe('Al[2Jice');
  });
});
