import { DeliveryError } from '@alertbus/common';
import { RateGate } from './rate-gate';

const rateLimited = (retryAfterMs?: number) => new DeliveryError('Slack rate limited the call', false, 429, retryAfterMs);

function refusal(gate: RateGate, method: string, scope?: string): DeliveryError | undefined {
  try {
    gate.check(method, scope);
    return undefined;
  } catch (err) {
    return err as DeliveryError;
  }
}

describe('RateGate', () => {
  let t: number;
  let gate: RateGate;
  beforeEach(() => {
    t = 1_000_000;
    gate = new RateGate(() => t);
  });

  it('holds a method answered 429 until its Retry-After is over, refusing it with the wait left', () => {
    gate.note('chat.postMessage', rateLimited(20_000));
    t += 2_350;
    const held = refusal(gate, 'chat.postMessage');
    expect(held).toBeInstanceOf(DeliveryError);
    expect(held).toMatchObject({ permanent: false, httpStatus: 429, retryAfterMs: 17_650 });
    expect(held!.message).toBe('Slack rate limited chat.postMessage (retry after 18 s): not called again before then');

    t += 17_649;
    expect(refusal(gate, 'chat.postMessage')).toMatchObject({ retryAfterMs: 1 });
    t += 1;
    expect(refusal(gate, 'chat.postMessage')).toBeUndefined();
  });

  it('leaves every other method alone', () => {
    gate.note('chat.postMessage', rateLimited(20_000));
    expect(refusal(gate, 'chat.update')).toBeUndefined();
    expect(refusal(gate, 'conversations.history')).toBeUndefined();
  });

  it('keeps the later end when 429s of calls already under way come back', () => {
    gate.note('chat.update', rateLimited(10_000));
    t += 1_000;
    gate.note('chat.update', rateLimited(5_000));
    expect(refusal(gate, 'chat.update')).toMatchObject({ retryAfterMs: 9_000 });
    gate.note('chat.update', rateLimited(30_000));
    expect(refusal(gate, 'chat.update')).toMatchObject({ retryAfterMs: 30_000 });
  });

  it('holds nothing for other failures, or a 429 without a wait', () => {
    gate.note('chat.postMessage', new DeliveryError('Slack answered HTTP 503', false, 503, 5_000));
    gate.note('chat.postMessage', new DeliveryError('Slack answered ratelimited', false));
    gate.note('chat.postMessage', rateLimited(undefined));
    gate.note('chat.postMessage', rateLimited(0));
    gate.note('chat.postMessage', new Error('boom'));
    expect(refusal(gate, 'chat.postMessage')).toBeUndefined();
    expect(gate.size).toBe(0);
  });

  it('drops a hold once it is over, so it keeps no more entries than methods held', () => {
    gate.note('chat.postMessage', rateLimited(1_000));
    gate.note('conversations.history', rateLimited(3_000));
    expect(gate.size).toBe(2);
    t += 1_000;
    expect(refusal(gate, 'chat.postMessage')).toBeUndefined();
    expect(gate.size).toBe(1);
    t += 5_000;
    gate.note('chat.update', rateLimited(1_000));
    expect(gate.size).toBe(1);
  });

  describe("chat.postMessage's hold, per channel until a second channel is limited too", () => {
    it('holds the channel answered 429 only: another channel posts meanwhile', () => {
      gate.note('chat.postMessage', rateLimited(3_000), 'C0STORM');
      t += 1_000;
      expect(refusal(gate, 'chat.postMessage', 'C0STORM')).toMatchObject({ httpStatus: 429, retryAfterMs: 2_000 });
      expect(refusal(gate, 'chat.postMessage', 'C0STORM')!.message).toBe(
        'Slack rate limited chat.postMessage in C0STORM (retry after 2 s): not called again before then',
      );
      expect(refusal(gate, 'chat.postMessage', 'C0QUIET')).toBeUndefined();
      t += 2_000;
      expect(refusal(gate, 'chat.postMessage', 'C0STORM')).toBeUndefined();
      expect(gate.size).toBe(0);
    });

    it("a second channel answered 429 while the first is held: the workspace's limit, every channel waits for the later end", () => {
      gate.note('chat.postMessage', rateLimited(5_000), 'C0STORM');
      t += 1_000;
      gate.note('chat.postMessage', rateLimited(2_000), 'C0QUIET');
      expect(refusal(gate, 'chat.postMessage', 'C0THIRD')).toMatchObject({ retryAfterMs: 4_000 });
      expect(refusal(gate, 'chat.postMessage', 'C0THIRD')!.message).toBe(
        'Slack rate limited chat.postMessage (retry after 4 s): not called again before then',
      );
      expect(refusal(gate, 'chat.postMessage', 'C0QUIET')).toMatchObject({ retryAfterMs: 4_000 });
      expect(refusal(gate, 'chat.update')).toBeUndefined();
      t += 4_000;
      expect(refusal(gate, 'chat.postMessage', 'C0THIRD')).toBeUndefined();
    });

    it('the same channel answered again, or a channel after the first hold ended, stays a channel hold', () => {
      gate.note('chat.postMessage', rateLimited(1_000), 'C0STORM');
      gate.note('chat.postMessage', rateLimited(3_000), 'C0STORM');
      expect(refusal(gate, 'chat.postMessage', 'C0QUIET')).toBeUndefined();
      t += 3_000;
      gate.note('chat.postMessage', rateLimited(1_000), 'C0QUIET');
      expect(refusal(gate, 'chat.postMessage', 'C0STORM')).toBeUndefined();
      expect(refusal(gate, 'chat.postMessage', 'C0QUIET')).toMatchObject({ retryAfterMs: 1_000 });
    });

    it('a hold of the whole method holds every channel', () => {
      gate.note('chat.postMessage', rateLimited(2_000));
      expect(refusal(gate, 'chat.postMessage', 'C0QUIET')).toMatchObject({ retryAfterMs: 2_000 });
    });
  });
});
