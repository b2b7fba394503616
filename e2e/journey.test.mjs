// The citizen's account journey in headless Chromium, checked with axe-core on every page of
// ours: register → confirm the address with the link from the mail (a real SMTP server) →
// log in → edit the profile → privacy cockpit → a service that needs a higher trust level →
// the identity provider (a real OpenID provider, e2e/oidc/provider.mjs) at level "high" → back,
// verified; then a fresh browser logs in over the provider alone.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import {
  E2E_DIR,
  startServer,
  launchBrowser,
  installCspRecorder,
  cspViolations,
  watchConsole,
  runAxe,
  formatViolations,
  screenshot,
} from './helpers.mjs';

const HIGH = 'http://eidas.europa.eu/LoA/high';
const EMAIL = 'erika.journey@example.org';
const PASSWORD = 'Lindenblüte im Juni';

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** A real SMTP server that keeps every message (raw) in memory. */
async function startSmtp() {
  const messages = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c) => { raw += c; });
      stream.on('end', () => { messages.push(raw); callback(); });
    },
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.server.address().port, messages, stop: () => new Promise((r) => server.close(r)) };
}

/** The text of a mail's body, whatever its transfer encoding. */
function mailText(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  const encoding = (head.match(/^Content-Transfer-Encoding:\s*(\S+)/im) || [])[1] || '7bit';
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

async function waitForMail(smtp, to, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const found = smtp.messages.find((m) => new RegExp(`^To:.*${to.replace(/\./g, '\\.')}`, 'im').test(m));
    if (found) return mailText(found);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} within ${timeoutMs} ms (${smtp.messages.length} others)`);
}

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
  let smtp;
  let idp;
  let server;
  let browser;
  let dataDir;

  before(async () => {
    smtp = await startSmtp();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    idp = await startProvider(`${base}/buergerkonto/oidc/test-eid/rueckkehr`);
    dataDir = mkdtempSync(join(tmpdir(), 'kreishaus-journey-'));
    const config = join(dataDir, 'kreishaus.toml');
    writeFileSync(config, `
[web]
public_url = "${base}"

[mail]
smtp_url = "smtp://127.0.0.1:${smtp.port}"

[jobs]
idle_poll_ms = 100

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
`);
    server = await startServer({ listen: `127.0.0.1:${port}`, extraArgs: ['--config', config] });
    browser = await launchBrowser();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
    if (idp) idp.stop();
    if (smtp) await smtp.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** axe-core, console and CSP on the page as it is now; a screenshot for the record. */
  async function check(page, watch, name) {
    const results = await runAxe(page);
    await screenshot(page, `journey-${name}`);
    assert.equal(results.violations.length, 0, `axe violations on ${name} (${page.url()}):\n${formatViolations(results.violations)}`);
    assert.deepEqual(await cspViolations(page), [], `CSP violations on ${name}`);
    // The provider's own page (its favicon, say) is not ours to judge.
    const ours = watch.problems.filter((p) => !p.includes(idp.issuer));
    assert.deepEqual(ours, [], `console problems on ${name}`);
  }

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
    context.setDefaultTimeout(30_000);
    await installCspRecorder(context);
    const page = await context.newPage();
    return { page, watch: watchConsole(page) };
  }

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
