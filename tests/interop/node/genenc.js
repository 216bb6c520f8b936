// Makes an encryption key pair for a client that wants encrypted ID tokens and userinfo:
// `node genenc.js <RSA-OAEP-256|ECDH-ES+A256KW> <private.jwk> <public.jwks>`. The public set is
// registered with `xacthuc clients add --jwks-file`; the tests decrypt with the private JWK.
// The RSA key says `"use": "enc"`, the EC key only names its `alg`: xacthuc accepts either mark.
import { writeFileSync } from 'node:fs'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'

const [alg, privatePath, publicPath] = process.argv.slice(2)
const options = alg === 'ECDH-ES+A256KW' ? { crv: 'P-256', extractable: true } : { extractable: true }
const { publicKey, privateKey } = await generateKeyPair(alg, options)
const pub = await exportJWK(publicKey)
const kid = await calculateJwkThumbprint(pub)
const mark = alg === 'RSA-OAEP-256' ? { use: 'enc', alg } : { alg }
writeFileSync(privatePath, JSON.stringify({ ...(await exportJWK(privateKey)), kid, ...mark }), { mode: 0o600 })
writeFileSync(publicPath, JSON.stringify({ keys: [{ ...pub, kid, ...mark }] }))
