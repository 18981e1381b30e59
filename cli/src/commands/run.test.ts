import { commandLine, runText, TailBuffer, withoutSecrets } from './run';
import { fitText } from './notify-client';

describe('alertbus run', () => {
  it('keeps the last N lines of output as it streams, across chunk boundaries', () => {
    const tail = new TailBuffer(3);
    tail.push('one\ntw');
    tail.push('o\nthree\nfour\nfi');
    expect(tail.text()).toBe('three\nfour\nfi');
    tail.push('ve\n');
    expect(tail.text()).toBe('three\nfour\nfive');
    expect(new TailBuffer(0).text()).toBe('');
  });

  it('writes the command line back as a shell would read it', () => {
    expect(commandLine(['sh', '-c', "echo 'boom'; exit 3"])).toBe(`sh -c 'echo '\\''boom'\\''; exit 3'`);
    expect(commandLine(['./export.sh', '--full', 'a=b'])).toBe('./export.sh --full a=b');
  });

  it('posts command line, host, exit status, duration and the last lines', () => {
    const text = runText({ argv: ['make', 'deploy'], host: 'ci-7', status: 2, durationMs: 83_000, tail: 'error: boom', tailLines: 20 });
    expect(text).toContain('*Command:* `make deploy`');
    expect(text).toContain('*Host:* ci-7');
    expect(text).toContain('*Exit status:* 2');
    expect(text).toContain('*Duration:* 1m23s');
    expect(text).toContain('```\nerror: boom\n```');
    expect(runText({ argv: ['x'], host: 'h', status: 127, note: 'could not start: spawn x ENOENT', durationMs: 3, tail: '', tailLines: 20 })).toContain(
      '*Exit status:* 127 (could not start: spawn x ENOENT)\n*Duration:* 3ms\n*Last 20 lines of output:*\n(no output)',
    );
  });

  it('keeps the end of a text longer than ingest accepts', () => {
    const long = `${'a'.repeat(20_000)}THE END`;
    const fitted = fitText(long, 100);
    expect(Array.from(fitted)).toHaveLength(100);
    expect(fitted.startsWith('…')).toBe(true);
    expect(fitted.endsWith('THE END')).toBe(true);
    expect(fitText('short', 100)).toBe('short');
  });
});

describe('what a run posts leaves out the credentials in its command line and output', () => {
  test.each([
    ["backup.sh --password=hunter2 --verbose", 'backup.sh --password=[redacted] --verbose'],
    ['deploy --api-key abc123 now', 'deploy --api-key [redacted] now'],
    ['GITHUB_TOKEN=ghp_abc123 make', 'GITHUB_TOKEN=[redacted] make'],
    ['curl -H "Authorization: Bearer sk_live_abcdef123456" https://x', 'curl -H "Authorization: Bearer [redacted]" https://x'],
    ['connecting to postgres://app:Sup3rSecret@db/prod', 'connecting to postgres://[redacted]@db/prod'],
    ['posting with xoxb-1111-2222-abcdef', 'posting with [redacted]'],
    ['tokens left: 3 of 10, see the README', 'tokens left: 3 of 10, see the README'],
  ])('%s', (text, posted) => {
    expect(withoutSecrets(text)).toBe(posted);
  });
});

test('--tail 0 posts no output, an unterminated last line included', () => {
  const t = new TailBuffer(0);
  t.push('line 1\nsecret at the end without a newline');
  expect(t.text()).toBe('');
});
