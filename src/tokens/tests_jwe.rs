//! JWE: a round trip through a decryption written here from RFC 7516/7518 on the primitives
//! (the interop suites decrypt with Authlib and jose too), the RFC 7518 Appendix C vector for
//! the Concat KDF, and the key selection rules.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrap as _};
use aws_lc_rs::rsa::{KeyPair, KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::jwe::{ContentEnc, JweError, KeyAlg, Recipient, concat_kdf, encrypt};

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}
fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

enum Private {
    Rsa(OaepPrivateDecryptingKey),
    Ec(PrivateKey),
}

/// A fresh recipient key pair: the private half for the test, the public JWK for the client's set.
fn keypair(alg: KeyAlg) -> (Private, Value) {
    match alg {
        KeyAlg::RsaOaep256 => {
            let pair = KeyPair::generate(KeySize::Rsa2048).expect("rsa");
            let public = aws_lc_rs::signature::KeyPair::public_key(&pair);
            let jwk = json!({
                "kty": "RSA", "kid": "enc-rsa",
                "n": b64(public.modulus().big_endian_without_leading_zero()),
                "e": b64(public.exponent().big_endian_without_leading_zero()),
            });
            let der = pair.as_der().expect("der");
            let private = PrivateDecryptingKey::from_pkcs8(der.as_ref()).expect("pkcs8");
            (Private::Rsa(OaepPrivateDecryptingKey::new(private).expect("oaep")), jwk)
        }
        KeyAlg::EcdhEsA256kw => {
            let private = PrivateKey::generate(&ECDH_P256).expect("ec");
            let point = private.compute_public_key().expect("public");
            let point = point.as_ref();
            let jwk = json!({
                "kty": "EC", "crv": "P-256", "kid": "enc-ec",
                "x": b64(&point[1..33]), "y": b64(&point[33..]),
            });
            (Private::Ec(private), jwk)
        }
    }
}

/// Decrypts a compact JWE (RFC 7516 §5.2), returning the protected header and the plaintext.
fn decrypt(private: &Private, token: &str) -> (Value, Vec<u8>) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 5, "compact JWE has five parts");
    let header: Value = serde_json::from_slice(&unb64(parts[0])).expect("header");
    let encrypted_key = unb64(parts[1]);
    let cek = match private {
        Private::Rsa(key) => {
            assert_eq!(header["alg"], "RSA-OAEP-256");
            let mut out = vec![0u8; key.min_output_size()];
            key.decrypt(&OAEP_SHA256_MGF1SHA256, &encrypted_key, &mut out, None).expect("OAEP").to_vec()
        }
        Private::Ec(key) => {
            assert_eq!(header["alg"], "ECDH-ES+A256KW");
            let epk = &header["epk"];
            assert_eq!((epk["kty"].as_str(), epk["crv"].as_str()), (Some("EC"), Some("P-256")));
            let mut point = vec![4u8];
            point.extend(unb64(epk["x"].as_str().expect("x")));
            point.extend(unb64(epk["y"].as_str().expect("y")));
            let kek = agreement::agree(key, UnparsedPublicKey::new(&ECDH_P256, &point), (), |z| {
                Ok(concat_kdf(z, "ECDH-ES+A256KW", b"", b"", 256))
            })
            .expect("agree");
            let mut out = vec![0u8; 32];
            AesKek::new(&AES_256, &kek).expect("kek").unwrap(&encrypted_key, &mut out).expect("unwrap").to_vec()
        }
    };
    assert_eq!(header["enc"], "A256GCM");
    let iv: [u8; 12] = unb64(parts[2]).try_into().expect("96-bit iv");
    let mut body = unb64(parts[3]);
    body.extend(unb64(parts[4]));
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &cek).expect("cek"));
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(iv), Aad::from(parts[0].as_bytes()), &mut body)
        .expect("AES-GCM tag verifies")
        .to_vec();
    (header, plain)
}

#[test]
fn round_trip_with_each_algorithm() {
    let nested = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    for alg in KeyAlg::ALL {
        let (private, jwk) = keypair(alg);
        let recipient = Recipient::select(&json!({ "keys": [jwk.clone()] }), alg).expect_err("unmarked key");
        assert!(matches!(recipient, JweError::NoKey(_)));
        let mut marked = jwk.clone();
        marked["use"] = json!("enc");
        let recipient = Recipient::select(&json!({ "keys": [marked] }), alg).expect("select");
        let token = encrypt(&recipient, ContentEnc::A256Gcm, Some("JWT"), nested.as_bytes()).expect("encrypt");
        let (header, plain) = decrypt(&private, &token);
        assert_eq!(plain, nested.as_bytes());
        assert_eq!(header["cty"], "JWT");
        assert_eq!(header["kid"], jwk["kid"]);
        // Fresh content key and IV each time.
        let again = encrypt(&recipient, ContentEnc::A256Gcm, Some("JWT"), nested.as_bytes()).expect("encrypt");
        assert_ne!(token, again);
        // Any change to the header (the AAD) or the ciphertext fails the tag.
        let parts: Vec<&str> = token.split('.').collect();
        let mut ct = unb64(parts[3]);
        ct[0] ^= 1;
        let tampered = format!("{}.{}.{}.{}.{}", parts[0], parts[1], parts[2], b64(&ct), parts[4]);
        let outcome = std::panic::catch_unwind(|| decrypt(&private, &tampered));
        assert!(outcome.is_err(), "{alg}: a flipped ciphertext bit must not decrypt");
    }
}

#[test]
fn concat_kdf_matches_rfc7518_appendix_c() {
    // RFC 7518 Appendix C: ECDH-ES direct key agreement, enc A128GCM, apu "Alice", apv "Bob".
    let bob_d = unb64("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw");
    let mut alice_point = vec![4u8];
    alice_point.extend(unb64("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0"));
    alice_point.extend(unb64("SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"));
    let bob = PrivateKey::from_private_key(&ECDH_P256, &bob_d).expect("bob");
    let key = agreement::agree(&bob, UnparsedPublicKey::new(&ECDH_P256, &alice_point), (), |z| {
        Ok(concat_kdf(z, "A128GCM", b"Alice", b"Bob", 128))
    })
    .expect("agree");
    assert_eq!(b64(&key), "VqqN6vgjbSBcIijNcacQGg");
}

#[test]
fn key_selection_honours_use_and_alg() {
    let (_, rsa) = keypair(KeyAlg::RsaOaep256);
    let (_, ec) = keypair(KeyAlg::EcdhEsA256kw);
    let with = |k: &Value, extra: Value| {
        let mut k = k.clone();
        k.as_object_mut().expect("obj").extend(extra.as_object().expect("obj").clone());
        k
    };
    let sig_rsa = with(&rsa, json!({"use": "sig"}));
    let enc_ec = with(&ec, json!({"alg": "ECDH-ES+A256KW", "kid": "ec-1"}));
    let enc_rsa = with(&rsa, json!({"alg": "RSA-OAEP-256", "kid": "rsa-1"}));
    let set = json!({ "keys": [sig_rsa.clone(), enc_ec, enc_rsa] });
    // A key marked for signatures is skipped; the right type for each alg is found.
    assert!(format!("{:?}", Recipient::select(&set, KeyAlg::RsaOaep256).expect("rsa")).contains("rsa-1"));
    assert!(format!("{:?}", Recipient::select(&set, KeyAlg::EcdhEsA256kw).expect("ec")).contains("ec-1"));
    // Only a signing key, or a key for another algorithm: nothing to encrypt to.
    assert!(Recipient::select(&json!({ "keys": [sig_rsa] }), KeyAlg::RsaOaep256).is_err());
    let other_alg = with(&rsa, json!({"alg": "RSA-OAEP"}));
    assert!(Recipient::select(&json!({ "keys": [other_alg] }), KeyAlg::RsaOaep256).is_err());
    // An EC key marked enc is not an RSA key.
    let ec_enc = with(&ec, json!({"use": "enc"}));
    assert!(Recipient::select(&json!({ "keys": [ec_enc] }), KeyAlg::RsaOaep256).is_err());
    // Malformed sets and keys are errors, not panics.
    for bad in [
        json!({}),
        json!({"keys": "x"}),
        json!({"keys": [{"use": "enc", "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}),
    ] {
        assert!(Recipient::select(&bad, KeyAlg::EcdhEsA256kw).is_err(), "{bad}");
    }
    // A point that is not on the curve is refused when encrypting.
    let off_curve = json!({"use": "enc", "kty": "EC", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32])});
    let r = Recipient::from_jwk(&off_curve, KeyAlg::EcdhEsA256kw).expect("parses");
    assert!(matches!(encrypt(&r, ContentEnc::A256Gcm, None, b"x"), Err(JweError::BadKey(_))));
    // Short RSA keys are refused.
    let short = json!({"use": "enc", "kty": "RSA", "n": b64(&[0xc3; 128]), "e": "AQAB"});
    assert!(Recipient::from_jwk(&short, KeyAlg::RsaOaep256).is_err());
    assert_eq!("A256GCM".parse::<ContentEnc>().expect("enc"), ContentEnc::A256Gcm);
    assert!("RSA-OAEP".parse::<KeyAlg>().is_err());
}
