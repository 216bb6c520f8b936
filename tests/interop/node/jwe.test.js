// Encrypted ID tokens and userinfo with panva's libraries: openid-client decrypts the ID token
// (enableDecryptingResponses) and validates the nested JWT as it would a plain one; jose decrypts
// the userinfo JWT and verifies xacthuc's signature. Clients `node-jwe-rsa` and `node-jwe-ec`
// are registered by tests/interop/run with the keys it generated (tests/interop/node/genenc.js).

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'

import * as jose from 'jose'
import * as client from 'openid-client'

import { citizenLogin, env, need, requireCitizenLogin } from './env.js'

const insecure = { execute: [client.allowInsecureRequests] } // the dev issuer is http://localhost

describe('encrypted responses (JWE) with openid-client and jose', () => {
  for (const [alg, tag] of [
    ['RSA-OAEP-256', 'RSA'],
    ['ECDH-ES+A256KW', 'EC'],
  ]) {
    test(`${alg}: the ID token and userinfo decrypt, and their signatures verify`, async (t) => {
      if (!(await requireCitizenLogin(t))) return
      const id = `node-jwe-${tag.toLowerCase()}`
      const jwk = JSON.parse(readFileSync(need(`INTEROP_JWE_${tag}_KEY`), 'utf8'))
      const key = await jose.importJWK(jwk, alg)
      const redirect = `${env.rpBase()}/cb`
      const config = await client.discovery(
        new URL(env.issuer()),
        id,
        { redirect_uris: [redirect], id_token_encrypted_response_alg: alg, id_token_encrypted_response_enc: 'A256GCM' },
        client.ClientSecretBasic(need(`INTEROP_NODE_JWE_${tag}_SECRET`)),
        insecure,
      )
      assert.ok(config.serverMetadata().id_token_encryption_alg_values_supported.includes(alg))
      client.enableDecryptingResponses(config, ['A256GCM'], { key, alg, kid: jwk.kid })

      const verifier = client.randomPKCECodeVerifier()
      const params = {
        redirect_uri: redirect,
        scope: 'openid profile personal_id',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: client.randomState(),
        nonce: client.randomNonce(),
      }
      const callback = await citizenLogin(client.buildAuthorizationUrl(config, params))
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: params.state,
        expectedNonce: params.nonce,
        idTokenExpected: true,
      })
      assert.equal(tokens.id_token.split('.').length, 5, 'the ID token is a compact JWE')
      const header = jose.decodeProtectedHeader(tokens.id_token)
      assert.deepEqual([header.alg, header.enc, header.cty, header.kid], [alg, 'A256GCM', 'JWT', jwk.kid])
      const claims = tokens.claims() // decrypted, signature and claims validated by openid-client
      assert.equal(claims.aud, id)
      assert.match(claims.personal_id, /^\d{12}$/)

      const r = await fetch(`${env.issuer()}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
      assert.equal(r.status, 200)
      assert.match(r.headers.get('content-type'), /^application\/jwt/)
      const { plaintext, protectedHeader } = await jose.compactDecrypt(await r.text(), key)
      assert.deepEqual([protectedHeader.alg, protectedHeader.enc, protectedHeader.cty], [alg, 'A256GCM', 'JWT'])
      const jwks = jose.createLocalJWKSet(await (await fetch(`${env.issuer()}/jwks`)).json())
      const { payload } = await jose.jwtVerify(new TextDecoder().decode(plaintext), jwks, {
        issuer: env.issuer(),
        audience: id,
      })
      assert.equal(payload.sub, claims.sub)
      assert.equal(payload.personal_id, claims.personal_id)
    })
  }
})
