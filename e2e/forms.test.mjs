// The online application's later pages in headless Chromium, checked with axe-core: a citizen
// keeps a draft of one form and sends another (the §43 IfSG instruction with its quiz) — the
// summary before sending and the receipt; "Meine Anträge" with the draft and the sent
// application; a clerk sets a status with a note, and the public status page shows the history;
// the public verification page of the certificate (valid and unknown code).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, login, waitForMail, startServerWithMail, freshPage, assertAccessible } from './helpers.mjs';

const EMAIL = 'erika.antrag@example.org';
const PASSWORD = 'Lindenblüte im Juni';
/** An administrator of the county: works every inbox of the county. */
const COUNTY_ADMIN = 'it@kreis-auenthal.example';
const IFSG = '/antrag/kreis/infektionsschutzbelehrung';
const RIDING_PLATE = '/antrag/kreis/reitkennzeichen';

/** The text of a PDF as poppler's pdftotext reads it (the text is in an embedded subset font). */
function pdfText(bytes) {
  const dir = mkdtempSync(join(tmpdir(), 'kreishaus-pdf-'));
  try {
    const file = join(dir, 'document.pdf');
    writeFileSync(file, bytes);
    return execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Online applications after the first step (axe-core, WCAG 2.1 AA)', { timeout: 10 * 60_000 }, () => {
  let kreishaus;
  let server;
  let smtp;
  let browser;
  /** Found on the way and checked later. */
  let trackingId;
  let certificateCode;

  before(async () => {
    kreishaus = await startServerWithMail();
    ({ server, smtp } = kreishaus);
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close();
    if (kreishaus) await kreishaus.stop();
  });

  /** axe-core, console and CSP on the page as it is now (with a screenshot), and no button
   * whose label is cut off (KERN squares a button that holds a .kern-sr-only span; ours use
   * .kh-sr-only). */
  async function check(page, watch, name) {
    await page.evaluate(() => document.fonts.ready);
    await assertAccessible(page, watch, `forms-${name}`);
    const clipped = await page.locator('.kern-btn').evaluateAll((buttons) => buttons
      .filter((b) => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1)
      .map((b) => b.textContent.trim()));
    assert.deepEqual(clipped, [], `buttons with cut-off labels on ${name}`);
  }

  const newPage = () => freshPage(browser);

  /** Clicks and waits for the page it leads to; returns that page's response. */
  async function follow(page, selector) {
    const [response] = await Promise.all([page.waitForNavigation(), page.locator(selector).click()]);
    return response;
  }

  /** A step's button ("weiter", "speichern", "absenden", …). */
  const action = (value) => `form.kh-form button[name="aktion"][value="${value}"]`;

  async function fill(page, values) {
    for (const [name, value] of Object.entries(values)) {
      await page.locator(`[name="${name}"]`).fill(value);
    }
  }

  async function tick(page, choices) {
    for (const [name, value] of choices) {
      await page.locator(`input[name="${name}"][value="${value}"]`).check();
    }
  }

  test('a citizen keeps a draft, sends an application, sees both, and checks the certificate', async () => {
    const { page, watch } = await newPage();
    // A citizen account: registered, confirmed by the link from the mail, logged in.
    await page.goto(`${server.baseUrl}/buergerkonto/registrieren`);
    await fill(page, { email: EMAIL, password: PASSWORD, repeat_password: PASSWORD });
    await follow(page, 'form[action="/buergerkonto/registrieren"] button[type="submit"]');
    const mail = await waitForMail(smtp, EMAIL);
    const link = mail.match(/http:\/\/127\.0\.0\.1:\d+\/buergerkonto\/bestaetigen\?t=[0-9a-f]+/);
    assert.ok(link, `a confirmation link in the mail:\n${mail}`);
    await page.goto(link[0]);
    await follow(page, 'form[action="/buergerkonto/bestaetigen"] button[type="submit"]');
    await fill(page, { email: EMAIL, password: PASSWORD });
    await follow(page, 'form[action="/buergerkonto/anmelden"] button[type="submit"]');
    assert.equal(new URL(page.url()).pathname, '/buergerkonto');

    // A draft: the first step of the riding plate order, kept for later.
    await page.goto(`${server.baseUrl}${RIDING_PLATE}`);
    await fill(page, { name: 'Erika Mustermann', 'anschrift.street': 'Am Markt 1', 'anschrift.postcode': '59910', 'anschrift.city': 'Lindenbach' });
    await follow(page, action('speichern'));
    assert.ok((await page.content()).includes('gespeichert'), 'the draft is saved');

    // The infection-protection instruction: person, learning text, quiz, summary, send.
    await page.goto(`${server.baseUrl}${IFSG}`);
    await fill(page, { vorname: 'Erika', nachname: 'Mustermann', geburtsdatum: '1980-03-12', plz: '59910', email: EMAIL });
    await follow(page, action('weiter'));
    await follow(page, action('weiter'));
    await tick(page, [['frage1', 'b'], ['frage2', 'fieber'], ['frage2', 'gelb'], ['frage3', 'nein'], ['frage4', 'immer'], ['frage5', 'arbeitgeber'], ['wahrheit', 'ja']]);
    const summary = await follow(page, action('weiter'));
    assert.equal(summary.status(), 200);
    assert.ok(await page.locator(action('absenden')).isVisible(), 'the summary offers to send');
    assert.ok((await page.content()).includes('12.03.1980'), 'the summary shows the date as it is read in German');
    await check(page, watch, 'summary');

    const receipt = await follow(page, action('absenden'));
    assert.equal(receipt.status(), 200);
    trackingId = (await page.locator('strong.kh-mono').first().innerText()).trim();
    assert.match(trackingId, /^[0-9A-Z]{5}-[0-9A-Z]{5}-.$/);
    await check(page, watch, 'receipt');

    // The certificate PDF names its verification page.
    const href = await page.locator('a[href*="/bescheinigung.pdf"]').getAttribute('href');
    const pdf = await page.request.get(`${server.baseUrl}${href}`);
    assert.equal(pdf.status(), 200);
    const found = pdfText(await pdf.body()).match(/\/bescheinigung\/([0-9A-Z]{5}-[0-9A-Z]{5}-\S)/);
    assert.ok(found, 'the certificate links its verification page');
    certificateCode = found[1];

    await page.goto(`${server.baseUrl}/buergerkonto/antraege`);
    const mine = await page.content();
    assert.ok(mine.includes('Reitkennzeichen'), 'the draft is listed');
    assert.ok(mine.includes(trackingId), 'the sent application is listed');
    await check(page, watch, 'mine');
    await page.context().close();
  });

  test('a clerk sets a status; the public status page shows the history', async () => {
    assert.ok(trackingId, 'the first test sent an application');
    const clerk = await newPage();
    await login(clerk.page, server.baseUrl, COUNTY_ADMIN, server.password);
    await clerk.page.goto(`${server.baseUrl}/verwaltung/mandanten/kreis/eingang/${trackingId}`);
    await clerk.page.locator('#f-status').selectOption('in_progress');
    await clerk.page.locator('#f-notiz').fill('Wir prüfen Ihre Angaben.');
    await follow(clerk.page, 'form:has(#f-status) button[type="submit"]');
    await clerk.page.context().close();

    const { page, watch } = await newPage();
    await page.goto(`${server.baseUrl}/antrag/status`);
    await fill(page, { vorgang: trackingId, plz: '59910' });
    const shown = await follow(page, 'form[action="/antrag/status"] button[type="submit"]');
    assert.equal(shown.status(), 200);
    const content = await page.content();
    assert.ok(content.includes('Wir prüfen Ihre Angaben.'), 'the clerk\'s note is in the history');
    assert.ok(content.includes('Belehrung nach § 43 Infektionsschutzgesetz'), 'the form is named by its title');
    assert.equal(await page.locator('#stand ~ ol li').count(), 2, 'received, then in progress');
    await check(page, watch, 'status-history');
    await page.context().close();
  });

  test('the certificate verification page, for a valid and an unknown code', async () => {
    assert.ok(certificateCode, 'the first test found the certificate code');
    const { page, watch } = await newPage();
    const valid = await page.goto(`${server.baseUrl}/bescheinigung/${certificateCode}`);
    assert.equal(valid.status(), 200);
    assert.ok((await page.content()).includes('Mustermann'), 'the holder is named');
    await check(page, watch, 'certificate-valid');

    const unknownUrl = `${server.baseUrl}/bescheinigung/7KQ2M-X9D4R-C`;
    watch.expectStatus(unknownUrl);
    const unknown = await page.goto(unknownUrl);
    assert.equal(unknown.status(), 404);
    await check(page, watch, 'certificate-unknown');
    await page.context().close();
  });
});
