//! Tokens we issued coming back to us: `id_token_hint`, bearer access tokens, logout tokens.
//! The hand-written compact-JWS parser (src/tokens/jwt.rs) and signature check of the key
//! ring, with every algorithm we sign with, and the standard claim checks.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use xacthuc::tokens::{Alg, KeyPolicy, KeyRing, MasterKey, MemoryKeyStore, RsaBits, validate_standard_claims};

const NOW: i64 = 1_780_000_000;

static RING: LazyLock<KeyRing> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let master = MasterKey::from_bytes(&[7u8; 32]).expect("master key");
    let policy = KeyPolicy { algs: Alg::ALL.to_vec(), rsa_bits: RsaBits::B2048 };
    rt.block_on(KeyRing::ensure_keys(&MemoryKeyStore::new(), master, policy, NOW)).expect("key ring")
});

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    for typ in ["JWT", "at+jwt", "logout+jwt"] {
        if let Ok(claims) = RING.verify_jwt(&token, typ, NOW) {
            let _ = validate_standard_claims(&claims, "https://id.example.vn", "rp", NOW, 60);
        }
    }
});
