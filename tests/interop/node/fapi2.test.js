// FAPI 2.0 Security Profile with DPoP against xacthuc's `fapi2` client (node-fapi2, registered
// by tests/interop/run): two independent certified relying-party libraries, openid-client 6.x
// and oauth4webapi 3.x, each log a citizen in through PAR + PKCE + private_key_jwt + DPoP,
// refresh, and call userinfo with DPoP-bound tokens; weaker requests are refused.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'

import * as jose from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'

import { citizenLogin, env, need, requireCitizenLogin } from './env.js'

const CLIENT_ID = 'node-fapi2'
const SCOPE = 'openid profile'
const redirectUri = () => `${env.rpBase()}/cb`

async function signingKey() {
  const jwk = JSON.parse(readFileSync(need('INTEROP_PKJWT_JWK'), 'utf8'))
  return { key: await jose.importJWK(jwk, 'ES256'), kid: jwk.kid }
}

/** The payload of a JWT, unverified (to look at `cnf`). */
const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())

describe('FAPI 2.0 with openid-client', () => {
  async function config() {
    return client.discovery(
      new URL(env.issuer()),
      CLIENT_ID,
      { redirect_uris: [redirectUri()], id_token_signed_response_alg: 'ES256' },
      client.PrivateKeyJwt(await signingKey()),
      { execute: [client.allowInsecureRequests] }, // the dev issuer is http://localhost
    )
  }

  test('login (PAR, PKCE, private_key_jwt, DPoP), refresh and userinfo', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const cfg = await config()
    const md = cfg.serverMetadata()
    assert.ok(md.dpop_signing_alg_values_supported.includes('PS256'))
    const DPoP = client.getDPoPHandle(cfg, await client.randomDPoPKeyPair('PS256'))
    const verifier = client.randomPKCECodeVerifier()
    const params = {
      redirect_uri: redirectUri(),
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: client.randomState(),
      nonce: client.randomNonce(),
    }
    const url = await client.buildAuthorizationUrlWithPAR(cfg, params, { DPoP })
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'], 'only the pushed request travels')
    const callback = await citizenLogin(url)
    assert.equal(callback.searchParams.get('iss'), env.issuer(), 'RFC 9207 iss')
    const tokens = await client.authorizationCodeGrant(
      cfg,
      callback,
      { pkceCodeVerifier: verifier, expectedState: params.state, expectedNonce: params.nonce, idTokenExpected: true },
      undefined,
      { DPoP },
    )
    assert.equal(tokens.token_type.toLowerCase(), 'dpop')
    assert.ok(payload(tokens.access_token).cnf?.jkt, 'the access token is bound (cnf.jkt)')
    const sub = tokens.claims().sub

    const info = await client.fetchUserInfo(cfg, tokens.access_token, sub, { DPoP })
    assert.equal(info.sub, sub)
    assert.ok(info.name, 'profile claims are released')

    // The same token as a plain Bearer token is refused.
    const bearer = await fetch(md.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    assert.equal(bearer.status, 401)
    assert.match(bearer.headers.get('www-authenticate'), /DPoP/)

    // A refresh without DPoP is refused (the profile wants sender-constrained tokens)...
    await assert.rejects(client.refreshTokenGrant(cfg, tokens.refresh_token), (e) => {
      assert.equal(e.error, 'invalid_dpop_proof')
      return true
    })
    // ...and with it, gives a new bound token that works at userinfo.
    const refreshed = await client.refreshTokenGrant(cfg, tokens.refresh_token, undefined, { DPoP })
    assert.equal(refreshed.token_type.toLowerCase(), 'dpop')
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token)
    assert.equal((await client.fetchUserInfo(cfg, refreshed.access_token, sub, { DPoP })).sub, sub)
  })

  test('a request that is not pushed is refused with invalid_request', async () => {
    const cfg = await config()
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: redirectUri(),
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    })
    const r = await fetch(url, { redirect: 'manual' })
    const back = new URL(r.headers.get('location'))
    assert.equal(back.origin + back.pathname, redirectUri())
    assert.equal(back.searchParams.get('error'), 'invalid_request')
  })
})

describe('FAPI 2.0 with oauth4webapi', () => {
  const insecure = { [oauth.allowInsecureRequests]: true }
  const c = { client_id: CLIENT_ID, id_token_signed_response_alg: 'ES256' }

  async function server() {
    const issuer = new URL(env.issuer())
    return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  }

  /** oauth4webapi leaves the use_dpop_nonce retry to the application (RFC 9449 §8). */
  async function withNonceRetry(request, process) {
    try {
      return await process(await request())
    } catch (e) {
      if (!oauth.isDPoPNonceError(e)) throw e
      return process(await request())
    }
  }

  test('login (PAR, PKCE, private_key_jwt, DPoP), refresh and userinfo', async (t) => {
    if (!(await requireCitizenLogin(t))) return
    const as = await server()
    const auth = oauth.PrivateKeyJwt(await signingKey())
    const DPoP = oauth.DPoP(c, await oauth.generateKeyPair('EdDSA'))
    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const nonce = oauth.generateRandomNonce()
    const params = new URLSearchParams({
      redirect_uri: redirectUri(),
      scope: SCOPE,
      response_type: 'code',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    const par = await withNonceRetry(
      () => oauth.pushedAuthorizationRequest(as, c, auth, params, { DPoP, ...insecure }),
      (r) => oauth.processPushedAuthorizationResponse(as, c, r),
    )
    const url = new URL(as.authorization_endpoint)
    url.searchParams.set('client_id', CLIENT_ID)
    url.searchParams.set('request_uri', par.request_uri)
    const callback = await citizenLogin(url)
    const cb = oauth.validateAuthResponse(as, c, callback, state) // checks iss (RFC 9207)
    const tokens = await withNonceRetry(
      () => oauth.authorizationCodeGrantRequest(as, c, auth, cb, redirectUri(), verifier, { DPoP, ...insecure }),
      (r) => oauth.processAuthorizationCodeResponse(as, c, r, { expectedNonce: nonce, requireIdToken: true }),
    )
    assert.equal(tokens.token_type, 'dpop')
    const { sub } = oauth.getValidatedIdTokenClaims(tokens)

    const userinfo = (at) =>
      withNonceRetry(
        () => oauth.userInfoRequest(as, c, at, { DPoP, ...insecure }),
        (r) => oauth.processUserInfoResponse(as, c, sub, r),
      )
    assert.equal((await userinfo(tokens.access_token)).sub, sub)

    const refreshed = await withNonceRetry(
      () => oauth.refreshTokenGrantRequest(as, c, auth, tokens.refresh_token, { DPoP, ...insecure }),
      (r) => oauth.processRefreshTokenResponse(as, c, r),
    )
    assert.equal(refreshed.token_type, 'dpop')
    assert.equal((await userinfo(refreshed.access_token)).sub, sub)

    // Another key cannot use the bound access token.
    const thief = oauth.DPoP(c, await oauth.generateKeyPair('ES256'))
    await assert.rejects(
      withNonceRetry(
        () => oauth.userInfoRequest(as, c, refreshed.access_token, { DPoP: thief, ...insecure }),
        (r) => oauth.processUserInfoResponse(as, c, sub, r),
      ),
    )
  })

  test('PKCE plain is refused at PAR', async () => {
    const as = await server()
    const auth = oauth.PrivateKeyJwt(await signingKey())
    const params = new URLSearchParams({
      redirect_uri: redirectUri(),
      scope: SCOPE,
      response_type: 'code',
      code_challenge: oauth.generateRandomCodeVerifier(),
      code_challenge_method: 'plain',
    })
    const r = await oauth.pushedAuthorizationRequest(as, c, auth, params, insecure)
    await assert.rejects(oauth.processPushedAuthorizationResponse(as, c, r), (e) => {
      assert.equal(e.error, 'invalid_request')
      return true
    })
  })
})
