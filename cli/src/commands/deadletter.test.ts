import { redriver } from './deadletter';

describe('alertbus deadletter redrive: who redrives', () => {
  test('--by first, then ALERTBUS_USER, then the login name', () => {
    expect(redriver('jane', { ALERTBUS_USER: 'bob' })).toBe('jane');
    expect(redriver(undefined, { ALERTBUS_USER: 'bob' })).toBe('bob');
    expect(redriver(undefined, {})).not.toBe('');
  });

  test('an empty name, a name of several lines or a very long one is refused', () => {
    expect(() => redriver('  ', {})).toThrow('say who redrives: --by <name>');
    expect(() => redriver('jane\nX-Forged: 1', {})).toThrow('on one line');
    expect(() => redriver('x'.repeat(201), {})).toThrow('at most 200 characters');
  });
});
