// panva's openid-client 6.x (a certified relying party) against xacthuc, over real HTTP.
// Run through tests/interop/run, which starts xacthuc and registers the clients used here.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { after, before, describe, test } from 'node:test'

import * as jose from 'jose'
import * as client from 'openid-client'

import { CookieJar, browse, citizenLogin, env, need, requireCitizenLogin } from './env.js'

const issuer = () => new URL(env.issuer())
const insecure = { execute: [client.allowInsecureRequests] } // the dev issuer is http://localhost
const SCOPE = 'openid profile address personal_id offline_access'

// The test relying party: serves the post-logout landing page and receives back-channel logout tokens.
let rp
const landed = []
const logoutTokens = []
before(async () => {
  const base = new URL(env.rpBase())
  rp = http.createServer((req, res) => {
    const url = new URL(req.url, base)
    if (req.method === 'POST' && url.pathname === '/backchannel') {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        logoutTokens.push(new URLSearchParams(body).get('logout_token'))
        res.writeHead(200).end()
      })
      return
    }
    landed.push(url.href)
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`landed on ${url.pathname}`)
  })
  await new Promise((ok) => rp.listen(Number(base.port), '127.0.0.1', ok))
})
after(() => rp?.close())

async function rpConfig() {
  return client.discovery(
    issuer(),
    'node-rp',
    { redirect_uris: [`${env.rpBase()}/cb`] },
    client.ClientSecretBasic(need('INTEROP_NODE_SECRET')),
    insecure,
  )
}

async function pkjwtConfig() {
  const jwk = JSON.parse(readFileSync(need('INTEROP_PKJWT_JWK'), 'utf8'))
  const key = await jose.importJWK(jwk, 'ES256')
  return client.discovery(
    issuer(),
    'node-pkjwt',
    { redirect_uris: [`${env.rpBase()}/cb`] },
    client.PrivateKeyJwt({ key, kid: jwk.kid }),
    insecure,
  )
}

/** Code + PKCE (S256) through a citizen login; returns the token response and what was expected. */
async function codeFlow(config, { par = false, extra = {} } = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const params = {
    redirect_uri: `${env.rpBase()}/cb`,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: client.randomState(),
    nonce: client.randomNonce(),
    ...extra,
  }
  const url = par
    ? await client.buildAuthorizationUrlWithPAR(config, params)
    : client.buildAuthorizationUrl(config, params)
  const jar = new CookieJar()
  const callback = await citizenLogin(url, { jar })
  const response = callback instanceof Request ? new URLSearchParams(await callback.clone().text()) : callback.searchParams
  assert.equal(response.get('iss'), env.issuer(), 'RFC 9207 iss on the response')
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: params.state,
    expectedNonce: params.nonce,
    idTokenExpected: true,
  })
  return { tokens, jar, params, callback }
}

describe('openid-client against xacthuc', () => {
  test('discovery', async () => {
    const config = await rpConfig()
    const md = config.serverMetadata()
    assert.equal(md.issuer, env.issuer())
    assert.ok(md.supportsPKCE('S256'))
    assert.ok(md.code_challenge_methods_supported.includes('S256'))
    for (const k of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'end_session_endpoint',
      'introspection_endpoint',
      'revocation_endpoint',
      'pushed_authorization_request_endpoint',
    ]) {
      assert.ok(md[k]?.startsWith(env.issuer()), `${k} is advertised under the issuer`)
    }
    assert.equal(md.authorization_response_iss_parameter_supported, true)
    for (const alg of ['ES256', 'RS256']) {
      assert.ok(md.id_token_signing_alg_values_supported.includes(alg), `${alg} is advertised for ID tokens`)
    }
  })

  test('client_credentials with private_key_jwt, then introspection and revocation', async () => {
    const config = await pkjwtConfig()
    const tokens = await client.clientCredentialsGrant(config)
    assert.ok(tokens.access_token)
    assert.equal(tokens.token_type.toLowerCase(), 'bearer')
    const header = jose.decodeProtectedHeader(tokens.access_token)
    assert.equal(header.typ, 'at+jwt', 'RFC 9068 access token')
    // Offline validation, as a provincial API would do it.
    const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri))
    const { payload } = await jose.jwtVerify(tokens.access_token, jwks, {
      issuer: env.issuer(),
      audience: 'node-pkjwt',
      typ: 'at+jwt',
    })
    assert.equal(payload.client_id, 'node-pkjwt')
    const live = await client.tokenIntrospection(config, tokens.access_token)
    assert.equal(live.active, true)
    assert.equal(live.client_id, 'node-pkjwt')
    await client.tokenRevocation(config, tokens.access_token)
    const dead = await client.tokenIntrospection(config, tokens.access_token)
    assert.equal(dead.active, false)
  })

  test('a wrong client secret is refused with invalid_client', async () => {
    const config = await client.discovery(
      issuer(),
      'node-rp',
      undefined,
      client.ClientSecretBasic('not-the-secret'),
      insecure,
    )
    // A 401 with `WWW-Authenticate: Basic` (RFC 6749 §5.2) surfaces in openid-client as a
    // WWWAuthenticateChallengeError; the JSON body still says invalid_client.
    const e = await client.tokenIntrospection(config, 'x').then(
      () => assert.fail('a wrong secret was accepted'),
      (e) => e,
    )
    assert.equal(e.status, 401, String(e))
    assert.equal(e.cause?.[0]?.scheme, 'basic')
    assert.equal((await e.response.json()).error, 'invalid_client')
  })

  test('private_key_jwt: a reused assertion is refused', async () => {
    // openid-client makes a fresh jti per request; replay one by hand to see the OP refuse it.
    const jwk = JSON.parse(readFileSync(need('INTEROP_PKJWT_JWK'), 'utf8'))
    const key = await jose.importJWK(jwk, 'ES256')
    const now = Math.floor(Date.now() / 1000)
    const assertion = await new jose.SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
      .setIssuer('node-pkjwt')
      .setSubject('node-pkjwt')
      .setAudience(env.issuer())
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key)
    const post = () =>
      fetch(`${env.issuer()}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      })
    assert.equal((await post()).status, 200)
    const again = await post()
    assert.equal(again.status, 401)
    assert.equal((await again.json()).error, 'invalid_client')
  })

  test('PAR: the pushed request is accepted and the front channel carries only request_uri', async () => {
    const config = await pkjwtConfig()
    const verifier = client.randomPKCECodeVerifier()
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: `${env.rpBase()}/cb`,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: client.randomState(),
    })
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
    assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/)
    const r = await browse(new CookieJar(), url.href)
    assert.equal(r.status, 303)
    assert.match(r.location, /\/login\?tx=/, 'the pushed request starts a login')
  })

  test('code + PKCE, userinfo, refresh rotation, introspection, revocation, RP-initiated logout', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const config = await rpConfig()
    const { tokens, jar } = await codeFlow(config)
    const claims = tokens.claims()
    assert.equal(claims.iss, env.issuer())
    assert.equal(claims.aud, 'node-rp')
    assert.match(claims.acr, /^urn:xacthuc:acr:eid[12]$/)
    assert.ok(claims.sid, 'ID token carries sid')
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token')

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
    assert.equal(info.sub, claims.sub)
    assert.ok(info.name, 'profile scope releases the name')
    assert.match(String(info.personal_id), /^\d{12}$/, `personal_id scope releases the ID: ${JSON.stringify(info)}`)

    const live = await client.tokenIntrospection(config, tokens.access_token)
    assert.equal(live.active, true)
    assert.equal(live.sub, claims.sub)

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
    assert.ok(refreshed.access_token)
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates')
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => {
      assert.equal(e.error, 'invalid_grant', `reused refresh token: ${e}`)
      return true
    })

    // Reuse revoked the family; a second login gives a fresh grant to revoke explicitly.
    const second = await codeFlow(config)
    await client.tokenRevocation(config, second.tokens.refresh_token)
    assert.equal((await client.tokenIntrospection(config, second.tokens.refresh_token)).active, false)
    assert.equal((await client.tokenIntrospection(config, second.tokens.access_token)).active, false)

    // RP-initiated logout, in the browser (jar) that logged in second.
    const state = client.randomState()
    const endSession = client.buildEndSessionUrl(config, {
      id_token_hint: second.tokens.id_token,
      post_logout_redirect_uri: `${env.rpBase()}/bye`,
      state,
    })
    let r = await browse(second.jar, endSession.href)
    for (let i = 0; i < 3 && r.location && !r.location.startsWith(env.rpBase()); i++) r = await browse(second.jar, r.location)
    assert.ok(r.location, `logout redirects back (HTTP ${r.status}: ${r.text.slice(0, 200)})`)
    const landing = new URL(r.location)
    assert.equal(landing.origin + landing.pathname, `${env.rpBase()}/bye`)
    assert.equal(landing.searchParams.get('state'), state)
    const page = await fetch(landing)
    assert.equal(page.status, 200)
    assert.ok(landed.some((u) => u.startsWith(`${env.rpBase()}/bye`)), 'the RP received the post-logout redirect')
    assert.equal((await client.tokenIntrospection(config, second.tokens.access_token)).active, false)
    void jar
  })

  test('back-channel logout token reaches the relying party and validates', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const config = await rpConfig()
    const { tokens, jar } = await codeFlow(config)
    const before = logoutTokens.length
    const r = await browse(
      jar,
      client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: `${env.rpBase()}/bye`,
      }).href,
    )
    assert.ok(r.status >= 300 && r.status < 400, `logout: HTTP ${r.status}`)
    for (let i = 0; i < 50 && logoutTokens.length === before; i++) await new Promise((ok) => setTimeout(ok, 100))
    assert.ok(logoutTokens.length > before, 'a logout token was POSTed to the back-channel URI')
    const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri))
    const { payload, protectedHeader } = await jose.jwtVerify(logoutTokens.at(-1), jwks, {
      issuer: env.issuer(),
      audience: 'node-rp',
      typ: 'logout+jwt',
    })
    assert.equal(protectedHeader.typ, 'logout+jwt')
    assert.ok(payload.events['http://schemas.openid.net/event/backchannel-logout'])
    assert.equal(payload.sid, tokens.claims().sid)
    assert.equal(payload.sub, tokens.claims().sub)
    assert.equal(payload.nonce, undefined, 'a logout token carries no nonce')
  })

  test('prompt=none: a code with the SSO session, login_required without one', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const config = await rpConfig()
    const { jar, tokens: first } = await codeFlow(config)
    const silent = async (cookies) => {
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: `${env.rpBase()}/cb`,
        scope: 'openid profile',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        prompt: 'none',
      })
      const r = await browse(cookies, url.href)
      assert.ok(r.location?.startsWith(`${env.rpBase()}/cb`), `prompt=none answers at once: HTTP ${r.status} ${r.location}`)
      return client.authorizationCodeGrant(config, new URL(r.location), { pkceCodeVerifier: verifier, expectedState: state })
    }
    const again = await silent(jar)
    assert.equal(again.claims().sub, first.claims().sub)
    assert.equal(again.claims().sid, first.claims().sid, 'same SSO session')
    await assert.rejects(silent(new CookieJar()), (e) => {
      assert.equal(e.error, 'login_required', String(e))
      return true
    })
  })

  test('acr_values=eid2 with a level-1 account: access_denied, never a weaker login', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const config = await rpConfig()
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${env.rpBase()}/cb`,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      acr_values: 'urn:xacthuc:acr:eid2',
    })
    const citizen = { id: need('INTEROP_LEVEL1_ID'), passcode: need('INTEROP_LEVEL1_PASSCODE') }
    // The citizen sees a page explaining the level problem and goes back to the service.
    const trace = []
    const callback = await citizenLogin(url, { citizen, trace, backToService: true })
    assert.ok(trace.includes('failed:403'), `a failure page was shown: ${trace}`)
    assert.equal(callback.searchParams.get('code'), null, 'no code for a weaker login')
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }),
      (e) => {
        assert.equal(e.error, 'access_denied', `${e} (${callback})`)
        return true
      },
    )
  })

  test('private_key_jwt + PAR (client requires PAR): full code flow', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const config = await pkjwtConfig()
    const { tokens } = await codeFlow(config, { par: true })
    const claims = tokens.claims()
    assert.equal(claims.aud, 'node-pkjwt')
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
    assert.equal(info.sub, claims.sub)
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
    assert.ok(refreshed.access_token)
    await client.tokenRevocation(config, refreshed.refresh_token)
  })

  for (const [alg, id, secretVar] of [
    ['RS256', 'node-rs256', 'INTEROP_RS256_SECRET'],
    ['EdDSA', 'node-eddsa', 'INTEROP_EDDSA_SECRET'],
    ['PS256', 'node-ps256', 'INTEROP_PS256_SECRET'],
  ]) {
    test(`ID token signed with ${alg} for a client registered with it (trusted: no consent page)`, async (t) => {
      const advertised = (await (await fetch(`${env.issuer()}/.well-known/openid-configuration`)).json())
        .id_token_signing_alg_values_supported
      if (!advertised.includes(alg) && !process.env[secretVar]) return // refused at registration: fine
      if (!(await requireCitizenLogin(t))) return
      const config = await client.discovery(
        issuer(),
        id,
        { redirect_uris: [`${env.rpBase()}/cb`], id_token_signed_response_alg: alg },
        client.ClientSecretBasic(need(secretVar)),
        insecure,
      )
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: `${env.rpBase()}/cb`,
        scope: 'openid profile',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      })
      const trace = []
      const callback = await citizenLogin(url, { trace })
      assert.ok(!trace.includes('/consent'), `a trusted client skips consent; went through ${trace}`)
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        idTokenExpected: true,
      })
      assert.equal(jose.decodeProtectedHeader(tokens.id_token).alg, alg)
      // Either the OP signs with alg and says so in discovery, or it refuses to register a client for it.
      assert.ok(advertised.includes(alg), `${alg} ID tokens issued but discovery advertises only ${advertised}`)
      assert.equal(tokens.claims().aud, id)
    })
  }

  test('response_mode=form_post: openid-client takes the response from the POSTed form', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const config = await rpConfig()
    const { tokens, params, callback } = await codeFlow(config, { extra: { response_mode: 'form_post' } })
    assert.ok(callback instanceof Request && callback.method === 'POST', 'the response came as an auto-submitted form')
    assert.equal(tokens.claims().nonce, params.nonce)
  })

  test('JAR: a signed request object (private_key_jwt client without PAR)', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const jwk = JSON.parse(readFileSync(need('INTEROP_PKJWT_JWK'), 'utf8'))
    const key = await jose.importJWK(jwk, 'ES256')
    const config = await client.discovery(
      issuer(),
      'node-jar',
      { redirect_uris: [`${env.rpBase()}/cb`] },
      client.PrivateKeyJwt({ key, kid: jwk.kid }),
      insecure,
    )
    const verifier = client.randomPKCECodeVerifier()
    const params = {
      redirect_uri: `${env.rpBase()}/cb`,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: client.randomState(),
      nonce: client.randomNonce(),
    }
    const url = await client.buildAuthorizationUrlWithJAR(config, params, { key, kid: jwk.kid })
    assert.ok(url.searchParams.get('request'), 'the parameters travel in a signed request object')
    assert.equal(url.searchParams.get('scope'), null)
    const callback = await citizenLogin(url)
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: params.state,
      expectedNonce: params.nonce,
      idTokenExpected: true,
    })
    assert.equal(tokens.claims().aud, 'node-jar')
  })

  test('key rotation: openid-client follows the new kid, old tokens still verify against JWKS', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const config = await rpConfig()
    const before = await codeFlow(config)
    const oldKid = jose.decodeProtectedHeader(before.tokens.id_token).kid
    // `xacthuc keys rotate` against the running server's database; it reloads keys every second here.
    execFileSync(need('INTEROP_XACTHUC_BIN'), ['keys', 'rotate'], { stdio: 'pipe' })
    let after
    for (let i = 0; i < 40; i++) {
      await new Promise((ok) => setTimeout(ok, 250))
      after = await codeFlow(config) // a consented client: no consent page, quick
      if (jose.decodeProtectedHeader(after.tokens.id_token).kid !== oldKid) break
    }
    const newKid = jose.decodeProtectedHeader(after.tokens.id_token).kid
    assert.notEqual(newKid, oldKid, 'ID tokens are signed with the new key after rotation')
    const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri))
    const kids = (await (await fetch(config.serverMetadata().jwks_uri)).json()).keys.map((k) => k.kid)
    assert.ok(kids.includes(oldKid) && kids.includes(newKid), `JWKS publishes old and new keys: ${kids}`)
    await jose.jwtVerify(before.tokens.id_token, jwks, { issuer: env.issuer(), audience: 'node-rp' })
    await jose.jwtVerify(before.tokens.access_token, jwks, { issuer: env.issuer(), audience: 'node-rp', typ: 'at+jwt' })
    // The old access token is still live (not revoked by rotation).
    const info = await client.fetchUserInfo(config, before.tokens.access_token, before.tokens.claims().sub)
    assert.equal(info.sub, before.tokens.claims().sub)
  })

  test('a client that must use PAR cannot send a plain authorization request', async () => {
    const config = await pkjwtConfig()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${env.rpBase()}/cb`,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    })
    const r = await browse(new CookieJar(), url.href)
    const refused = r.status === 400 || (r.location && new URL(r.location).searchParams.get('error'))
    assert.ok(refused, `expected a refusal, got HTTP ${r.status} ${r.location ?? ''}`)
  })
})
