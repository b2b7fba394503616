// A real OpenID provider for the tests: the certified `oidc-provider` package (npm), with a
// scripted login instead of its development screens. Started by the Rust integration tests
// (crates/identity/tests/it/oidc.rs) and by the browser journey (e2e/journey.test.mjs).
//
//   node e2e/oidc/provider.mjs            (environment below; prints one JSON line when ready)
//
// PORT           port on 127.0.0.1 (default 0: the OS picks one); the issuer is http://127.0.0.1:PORT
// REDIRECT_URIS  comma-separated redirect URIs that the clients may use
//
// Clients (secret "kreishaus-secret" each):
//   kreishaus          ID tokens signed RS256
//   kreishaus-es256    ID tokens signed ES256
//   kreishaus-tampered RS256, but this script alters a claim in every ID token it hands out
//                      after signing (a man in the middle), so the signature no longer fits
//
// Login: GET /interaction/<uid> shows a form with the person (`login`) and the eIDAS level
// (`acr`, preset to the first of the request's acr_values); POST finishes the login. Consent
// is granted without a page. Each person's claims are derived from the login name.
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const LOA = {
  low: 'http://eidas.europa.eu/LoA/low',
  substantial: 'http://eidas.europa.eu/LoA/substantial',
  high: 'http://eidas.europa.eu/LoA/high',
};

const redirectUris = (process.env.REDIRECT_URIS || '').split(',').map((s) => s.trim()).filter(Boolean);
if (redirectUris.length === 0) {
  console.error('REDIRECT_URIS is empty');
  process.exit(2);
}

function signingKey(type, kid) {
  const { privateKey } = type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: type === 'rsa' ? 'RS256' : 'ES256' };
}

/** The claims of a test person, from the login name: `erika` → Erika Mustermann. */
function person(id) {
  const given = id.charAt(0).toUpperCase() + id.slice(1);
  return {
    sub: `person-${id}`,
    given_name: given,
    family_name: 'Mustermann',
    birthdate: '1964-08-12',
    email: `${id}@eid.example`,
    email_verified: true,
    phone_number: '+49 2303 27-0',
    address: { street_address: 'Heidestraße 17', postal_code: '51147', locality: process.env.LOCALITY || 'Lindenbach', country: 'DE' },
  };
}

const server = http.createServer();
await new Promise((r) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', r));
const issuer = `http://127.0.0.1:${server.address().port}`;

const client = (id, alg) => ({
  client_id: id,
  client_secret: 'kreishaus-secret',
  redirect_uris: redirectUris,
  response_types: ['code'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: alg,
});

const provider = new Provider(issuer, {
  clients: [client('kreishaus', 'RS256'), client('kreishaus-es256', 'ES256'), client('kreishaus-tampered', 'RS256')],
  jwks: { keys: [signingKey('rsa', 'rsa-1'), signingKey('ec', 'ec-1')] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  acrValues: Object.values(LOA),
  claims: {
    acr: null,
    openid: ['sub'],
    email: ['email', 'email_verified'],
    phone: ['phone_number'],
    address: ['address'],
    profile: ['given_name', 'family_name', 'birthdate'],
  },
  // The claims asked for with the scopes go into the ID token itself (the relying party
  // reads the ID token only).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => person(id) }),
  pkce: { required: () => true },
});

// The man in the middle for the client "kreishaus-tampered": change a claim after signing.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token && ctx.oidc?.client?.clientId === 'kreishaus-tampered') {
    const [h, p, s] = ctx.body.id_token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    claims.sub = 'person-mallory';
    ctx.body = { ...ctx.body, id_token: [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.') };
  }
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, params) {
  const wanted = String(params.acr_values || '').split(' ').filter(Boolean)[0] || LOA.high;
  const options = Object.entries(LOA)
    .map(([name, value]) => `<option value="${escape(value)}"${value === wanted ? ' selected' : ''}>${name}</option>`)
    .join('');
  return `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Test-Ausweisdienst</title></head>
<body><main><h1>Test-Ausweisdienst</h1>
<form method="post" action="/interaction/${escape(uid)}">
<p><label for="login">Person</label> <input id="login" name="login" value="erika" autocomplete="username"></p>
<p><label for="acr">Vertrauensniveau</label> <select id="acr" name="acr">${options}</select></p>
<p><button type="submit">Identität bestätigen</button></p>
</form></main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return Object.fromEntries(new URLSearchParams(body));
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (prompt.name === 'consent') {
    const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    grant.addOIDCScope(String(params.scope));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return res.end(loginPage(uid, params));
  }
  const form = await readForm(req);
  const login = String(form.login || '').trim().toLowerCase();
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(login) || !Object.values(LOA).includes(form.acr)) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    return res.end('bad login form');
  }
  return provider.interactionFinished(req, res, { login: { accountId: login, acr: form.acr } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err && err.message));
    });
  } else {
    callback(req, res);
  }
});

// Whoever started us may stop reading after the first line.
process.stdout.on('error', () => {});
console.log(JSON.stringify({ ready: true, issuer }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
