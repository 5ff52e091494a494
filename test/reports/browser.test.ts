import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/cli/report.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/app.js';
import { refreshDerivedViews } from '../../src/db/views.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { startSimulator } from '../../src/sim/index.js';
import { failures, syncWith, tempDbPath } from '../helpers/mirror.js';

/*
 * The reports page in a real headless Chromium (Debian's package). Skipped only on a developer
 * machine without it; in CI (.ci/run installs it) a missing browser fails the run.
 */
const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present && !process.env.CI) console.warn(`reports browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium); it runs in CI`);
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const HOSTILE_TAG = '<img src=x onerror="window.__pwned=1">';

interface ChartState {
  id: string;
  labels: number;
  points: number;
}

describe.skipIf(!present && !process.env.CI)('reports page in Chromium', () => {
  const db = tempDbPath('ls-report-');
  let browser: BrowserContext;
  let profile: string;
  let dashboard: Dashboard | undefined;

  beforeAll(async () => {
    const sim = await startSimulator({ seed: 12, people: 150 });
    try {
      const { result, mirror } = await syncWith(sim, db.path);
      expect(failures(result)).toEqual([]);
      // User data reaches the page: a tag and a stream error that are markup.
      const someone = mirror.sqlite.prepare('SELECT id FROM people WHERE deleted_at IS NULL LIMIT 1').pluck().get() as string;
      for (const id of mirror.sqlite.prepare('SELECT id FROM people WHERE deleted_at IS NULL LIMIT 40').pluck().all() as string[]) {
        mirror.sqlite.prepare('INSERT OR IGNORE INTO person_tags (person_id, tag) VALUES (?, ?)').run(id, HOSTILE_TAG);
      }
      expect(someone).toBeTruthy();
      mirror.sqlite.prepare("UPDATE sync_runs SET error = '<script>window.__pwned=2</script>' WHERE id = (SELECT max(id) FROM sync_runs)").run();
      refreshDerivedViews(mirror);
      mirror.close();
    } finally {
      await sim.close();
    }
    profile = mkdtempSync(join(tmpdir(), 'ls-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1500 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    });
  }, 180_000);

  afterAll(async () => {
    await dashboard?.close();
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    db.cleanup();
  });

  async function open(url: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    return { page, errors, requests };
  }

  // Strings, not functions: the tests compile without the DOM's types. Chart.js keeps every live chart in Chart.instances.
  const charts = (page: Page) =>
    page.evaluate(`Object.values(Chart.instances).map((c) => ({
      id: c.canvas.id,
      labels: (c.data.labels || []).length,
      points: c.data.datasets.reduce((a, d) => a + d.data.filter((v) => typeof v === 'number' && v > 0).length, 0),
    }))`) as Promise<ChartState[]>;

  async function checkPage(url: string, screenshot: string) {
    const { page, errors, requests } = await open(url);
    try {
      expect(errors).toEqual([]);
      // Nothing but the page itself is fetched: the library is inline, nothing comes from a CDN.
      expect(requests).toEqual([url]);
      await page.click('nav button[data-range="all"]');
      const all = await charts(page);
      expect(all.map((c) => c.id).sort()).toEqual(['chart-messages', 'chart-orders', 'chart-people', 'chart-revenue', 'chart-streams', 'chart-tags']);
      for (const c of all) expect(c.points, `${c.id} has drawn data points`).toBeGreaterThan(0);
      // Every chart also drew: its canvas holds pixels that are not blank.
      const drawn = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((cv) => {
        const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        let painted = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
        return painted;
      })`)) as number[];
      expect(drawn.length).toBe(6);
      for (const n of drawn) expect(n).toBeGreaterThan(100);

      await page.click('nav button[data-range="7"]');
      const week = await charts(page);
      const byId = (list: ChartState[], id: string) => list.find((c) => c.id === id)!;
      expect(byId(week, 'chart-messages').labels).toBe(7);
      expect(byId(all, 'chart-messages').labels).toBeGreaterThan(90);
      expect(byId(week, 'chart-messages').points).toBeLessThan(byId(all, 'chart-messages').points);
      expect(byId(week, 'chart-messages').points).toBeGreaterThan(0); // the simulator's activity is recent
      await page.click('nav button[data-range="90"]');
      expect(byId(await charts(page), 'chart-people').labels).toBe(90);
      expect(await page.getAttribute('body', 'data-shown')).toBe('90');

      // Escaped: the hostile tag and error are text, never markup.
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await page.textContent('#streams')).toContain('<script>window.__pwned=2</script>');
      const tagLabels = (await page.evaluate(`Chart.getChart('chart-tags').data.labels`)) as string[];
      expect(tagLabels).toContain(HOSTILE_TAG);
      expect(errors).toEqual([]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.click('nav button[data-range="30"]');
      await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
    } finally {
      await page.close();
    }
  }

  it('report --out: the file opens offline, every chart has data, ranges switch', async () => {
    const out = await writeReport(db.path, join(ARTIFACTS, 'report.html'), '30');
    await checkPage(pathToFileURL(out).href, 'report.png');
  }, 120_000);

  it('/reports on the dashboard serves the same page', async () => {
    dashboard = await startDashboard({
      env: { DASHBOARD_HOST: '127.0.0.1', DASHBOARD_PORT: 0, DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined },
      mirrorPath: db.path,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: silentLogger,
    });
    await checkPage(`http://127.0.0.1:${dashboard.port}/reports?range=7`, 'report-dashboard.png');
  }, 120_000);
});
