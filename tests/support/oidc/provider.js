// An OpenID provider configured like FranceConnect, for relais's integration
// tests: one confidential client (secret, code flow, no PKCE), the pivot
// identity scopes, acr eidas1, ID tokens signed RS256, userinfo signed ES256
// (application/jwt), and an interaction that logs a test citizen in and
// consents at once, so that an HTTP client following redirects with cookies
// goes through a whole login.
//
// Listens on 127.0.0.1, port 0; prints {"event":"listening","port":N} on
// standard output. Settings from the environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   the client relais is
//   OIDC_CLIENT_AUTH                     client_secret_post (default) or client_secret_basic
//   OIDC_CITIZEN                         JSON object of the citizen's claims, sub included
// Redirect URIs: any http://127.0.0.1:<port>/franceconnect/<slug>/callback
// (and /logout after logout), since relais's port is known only once it runs.
//
// Test hook: GET /_test/tamper?mode=expired|audience|nonce|acr|signature
// makes the next token answer carry an ID token re-signed with the
// provider's own key but expired, for another audience or another nonce, at
// an acr below eidas1 (eidas0), or with a broken signature: what a
// well-behaved provider never sends.
import http from 'node:http';

import { CompactSign, exportJWK, generateKeyPair, importJWK } from 'jose';
import Provider from 'oidc-provider';

const clientId = process.env.OIDC_CLIENT_ID || 'relais-test';
const clientSecret = process.env.OIDC_CLIENT_SECRET || 'relais-test-secret-0123456789abcdef';
const clientAuth = process.env.OIDC_CLIENT_AUTH || 'client_secret_post';
const citizen = JSON.parse(process.env.OIDC_CITIZEN || '{"sub":"test-citizen"}');
const pivotScopes = ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace',
  'birthcountry', 'email', 'preferred_username'];

async function signingKey(alg, kid) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

const rsaKey = await signingKey('RS256', 'rsa-test-1');
const ecKey = await signingKey('ES256', 'ec-test-1');
const rsaSigner = await importJWK(rsaKey, 'RS256');

let tamperMode = null;

function decodePart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

async function tamper(idToken, mode) {
  const [header, payload, signature] = idToken.split('.');
  if (mode === 'signature') {
    const at = signature.length - 10;
    const flipped = signature[at] === 'A' ? 'B' : 'A';
    return `${header}.${payload}.${signature.slice(0, at)}${flipped}${signature.slice(at + 1)}`;
  }
  const claims = decodePart(payload);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'expired') {
    claims.iat = now - 1200;
    claims.exp = now - 600;
  } else if (mode === 'audience') {
    claims.aud = 'another-client';
  } else if (mode === 'nonce') {
    claims.nonce = 'not-the-nonce-relais-sent';
  } else if (mode === 'acr') {
    claims.acr = 'eidas0';
  }
  return new CompactSign(Buffer.from(JSON.stringify(claims)))
    .setProtectedHeader(decodePart(header))
    .sign(rsaSigner);
}

const server = http.createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const claims = { openid: ['sub'] };
for (const scope of pivotScopes) claims[scope] = [scope];

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: ['http://127.0.0.1/franceconnect/fc/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1/franceconnect/fc/logout'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: clientAuth,
    id_token_signed_response_alg: 'RS256',
    userinfo_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [rsaKey, ecKey] },
  scopes: ['openid', ...pivotScopes],
  claims,
  acrValues: ['eidas1'],
  pkce: { required: () => false },
  cookies: { keys: ['relais-test-cookie-key'] },
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Logs out without asking: the test client does not fill forms.
      logoutSource: async (ctx, form) => {
        ctx.body = `<html><body>${form}<script>document.forms[0].submit()</script></body></html>`;
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => (sub === citizen.sub
    ? { accountId: sub, claims: async () => ({ ...citizen }) }
    : undefined),
  ttl: { AccessToken: 60, AuthorizationCode: 60, IdToken: 300, Interaction: 300, Session: 600, Grant: 600 },
});

const portPattern = '127\\.0\\.0\\.1:[0-9]+';
provider.Client.prototype.redirectUriAllowed = (uri) =>
  new RegExp(`^http://${portPattern}/franceconnect/[a-z0-9-]+/callback$`).test(uri);
provider.Client.prototype.postLogoutRedirectUriAllowed = (uri) =>
  new RegExp(`^http://${portPattern}/franceconnect/[a-z0-9-]+/logout$`).test(uri);

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && tamperMode && ctx.body?.id_token) {
    const mode = tamperMode;
    tamperMode = null;
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, mode) };
  }
});

async function interact(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: citizen.sub, acr: 'eidas1' } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const providerHandler = provider.callback();
server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/_test/tamper') {
    tamperMode = url.searchParams.get('mode');
    res.writeHead(204).end();
  } else if (url.pathname.startsWith('/interaction/')) {
    interact(req, res).catch((err) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err));
    });
  } else {
    providerHandler(req, res);
  }
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(JSON.stringify({ event: 'listening', port }));
