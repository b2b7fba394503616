// Accessibility (axe-core, WCAG 2.1 AA) of the open data tables in headless Chromium: the list,
// a table with its chart, a point table whose static map becomes the interactive Leaflet map,
// the interactive budget, a wrong parameter, and the Redaktion's staff pages. Also checks that
// no page breaks the CSP or logs an error. Starts its own `kreishaus serve --demo`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer,
  launchBrowser,
  installCspRecorder,
  cspViolations,
  watchConsole,
  runAxe,
  formatViolations,
  screenshot,
  login,
} from './helpers.mjs';

const DESKTOP = { width: 1280, height: 900 };
const MOBILE = { width: 375, height: 812 };
const TEST_TIMEOUT = 120_000;
const EDITOR = 'redaktion@kreis-auenthal.example';

describe('open data tables: accessibility and the interactive map', { timeout: 10 * 60_000 }, () => {
  let server;
  let browser;
  const contexts = {};
  /** Table ids by title, from the public list of the data API. */
  const tables = {};

  async function newContext(name, email) {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'de-DE' });
    context.setDefaultTimeout(30_000);
    await installCspRecorder(context);
    if (email) {
      const page = await context.newPage();
      await login(page, server.baseUrl, email, server.password);
      await page.close();
    }
    contexts[name] = context;
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    await newContext('anonymous');
    await newContext('editor', EDITOR);
    const list = await (await fetch(`${server.baseUrl}/api/v1/data`)).json();
    for (const item of list.items) tables[item.title] = item.id;
    assert.equal(list.items.length, 5, 'the demo loads five data tables');
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  /** Opens a page, brings it to the state under test, then runs axe and checks CSP and console. */
  async function checkPage({ context = 'anonymous', path, status = 200, viewport = DESKTOP, shot, then }) {
    const page = await contexts[context].newPage();
    await page.setViewportSize(viewport);
    const watcher = watchConsole(page);
    try {
      const url = `${server.baseUrl}${path}`;
      if (status !== 200) watcher.expectStatus(url);
      const response = await page.goto(url);
      assert.equal(response.status(), status, `HTTP status of ${path}`);
      await page.waitForLoadState('load');
      if (then) await then(page);
      if (shot) await screenshot(page, shot);
      const results = await runAxe(page);
      assert.equal(results.violations.length, 0, `axe-core on ${path}:\n${formatViolations(results.violations)}`);
      assert.deepEqual(await cspViolations(page), [], `CSP violations on ${path}`);
      assert.deepEqual(watcher.problems, [], `console errors on ${path}:\n${watcher.problems.join('\n')}`);
    } finally {
      await page.close();
    }
  }

  /** Waits until the static map has become the interactive one with every point drawn. */
  async function interactiveMap(page, points) {
    await page.locator('.kh-map--live .leaflet-container').waitFor();
    await page.locator('.kh-map-live path.leaflet-interactive').nth(points - 1).waitFor();
    assert.equal(await page.locator('.kh-map--live > svg').isVisible(), false, 'the static map gives way');
  }

  test('list of data tables /datentabellen', { timeout: TEST_TIMEOUT }, () =>
    checkPage({ path: '/datentabellen', shot: 'datastore-list-desktop' }));

  test('dataset page links its table, API and CSV /daten/kreis/schulen', { timeout: TEST_TIMEOUT }, () =>
    checkPage({
      path: '/daten/kreis/schulen',
      then: async (page) => {
        const id = tables.Schulen;
        assert.ok(await page.locator(`a[href$="/datentabellen/${id}"]`).count(), 'links the preview');
        assert.ok(await page.locator(`a[href$="/api/v1/data/${id}.csv"]`).count(), 'links the CSV');
      },
    }));

  test('table with a bar chart of pupils per municipality', { timeout: TEST_TIMEOUT }, () =>
    checkPage({
      path: `/datentabellen/${tables.Schulen}?diagramm_x=gemeinde&diagramm_y=sum:schueler&diagramm_art=bar`,
      shot: 'datastore-chart-desktop',
      then: async (page) => {
        await page.locator('figure.kh-chart svg').waitFor();
        assert.ok(await page.locator('figure.kh-chart figcaption table tr').count() >= 8, 'the chart has its figures as a table');
      },
    }));

  test('point data: the static map becomes an interactive map with a popup per point', { timeout: TEST_TIMEOUT }, () =>
    checkPage({
      path: `/datentabellen/${tables.Wahllokale}`,
      shot: 'datastore-map-desktop',
      then: async (page) => {
        const geo = await (await fetch(`${server.baseUrl}/api/v1/data/${tables.Wahllokale}.geojson?limit=10000`)).json();
        await interactiveMap(page, geo.features.length);
        // A click on a point opens its values; the zoom buttons and the keyboard move the map.
        await page.locator('.kh-map-live path.leaflet-interactive').first().click();
        await page.locator('.leaflet-popup .kh-map-popup th', { hasText: 'wahlbezirk' }).waitFor();
        await page.locator('.leaflet-popup-close-button').click();
        await page.locator('.leaflet-control-zoom-in').click();
        await page.locator('.kh-map-live').focus();
        await page.keyboard.press('-');
      },
    }));

  test('point data on a phone', { timeout: TEST_TIMEOUT }, () =>
    checkPage({
      path: `/datentabellen/${tables.Schulen}`,
      viewport: MOBILE,
      shot: 'datastore-map-mobile',
      then: (page) => page.locator('.kh-map--live .leaflet-container').waitFor(),
    }));

  test('interactive budget: drill down from income and expenses to product', { timeout: TEST_TIMEOUT }, () =>
    checkPage({
      path: `/datentabellen/${tables['Haushalt des Kreises nach Produktbereichen']}/aufschluesselung?ebenen=art,produktbereich,produkt&wert=ansatz_eur`,
      shot: 'datastore-budget-desktop',
      then: async (page) => {
        await Promise.all([page.waitForNavigation(), page.locator('figcaption a', { hasText: 'Aufwendungen' }).click()]);
        await Promise.all([page.waitForNavigation(), page.locator('figcaption a', { hasText: '05 Soziale Leistungen' }).click()]);
        assert.ok(await page.locator('figcaption th', { hasText: '05.01 Grundsicherung' }).count(), 'down to the products');
      },
    }));

  test('a wrong parameter gives a page that says what is wrong (422)', { timeout: TEST_TIMEOUT }, () =>
    checkPage({
      path: `/datentabellen/${tables.Schulen}?sort=farbe`,
      status: 422,
      then: async (page) => assert.ok((await page.content()).includes('Diese Spalte gibt es in der Tabelle nicht.')),
    }));

  test('staff list of data tables with the upload form', { timeout: TEST_TIMEOUT }, () =>
    checkPage({ context: 'editor', path: '/verwaltung/mandanten/kreis/datentabellen', shot: 'datastore-staff-list-desktop' }));

  test('staff page of a table: import state, column types and counts', { timeout: TEST_TIMEOUT }, () =>
    checkPage({
      context: 'editor',
      path: `/verwaltung/mandanten/kreis/datentabellen/${tables.Schuleingangsuntersuchungen}`,
      shot: 'datastore-staff-table-desktop',
      then: async (page) => {
        const text = await page.locator('main').innerText();
        assert.ok(text.includes('Fertig eingelesen'), 'the import state in plain words');
        assert.ok(await page.locator('input[name^="zahl_"]:checked').count() === 2, 'two count columns');
      },
    }));
});
