// The peer of the comparison: node-oidc-provider (npm `oidc-provider`), the certified reference
// OpenID provider, with its in-memory adapter, ES256 ID tokens and one registered client. Its
// one interaction handler logs in the `login_hint` user without a page and grants the requested
// scopes, so a complete login is: /auth → /interaction/:uid → /auth/:uid → redirect with the
// code, then /token.
//
// Run from a folder where `npm install oidc-provider` was done (bench/compare.sh does this):
//   PORT=3000 CLIENT_SECRET=… node node-oidc-provider.mjs
// Environment: PORT (3000), ISSUER (http://localhost:PORT), CLIENT_ID (bench), CLIENT_SECRET
// (required), REDIRECT_URI (http://127.0.0.1:9/bench/callback), STORE_MAX (the in-memory
// adapter's capacity; by default the stock 1,000 entries, an LRU that evicts: a login in flight
// holds about five, so beyond ~200 logins at once the stock adapter loses logins).
// For benchmarks only: the handler logs in whoever the login_hint names.
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
// The stock in-memory adapter and its LRU store (the package declares no `exports` map, so
// these deep imports resolve).
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const port = Number(process.env.PORT || 3000);
const issuer = process.env.ISSUER || `http://localhost:${port}`;
const clientId = process.env.CLIENT_ID || 'bench';
const clientSecret = process.env.CLIENT_SECRET;
const redirectUri = process.env.REDIRECT_URI || 'http://127.0.0.1:9/bench/callback';
if (!clientSecret) {
  console.error('node-oidc-provider.mjs: set CLIENT_SECRET');
  process.exit(2);
}

// The stock adapter on a larger store, when asked: the same code, only the capacity differs.
const store = process.env.STORE_MAX ? new LRU({ maxSize: Number(process.env.STORE_MAX) }) : undefined;
const adapter = store ? { adapter: (model) => new MemoryAdapter(model, store) } : {};

// ES256 signs the ID tokens; an RSA key too, since RS256 is OpenID's mandatory algorithm.
const jwk = (type, opts, alg, kid) => ({
  ...generateKeyPairSync(type, opts).privateKey.export({ format: 'jwk' }),
  alg,
  kid,
  use: 'sig',
});
const keys = [jwk('ec', { namedCurve: 'P-256' }, 'ES256', 'es256-1'), jwk('rsa', { modulusLength: 2048 }, 'RS256', 'rs256-1')];

const provider = new Provider(issuer, {
  ...adapter,
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      scope: 'openid profile offline_access',
    },
  ],
  jwks: { keys },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: { openid: ['sub'], profile: ['name'] },
  scopes: ['openid', 'profile', 'offline_access'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    userinfo: { enabled: true },
  },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, name: `Citizen ${id}` }),
  }),
  issueRefreshToken: async (ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
});

// The interaction handler: log in the login_hint user and consent to what was asked, at once.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params, session } = details;
  const accountId = session?.accountId ?? params.login_hint;
  if (!accountId) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('this benchmark peer needs login_hint');
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope || 'openid'));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, {
    mergeWithLastSubmission: false,
  });
}

const callback = provider.callback();
http
  .createServer((req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(req, res).catch((err) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${err.message}`);
      });
      return;
    }
    callback(req, res);
  })
  .listen(port, '127.0.0.1', () => console.log(`node-oidc-provider ${issuer} (pid ${process.pid})`));
