//! Unit tests: algorithms, master key, minting checked by an independent verifier, rejection of
//! forged and malformed tokens, claim checks.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::*;

pub(super) const ISS: &str = "https://xacthuc.example.gov.vn";
pub(super) const AUD: &str = "cong-dich-vu-cong";

pub(super) fn master() -> MasterKey {
    MasterKey::from_bytes(&[7u8; 32]).expect("32-byte key")
}

pub(super) fn all_algs() -> KeyPolicy {
    KeyPolicy { algs: Alg::ALL.to_vec(), rsa_bits: RsaBits::B2048 }
}

pub(super) fn id_claims(now: i64) -> Value {
    json!({
        "iss": ISS, "sub": "pw-3f1c9a", "aud": AUD, "exp": now + 300, "iat": now,
        "auth_time": now - 5, "nonce": "n-0S6_WzA2Mj", "acr": "urn:xacthuc:loa:2",
        "amr": ["vneid"], "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
        "name": "Nguyễn Thị Minh Khai",
    })
}

pub(super) async fn ring_with(policy: KeyPolicy, now: i64) -> (KeyRing, MemoryKeyStore) {
    let store = MemoryKeyStore::new();
    let ring = KeyRing::ensure_keys(&store, master(), policy, now).await.expect("ensure_keys");
    (ring, store)
}

/// Verifies with jsonwebtoken, using only the JWK published in our JWKS: an independent
/// implementation agreeing with our signatures, kid and JWK encoding.
pub(super) fn verify_independently(ring: &KeyRing, token: &str, alg: Alg, now: i64) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("header");
    let kid = header.kid.expect("kid in header");
    let jwks: Value = serde_json::from_str(&ring.jwks_json(now)).expect("JWKS is JSON");
    let jwk_json = jwks["keys"]
        .as_array()
        .expect("keys array")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid published in JWKS")
        .clone();
    assert_eq!(jwk_json["use"], "sig");
    assert_eq!(jwk_json["alg"], alg.jose_name());
    let jwk: Jwk = serde_json::from_value(jwk_json).expect("JWK parses");
    let key = DecodingKey::from_jwk(&jwk).expect("decoding key from JWK");
    let mut validation = Validation::new(match alg {
        Alg::Es256 => Algorithm::ES256,
        Alg::Rs256 => Algorithm::RS256,
        Alg::EdDsa => Algorithm::EdDSA,
        Alg::Ps256 => Algorithm::PS256,
    });
    validation.set_audience(&[AUD]);
    validation.set_issuer(&[ISS]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).expect("independent verify").claims
}

fn real_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn alg_names_round_trip() {
    for alg in Alg::ALL {
        assert_eq!(alg.jose_name().parse::<Alg>().expect("parse"), alg);
        assert_eq!(serde_json::to_value(alg).expect("ser"), json!(alg.jose_name()));
    }
    assert!("es256".parse::<Alg>().is_err());
    assert!("none".parse::<Alg>().is_err());
    assert_eq!(Alg::default(), Alg::Es256);
}

#[test]
fn token_hash_matches_oidc_core_examples() {
    // OIDC Core Appendix A.3 / A.4 (RS256 → SHA-256).
    let at = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
    assert_eq!(token_hash(Alg::Rs256, at), "77QmUPtjPfzWtF2AnpK9RQ");
    let code = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk";
    assert_eq!(token_hash(Alg::Es256, code), "LDktKdoQak3Pk0cnXxCltA");
    // EdDSA: left half of SHA-512 is 32 bytes → 43 base64url characters.
    let ed = token_hash(Alg::EdDsa, at);
    assert_eq!(ed.len(), 43);
    let full = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, at.as_bytes());
    assert_eq!(ed, URL_SAFE_NO_PAD.encode(&full.as_ref()[..32]));
}

#[test]
fn master_key_parsing_and_redaction() {
    let encoded = MasterKey::generate_base64().expect("generate");
    let key = MasterKey::from_base64(&format!("{}\n", encoded.as_str())).expect("parse");
    assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    assert!(matches!(MasterKey::from_base64("not base64!"), Err(Error::InvalidMasterKey(_))));
    assert!(matches!(MasterKey::from_base64("AAAA"), Err(Error::InvalidMasterKey(_))));
}

#[test]
fn encryption_round_trip_and_binding() {
    let m = master();
    let secret = b"pkcs8 bytes would be here";
    let sealed = m.seal("kid-1", Alg::Es256, secret).expect("seal");
    assert!(!sealed.windows(secret.len()).any(|w| w == secret));
    assert_eq!(m.open("kid-1", Alg::Es256, &sealed).expect("open").as_slice(), secret);
    // Random nonce: sealing twice never gives the same bytes.
    assert_ne!(sealed, m.seal("kid-1", Alg::Es256, secret).expect("seal"));
    // Another kid or alg (ciphertext moved to another record) fails.
    assert!(matches!(m.open("kid-2", Alg::Es256, &sealed), Err(Error::Decrypt { .. })));
    assert!(matches!(m.open("kid-1", Alg::Rs256, &sealed), Err(Error::Decrypt { .. })));
    // Wrong master key fails with a clear error.
    let other = MasterKey::from_bytes(&[8u8; 32]).expect("key");
    let err = other.open("kid-1", Alg::Es256, &sealed).expect_err("wrong key");
    assert!(err.to_string().contains("wrong master key"), "{err}");
    // Truncated or unknown-format input is an error, not a panic.
    assert!(m.open("kid-1", Alg::Es256, &sealed[..5]).is_err());
    assert!(m.open("kid-1", Alg::Es256, &[]).is_err());
    assert!(m.open("kid-1", Alg::Es256, &[9u8; 40]).is_err());
}

#[tokio::test]
async fn round_trip_each_alg_verified_by_jsonwebtoken() {
    let now = real_now();
    let (ring, _store) = ring_with(all_algs(), now).await;
    for alg in Alg::ALL {
        let claims = id_claims(now);
        let token = ring.sign_jwt(alg, "JWT", &claims).expect("sign");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.kid, ring.active_kid(alg));
        assert_eq!(verify_independently(&ring, &token, alg, now), claims);
        assert_eq!(ring.verify_jwt(&token, "JWT", now).expect("own verify"), claims);
        validate_standard_claims(&claims, ISS, AUD, now, 30).expect("claims valid");
    }
}

#[tokio::test]
async fn stored_records_reload_into_the_same_ring() {
    let now = 1_750_000_000;
    let (ring, store) = ring_with(all_algs(), now).await;
    let records = store.load_keys().await.expect("load");
    // Records survive a JSON round trip (the shape the database adapters persist).
    let json = serde_json::to_string(&records).expect("ser");
    let back: Vec<KeyRecord> = serde_json::from_str(&json).expect("de");
    assert_eq!(back, records);
    let again = KeyRing::from_records(&back, master(), all_algs(), now).expect("reload");
    assert_eq!(again.jwks_json(now), ring.jwks_json(now));
    let token = ring.sign_jwt(Alg::EdDsa, "JWT", &id_claims(now)).expect("sign");
    again.verify_jwt(&token, "JWT", now).expect("verifies after reload");
    assert!(!format!("{:?}", records[0]).contains(&records[0].public_jwk));
}

#[tokio::test]
async fn wrong_master_key_or_swapped_ciphertext_fails_to_load() {
    let now = 1_750_000_000;
    let (_ring, store) = ring_with(KeyPolicy::default(), now).await;
    let records = store.load_keys().await.expect("load");
    let other = MasterKey::from_bytes(&[9u8; 32]).expect("key");
    let err = KeyRing::from_records(&records, other, KeyPolicy::default(), now).expect_err("wrong");
    assert!(matches!(err, Error::Decrypt { .. }), "{err}");
    // ensure_keys with a wrong master key fails before generating anything.
    let other = MasterKey::from_bytes(&[9u8; 32]).expect("key");
    assert!(KeyRing::ensure_keys(&store, other, KeyPolicy::default(), now).await.is_err());
    assert_eq!(store.load_keys().await.expect("load").len(), 2);

    // Two ES256 keys, ciphertexts exchanged.
    let (_r, s2) = ring_with(KeyPolicy { algs: vec![Alg::Es256], ..Default::default() }, now).await;
    let mut a = s2.load_keys().await.expect("load").remove(0);
    let (_r, s3) = ring_with(KeyPolicy { algs: vec![Alg::Es256], ..Default::default() }, now).await;
    let b = s3.load_keys().await.expect("load").remove(0);
    a.private_key_enc = b.private_key_enc.clone();
    let err = KeyRing::from_records(&[a], master(), KeyPolicy::default(), now).expect_err("swap");
    assert!(matches!(err, Error::Decrypt { .. }), "{err}");

    // A public JWK edited in the database is refused.
    let mut c = b.clone();
    let mut jwk: Value = serde_json::from_str(&c.public_jwk).expect("jwk");
    jwk["x"] = json!(URL_SAFE_NO_PAD.encode([1u8; 32]));
    c.public_jwk = jwk.to_string();
    let err = KeyRing::from_records(&[c], master(), KeyPolicy::default(), now).expect_err("jwk");
    assert!(matches!(err, Error::InvalidRecord { .. }), "{err}");
}

fn b64json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_rejected() {
    let now = 1_750_000_000;
    let (ring, _store) = ring_with(all_algs(), now).await;
    let es = ring.sign_jwt(Alg::Es256, "JWT", &id_claims(now)).expect("sign");
    let rs = ring.sign_jwt(Alg::Rs256, "JWT", &id_claims(now)).expect("sign");
    let p = parts(&es);

    // Payload changed, signature kept.
    let mut claims = id_claims(now);
    claims["sub"] = json!("someone-else");
    let tampered = format!("{}.{}.{}", p[0], b64json(&claims), p[2]);
    assert!(matches!(ring.verify_jwt(&tampered, "JWT", now), Err(Error::BadSignature)));
    // Signature bit flipped.
    let mut sig = URL_SAFE_NO_PAD.decode(&p[2]).expect("sig");
    sig[10] ^= 1;
    let flipped = format!("{}.{}.{}", p[0], p[1], URL_SAFE_NO_PAD.encode(&sig));
    assert!(matches!(ring.verify_jwt(&flipped, "JWT", now), Err(Error::BadSignature)));

    // Unknown kid, and no kid at all.
    let kid = ring.active_kid(Alg::Es256).expect("kid");
    let h = json!({"alg": "ES256", "typ": "JWT", "kid": "not-a-key"});
    let unknown = format!("{}.{}.{}", b64json(&h), p[1], p[2]);
    assert!(matches!(ring.verify_jwt(&unknown, "JWT", now), Err(Error::UnknownKid)));
    let h = json!({"alg": "ES256", "typ": "JWT"});
    let no_kid = format!("{}.{}.{}", b64json(&h), p[1], p[2]);
    assert!(matches!(ring.verify_jwt(&no_kid, "JWT", now), Err(Error::UnknownKid)));

    // Algorithm confusion: header alg swapped, with the ES256 kid.
    for alg in ["RS256", "EdDSA", "HS256", "none", "ES384"] {
        let h = json!({"alg": alg, "typ": "JWT", "kid": kid});
        let forged = format!("{}.{}.{}", b64json(&h), p[1], p[2]);
        assert!(matches!(ring.verify_jwt(&forged, "JWT", now), Err(Error::AlgMismatch)), "{alg}");
    }
    // HS256 keyed with the public JWK text (classic confusion attack) is refused too.
    let h = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let input = format!("{}.{}", b64json(&h), p[1]);
    let jwks = ring.jwks_json(now);
    let mac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwks.as_bytes());
    let mac = aws_lc_rs::hmac::sign(&mac_key, input.as_bytes());
    let hs = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
    assert!(matches!(ring.verify_jwt(&hs, "JWT", now), Err(Error::AlgMismatch)));
    // An RS256 signature presented under the ES256 kid.
    let r = parts(&rs);
    let h = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
    let mixed = format!("{}.{}.{}", b64json(&h), r[1], r[2]);
    assert!(matches!(ring.verify_jwt(&mixed, "JWT", now), Err(Error::BadSignature)));

    // Wrong typ: an ID token is not an access token.
    assert!(matches!(ring.verify_jwt(&es, "at+jwt", now), Err(Error::WrongType)));
    let at = ring.sign_jwt(Alg::Es256, "at+jwt", &id_claims(now)).expect("sign");
    ring.verify_jwt(&at, "application/AT+JWT", now).expect("typ is case-insensitive");

    // Critical header we do not understand.
    let h = json!({"alg": "ES256", "typ": "JWT", "kid": kid, "crit": ["exp"]});
    let crit = format!("{}.{}.{}", b64json(&h), p[1], p[2]);
    assert!(matches!(ring.verify_jwt(&crit, "JWT", now), Err(Error::Malformed(_))));

    // Garbage never panics.
    let long = "a".repeat(20_000);
    for junk in [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        "a.b.c.d.e",
        &long,
        "eyJ9.e30.",
        "e30.e30.e30",
        "😀.😀.😀",
        "eyJhbGciOiJFUzI1NiJ9.%%%.AAAA",
    ] {
        let err = ring.verify_jwt(junk, "JWT", now).expect_err(junk);
        assert!(err.is_token_error(), "{junk}: {err}");
    }
    // Payload that is valid base64 and signed but not an object is not returned as claims.
    let arr = ring.sign_jwt(Alg::Es256, "JWT", &json!([1, 2])).expect("sign");
    assert!(matches!(ring.verify_jwt(&arr, "JWT", now), Err(Error::Malformed(_))));
}

#[test]
fn standard_claims_are_checked() {
    let now = 1_750_000_000;
    let ok = id_claims(now);
    validate_standard_claims(&ok, ISS, AUD, now, 0).expect("valid");
    let with = |k: &str, v: Value| {
        let mut c = id_claims(now);
        c[k] = v;
        c
    };
    let check = |c: &Value| validate_standard_claims(c, ISS, AUD, now, 10);
    assert!(matches!(check(&with("iss", json!("https://evil"))), Err(Error::WrongIssuer)));
    assert!(matches!(check(&with("aud", json!("other"))), Err(Error::WrongAudience)));
    check(&with("aud", json!(["other", AUD]))).expect("aud in array");
    assert!(matches!(check(&with("aud", json!(5))), Err(Error::MissingClaim("aud"))));
    assert!(matches!(check(&with("exp", json!(now - 11))), Err(Error::Expired)));
    check(&with("exp", json!(now - 5))).expect("within leeway");
    check(&with("exp", json!((now + 60) as f64 + 0.5))).expect("fractional exp");
    assert!(matches!(check(&with("exp", json!("soon"))), Err(Error::MissingClaim("exp"))));
    assert!(matches!(check(&with("nbf", json!(now + 60))), Err(Error::NotYetValid)));
    assert!(matches!(check(&with("iat", json!(now + 60))), Err(Error::NotYetValid)));
    let mut no_exp = id_claims(now);
    no_exp.as_object_mut().expect("object").remove("exp");
    assert!(matches!(check(&no_exp), Err(Error::MissingClaim("exp"))));
}

#[test]
fn secret_settings_are_bound_to_their_name_and_master_key() {
    let sealed = master().seal_setting("pairwise_salt", b"salt-value").expect("seal");
    assert!(!sealed.windows(10).any(|w| w == b"salt-value"), "ciphertext must not contain the plaintext");
    assert_eq!(master().open_setting("pairwise_salt", &sealed).expect("open").as_slice(), b"salt-value");
    assert_ne!(sealed, master().seal_setting("pairwise_salt", b"salt-value").expect("seal"), "random nonce");
    let other_name = master().open_setting("other", &sealed).expect_err("moved to another setting");
    assert!(matches!(other_name, Error::DecryptSetting { .. }), "{other_name}");
    let other_key = MasterKey::from_bytes(&[8u8; 32]).expect("key").open_setting("pairwise_salt", &sealed);
    assert!(matches!(other_key, Err(Error::DecryptSetting { .. })));
    // A setting ciphertext never opens as a signing key, whatever the kid.
    assert!(master().open("pairwise_salt", Alg::Es256, &sealed).is_err());
    assert!(master().open_setting("pairwise_salt", &sealed[..5]).is_err(), "truncated");
}

#[tokio::test]
async fn ps256_has_its_own_key_and_padding() {
    let now = real_now();
    let (ring, _store) = ring_with(all_algs(), now).await;
    // A separate RSA key: each published key names exactly one algorithm.
    assert_ne!(ring.active_kid(Alg::Ps256), ring.active_kid(Alg::Rs256));
    let ps = ring.sign_jwt(Alg::Ps256, "JWT", &id_claims(now)).expect("sign");
    assert_eq!(verify_independently(&ring, &ps, Alg::Ps256, now), id_claims(now));
    // PSS signatures are randomised (salted); PKCS#1 v1.5 ones are not.
    assert_ne!(parts(&ps)[2], parts(&ring.sign_jwt(Alg::Ps256, "JWT", &id_claims(now)).expect("sign"))[2]);
    // The same PSS signature relabelled RS256 under its own kid is refused.
    let p = parts(&ps);
    let h = json!({"alg": "RS256", "typ": "JWT", "kid": ring.active_kid(Alg::Ps256).expect("kid")});
    let relabelled = format!("{}.{}.{}", b64json(&h), p[1], p[2]);
    assert!(matches!(ring.verify_jwt(&relabelled, "JWT", now), Err(Error::AlgMismatch)));
}
