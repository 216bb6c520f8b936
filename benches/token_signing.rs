//! Signing speed of a typical ID token: our key ring (keys parsed once) against jsonwebtoken
//! `encode` with the aws_lc_rs backend and keys loaded from PEM (it re-parses the DER on every
//! call). Plain harness: prints the median ns/op of several rounds.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-tokens cargo bench -p xacthuc --bench token_signing`

use std::hint::black_box;
use std::time::Instant;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use xacthuc::tokens::{Alg, KeyPolicy, KeyRing, MasterKey, MemoryKeyStore, RsaBits};

const ROUNDS: usize = 7;

fn id_claims(now: i64) -> Value {
    json!({
        "iss": "https://xacthuc.example.gov.vn", "sub": "pw-3f1c9a0d7e", "aud": "cong-dich-vu-cong",
        "exp": now + 300, "iat": now, "auth_time": now - 5, "nonce": "n-0S6_WzA2Mj",
        "acr": "urn:xacthuc:loa:2", "amr": ["vneid"], "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "name": "Nguyễn Thị Minh Khai",
    })
}

/// Median ns/op over `ROUNDS` rounds of `iters` calls, after one warm-up round.
fn measure(iters: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters.min(200) {
        f();
    }
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn pem(der: &[u8]) -> Vec<u8> {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out.into_bytes()
}

fn peer_key(alg: Alg) -> EncodingKey {
    let rng = SystemRandom::new();
    let res = match alg {
        Alg::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map(|d| d.as_ref().to_vec())
            .map_err(|e| e.to_string())
            .and_then(|d| EncodingKey::from_ec_pem(&pem(&d)).map_err(|e| e.to_string())),
        Alg::Rs256 | Alg::Ps256 => aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .and_then(|k| k.as_der())
            .map(|d| d.as_ref().to_vec())
            .map_err(|e| e.to_string())
            .and_then(|d| EncodingKey::from_rsa_pem(&pem(&d)).map_err(|e| e.to_string())),
        Alg::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|d| d.as_ref().to_vec())
            .map_err(|e| e.to_string())
            .and_then(|d| EncodingKey::from_ed_pem(&pem(&d)).map_err(|e| e.to_string())),
    };
    res.unwrap_or_else(|e| panic!("peer key for {alg}: {e}"))
}

fn main() {
    let now = 1_750_000_000;
    let claims = id_claims(now);
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let store = MemoryKeyStore::new();
    let master = MasterKey::from_bytes(&[7u8; 32]).expect("master key");
    let policy = KeyPolicy { algs: Alg::ALL.to_vec(), rsa_bits: RsaBits::B2048 };
    let ring = rt.block_on(KeyRing::ensure_keys(&store, master, policy, now)).expect("ring");

    println!("ID token ({} bytes of claims JSON), release build, one thread", claims.to_string().len());
    println!("{:<7} {:>14} {:>18} {:>8} {:>14}", "alg", "ring sign ns", "jsonwebtoken ns", "ratio", "ring verify ns");
    for alg in Alg::ALL {
        let iters = if matches!(alg, Alg::Rs256 | Alg::Ps256) { 2_000 } else { 20_000 };
        let ours = measure(iters, || {
            black_box(ring.sign_jwt(alg, "JWT", black_box(&claims)).expect("sign"));
        });
        let key = peer_key(alg);
        let mut header = Header::new(match alg {
            Alg::Es256 => Algorithm::ES256,
            Alg::Rs256 => Algorithm::RS256,
            Alg::EdDsa => Algorithm::EdDSA,
            Alg::Ps256 => Algorithm::PS256,
        });
        header.kid = ring.active_kid(alg);
        let peer = measure(iters, || {
            black_box(jsonwebtoken::encode(&header, black_box(&claims), &key).expect("encode"));
        });
        let token = ring.sign_jwt(alg, "JWT", &claims).expect("sign");
        let verify = measure(iters, || {
            black_box(ring.verify_jwt(black_box(&token), "JWT", now).expect("verify"));
        });
        println!("{:<7} {ours:>14.0} {peer:>18.0} {:>7.2}x {verify:>14.0}", alg.jose_name(), peer / ours);
    }
}
