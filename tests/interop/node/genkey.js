// Makes the private_key_jwt client's key pair: `node genkey.js <private.jwk> <public.jwks>`.
// The public set is registered with `xacthuc clients add --jwks-file`; the test signs with the private JWK.
import { writeFileSync } from 'node:fs'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'

const [privatePath, publicPath] = process.argv.slice(2)
const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
const pub = await exportJWK(publicKey)
const kid = await calculateJwkThumbprint(pub)
const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' }
writeFileSync(privatePath, JSON.stringify(priv), { mode: 0o600 })
writeFileSync(publicPath, JSON.stringify({ keys: [{ ...pub, kid, alg: 'ES256', use: 'sig' }] }))
