import { Writable } from 'node:stream';
import pino from 'pino';
import { slackLogger } from './slack-web';

/** A pino logger at `level` whose lines are collected. */
function collecting(level: string): { log: pino.Logger; lines: () => Array<{ level: number; msg: string }> } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  return { log: pino({ level }, stream), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('slackLogger', () => {
  it("writes the client's debug lines scrubbed of the token when debug is on", () => {
    const { log, lines } = collecting('debug');
    const slack = slackLogger(log, ['sekrit-token-1234']);
    slack.debug('http request body:', { token: 'sekrit-token-1234', channel: 'C1', auth: 'Bearer xoxb-1-2-3' });
    slack.error('call failed for sekrit-token-1234');
    const got = lines();
    expect(got).toHaveLength(2);
    expect(got[0]!.level).toBe(20);
    expect(got[0]!.msg).toContain('"channel":"C1"');
    expect(got[1]!.level).toBe(40);
    for (const l of got) {
      expect(l.msg).not.toContain('sekrit-token-1234');
      expect(l.msg).not.toContain('xoxb-1-2-3');
    }
  });

  it('does not build (serialise and scrub) a debug line when debug is off, and still writes errors', () => {
    const { log, lines } = collecting('info');
    const slack = slackLogger(log, ['sekrit-token-1234']);
    let serialised = 0;
    const body = {
      toJSON() {
        serialised += 1;
        return { channel: 'C1' };
      },
    };
    slack.debug('http request body:', body);
    slack.info('http response received', body);
    expect(serialised).toBe(0);
    expect(lines()).toEqual([]);
    slack.error('call failed', body);
    expect(serialised).toBe(1);
    expect(lines().map((l) => l.level)).toEqual([40]);
  });
});
