/**
 * The history page in a real browser (Debian's Chromium, driven by playwright-core) over the real service,
 * Kafka and Postgres: the list loads with its chart, a filter narrows it, an incident opens on its timeline;
 * off loopback it asks for a token before it can read. Screenshots go to test-artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Kafka } from 'kafkajs';
import { ensureDatabase } from '@alertbus/common';
import { dropTestDatabase } from '../../../../test/support/db';
import { testBrokers, testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { buildApp } from '../app';
import { startHistory, type HistoryService } from '../index';
import { createHistoryMetrics } from '../metrics';
import { produceStream } from '../testdata/produce';
import { buildStream } from '../testdata/stream';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../../../test-artifacts');
const DAY = 86_400_000;

let kafka: Kafka;
let service: HistoryService;
let browser: Browser;
let page: Page;
const requests: Array<{ method: string; url: string }> = [];
const problems: string[] = [];
// Recent days, so the chart's default window (the last 30 days) shows them.
const stream = buildStream({
  aliases: 36,
  seed: 'ui',
  start: new Date(Math.floor((Date.now() - 12 * DAY) / DAY) * DAY).toISOString(),
  spacingMs: 7 * 3_600_000,
});
// Ingest cut the description of every critical alert: the timeline must say so.
stream.events.forEach((e, i) => {
  if (e.type === 'AlertReceived' && e.data.severity === 'critical') stream.events[i] = { ...e, data: { ...e.data, cut: [{ field: 'description', characters: 12_345 }] } };
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: this test needs a real browser. Install it with ` +
        '`apt-get update && apt-get install -y chromium` (or set CHROMIUM_PATH).',
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-ui');
  await produceStream(kafka, stream.events);
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
  await waitFor(
    async () => Number((await service.pool.query('SELECT count(*) FROM incident_timeline')).rows[0].count) === stream.events.length,
    { what: 'the stream projected' },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
  await dropTestDatabase();
});

const rows = () => page.locator('#incidents tbody tr');

describe('history page', () => {
  it('lists incidents newest first, with a chart of incidents per day', async () => {
    await page.goto(`${service.url}/`);
    await page.waitForSelector('#incidents tbody tr');
    await page.waitForSelector('#chart svg rect.bar', { state: 'attached' });

    const total = [...new Set(stream.aliases.flatMap((a) => a.incidentIds))].length;
    await waitFor(async () => (await page.locator('#list-status').textContent())?.includes(`${total} incidents`), {
      what: 'all incidents listed',
    });
    expect(await rows().count()).toBe(total);
    const bars = await page.locator('#chart svg rect.bar').count();
    expect(bars).toBeGreaterThanOrEqual(28);
    expect(await page.locator('#chart-caption').textContent()).toMatch(new RegExp(`${total} incidents; time to acknowledge median`));
    await page.screenshot({ path: resolve(ARTIFACTS, 'history-list.png'), fullPage: true });
  });

  it('shows what was kept quiet over the list\'s dates, newest first, with the counts by reason', async () => {
    const from = new Date(Date.now() - 14 * DAY).toISOString().slice(0, 10);
    await page.goto(`${service.url}/?from=${from}`);
    await page.waitForSelector('#suppressed tbody tr');
    const api = (await (await fetch(`${service.url}/api/suppressed?from=${from}T00:00:00Z&limit=50`)).json()) as {
      suppressed: Array<{ event_id: string; reason: string }>;
      total: number;
    };
    expect(api.total).toBeGreaterThan(0);
    const shown = await page.locator('#suppressed tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-event'), tr.children[1]!.textContent]));
    expect(shown).toEqual(api.suppressed.map((s) => [s.event_id, s.reason]));
    // "By" names what suppressed it (silence, inhibitor, storm, drop rule); a late copy of a resolved alert was not a rule's doing.
    const by = await page.locator('#suppressed tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[1]!.textContent, tr.children[2]!.textContent]));
    expect(by.filter(([reason]) => reason === 'already-resolved').length).toBeGreaterThan(0);
    for (const [reason, text] of by) if (reason !== 'dropped-by-rule') expect([reason, text]).toEqual([reason, '']);
    expect(await page.locator('#suppressed-status').textContent()).toMatch(new RegExp(`^${api.total} decisions? kept quiet between ${from} 00:00:00 UTC – `));
  });

  it('filters the list', async () => {
    await page.selectOption('select[name=status]', 'resolved');
    await page.fill('input[name=source]', 'grafana');
    await Promise.all([page.waitForURL(/status=resolved/), page.click('#filters button[type=submit]')]);
    await page.waitForSelector('#incidents tbody tr');

    const api = (await (await fetch(`${service.url}/api/incidents?status=resolved&source=grafana&limit=500`)).json()) as {
      incidents: Array<{ incident_id: string }>;
    };
    expect(api.incidents.length).toBeGreaterThan(0);
    const shown = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-incident')));
    expect(shown).toEqual(api.incidents.map((i) => i.incident_id));
    const cells = await rows().evaluateAll((trs) => trs.map((tr) => [tr.children[1]!.textContent, tr.children[4]!.textContent]));
    for (const [status, source] of cells) expect([status, source]).toEqual(['resolved', 'grafana']);
    expect(await page.inputValue('input[name=source]')).toBe('grafana');
  });

  it('opens an incident on its timeline: received → decided → posted/paged → acknowledged → resolved, with who and why', async () => {
    // A paged incident someone acknowledged before it resolved: every stage of the story.
    const list = (await (await fetch(`${service.url}/api/incidents?status=resolved&severity=critical&limit=500`)).json()) as {
      incidents: Array<{ incident_id: string; title: string; acknowledged_by: string | null; acknowledged_by_name: string | null; source: string }>;
    };
    const incident = list.incidents.find((i) => i.acknowledged_by_name !== null)!;
    const name = incident.acknowledged_by_name!;
    const id = incident.acknowledged_by!;
    expect(id).toMatch(/^U0/);
    await page.goto(`${service.url}/?status=resolved&severity=critical`);
    // The list names who acknowledged it; their Slack user id is on hover.
    const acked = page.locator(`tr[data-incident="${incident.incident_id}"] td:nth-child(9) .who`);
    expect([await acked.textContent(), await acked.getAttribute('title')]).toEqual([name, id]);
    await page.click(`tr[data-incident="${incident.incident_id}"] a.title`);
    await page.waitForSelector('#timeline li.event');

    expect(await page.locator('h1').textContent()).toContain(incident.title);
    const types = await page.locator('#timeline li.event').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')));
    expect(types.slice(0, 4)).toEqual(['AlertReceived', 'IncidentOpened', 'CreatePagerAlert', 'PostSlackMessage']);
    expect(types).toEqual(expect.arrayContaining(['SlackMessagePosted', 'PagerAlertCreated', 'IncidentAcknowledged', 'IncidentResolved']));
    expect(await page.locator('#timeline li.event[data-type=IncidentOpened]').textContent()).toMatch(
      /why: first-notification — rule "critical pages" \(rules\[0\]/,
    );
    expect(await page.locator('#timeline li.event[data-type=IncidentAcknowledged]').textContent()).toContain(`acknowledged by ${name} (${id})`);
    expect(await page.locator('#timeline li.event[data-type=AlertReceived]').first().textContent()).toContain(
      'cut by ingest: description 12,345 characters',
    );
    const steps = await page.locator('ol.steps li').evaluateAll((lis) =>
      lis.map((li) => [li.querySelector('strong')!.textContent, li.className, li.querySelector('em')?.textContent ?? null]),
    );
    expect(steps).toEqual([
      ['received', 'done', `ingest/${incident.source}`],
      ['decided', 'done', 'first-notification'],
      ['posted', 'done', expect.stringMatching(/^C0/)],
      ['paged', 'done', expect.stringMatching(/^og-/)],
      ['acknowledged', 'done', name],
      ['resolved', 'done', null],
    ]);
    expect(await page.locator('ol.steps li em .who').getAttribute('title')).toBe(id);
    const facts = page.locator('dl.facts dd .who');
    expect([await facts.textContent(), await facts.getAttribute('title')]).toEqual([name, id]);
    await page.screenshot({ path: resolve(ARTIFACTS, 'history-incident.png'), fullPage: true });
  });

  it('shows a name with markup in it as text', async () => {
    const list = (await (await fetch(`${service.url}/api/incidents?limit=500`)).json()) as {
      incidents: Array<{ incident_id: string; acknowledged_by_name: string | null }>;
    };
    const incident = list.incidents.find((i) => i.acknowledged_by_name === 'bob <b>')!;
    await page.goto(`${service.url}/`);
    const who = page.locator(`tr[data-incident="${incident.incident_id}"] .who`);
    expect(await who.textContent()).toBe('bob <b>');
    expect(await who.locator('b').count()).toBe(0);
  });

  it("shows when the sender says an incident started and ended, where alertbus heard of it later, and measures from there", async () => {
    const list = (await (await fetch(`${service.url}/api/incidents?status=resolved&source=alertmanager&limit=500`)).json()) as {
      incidents: Array<{ incident_id: string; opened_at: string; started_at: string | null; resolved_at: string; ended_at: string | null }>;
    };
    const late = (a: string | null, b: string) => a !== null && Date.parse(b) - Date.parse(a) >= 5 * 60_000;
    const incident = list.incidents.find((i) => late(i.started_at, i.opened_at) && late(i.ended_at, i.resolved_at))!;
    expect(incident).toBeDefined();
    /** As the page writes a duration: "20m 30s". */
    const took = (from: string, to: string) => {
      let sec = Math.round((Date.parse(to) - Date.parse(from)) / 1000);
      const h = Math.floor(sec / 3600);
      sec -= h * 3600;
      const m = Math.floor(sec / 60);
      sec -= m * 60;
      return [h && `${h}h`, m && `${m}m`, (sec || !(h || m)) && `${sec}s`].filter(Boolean).join(' ');
    };
    await page.goto(`${service.url}/?status=resolved&source=alertmanager`);
    const row = page.locator(`tr[data-incident="${incident.incident_id}"]`);
    await row.waitFor();

    expect(await row.locator('td.time .started').textContent()).toBe(`started ${incident.started_at!.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`);
    // The time to resolve in the list runs from the sender's start to the sender's end, as the stats measure it.
    expect(await row.locator('td').nth(9).textContent()).toBe(`after ${took(incident.started_at!, incident.ended_at!)}`);

    await row.locator('a.title').click();
    await page.waitForSelector('#timeline li.event');
    const facts = Object.fromEntries(
      await page.locator('dl.facts dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling!.textContent])),
    );
    expect(facts.Started).toMatch(new RegExp(`as the sender says \\(${took(incident.started_at!, incident.opened_at)} before alertbus opened it\\)$`));
    expect(facts.Ended).toMatch(new RegExp(`as the sender says \\(${took(incident.ended_at!, incident.resolved_at)} before alertbus resolved it\\)$`));
  });

  it('serves the API documentation at /docs, rendered from this server alone', async () => {
    await page.goto(`${service.url}/docs`);
    await page.waitForSelector('.swagger-ui .info .title');

    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('alertbus history');
    expect(await page.locator('.opblock-summary-path').allTextContents()).toEqual(expect.arrayContaining(['/api/incidents', '/api/stats']));
    await page.screenshot({ path: resolve(ARTIFACTS, 'history-docs.png') });
  });

  it('only ever reads: GET requests to this server, nothing from anywhere else, no errors', async () => {
    expect(requests.length).toBeGreaterThan(5);
    for (const r of requests) {
      expect(r.method).toBe('GET');
      expect(r.url.startsWith(`${service.url}/`)).toBe(true);
    }
    expect(await page.locator('form[method=post], button[formmethod=post]').count()).toBe(0);
    expect(problems).toEqual([]);
  });
});

describe('history page off loopback', () => {
  const VIEWER = { name: 'wall-screen', role: 'viewer' as const, token: 'ui-e2e-viewer-token-5e2a1' };
  let exposed: ReturnType<typeof buildApp>;
  let url: string;

  beforeAll(async () => {
    // The same projection served as a deployment would, on every interface: reads need a token there.
    exposed = buildApp({ pool: service.pool, registry: createHistoryMetrics().registry, ready: async () => null, auth: { tokens: [VIEWER], readsOpen: false } });
    await exposed.listen({ host: '0.0.0.0', port: 0 });
    url = `http://127.0.0.1:${(exposed.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await exposed?.close();
  });

  it('asks for a viewer token, reads with it (GET only), and forgets it on request', async () => {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const sent: Array<{ method: string; url: string; authorization?: string }> = [];
    tab.on('request', (r) => sent.push({ method: r.method(), url: r.url(), authorization: r.headers().authorization }));
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));

    await tab.goto(`${url}/`);
    await tab.waitForSelector('#token-form:not([hidden])');
    expect(await tab.locator('#token-reason').textContent()).toContain('needs a token with role viewer or higher');
    expect(await tab.locator('#incidents tbody tr').count()).toBe(0);
    await tab.screenshot({ path: resolve(ARTIFACTS, 'history-token.png') });

    await tab.fill('#token-form input[name=token]', VIEWER.token);
    await Promise.all([tab.waitForEvent('load'), tab.click('#token-form button[type=submit]')]);
    await tab.waitForSelector('#incidents tbody tr');
    expect(await tab.locator('#token-form').isHidden()).toBe(true);
    expect(await tab.locator('#forget-token').isVisible()).toBe(true);

    const api = sent.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(2);
    expect(api.filter((r) => r.authorization === `Bearer ${VIEWER.token}`).length).toBeGreaterThan(0);
    expect(sent.every((r) => r.method === 'GET' && r.url.startsWith(`${url}/`))).toBe(true);

    await Promise.all([tab.waitForEvent('load'), tab.click('#forget-token')]);
    await tab.waitForSelector('#token-form:not([hidden])');
    expect(errors).toEqual([]);
    await tab.close();
  });
});
