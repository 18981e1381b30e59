import { ConfigError, envUrl, quotableUrl } from './config';

describe('a URL a configuration error quotes is quoted without its credentials', () => {
  test.each([
    ['htp://admin:s3cret@history.example/x', 'htp://[redacted]@history.example/x'],
    ['ftp://history.example/?token=s3cret&x=1', 'ftp://history.example/?[redacted]'],
    ['not a url :s3cret@x?k=s3cret', 'not a url :s3cret@x?[redacted]'],
    ['file:///etc/alertbus', 'file:///etc/alertbus'],
  ])('%s → %s', (raw, quoted) => {
    expect(quotableUrl(raw)).toBe(quoted);
  });

  test('envUrl names the variable and never the password or the query', () => {
    for (const raw of ['htp://admin:s3cret@history.example', 'ftp://h.example/?key=s3cret', 'mailto://u:s3cret@h']) {
      let error: unknown;
      try {
        envUrl({ HISTORY_URL: raw }, 'HISTORY_URL', 'http://127.0.0.1:8090');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^HISTORY_URL must be an http\(s\) URL, got "/);
      expect((error as Error).message).not.toContain('s3cret');
    }
    expect(envUrl({ HISTORY_URL: 'https://u:p@h.example/x?y=1' }, 'HISTORY_URL', 'http://x')).toBe('https://u:p@h.example/x?y=1');
  });
});
