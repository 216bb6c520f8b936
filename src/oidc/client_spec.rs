//! A client registration as an operator describes it (CLI flags, admin API body), turned into a
//! validated [`Client`] by the one function both use, so the two faces cannot drift apart.

use serde::Deserialize;

use super::clients::{AuthMethod, Client, GrantType, SubjectType};
use super::encryption::{ResponseEncryption, algs_list};
use crate::crypto::{random_token, sha256_hex};
use crate::tokens::jwe::{ContentEnc, KeyAlg};

fn default_auth_method() -> String {
    "client_secret_basic".into()
}
fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}
fn default_grants() -> Vec<String> {
    vec!["authorization_code".into(), "refresh_token".into()]
}
fn default_alg() -> String {
    "ES256".into()
}

/// What an operator gives to register a client. Everything but the id and name has the CLI's
/// defaults.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub client_id: String,
    /// Display name shown on the login and consent pages.
    pub name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// client_secret_basic, client_secret_post, private_key_jwt or none (public client).
    #[serde(default = "default_auth_method")]
    pub auth_method: String,
    /// Scopes the client may request. `admin` makes the client an administrator of the whole
    /// province with client_credentials (see the README).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// authorization_code, refresh_token, client_credentials.
    #[serde(default = "default_grants")]
    pub grant_types: Vec<String>,
    /// The client's public JWK set (private_key_jwt, signed request objects).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Sector identifier for pairwise subjects (default: the redirect URIs' host).
    #[serde(default)]
    pub sector_identifier: Option<String>,
    /// Give this client the account's internal id as `sub` instead of a pairwise one.
    #[serde(default)]
    pub public_subject: bool,
    /// First-party service: skip the consent page.
    #[serde(default)]
    pub trusted: bool,
    /// Refuse authorization requests that were not pushed (PAR).
    #[serde(default)]
    pub require_par: bool,
    /// ID token signing algorithm: ES256, RS256, PS256 or EdDSA.
    #[serde(default = "default_alg")]
    pub id_token_alg: String,
    #[serde(default)]
    pub default_acr: Option<String>,
    /// Seconds (at most 60; 0 = off) of refresh-token grace after a rotation.
    #[serde(default)]
    pub refresh_token_grace_secs: u64,

    // --- High-assurance profile ---
    /// FAPI 2.0 Security Profile: PAR, PKCE S256, private_key_jwt, DPoP-bound tokens, codes of
    /// at most 60 s; ID tokens signed with PS256, ES256 or EdDSA.
    #[serde(default)]
    pub fapi2: bool,
    // Signed and encrypted responses (docs/integration.md, "Encrypted ID tokens and userinfo").
    /// Encrypt ID tokens to the client's key (`use: enc`, or `alg` naming this algorithm, in
    /// jwks or jwks_uri): RSA-OAEP-256 or ECDH-ES+A256KW.
    #[serde(default)]
    pub id_token_encrypted_response_alg: Option<String>,
    /// Content encryption of ID tokens: A256GCM (the default).
    #[serde(default)]
    pub id_token_encrypted_response_enc: Option<String>,
    /// Return userinfo as a JWT signed with this algorithm (ES256, RS256, PS256 or EdDSA).
    #[serde(default)]
    pub userinfo_signed_response_alg: Option<String>,
    /// Encrypt userinfo responses (signed, then encrypted): RSA-OAEP-256 or ECDH-ES+A256KW.
    #[serde(default)]
    pub userinfo_encrypted_response_alg: Option<String>,
    /// Content encryption of userinfo responses: A256GCM (the default).
    #[serde(default)]
    pub userinfo_encrypted_response_enc: Option<String>,
    /// Release the personal_id scope only in encrypted responses; registration then requires
    /// both encryption algorithms and a key for them.
    #[serde(default)]
    pub require_encryption_for_personal_id: bool,
}

impl ClientSpec {
    /// The encryption choices, parsed; errors name the field.
    fn encryption(&self) -> Result<ResponseEncryption, String> {
        fn parse<T: std::str::FromStr>(field: &str, v: &Option<String>, allowed: &str) -> Result<Option<T>, String> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(|_| format!("{field} must be {allowed}")))
                .transpose()
        }
        let algs = algs_list(KeyAlg::ALL.map(KeyAlg::jose_name));
        let encs = algs_list(ContentEnc::ALL.map(ContentEnc::jose_name));
        Ok(ResponseEncryption {
            id_token_encrypted_response_alg: parse(
                "id_token_encrypted_response_alg",
                &self.id_token_encrypted_response_alg,
                &algs,
            )?,
            id_token_encrypted_response_enc: parse(
                "id_token_encrypted_response_enc",
                &self.id_token_encrypted_response_enc,
                &encs,
            )?,
            userinfo_signed_response_alg: self.userinfo_signed_response_alg.clone().filter(|s| !s.is_empty()),
            userinfo_encrypted_response_alg: parse(
                "userinfo_encrypted_response_alg",
                &self.userinfo_encrypted_response_alg,
                &algs,
            )?,
            userinfo_encrypted_response_enc: parse(
                "userinfo_encrypted_response_enc",
                &self.userinfo_encrypted_response_enc,
                &encs,
            )?,
            require_encryption_for_personal_id: self.require_encryption_for_personal_id,
        })
    }
}

/// A fresh secret for a confidential client (stored hashed); `None` for the other methods.
pub fn new_secret(client: &mut Client) -> Option<String> {
    let confidential = matches!(client.auth_method, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost);
    let secret = confidential.then(random_token);
    client.secret_hash = secret.as_deref().map(sha256_hex);
    secret
}

/// Builds and validates a client; the secret, if any, is returned to be shown once.
pub fn build_client(s: &ClientSpec) -> Result<(Client, Option<String>), String> {
    let auth_method: AuthMethod = serde_json::from_value(serde_json::Value::String(s.auth_method.clone()))
        .map_err(|_| format!("auth_method must be one of {}", AuthMethod::ALL.join(", ")))?;
    let grant_types = s
        .grant_types
        .iter()
        .map(|g| {
            serde_json::from_value::<GrantType>(serde_json::Value::String(g.trim().to_owned()))
                .map_err(|_| format!("unknown grant {g:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    s.id_token_alg
        .parse::<crate::tokens::Alg>()
        .map_err(|_| "id_token_alg must be ES256, RS256, PS256 or EdDSA".to_string())?;
    let mut client = Client {
        jwks: s.jwks.clone(),
        jwks_uri: s.jwks_uri.clone(),
        post_logout_redirect_uris: s.post_logout_redirect_uris.clone(),
        backchannel_logout_uri: s.backchannel_logout_uri.clone(),
        scopes: s.scopes.iter().filter(|x| !x.is_empty()).cloned().collect(),
        grant_types,
        sector_identifier: s.sector_identifier.clone(),
        subject_type: if s.public_subject { SubjectType::Public } else { SubjectType::Pairwise },
        default_acr: s.default_acr.clone(),
        id_token_signed_response_alg: s.id_token_alg.clone(),
        require_pushed_authorization_requests: s.require_par,
        trusted: s.trusted,
        refresh_token_grace_secs: s.refresh_token_grace_secs,
        fapi2: s.fapi2,
        encryption: s.encryption()?,
        ..Client::new(&s.client_id, &s.name, auth_method, s.redirect_uris.clone())
    };
    let secret = new_secret(&mut client);
    client.validate()?;
    Ok((client, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ClientSpec {
        serde_json::from_value(serde_json::json!({
            "client_id": "eoffice", "name": "E-office", "redirect_uris": ["https://eoffice.example.vn/cb"]
        }))
        .unwrap()
    }

    #[test]
    fn defaults_are_the_cli_defaults_and_the_secret_is_hashed() {
        let (c, secret) = build_client(&spec()).unwrap();
        assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!(c.scopes, ["openid", "profile"]);
        assert!(c.verify_secret(&secret.unwrap()));
    }

    #[test]
    fn bad_specs_are_refused() {
        let bad_method = ClientSpec { auth_method: "plain".into(), ..spec() };
        assert!(build_client(&bad_method).unwrap_err().contains("auth_method"));
        let bad_uri = ClientSpec { redirect_uris: vec!["http://evil.example/cb".into()], ..spec() };
        assert!(build_client(&bad_uri).is_err());
        let bad_alg = ClientSpec { id_token_alg: "none".into(), ..spec() };
        assert!(build_client(&bad_alg).is_err());
    }

    #[test]
    fn encryption_needs_a_key_and_known_algorithms() {
        let demanding = ClientSpec {
            id_token_encrypted_response_alg: Some("ECDH-ES+A256KW".into()),
            userinfo_encrypted_response_alg: Some("ECDH-ES+A256KW".into()),
            require_encryption_for_personal_id: true,
            ..spec()
        };
        // No jwks nor jwks_uri: nothing to encrypt to.
        assert!(build_client(&demanding).unwrap_err().contains("encryption key"));
        let with_uri = ClientSpec { jwks_uri: Some("https://eoffice.example.vn/jwks".into()), ..demanding.clone() };
        let (c, _) = build_client(&with_uri).unwrap();
        assert_eq!(c.encryption.id_token().map(|e| e.alg), Some(KeyAlg::EcdhEsA256kw));
        let unknown = ClientSpec { id_token_encrypted_response_alg: Some("RSA1_5".into()), ..with_uri.clone() };
        assert!(build_client(&unknown).unwrap_err().contains("RSA-OAEP-256 or ECDH-ES+A256KW"));
        let demand_only = ClientSpec { require_encryption_for_personal_id: true, ..spec() };
        assert!(build_client(&demand_only).unwrap_err().contains("require_encryption_for_personal_id"));
    }
}
