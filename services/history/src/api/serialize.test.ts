import type { TimelineRow } from '@alertbus/projection';
import { timelineJson } from './serialize';

const url = 'https://hooks.zapier.com/hooks/catch/1234567/b9x2kq7Zt4mPq8Ls/';
const row = (type: string, data: unknown) => ({ type, data }) as unknown as TimelineRow;

describe('timeline entries as the API shows them', () => {
  test("a rule's command webhook URL keeps its secret path segment from everyone but admins", () => {
    const call = row('CallCommandWebhook', { url, timeoutMs: 5000, name: 'deploy' });
    expect(timelineJson(call, { admin: false }).data).toEqual({ url: 'https://hooks.zapier.com/hooks/catch/1234567/[redacted]/', timeoutMs: 5000, name: 'deploy' });
    expect(timelineJson(call, { admin: true }).data).toMatchObject({ url });
  });

  test('other events keep their URLs (an alert\'s links are what people click)', () => {
    const opened = row('IncidentOpened', { links: [{ title: 'dashboard', url: 'https://grafana.corp/d/abcdef1234567890xyz/api' }] });
    expect(timelineJson(opened, { admin: false }).data).toEqual({ links: [{ title: 'dashboard', url: 'https://grafana.corp/d/abcdef1234567890xyz/api' }] });
  });
});
