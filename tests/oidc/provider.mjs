// A real OpenID Connect provider for the tests (the maintained `oidc-provider` package), on
// loopback. Started and stopped by tests/oidc/__init__.py; its settings come from a JSON file:
//
//   { "port": 0, "issuer": "http://127.0.0.1:PORT", "keys": "/path/jwks.json",
//     "id_token_ttl": 600, "clients": [{client_id, client_secret, redirect_uris}],
//     "accounts": {"alice": {"email", "email_verified", "name", "amr": ["pwd"]}} }
//
// The signing keys are read from a file, so a restart with another file is a key rotation.
// Sign-in is automatic (no pages to fill in): the account that signs in is the one last named
// by POST /_test/account {"account": "alice"}. For the refusal tests, POST /_test/tamper
// {"aud": "...", "rogue_key": <private JWK>} re-signs the next ID tokens the token endpoint
// hands out: with another audience, or with a key the provider does not publish.
// GET /_test/jwks-fetches says how often the published keys were read.
import crypto from 'node:crypto';
import fs from 'node:fs';

import Provider from 'oidc-provider';

const settings = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const keys = JSON.parse(fs.readFileSync(settings.keys, 'utf8'));
const accounts = settings.accounts;
let current = Object.keys(accounts)[0];
let tamper = {};
let jwksFetches = 0;

const provider = new Provider(settings.issuer, {
  clients: settings.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris || [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  jwks: keys,
  cookies: { keys: ['test-provider-cookie-key-not-secret'] },
  claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // email and name in the ID token, as Entra ID sends them
  ttl: { IdToken: settings.id_token_ttl || 600, AccessToken: 600, AuthorizationCode: 60,
         Interaction: 600, Session: 600, Grant: 600 },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    const { amr, ...claims } = accounts[id]; // amr comes from the sign-in, not the account
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  // First-party test clients: consent is taken as given.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

function b64url(value) {
  return Buffer.from(value).toString('base64url');
}

// Re-sign an ID token: the same claims (but `aud` if asked), with the provider's own key or
// a rogue one.
function resign(idToken) {
  const [headerPart, payloadPart] = idToken.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url'));
  const payload = JSON.parse(Buffer.from(payloadPart, 'base64url'));
  if (tamper.aud) payload.aud = tamper.aud;
  const jwk = tamper.rogue_key || keys.keys.find((k) => k.kid === header.kid);
  const newHeader = { alg: 'RS256', typ: header.typ, kid: jwk.kid };
  const input = `${b64url(JSON.stringify(newHeader))}.${b64url(JSON.stringify(payload))}`;
  const signature = crypto.sign('sha256', Buffer.from(input),
    crypto.createPrivateKey({ key: jwk, format: 'jwk' }));
  return `${input}.${signature.toString('base64url')}`;
}

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/account' && ctx.method === 'POST') {
    current = (await readJson(ctx.req)).account;
    ctx.body = { account: current };
    return;
  }
  if (ctx.path === '/_test/tamper' && ctx.method === 'POST') {
    tamper = await readJson(ctx.req);
    ctx.body = { ok: true };
    return;
  }
  if (ctx.path === '/_test/jwks-fetches') {
    ctx.body = { fetches: jwksFetches };
    return;
  }
  if (ctx.path === '/jwks') jwksFetches += 1;
  if (ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const account = accounts[current];
    const result = details.prompt.name === 'login'
      ? { login: { accountId: current, amr: account.amr || ['pwd'] } }
      : { consent: {} };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && (tamper.aud || tamper.rogue_key)) {
    const body = typeof ctx.body === 'string' ? JSON.parse(ctx.body) : ctx.body;
    ctx.body = { ...body, id_token: resign(body.id_token) };
  }
});

const server = provider.listen(settings.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
