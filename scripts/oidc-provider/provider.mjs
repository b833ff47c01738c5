// A real OpenID Connect provider (panva/oidc-provider, pinned in package-lock.json) on loopback,
// for quell's single sign-on tests. Not a mock: discovery, the authorisation code flow with
// PKCE, signed ID tokens, JWKS and userinfo are the library's own.
//
//   node provider.mjs PORT REDIRECT_URI < accounts.json
//
// accounts.json: {"ann": {"email": "...", "email_verified": true, "quell_org": "alpha",
// "quell_role": "admin", "amr": ["pwd", "otp"]}, ...}. The login step takes the account from
// the authorisation request's login_hint (no form: the tests are about quell's side); the
// consent step grants what was asked. Prints "listening ISSUER" when ready.
import http from 'node:http';
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const accounts = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'quell',
    client_secret: 'quell-test-client-secret',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'quell'],
  claims: {
    // amr in a scope: standalone claims reach the ID token only when requested one by one.
    openid: ['sub', 'amr'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    quell: ['quell_org', 'quell_role'],
  },
  findAccount: async (ctx, id) => {
    const account = accounts[id];
    if (!account) return undefined;
    const { amr, ...claims } = account;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['quell-test-cookie-signing-key'] },
  // The ID token carries the scopes' claims too (quell also reads userinfo).
  conformIdTokenClaims: false,
});

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    const accountId = params.login_hint;
    if (!accounts[accountId]) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`unknown login_hint ${accountId}`);
      return;
    }
    const amr = accounts[accountId].amr;
    await provider.interactionFinished(req, res, { login: { accountId, amr } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
});
server.listen(Number(port), '127.0.0.1', () => console.log(`listening ${issuer}`));
