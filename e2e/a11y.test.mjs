// End-to-end accessibility suite (WCAG 2.1 AA / BITV 2.0) for the server-rendered pages of
// Kreishaus, in real headless Chromium with axe-core. Builds nothing: it starts the binary from
// KREISHAUS_BIN (default ../target/debug/kreishaus) with the demo county on a free port.
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

const PLATFORM_ADMIN = 'it@kreis-auenthal.example';
const MUNICIPALITY_ADMIN = 'verwaltung@lindenbach.example';
const CLERK = 'sachbearbeitung@lindenbach.example';
/** Failed logins lock an account for a while: use one that no other test logs in with. */
const WRONG_LOGIN = { email: 'sachbearbeitung@hohenmoor.example', password: 'definitely-not-the-password' };

describe('Kreishaus accessibility (axe-core, WCAG 2.1 AA)', { timeout: 15 * 60_000 }, () => {
  let server;
  let browser;
  /** Contexts by name: each has its own cookies (session, language). */
  const contexts = {};
  /** axe-core's "incomplete" results (needs review), reported after the run. */
  const axeNeedsReview = [];

  async function newContext(name, { email, lang, colorScheme = 'light' } = {}) {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'de-DE', colorScheme });
    context.setDefaultTimeout(30_000);
    context.setDefaultNavigationTimeout(30_000);
    await installCspRecorder(context);
    if (lang) {
      const page = await context.newPage();
      await page.goto(`${server.baseUrl}/sprache/${lang}?zurueck=/`);
      await page.close();
    }
    if (email) {
      const page = await context.newPage();
      await login(page, server.baseUrl, email, server.password);
      await page.close();
    }
    contexts[name] = context;
    return context;
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    await newContext('anonymous');
    await newContext('platformAdmin', { email: PLATFORM_ADMIN });
    await newContext('municipalityAdmin', { email: MUNICIPALITY_ADMIN });
    await newContext('clerk', { email: CLERK });
    await newContext('english', { lang: 'en', email: PLATFORM_ADMIN });
    await newContext('dark', { email: PLATFORM_ADMIN, colorScheme: 'dark' });
  });

  after(async () => {
    if (axeNeedsReview.length > 0) {
      console.log(`axe-core could not decide ${axeNeedsReview.length} check(s); review them by hand:\n  ${[...new Set(axeNeedsReview)].join('\n  ')}`);
    }
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  /**
   * Open a page in a context, let `visit` bring it to the state under test, then check it:
   * expected HTTP status, axe-core without violations, no console error, no CSP violation.
   */
  async function checkPage({ context, visit, status = 200, shot, viewport = DESKTOP }) {
    const page = await contexts[context].newPage();
    await page.setViewportSize(viewport);
    const watcher = watchConsole(page);
    try {
      const response = await visit(page, watcher);
      assert.ok(response, 'no response for the document');
      assert.equal(response.status(), status, `HTTP status of ${page.url()}`);
      await page.waitForLoadState('load');
      await page.evaluate(() => document.fonts.ready);
      if (shot) await screenshot(page, shot);

      await assertNoAxeViolations(page);
      // Without a declared icon the browser asks for /favicon.ico, gets a 404 and logs an error.
      assert.equal(await page.locator('head link[rel~="icon"]').count(), 1, 'the page declares no icon');
      const csp = await cspViolations(page);
      assert.deepEqual(csp, [], `CSP violations on ${page.url()}:\n${csp.join('\n')}`);
      assert.deepEqual(watcher.problems, [], `console errors on ${page.url()}:\n${watcher.problems.join('\n')}`);
    } finally {
      await page.close();
    }
  }

  async function assertNoAxeViolations(page, label = '') {
    const results = await runAxe(page);
    // "Incomplete" means axe could not decide (e.g. the background behind a text): a person has to
    // look. They do not fail the suite, but they are listed at the end of the run.
    for (const v of results.incomplete) {
      for (const n of v.nodes) {
        axeNeedsReview.push(`${new URL(page.url()).pathname}${label}: ${v.id} ${JSON.stringify(n.target)} ${(n.any[0] && n.any[0].message) || ''}`);
      }
    }
    assert.equal(
      results.violations.length,
      0,
      `axe-core found ${results.violations.length} violation(s) on ${page.url()}${label}:\n${formatViolations(results.violations)}`,
    );
  }

  const goto = (path) => (page) => page.goto(`${server.baseUrl}${path}`);

  /** Submit the form whose action is `action` (empty or as filled) and wait for the answer. */
  async function submit(page, action) {
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.locator(`form[action="${action}"] button[type="submit"]`).click(),
    ]);
    return response;
  }

  describe('axe-core on every page', () => {
    test('start page /', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/'), shot: 'start-desktop' }));

    test('page for invoice senders /e-rechnung', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/e-rechnung?leitweg_id=05999000-RE1-17'), shot: 'einvoice-senders-desktop' }));

    test('page for invoice senders with a wrong Leitweg-ID /e-rechnung?leitweg_id=…', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/e-rechnung?leitweg_id=05999000-RE1-18'), shot: 'einvoice-senders-error-desktop' }));

    test('search results /leistungen?q=perso+beantragen&gemeinde=59910', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/leistungen?q=perso+beantragen&gemeinde=59910'), shot: 'search-desktop' }));

    test('search with an unknown postcode /leistungen?q=hund&gemeinde=10115', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/leistungen?q=hund&gemeinde=10115'), shot: 'search-unknown-place-desktop' }));

    test('service page /leistungen/personalausweis-beantragen?gemeinde=lindenbach', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/leistungen/personalausweis-beantragen?gemeinde=lindenbach'), shot: 'service-desktop' }));

    test('service page with fees, documents, office and links /leistungen/kfz-ausserbetriebsetzung', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/leistungen/kfz-ausserbetriebsetzung'), shot: 'service-details-desktop' }));

    test('life situation /lebenslagen/mobilitaet', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/lebenslagen/mobilitaet'), shot: 'life-situation-desktop' }));

    test('business situation for a municipality /unternehmenslagen/gruendung?gemeinde=lindenbach', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/unternehmenslagen/gruendung?gemeinde=lindenbach'), shot: 'business-situation-desktop' }));

    test('event list /veranstaltungen', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/veranstaltungen'), shot: 'events-desktop' }));

    test('event list filtered to the fully booked training /veranstaltungen?kategorie=fortbildung', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'anonymous',
        shot: 'events-training-desktop',
        visit: async (page) => {
          const response = await page.goto(`${server.baseUrl}/veranstaltungen?kategorie=fortbildung`);
          assert.ok((await page.content()).includes('Ausgebucht'), 'the demo training is fully booked');
          return response;
        },
      }));

    test('event page with registration form (fully booked: waiting list)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'anonymous',
        shot: 'event-desktop',
        visit: async (page) => {
          await page.goto(`${server.baseUrl}/veranstaltungen?kategorie=fortbildung`);
          const [response] = await Promise.all([
            page.waitForNavigation(),
            page.locator('.kh-result h2 a').first().click(),
          ]);
          await page.locator('form[action$="/anmeldung"]').waitFor();
          return response;
        },
      }));

    test('event registration with errors (422, error summary)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'anonymous',
        status: 422,
        shot: 'event-errors-desktop',
        visit: async (page, watcher) => {
          await page.goto(`${server.baseUrl}/veranstaltungen?kategorie=fortbildung`);
          await Promise.all([page.waitForNavigation(), page.locator('.kh-result h2 a').first().click()]);
          watcher.expectStatus(`${page.url()}/anmeldung`);
          const [response] = await Promise.all([
            page.waitForNavigation(),
            page.locator('form[action$="/anmeldung"] button[type="submit"]').click(),
          ]);
          await page.locator('#fehler').waitFor();
          return response;
        },
      }));

    test('news list /aktuelles', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/aktuelles'), shot: 'news-desktop' }));

    test('news item', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'anonymous',
        shot: 'news-item-desktop',
        visit: async (page) => {
          await page.goto(`${server.baseUrl}/aktuelles`);
          const [response] = await Promise.all([page.waitForNavigation(), page.locator('.kh-result h2 a').first().click()]);
          return response;
        },
      }));

    test('online form, first step /antrag/kreis/reitkennzeichen', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/antrag/kreis/reitkennzeichen'), shot: 'form-step-desktop' }));

    test('online form with errors (422, error summary linked to the fields)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'anonymous',
        status: 422,
        shot: 'form-errors-desktop',
        visit: async (page, watcher) => {
          await page.goto(`${server.baseUrl}/antrag/kreis/reitkennzeichen`);
          const action = await page.locator('form.kh-form').getAttribute('action');
          watcher.expectStatus(`${server.baseUrl}${action}`);
          const [response] = await Promise.all([
            page.waitForNavigation(),
            page.locator('button[name="aktion"][value="weiter"]').click(),
          ]);
          await page.locator('#fehler').waitFor();
          return response;
        },
      }));

    test('application status page /antrag/status', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/antrag/status'), shot: 'form-status-desktop' }));

    test('content page /seiten/impressum', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/seiten/impressum'), shot: 'imprint-desktop' }));

    test('search results with news, events and pages /leistungen?q=wohngeld', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/leistungen?q=wohngeld'), shot: 'search-content-desktop' }));

    test('content editor /verwaltung/inhalte/kreis', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/inhalte/kreis'), shot: 'content-editor-desktop' }));

    test('event editor /verwaltung/inhalte/kreis/veranstaltungen/neu', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/inhalte/kreis/veranstaltungen/neu'), shot: 'event-editor-desktop' }));

    test('open data portal /daten', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/daten?q=schule'), shot: 'opendata-desktop' }));

    test('open dataset /daten/kreis/kfz-bestand', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/daten/kreis/kfz-bestand'), shot: 'opendata-dataset-desktop' }));

    test('dataset editor /verwaltung/mandanten/kreis/daten/kfz-bestand', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis/daten/kfz-bestand'), shot: 'opendata-editor-desktop' }));

    test('dataset list with a refused new dataset (422, error summary)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        status: 422,
        shot: 'opendata-new-error-desktop',
        visit: async (page, watcher) => {
          watcher.expectStatus(`${server.baseUrl}/verwaltung/mandanten/kreis/daten`);
          await page.goto(`${server.baseUrl}/verwaltung/mandanten/kreis/daten`);
          await page.locator('#f-title').fill('Radwege');
          const response = await submit(page, '/verwaltung/mandanten/kreis/daten');
          await page.locator('#fehler').waitFor();
          return response;
        },
      }));

    test('search suggestions appear while typing (script under the CSP)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'anonymous',
        shot: 'suggest-desktop',
        visit: async (page) => {
          const response = await page.goto(`${server.baseUrl}/`);
          await page.locator('#f-q').pressSequentially('perso', { delay: 30 });
          await page.locator('#f-q-vorschlaege option').first().waitFor({ state: 'attached' });
          const first = await page.locator('#f-q-vorschlaege option').first().getAttribute('value');
          assert.equal(first, 'Personalausweis beantragen');
          return response;
        },
      }));

    test('login page /anmelden', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'anonymous', visit: goto('/anmelden'), shot: 'login-desktop' }));

    test('login page after a wrong password (422, error summary)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'anonymous',
        status: 422,
        shot: 'login-error-desktop',
        visit: async (page, watcher) => {
          watcher.expectStatus(`${server.baseUrl}/anmelden`);
          await page.goto(`${server.baseUrl}/anmelden`);
          await page.locator('#f-email').fill(WRONG_LOGIN.email);
          await page.locator('#f-password').fill(WRONG_LOGIN.password);
          const response = await submit(page, '/anmelden');
          await page.locator('#fehler').waitFor();
          return response;
        },
      }));

    test('404 page for an unknown path', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'anonymous',
        status: 404,
        shot: 'not-found-desktop',
        visit: (page, watcher) => {
          const url = `${server.baseUrl}/gibt-es-nicht`;
          watcher.expectStatus(url);
          return page.goto(url);
        },
      }));

    test('account page /konto', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/konto'), shot: 'account-desktop' }));

    test('admin home /verwaltung', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung'), shot: 'admin-desktop' }));

    test('tenants /verwaltung/mandanten', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten'), shot: 'tenants-desktop' }));

    test('tenants after submitting the new-tenant form empty (422, field errors)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        status: 422,
        shot: 'tenants-errors-desktop',
        visit: async (page, watcher) => {
          watcher.expectStatus(`${server.baseUrl}/verwaltung/mandanten`);
          await page.goto(`${server.baseUrl}/verwaltung/mandanten`);
          const response = await submit(page, '/verwaltung/mandanten');
          await page.locator('#fehler').waitFor();
          assert.ok(await page.locator('[aria-invalid="true"]').count() > 0, 'no field is marked aria-invalid');
          return response;
        },
      }));

    test('account page after submitting the password form empty (field errors)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        status: 422,
        shot: 'account-errors-desktop',
        visit: async (page, watcher) => {
          watcher.expectStatus(`${server.baseUrl}/konto/passwort`);
          await page.goto(`${server.baseUrl}/konto`);
          const response = await submit(page, '/konto/passwort');
          await page.locator('#fehler').waitFor();
          return response;
        },
      }));

    test('staff list after submitting the new-account form empty (field errors)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        status: 422,
        shot: 'staff-errors-desktop',
        visit: async (page, watcher) => {
          const path = '/verwaltung/mandanten/kreis/beschaeftigte';
          watcher.expectStatus(`${server.baseUrl}${path}`);
          await page.goto(`${server.baseUrl}${path}`);
          const response = await submit(page, path);
          await page.locator('#fehler').waitFor();
          return response;
        },
      }));

    test('tenant page /verwaltung/mandanten/kreis', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis'), shot: 'tenant-desktop' }));

    test('staff list /verwaltung/mandanten/kreis/beschaeftigte', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis/beschaeftigte'), shot: 'staff-desktop' }));

    /** Visits a list page, then the first link in its table whose address starts with `prefix`. */
    const firstTableLink = (listPath, prefix) => async (page) => {
      await page.goto(`${server.baseUrl}${listPath}`);
      const href = await page.locator(`table a[href^="${prefix}"]`).first().getAttribute('href');
      assert.ok(href, `no link to ${prefix}… on ${listPath}`);
      return page.goto(`${server.baseUrl}${href}`);
    };

    test('staff detail /verwaltung/mandanten/kreis/beschaeftigte/<id>', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        shot: 'staff-detail-desktop',
        visit: firstTableLink('/verwaltung/mandanten/kreis/beschaeftigte', '/verwaltung/mandanten/kreis/beschaeftigte/'),
      }));

    test('org unit /verwaltung/mandanten/kreis/organisationseinheiten/<id>', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        shot: 'org-unit-desktop',
        visit: firstTableLink('/verwaltung/mandanten/kreis', '/verwaltung/mandanten/kreis/organisationseinheiten/'),
      }));

    test('catalogue with maturity overview /verwaltung/mandanten/kreis/leistungen', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis/leistungen'), shot: 'catalogue-desktop' }));

    test('service editor /verwaltung/mandanten/kreis/leistungen/wohngeld', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis/leistungen/wohngeld'), shot: 'service-editor-desktop' }));

    test('search synonyms /verwaltung/suche/synonyme', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/suche/synonyme'), shot: 'synonyms-desktop' }));

    test('search synonyms after trying a search and after a broken rule (422)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        status: 422,
        shot: 'synonyms-errors-desktop',
        visit: async (page, watcher) => {
          const path = '/verwaltung/suche/synonyme';
          await page.goto(`${server.baseUrl}${path}`);
          await page.locator('#f-test').fill('perso');
          await Promise.all([page.waitForNavigation(), page.locator('button[value="testen"]').click()]);
          await page.locator('#tried-heading').waitFor();
          await assertNoAxeViolations(page, ' (with a tried search)');
          watcher.expectStatus(`${server.baseUrl}${path}`);
          await page.locator('#f-rules').fill('perso => personalausweis\nohne pfeil');
          const [response] = await Promise.all([page.waitForNavigation(), page.locator('button[value="speichern"]').click()]);
          await page.locator('#fehler').waitFor();
          return response;
        },
      }));

    test('invoice inbox /verwaltung/mandanten/kreis/rechnungen', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis/rechnungen'), shot: 'invoices-desktop' }));

    test('invoice with rendering and workflow /verwaltung/mandanten/kreis/rechnungen/<id>', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        shot: 'invoice-desktop',
        visit: firstTableLink('/verwaltung/mandanten/kreis/rechnungen', '/verwaltung/mandanten/kreis/rechnungen/'),
      }));

    test('invoice with a proposed assignment (after assigning another invoice of the seller)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        shot: 'invoice-suggestion-desktop',
        visit: async (page) => {
          const inbox = '/verwaltung/mandanten/kreis/rechnungen';
          await page.goto(`${server.baseUrl}${inbox}`);
          const links = await page.locator(`table a[href^="${inbox}/"]`).evaluateAll((as) => as.map((a) => a.getAttribute('href')));
          assert.ok(links.length >= 2, 'the demo has at least two invoices of one seller');
          // Assign the whole total of one invoice to one line.
          await page.goto(`${server.baseUrl}${links[0]}`);
          const form = page.locator('form:has(input[name="aktion"][value="kontierung"])');
          const amounts = (await form.locator('p').first().textContent()).match(/-?[\d.]+,\d{2}/g);
          await page.locator('#f-zeile1_konto').fill('542100');
          await page.locator('#f-zeile1_kostenstelle').fill('3600');
          await page.locator('#f-zeile1_produkt').fill('1.12.01');
          await page.locator('#f-zeile1_betrag').fill(amounts[amounts.length - 1]);
          await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
          assert.equal(await page.locator('.kern-input--error, .kern-error').count(), 0, 'the assignment was refused');
          // Another invoice of the same seller now proposes that assignment.
          const response = await page.goto(`${server.baseUrl}${links[1]}`);
          assert.equal(await page.locator('.kern-alert--info').count(), 1, 'no proposed assignment shown');
          assert.equal(await page.locator('#f-zeile1_konto').inputValue(), '542100');
          return response;
        },
      }));

    test('invoice inbox searched, open ones, nearest deadline first', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        shot: 'invoices-search-desktop',
        visit: goto('/verwaltung/mandanten/kreis/rechnungen?suche=e&status=offen&sortierung=frist'),
      }));

    test('invoice forwarded to another org unit, with its hand-over shown', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        shot: 'invoice-forwarded-desktop',
        visit: async (page) => {
          const inbox = '/verwaltung/mandanten/kreis/rechnungen';
          await page.goto(`${server.baseUrl}${inbox}?status=received`);
          const links = await page.locator(`table a[href^="${inbox}/"]`).evaluateAll((as) => as.map((a) => a.getAttribute('href')));
          const invoice = links[links.length - 1];
          await page.goto(`${server.baseUrl}${invoice}`);
          await page.locator('#f-einheit').selectOption({ label: 'Jugendamt' });
          await page.locator('#f-hinweis').fill('Bestellung des Jugendamts');
          const form = page.locator('form:has(input[name="aktion"][value="weiterleiten"])');
          await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
          assert.ok(page.url().endsWith(inbox), `back to the inbox, not ${page.url()}`);
          const response = await page.goto(`${server.baseUrl}${invoice}`);
          assert.match(await page.locator('#unit-heading + p').textContent(), /Jugendamt/);
          assert.equal(await page.locator('section[aria-labelledby="unit-heading"] ol li').count(), 1, 'the hand-over is listed');
          return response;
        },
      }));

    test('paper invoice capture refused, every field to correct named', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        status: 422,
        shot: 'capture-refused-desktop',
        visit: async (page, watcher) => {
          await page.goto(`${server.baseUrl}/verwaltung/mandanten/kreis/rechnungen/erfassen`);
          const form = page.locator('form[action*="/erfassen"]');
          watcher.expectStatus(`${server.baseUrl}${await form.getAttribute('action')}`);
          await page.locator('#f-betrag').fill('0');
          const [response] = await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
          assert.ok(await page.locator('#fehler li').count() >= 5, 'unit, scan, seller, number, date and amount are named');
          assert.equal(await page.locator('#f-betrag').getAttribute('aria-invalid'), 'true');
          return response;
        },
      }));

    test('paper invoice captured from its scan, then shown with the typed facts', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        shot: 'capture-done-desktop',
        visit: async (page) => {
          await page.goto(`${server.baseUrl}/verwaltung/mandanten/kreis/rechnungen/erfassen`);
          await page.locator('#f-einheit').selectOption({ index: 1 });
          await page.locator('#f-datei').setInputFiles({
            name: 'scan.pdf',
            mimeType: 'application/pdf',
            buffer: Buffer.from('%PDF-1.4\n% a scanned paper invoice\n%%EOF\n'),
          });
          await page.locator('#f-lieferant').fill('Druckerei Weber');
          await page.locator('#f-rechnungsnummer').fill('R-2026-117');
          await page.locator('#f-rechnungsdatum').fill('2026-11-20');
          await page.locator('#f-betrag').fill('1.190,00');
          await page.locator('#f-iban').fill('DE89 3704 0044 0532 0130 00');
          const form = page.locator('form[action*="/erfassen"]');
          const [response] = await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
          assert.match(new URL(page.url()).pathname, /\/rechnungen\/\d+$/, `on to the invoice, not ${page.url()}`);
          assert.match(await page.locator('main').textContent(), /Erfasst von/);
          return response;
        },
      }));

    test('Leitweg-IDs /verwaltung/mandanten/kreis/leitweg-ids', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis/leitweg-ids'), shot: 'leitweg-desktop' }));

    test('booking export /verwaltung/mandanten/kreis/buchungsexport', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis/buchungsexport'), shot: 'exports-desktop' }));

    test('booking export with a refused payment file, every problem by line', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        status: 422,
        shot: 'payments-refused-desktop',
        visit: async (page, watcher) => {
          await page.goto(`${server.baseUrl}/verwaltung/mandanten/kreis/buchungsexport`);
          const form = page.locator('form[action*="/zahlungen"]');
          watcher.expectStatus(`${server.baseUrl}${await form.getAttribute('action')}`);
          await page.locator('#f-datei').setInputFiles({
            name: 'zahlungen.csv',
            mimeType: 'text/csv',
            buffer: Buffer.from('Rechnung;Bezahlt_am;Betrag\n999999;01.01.2026;1,00\nx;32.01.2026;0\n'),
          });
          const [response] = await Promise.all([page.waitForNavigation(), form.locator('button[type="submit"]').click()]);
          assert.equal(await page.locator('#zahlungen-fehler li').count(), 2, 'both lines are listed');
          return response;
        },
      }));

    test('audit log /verwaltung/mandanten/kreis/protokoll', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/mandanten/kreis/protokoll'), shot: 'audit-desktop' }));

    test('jobs /verwaltung/auftraege', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'platformAdmin', visit: goto('/verwaltung/auftraege'), shot: 'jobs-desktop' }));

    test('jobs table after queuing a test mail (no SMTP here: it fails and offers a retry)', { timeout: TEST_TIMEOUT }, () =>
      checkPage({
        context: 'platformAdmin',
        shot: 'jobs-table-desktop',
        visit: async (page) => {
          await page.goto(`${server.baseUrl}/verwaltung/auftraege`);
          await page.locator('#f-to').fill('e2e-testmail@kreis-auenthal.example');
          let response = await submit(page, '/verwaltung/auftraege/testmail');
          assert.equal(new URL(page.url()).pathname, '/verwaltung/auftraege');
          assert.ok(await page.locator('table').count() > 0, 'no jobs table after queuing a job');
          // The page after the redirect carries a flash message (role="status"): check it as well.
          assert.ok(await page.locator('main [role="status"]').count() > 0, 'no flash message after queuing a job');
          await assertNoAxeViolations(page, ' (with flash message)');
          // Wait (bounded) for the worker to fail the job, so that the retry button is checked too.
          for (let i = 0; i < 20 && (await page.locator('form[action$="/wiederholen"]').count()) === 0; i++) {
            await page.waitForTimeout(500);
            response = await page.reload();
          }
          return response;
        },
      }));

    test('municipality administrator: /verwaltung and own tenant', { timeout: TEST_TIMEOUT }, async () => {
      await checkPage({ context: 'municipalityAdmin', visit: goto('/verwaltung') });
      await checkPage({ context: 'municipalityAdmin', visit: goto('/verwaltung/mandanten/lindenbach') });
    });

    test('clerk: account page /konto', { timeout: TEST_TIMEOUT }, () =>
      checkPage({ context: 'clerk', visit: goto('/konto') }));

    test('English: start, login, admin home, tenant page', { timeout: TEST_TIMEOUT }, async () => {
      await checkPage({ context: 'english', visit: goto('/'), shot: 'start-en-desktop' });
      await checkPage({ context: 'english', visit: goto('/verwaltung') });
      await checkPage({ context: 'english', visit: goto('/verwaltung/mandanten/kreis') });
      await checkPage({ context: 'anonymous', visit: goto('/anmelden') });
    });
  });

  // KERN follows prefers-color-scheme; our own CSS must keep working in its dark theme too.
  describe('dark colour scheme', () => {
    test('start page, admin home, tenant page, new-tenant form with errors', { timeout: TEST_TIMEOUT }, async () => {
      await checkPage({ context: 'dark', visit: goto('/'), shot: 'start-dark-desktop' });
      await checkPage({ context: 'dark', visit: goto('/verwaltung') });
      await checkPage({ context: 'dark', visit: goto('/verwaltung/mandanten/kreis') });
      await checkPage({
        context: 'dark',
        status: 422,
        shot: 'tenants-errors-dark-desktop',
        visit: async (page, watcher) => {
          watcher.expectStatus(`${server.baseUrl}/verwaltung/mandanten`);
          await page.goto(`${server.baseUrl}/verwaltung/mandanten`);
          return submit(page, '/verwaltung/mandanten');
        },
      });
    });
  });

  describe('keyboard', () => {
    for (const [name, context, path] of [
      ['start page', 'anonymous', '/'],
      ['login page', 'anonymous', '/anmelden'],
      ['admin home', 'platformAdmin', '/verwaltung'],
    ]) {
      test(`first Tab focuses the skip link to #inhalt (${name})`, { timeout: TEST_TIMEOUT }, async () => {
        const page = await contexts[context].newPage();
        try {
          await page.goto(`${server.baseUrl}${path}`);
          const mainTop = () => page.evaluate(() => document.querySelector('main').getBoundingClientRect().top);
          const topBefore = await mainTop();
          await page.keyboard.press('Tab');
          assert.equal(await mainTop(), topBefore, 'focusing the skip link moves the page content (layout shift)');
          const focused = await page.evaluate(() => {
            const el = document.activeElement;
            const box = el.getBoundingClientRect();
            return {
              tag: el.tagName,
              href: el.getAttribute('href'),
              text: el.textContent.trim(),
              onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.top >= 0
                && box.right <= window.innerWidth && box.bottom <= window.innerHeight,
            };
          });
          assert.equal(focused.tag, 'A', `first Tab focused ${focused.tag}, not a link`);
          assert.equal(focused.href, '#inhalt', 'the first focusable link is not the skip link to #inhalt');
          assert.ok(focused.text.length > 0, 'the skip link has no text');
          assert.ok(focused.onScreen, 'the focused skip link is not visible in the viewport');
          if (path === '/') await screenshot(page, 'skip-link-focused-desktop');
          const mainIds = await page.locator('main').evaluateAll((els) => els.map((e) => e.id));
          assert.deepEqual(mainIds, ['inhalt'], 'there must be exactly one <main id="inhalt">');
          await page.keyboard.press('Enter');
          const afterSkip = await page.evaluate(() => document.activeElement.id);
          assert.equal(afterSkip, 'inhalt', 'activating the skip link does not move focus to the main content');
        } finally {
          await page.close();
        }
      });
    }
  });

  describe('language', () => {
    test('html lang is "de" and becomes "en" after /sprache/en', { timeout: TEST_TIMEOUT }, async () => {
      // A German browser: the server also negotiates Accept-Language when no language is chosen.
      const context = await browser.newContext({ viewport: DESKTOP, locale: 'de-DE' });
      try {
        const page = await context.newPage();
        await page.goto(`${server.baseUrl}/`);
        assert.equal(await page.getAttribute('html', 'lang'), 'de');
        const switchLink = page.locator('header a[hreflang="en"]');
        assert.equal(await switchLink.count(), 1, 'the header has no language switch to English');
        assert.equal(await switchLink.getAttribute('lang'), 'en', 'the language switch is not marked lang="en"');

        const response = await page.goto(`${server.baseUrl}/sprache/en?zurueck=/`);
        assert.equal(response.status(), 200);
        assert.equal(new URL(page.url()).pathname, '/');
        assert.equal(await page.getAttribute('html', 'lang'), 'en');
        await page.goto(`${server.baseUrl}/anmelden`);
        assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the language does not stick across pages');
        assert.equal(await page.locator('header a[hreflang="de"]').count(), 1, 'no switch back to German');
      } finally {
        await context.close();
      }
    });
  });

  describe('small screens (375 px)', () => {
    for (const [name, context, path, shot] of [
      ['start page', 'anonymous', '/', 'start-mobile'],
      ['login page', 'anonymous', '/anmelden', 'login-mobile'],
      ['admin home', 'platformAdmin', '/verwaltung', 'admin-mobile'],
      ['tenant page', 'platformAdmin', '/verwaltung/mandanten/kreis', 'tenant-mobile'],
      ['staff list', 'platformAdmin', '/verwaltung/mandanten/kreis/beschaeftigte', 'staff-mobile'],
      ['service page with details', 'anonymous', '/leistungen/kfz-ausserbetriebsetzung', 'service-details-mobile'],
      ['life situation', 'anonymous', '/lebenslagen/mobilitaet', 'life-situation-mobile'],
      ['search synonyms', 'platformAdmin', '/verwaltung/suche/synonyme', 'synonyms-mobile'],
      ['event list', 'anonymous', '/veranstaltungen', 'events-mobile'],
      ['news list', 'anonymous', '/aktuelles', 'news-mobile'],
      ['open dataset', 'anonymous', '/daten/kreis/kfz-bestand', 'opendata-dataset-mobile'],
      ['dataset editor', 'platformAdmin', '/verwaltung/mandanten/kreis/daten/kfz-bestand', 'opendata-editor-mobile'],
    ]) {
      test(`no horizontal scrolling at 375 px: ${name}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = await contexts[context].newPage();
        try {
          await page.setViewportSize(MOBILE);
          await page.goto(`${server.baseUrl}${path}`);
          await page.evaluate(() => document.fonts.ready);
          await screenshot(page, shot);
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= MOBILE.width + 1, `page is ${width}px wide at a ${MOBILE.width}px viewport: it scrolls sideways`);
          // Narrow layouts bring their own problems (e.g. tables that scroll must be reachable by keyboard).
          await assertNoAxeViolations(page, ` at ${MOBILE.width}px`);
        } finally {
          await page.close();
        }
      });
    }

    test('no horizontal scrolling at 375 px: forms with errors', { timeout: TEST_TIMEOUT }, async () => {
      for (const [context, path, action, shot] of [
        ['anonymous', '/anmelden', '/anmelden', 'login-error-mobile'],
        ['platformAdmin', '/verwaltung/mandanten', '/verwaltung/mandanten', 'tenants-errors-mobile'],
      ]) {
        const page = await contexts[context].newPage();
        try {
          await page.setViewportSize(MOBILE);
          await page.goto(`${server.baseUrl}${path}`);
          if (action === '/anmelden') {
            await page.locator('#f-email').fill(WRONG_LOGIN.email);
            await page.locator('#f-password').fill(WRONG_LOGIN.password);
          }
          await submit(page, action);
          await page.locator('#fehler').waitFor();
          await page.evaluate(() => document.fonts.ready);
          await screenshot(page, shot);
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= MOBILE.width + 1, `${path} with errors is ${width}px wide at ${MOBILE.width}px`);
          await assertNoAxeViolations(page, ` at ${MOBILE.width}px`);
        } finally {
          await page.close();
        }
      }
    });
  });
});
