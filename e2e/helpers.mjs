// Helpers for the end-to-end accessibility suite: start the real `kreishaus` binary,
// drive Debian's Chromium through playwright-core, run axe-core and collect console output.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { SMTPServer } from 'smtp-server';

const require = createRequire(import.meta.url);
export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOT_DIR = join(E2E_DIR, 'screenshots');

/** The axe-core source, injected with page.evaluate: a <script> tag would break the page's CSP. */
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Start `kreishaus serve --demo` on a free loopback port (port 0: the OS picks one, the server
 * prints the address it bound), or on `listen`, with a fresh data directory and `extraArgs`
 * before the subcommand (e.g. `--config file`). Resolves once the server says it is
 * ready, with the demo password read from its stdout.
 */
export async function startServer({ timeoutMs = 60_000, listen = '127.0.0.1:0', extraArgs = [] } = {}) {
  const bin = resolve(E2E_DIR, process.env.KREISHAUS_BIN || '../target/debug/kreishaus');
  if (!existsSync(bin)) {
    throw new Error(`kreishaus binary not found at ${bin}: run \`cargo build -p server\` first or set KREISHAUS_BIN`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'kreishaus-e2e-'));
  // From the repository root, where the demo finds its service catalogue (../shared/testdata).
  const child = spawn(bin, [...extraArgs, 'serve', '--demo', '--demo-rows', '3000', '--listen', listen, '--data-dir', dataDir], {
    cwd: resolve(E2E_DIR, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  child.stdout.setEncoding('utf8');

  const ready = new Promise((resolveReady, rejectReady) => {
    const timer = setTimeout(() => {
      rejectReady(new Error(`kreishaus did not become ready within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const url = stdout.match(/^Kreishaus läuft auf (http:\/\/[^\s]+)/m);
      if (url) {
        clearTimeout(timer);
        const password = readDemoPassword(stdout);
        if (!password) {
          rejectReady(new Error(`could not read the demo password from stdout:\n${stdout}`));
        } else {
          resolveReady({ baseUrl: url[1].replace(/\/$/, ''), password });
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      rejectReady(new Error(`kreishaus exited early (code ${code}, signal ${signal})\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-4000)}`));
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      rejectReady(err);
    });
  });

  let info;
  try {
    info = await ready;
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...info, stop, stderr: () => stderr };
}

/** The line after "Demo county loaded. …" and a blank line holds the password, indented by 4 spaces. */
export function readDemoPassword(stdout) {
  const lines = stdout.split(/\r?\n/);
  const i = lines.findIndex((l) => l.startsWith('Demo county loaded.'));
  if (i < 0) return null;
  for (let j = i + 1; j < lines.length; j++) {
    if (lines[j].trim() === '') continue;
    const m = lines[j].match(/^ {4}(\S+)\s*$/);
    return m ? m[1] : null;
  }
  return null;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    // playwright-core adds its own --headless flag as well; both agree.
    headless: true,
    timeout: 60_000,
  });
}

/**
 * Record console errors, page errors and CSP violations of a page. The CSP listener is installed
 * through the DevTools protocol (addInitScript), which the page's CSP does not govern.
 */
export function watchConsole(page) {
  const problems = [];
  const expectedStatusUrls = new Set();
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && !/Content[- ]Security[- ]Policy/i.test(msg.text())) return;
    const loc = msg.location();
    // A 404 or 422 page is logged by Chromium as "Failed to load resource" for the document
    // itself. That is the intended status code, not an error of the page.
    if (/^Failed to load resource: the server responded with a status of (404|422)\b/.test(msg.text())
        && loc && loc.url && expectedStatusUrls.has(loc.url)) {
      return;
    }
    problems.push(`console.${msg.type()}: ${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on('response', (res) => {
    // Sub-resources (CSS, fonts, images) must load; documents may carry a 4xx on purpose.
    if (res.status() >= 400 && res.request().resourceType() !== 'document') {
      problems.push(`HTTP ${res.status()} for ${res.request().resourceType()} ${res.url()}`);
    }
  });
  return {
    problems,
    /** Allow the document at `url` to answer with 404/422 without that counting as an error. */
    expectStatus(url) {
      expectedStatusUrls.add(url);
    },
  };
}

export async function installCspRecorder(context) {
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile || ''}:${e.lineNumber || ''}`);
    });
  });
}

export async function cspViolations(page) {
  return page.evaluate(() => window.__cspViolations || []);
}

/** Run axe-core on the current page with the WCAG 2.0/2.1 A and AA rules. */
export async function runAxe(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    AXE_TAGS,
  );
}

/** A readable, multi-line list of axe violations: id, impact, target, help. */
export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `      target: ${JSON.stringify(n.target)}\n        ${(n.failureSummary || '').replace(/\n/g, '\n        ')}`)
        .join('\n');
      return `  - ${v.id} [${v.impact}] ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Log in through the real form: GET /anmelden, fill e-mail and password, submit. */
export async function login(page, baseUrl, email, password) {
  await page.goto(`${baseUrl}/anmelden`);
  const csrf = await page.locator('form[action="/anmelden"] input[name="_csrf"]').inputValue();
  if (!csrf) throw new Error('login form has no _csrf token');
  await page.locator('#f-email').fill(email);
  await page.locator('#f-password').fill(password);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.locator('form[action="/anmelden"] button[type="submit"]').click(),
  ]);
  if (new URL(page.url()).pathname === '/anmelden') {
    throw new Error(`login as ${email} failed: still on /anmelden (HTTP ${response && response.status()})`);
  }
}

export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** A real SMTP server that keeps every message (raw) in memory. */
export async function startSmtp() {
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
export function mailText(raw) {
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

export async function waitForMail(smtp, to, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const found = smtp.messages.find((m) => new RegExp(`^To:.*${to.replace(/\./g, '\\.')}`, 'im').test(m));
    if (found) return mailText(found);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} within ${timeoutMs} ms (${smtp.messages.length} others)`);
}

/**
 * `kreishaus serve --demo` on `port` (a free one when not given) with a config file of its own:
 * the public URL, mail to a fresh in-memory SMTP server, jobs polled every 100 ms, then
 * `extraConfig` (TOML). Resolves to `{ server, smtp, stop }`.
 */
export async function startServerWithMail({ port, extraConfig = '' } = {}) {
  const smtp = await startSmtp();
  const listenPort = port || (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'kreishaus-config-'));
  const config = join(dataDir, 'kreishaus.toml');
  writeFileSync(config, `
[web]
public_url = "http://127.0.0.1:${listenPort}"

[mail]
smtp_url = "smtp://127.0.0.1:${smtp.port}"

[jobs]
idle_poll_ms = 100
${extraConfig}`);
  let server;
  try {
    server = await startServer({ listen: `127.0.0.1:${listenPort}`, extraArgs: ['--config', config] });
  } catch (err) {
    await smtp.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const stop = async () => {
    await server.stop();
    await smtp.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { server, smtp, stop };
}

/** A page in a fresh browser context (its own cookies), with the CSP recorder and a console watch. */
export async function freshPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
  context.setDefaultTimeout(30_000);
  await installCspRecorder(context);
  const page = await context.newPage();
  return { page, watch: watchConsole(page) };
}

/**
 * The page as it is now: a screenshot `name` for the record, then axe-core without violations,
 * no CSP violation, no console problem (except those `notOurs` says are another site's).
 */
export async function assertAccessible(page, watch, name, notOurs = () => false) {
  await screenshot(page, name);
  const results = await runAxe(page);
  if (results.violations.length > 0) {
    throw new Error(`axe violations on ${name} (${page.url()}):\n${formatViolations(results.violations)}`);
  }
  const csp = await cspViolations(page);
  if (csp.length > 0) throw new Error(`CSP violations on ${name}:\n${csp.join('\n')}`);
  const ours = watch.problems.filter((p) => !notOurs(p));
  if (ours.length > 0) throw new Error(`console problems on ${name}:\n${ours.join('\n')}`);
}
