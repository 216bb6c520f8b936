//! JWTs a client signs: private_key_jwt client assertions and request objects (also inside
//! PAR). DPoP proofs go through the same JWS header and claims parsing until their own parser
//! has a target. Input: `jwks \0 jwt` (a registered JWK Set, as a client registration carries
//! it, then the token), or the token alone against a fixed set of EC, RSA and OKP keys.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use xacthuc::oidc::clients::{AuthMethod, Client};
use xacthuc::oidc::jwks_cache::{JwksCache, Purpose, numeric_claim};

static RT: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"));
static HTTP: LazyLock<reqwest::Client> = LazyLock::new(reqwest::Client::new);

fn fixed_jwks() -> Value {
    json!({"keys": [
        {"kty": "EC", "crv": "P-256", "kid": "ec", "use": "sig",
         "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "RSA", "kid": "rsa", "e": "AQAB",
         "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
    ]})
}

fuzz_target!(|data: &[u8]| {
    let (jwks, jwt) = match data.iter().position(|&b| b == 0) {
        Some(at) => match serde_json::from_slice::<Value>(&data[..at]) {
            Ok(v) => (v, &data[at + 1..]),
            Err(_) => return,
        },
        None => (fixed_jwks(), data),
    };
    let jwt = String::from_utf8_lossy(jwt);
    let jwt: &str = &jwt;
    let mut client = Client::new("rp", "RP", AuthMethod::PrivateKeyJwt, vec!["https://rp.example.vn/cb".into()]);
    client.jwks = Some(jwks);
    // What client_auth reads before it knows whose keys to use.
    if let Ok(t) = jsonwebtoken::dangerous::insecure_decode::<Value>(jwt) {
        let _ = numeric_claim(&t.claims, "exp");
    }
    let cache = JwksCache::default();
    for purpose in [Purpose::ClientAssertion, Purpose::RequestObject] {
        let _ = RT.block_on(cache.verify(&HTTP, &client, jwt, purpose));
    }
});
