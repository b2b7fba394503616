// The citizen's account journey in headless Chromium, checked with axe-core on every page of
// ours: register → confirm the address with the link from the mail (a real SMTP server) →
// log in → edit the profile → privacy cockpit → a service that needs a higher trust level →
// the identity provider (a real OpenID provider, e2e/oidc/provider.mjs) at level "high" → back,
// verified; then a fresh browser logs in over the provider alone.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  E2E_DIR,
  launchBrowser,
  freePort,
  waitForMail,
  startServerWithMail,
  freshPage,
  assertAccessible,
} from './helpers.mjs';

const HIGH = 'http://eidas.europa.eu/LoA/high';
const EMAIL = 'erika.journey@example.org';
const PASSWORD = 'Lindenblüte im Juni';

async function startProvider(redirectUri) {
  const child = spawn(process.execPath, [join(E2E_DIR, 'oidc/provider.mjs')], {
    env: { ...process.env, REDIRECT_URIS: redirectUri },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  const issuer = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(JSON.parse(line).issuer);
    });
    child.on('exit', (code) => reject(new Error(`the OpenID provider exited (${code})`)));
  });
  return { issuer, stop: () => child.kill('SIGTERM') };
}

describe('The citizen account journey (axe-core, WCAG 2.1 AA)', { timeout: 10 * 60_000 }, () => {
  let idp;
  let kreishaus;
  let server;
  let smtp;
  let browser;

  before(async () => {
    const port = await freePort();
    idp = await startProvider(`http://127.0.0.1:${port}/buergerkonto/oidc/test-eid/rueckkehr`);
    kreishaus = await startServerWithMail({ port, extraConfig: `
[[identity.oidc_providers]]
name = "test-eid"
label = "Test-Ausweis"
issuer = "${idp.issuer}"
client_id = "kreishaus"
client_secret = "kreishaus-secret"
scopes = ["openid", "profile", "email", "address", "phone"]

[identity.oidc_providers.levels]
"http://eidas.europa.eu/LoA/low" = "basic"
"http://eidas.europa.eu/LoA/substantial" = "substantial"
"${HIGH}" = "high"
` });
    ({ server, smtp } = kreishaus);
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close();
    if (kreishaus) await kreishaus.stop();
    if (idp) idp.stop();
  });

  /** axe-core, console and CSP on the page as it is now; a screenshot for the record. The
   * provider's own page (its favicon, say) is not ours to judge. */
  const check = (page, watch, name) => assertAccessible(page, watch, `journey-${name}`, (p) => p.includes(idp.issuer));

  const newPage = () => freshPage(browser);

  async function submit(page, selector) {
    await Promise.all([page.waitForNavigation(), page.locator(selector).click()]);
  }

  /** At the provider's own login page (not ours: no axe there): person erika, level high. */
  async function confirmAtProvider(page) {
    await page.waitForURL((u) => u.href.startsWith(idp.issuer));
    await page.locator('#acr').selectOption(HIGH);
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(server.baseUrl), { waitUntil: 'load' }),
      page.locator('button[type="submit"]').click(),
    ]);
  }

  test('register, confirm, log in, edit the profile, see the cockpit, reach level high over the provider', async () => {
    const { page, watch } = await newPage();
    await page.goto(`${server.baseUrl}/buergerkonto/registrieren`);
    await check(page, watch, 'register');
    await page.locator('#f-email').fill(EMAIL);
    await page.locator('#f-password').fill(PASSWORD);
    await page.locator('#f-repeat_password').fill(PASSWORD);
    await submit(page, 'form[action="/buergerkonto/registrieren"] button[type="submit"]');
    await check(page, watch, 'register-sent');

    const mail = await waitForMail(smtp, EMAIL);
    const link = mail.match(/http:\/\/127\.0\.0\.1:\d+\/buergerkonto\/bestaetigen\?t=[0-9a-f]+/);
    assert.ok(link, `a confirmation link in the mail:\n${mail}`);
    await page.goto(link[0]);
    await check(page, watch, 'confirm');
    await submit(page, 'form[action="/buergerkonto/bestaetigen"] button[type="submit"]');
    assert.match(new URL(page.url()).pathname, /^\/buergerkonto\/anmelden/);
    await check(page, watch, 'login');

    await page.locator('#f-email').fill(EMAIL);
    await page.locator('#f-password').fill(PASSWORD);
    await submit(page, 'form[action="/buergerkonto/anmelden"] button[type="submit"]');
    assert.equal(new URL(page.url()).pathname, '/buergerkonto');
    await check(page, watch, 'account');

    await page.goto(`${server.baseUrl}/buergerkonto/profil`);
    await check(page, watch, 'profile');
    await page.locator('#f-phone').fill('02303 12345');
    await page.locator('#f-street').fill('Am Markt 1');
    await submit(page, 'form[action="/buergerkonto/profil"] button[type="submit"]');
    assert.equal(await page.locator('#f-phone').inputValue(), '02303 12345');
    await check(page, watch, 'profile-saved');

    await page.goto(`${server.baseUrl}/buergerkonto/datenschutz`);
    await check(page, watch, 'privacy');
    assert.ok((await page.content()).includes('Daten geändert'), 'the cockpit lists the profile change');

    // A service that needs "substantial": the step-up page, then the provider at level high.
    await page.goto(`${server.baseUrl}/buergerkonto/nachweis`);
    assert.equal(new URL(page.url()).pathname, '/buergerkonto/vertrauensniveau');
    await check(page, watch, 'step-up');
    await page.locator('a[href^="/buergerkonto/oidc/test-eid?"]').click();
    await confirmAtProvider(page);
    assert.equal(new URL(page.url()).pathname, '/buergerkonto/nachweis');
    assert.ok((await page.content()).includes('Mustermann'), 'the confirmed family name is shown');
    await check(page, watch, 'proof');

    await page.goto(`${server.baseUrl}/buergerkonto`);
    assert.ok((await page.content()).includes('hoch (Online-Ausweis)'), 'the session is at level high');
    await check(page, watch, 'account-high');
    await page.goto(`${server.baseUrl}/buergerkonto/profil`);
    await check(page, watch, 'profile-verified');
    await page.context().close();
  });

  test('a fresh browser logs in over the provider alone, at level high, into the linked account', async () => {
    const { page, watch } = await newPage();
    await page.goto(`${server.baseUrl}/buergerkonto/anmelden`);
    await check(page, watch, 'login-with-provider');
    await page.locator('a[href^="/buergerkonto/oidc/test-eid?"]').click();
    await confirmAtProvider(page);
    assert.equal(new URL(page.url()).pathname, '/buergerkonto');
    const content = await page.content();
    assert.ok(content.includes(EMAIL), 'the account linked in the first journey');
    assert.ok(content.includes('hoch (Online-Ausweis)'), 'level high');
    await check(page, watch, 'account-over-provider');
    await page.context().close();
  });
});
