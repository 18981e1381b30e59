import { DeliveryError } from '@alertbus/common';
import type { AnyEnvelope } from '@alertbus/schemas';
import { mayHaveTakenEffect, NotSentError } from './runner';

const command = (type: string) => ({ id: `c-${type}`, type, alias: 'a' }) as unknown as AnyEnvelope;
const http = (status: number) => new DeliveryError(`HTTP ${status}`, false, status);

describe('mayHaveTakenEffect: whether the next attempt looks first', () => {
  it('no answer: it may have; a connection never made, a 429 or a 503: it did not', () => {
    expect(mayHaveTakenEffect(new DeliveryError('timeout', false))).toBe(true);
    expect(mayHaveTakenEffect(new NotSentError('ECONNREFUSED'))).toBe(false);
    expect(mayHaveTakenEffect(http(429))).toBe(false);
    expect(mayHaveTakenEffect(http(503))).toBe(false);
  });

  it.each([500, 502, 504])('a %i may have, unless the notifier says repeating it is safe, for every command or for this one', (status) => {
    expect(mayHaveTakenEffect(http(status))).toBe(true);
    expect(mayHaveTakenEffect(http(status), { repeatsSafelyAfterServerError: true })).toBe(false);
    // A pager deduplicates a create by its alias, not a note: per command.
    const perCommand = { repeatsSafelyAfterServerError: (c: AnyEnvelope) => c.type !== 'AddPagerNote' };
    expect(mayHaveTakenEffect(http(status), perCommand, command('CreatePagerAlert'))).toBe(false);
    expect(mayHaveTakenEffect(http(status), perCommand, command('AddPagerNote'))).toBe(true);
    // Asked without the command, a per-command answer cannot be had: look first.
    expect(mayHaveTakenEffect(http(status), perCommand)).toBe(true);
  });
});
