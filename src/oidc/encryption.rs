//! A client's choices for signed and encrypted responses (OIDC Dynamic Registration §2:
//! `id_token_encrypted_response_alg`/`enc`, `userinfo_signed_response_alg`,
//! `userinfo_encrypted_response_alg`/`enc`), and the demand that national ID numbers never
//! travel unencrypted to it. What is done with them at the endpoints is in [`super::sealed`].

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::tokens::jwe::{ContentEnc, KeyAlg, Recipient};
use crate::tokens::{Alg, Error as TokenError};

/// The scope that releases the personal ID number (the citizens feature registers it under
/// this name); a client may demand that it only ever reaches it encrypted.
pub const PERSONAL_ID_SCOPE: &str = "personal_id";

/// Stored flattened into the client's document, so each field has its registration name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseEncryption {
    /// Encrypt ID tokens (signed first, then encrypted: a nested JWT with `cty: JWT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_alg: Option<KeyAlg>,
    /// Defaults to A256GCM when the alg is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encrypted_response_enc: Option<ContentEnc>,
    /// Return userinfo as a signed JWT (`application/jwt`) with this algorithm. With userinfo
    /// encryption and no choice here, the ID token's algorithm signs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_alg: Option<KeyAlg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_encrypted_response_enc: Option<ContentEnc>,
    /// Some national gateways require it: `personal_id` is released to this client only in an
    /// encrypted ID token or userinfo response. Registration refuses the flag unless both are
    /// encrypted to a key the client has, and the endpoints refuse rather than send in clear.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_encryption_for_personal_id: bool,
}

/// What one response (the ID token or userinfo) is encrypted with, if at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encryption {
    pub alg: KeyAlg,
    pub enc: ContentEnc,
}

impl ResponseEncryption {
    pub fn id_token(&self) -> Option<Encryption> {
        self.id_token_encrypted_response_alg
            .map(|alg| Encryption { alg, enc: self.id_token_encrypted_response_enc.unwrap_or_default() })
    }

    pub fn userinfo(&self) -> Option<Encryption> {
        self.userinfo_encrypted_response_alg
            .map(|alg| Encryption { alg, enc: self.userinfo_encrypted_response_enc.unwrap_or_default() })
    }

    /// The algorithm userinfo is signed with, or `None` for plain JSON. An encrypted response
    /// is always signed too: encryption to a public key says nothing about who encrypted.
    pub fn userinfo_signing_alg(&self, id_token_alg: Alg) -> Result<Option<Alg>, TokenError> {
        match (&self.userinfo_signed_response_alg, self.userinfo()) {
            (Some(name), _) => name.parse().map(Some),
            (None, Some(_)) => Ok(Some(id_token_alg)),
            (None, None) => Ok(None),
        }
    }

    /// Whether releasing these scopes demands encryption that is missing for a response.
    pub fn refuses_in_clear(&self, scopes: &[String], encrypted: bool) -> bool {
        self.require_encryption_for_personal_id && !encrypted && scopes.iter().any(|s| s == PERSONAL_ID_SCOPE)
    }

    /// Checks the choices against the client's keys: `jwks` by value must hold a key for each
    /// algorithm (a `jwks_uri` is trusted to, and checked at each use).
    pub fn validate(&self, jwks: Option<&Value>, has_jwks_uri: bool) -> Result<(), String> {
        if self.id_token_encrypted_response_enc.is_some() && self.id_token_encrypted_response_alg.is_none() {
            return Err("id_token_encrypted_response_enc needs id_token_encrypted_response_alg".into());
        }
        if self.userinfo_encrypted_response_enc.is_some() && self.userinfo_encrypted_response_alg.is_none() {
            return Err("userinfo_encrypted_response_enc needs userinfo_encrypted_response_alg".into());
        }
        if let Some(name) = &self.userinfo_signed_response_alg {
            name.parse::<Alg>().map_err(|_| {
                format!("userinfo_signed_response_alg must be one of {}", algs_list(Alg::ALL.map(Alg::jose_name)))
            })?;
        }
        for (field, alg) in [
            ("id_token_encrypted_response_alg", self.id_token_encrypted_response_alg),
            ("userinfo_encrypted_response_alg", self.userinfo_encrypted_response_alg),
        ] {
            let Some(alg) = alg else { continue };
            match jwks {
                Some(set) => {
                    Recipient::select(set, alg).map_err(|e| format!("{field} {alg}: {e}"))?;
                }
                None if has_jwks_uri => {}
                None => return Err(format!("{field} needs the client's encryption key in jwks or jwks_uri")),
            }
        }
        if self.require_encryption_for_personal_id && (self.id_token().is_none() || self.userinfo().is_none()) {
            return Err("require_encryption_for_personal_id needs id_token_encrypted_response_alg and \
                 userinfo_encrypted_response_alg (and an encryption key)"
                .into());
        }
        Ok(())
    }
}

/// Discovery metadata for what this module offers (OIDC Discovery §3): userinfo is signed with
/// any of the ID token algorithms, and both responses may be encrypted.
pub fn advertise(metadata: &mut Value, signing_algs: &[&str]) {
    let algs: Vec<&str> = KeyAlg::ALL.iter().map(|a| a.jose_name()).collect();
    let encs: Vec<&str> = ContentEnc::ALL.iter().map(|e| e.jose_name()).collect();
    for (name, value) in [
        ("userinfo_signing_alg_values_supported", json!(signing_algs)),
        ("id_token_encryption_alg_values_supported", json!(algs)),
        ("id_token_encryption_enc_values_supported", json!(encs)),
        ("userinfo_encryption_alg_values_supported", json!(algs)),
        ("userinfo_encryption_enc_values_supported", json!(encs)),
    ] {
        metadata[name] = value;
    }
}

/// `A, B or C` for error messages.
pub fn algs_list<const N: usize>(names: [&str; N]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa_enc_jwks() -> Value {
        // A 2048-bit modulus is all selection needs; the key is never used here.
        let n = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, {
            let mut n = [0xc7u8; 256];
            n[255] = 0x01;
            n
        });
        json!({"keys": [{"kty": "RSA", "use": "enc", "kid": "e1", "n": n, "e": "AQAB"}]})
    }

    #[test]
    fn registration_rules() {
        let none = ResponseEncryption::default();
        none.validate(None, false).expect("nothing asked, nothing needed");
        assert_eq!(none.userinfo_signing_alg(Alg::Es256).expect("ok"), None);

        let rsa = ResponseEncryption {
            id_token_encrypted_response_alg: Some(KeyAlg::RsaOaep256),
            userinfo_encrypted_response_alg: Some(KeyAlg::RsaOaep256),
            require_encryption_for_personal_id: true,
            ..Default::default()
        };
        rsa.validate(Some(&rsa_enc_jwks()), false).expect("RSA enc key present");
        rsa.validate(None, true).expect("jwks_uri is checked at use");
        assert!(rsa.validate(None, false).unwrap_err().contains("jwks"));
        // The key set holds no EC key: ECDH-ES is refused at registration.
        let ec = ResponseEncryption { id_token_encrypted_response_alg: Some(KeyAlg::EcdhEsA256kw), ..rsa.clone() };
        assert!(ec.validate(Some(&rsa_enc_jwks()), false).unwrap_err().contains("ECDH-ES+A256KW"));
        // Demanding encryption for personal_id without encrypting userinfo is refused.
        let half = ResponseEncryption { userinfo_encrypted_response_alg: None, ..rsa.clone() };
        assert!(half.validate(Some(&rsa_enc_jwks()), false).unwrap_err().contains("require_encryption"));
        let enc_only = ResponseEncryption { id_token_encrypted_response_enc: Some(ContentEnc::A256Gcm), ..none };
        assert!(enc_only.validate(None, false).is_err());
        // Encrypted userinfo is signed with the ID token's algorithm unless told otherwise.
        assert_eq!(rsa.userinfo_signing_alg(Alg::Ps256).expect("ok"), Some(Alg::Ps256));
        let bad_sig = ResponseEncryption { userinfo_signed_response_alg: Some("none".into()), ..rsa.clone() };
        assert!(bad_sig.validate(Some(&rsa_enc_jwks()), false).is_err());
    }

    #[test]
    fn personal_id_is_never_released_in_clear_to_a_demanding_client() {
        let demanding = ResponseEncryption { require_encryption_for_personal_id: true, ..Default::default() };
        let scopes = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(demanding.refuses_in_clear(&scopes(&["openid", "personal_id"]), false));
        assert!(!demanding.refuses_in_clear(&scopes(&["openid", "personal_id"]), true));
        assert!(!demanding.refuses_in_clear(&scopes(&["openid", "profile"]), false));
        assert!(!ResponseEncryption::default().refuses_in_clear(&scopes(&["personal_id"]), false));
    }

    #[test]
    fn stored_with_registration_names() {
        let e: ResponseEncryption = serde_json::from_value(json!({
            "id_token_encrypted_response_alg": "ECDH-ES+A256KW",
            "userinfo_encrypted_response_alg": "RSA-OAEP-256",
            "userinfo_encrypted_response_enc": "A256GCM",
        }))
        .expect("parses");
        assert_eq!(e.id_token(), Some(Encryption { alg: KeyAlg::EcdhEsA256kw, enc: ContentEnc::A256Gcm }));
        let back = serde_json::to_value(&e).expect("ser");
        assert_eq!(back["userinfo_encrypted_response_alg"], "RSA-OAEP-256");
        assert!(back.get("require_encryption_for_personal_id").is_none());
        assert!(
            serde_json::from_value::<ResponseEncryption>(json!({"id_token_encrypted_response_alg": "RSA1_5"})).is_err()
        );
    }
}
