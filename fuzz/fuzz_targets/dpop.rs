//! DPoP proofs (RFC 9449), as the token, PAR and resource endpoints read them. Two shapes of
//! input, so that both halves of the parser are reached:
//! - `\0 jwt`: a proof from the wire, read as is (size, header, embedded key, signature);
//! - anything else: the claims of a proof that a fixed throwaway P-256 key signs here, so the
//!   claim checks (`jti`, `htm`, `htu`, `iat`, `ath`, nonce) see arbitrary bytes behind a valid
//!   signature, which a fuzzer could never forge.
#![no_main]

use std::sync::LazyLock;

use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use xacthuc::oidc::dpop::{self, Expect};

/// Made for this target only; it signs nothing anywhere else.
const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgs4RCaT8568r1IhyQ
gTPXSKSirzL7pAfPIwzfs5WeN3ehRANCAATTh9RKtbdPn37ZvnYsHjrQWuvdMxv6
ro565Ubum7ZY9Y5Cj0Zv5mRkC7iz+gFTXoInxNKXCT4r2KixwlDNCV7S
-----END PRIVATE KEY-----";
const HEADER: &str = r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"04fUSrW3T59-2b52LB460Frr3TMb-q6OeuVG7pu2WPU","y":"jkKPRm_mZGQLuLP6AVNegifE0pcJPivYqLHCUM0JXtI"}}"#;

static KEY: LazyLock<EncodingKey> = LazyLock::new(|| EncodingKey::from_ec_pem(KEY_PEM.as_bytes()).expect("key"));
static NONCE_KEY: LazyLock<aws_lc_rs::hmac::Key> = LazyLock::new(|| dpop::nonce_key_from(b"fuzz secret"));

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fuzz_target!(|data: &[u8]| {
    let jwt = match data.split_first() {
        Some((0, wire)) => String::from_utf8_lossy(wire).into_owned(),
        _ => {
            let message = format!("{}.{}", b64(HEADER.as_bytes()), b64(data));
            let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &KEY, Algorithm::ES256).expect("sign");
            format!("{message}.{signature}")
        }
    };
    let Ok(signed) = dpop::read(&jwt, &dpop::ALGS) else { return };
    for (access_token, nonce_required) in [(None, true), (Some("an access token"), false)] {
        let expect =
            Expect { htm: "POST", htu: "https://id.example.vn/token", access_token, nonce_required, algs: &dpop::ALGS };
        let _ = dpop::check_claims(&NONCE_KEY, &signed.claims, &expect, 1_767_225_600);
    }
});
