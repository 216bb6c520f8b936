//! Signed and encrypted responses for the clients that registered for them (see
//! [`super::encryption`]): the ID token encrypted after signing (a nested JWT, OIDC Core
//! §16.14), and userinfo as a signed, optionally encrypted JWT (§5.3.2).
//!
//! Nothing here falls back to a clear response: a client whose key cannot be found or used gets
//! an error, so a misconfigured key never turns into personal data sent unencrypted.

use serde_json::{Map, Value, json};

use super::clients::Client;
use super::encryption::Encryption;
use super::error::{ErrorCode, OAuthError};
use super::provider::Provider;
use crate::clock::unix_now;
use crate::tokens::jwe::{self, Recipient};

/// What the userinfo endpoint answers: JSON, or a JWT (`application/jwt`).
#[derive(Debug)]
pub enum UserinfoBody {
    Json(Value),
    Jwt(String),
}

fn unusable_key(client: &Client, e: impl std::fmt::Display) -> OAuthError {
    tracing::warn!(client_id = %client.client_id, error = %e, "cannot encrypt to the client");
    // The client's own registration is at fault, and this tells it what to fix.
    OAuthError::new(ErrorCode::UnauthorizedClient, format!("cannot encrypt the response to this client: {e}"))
}

fn personal_id_in_clear(client: &Client) -> OAuthError {
    tracing::error!(client_id = %client.client_id, "personal_id withheld: the client demands encryption");
    OAuthError::new(
        ErrorCode::UnauthorizedClient,
        "this client requires encrypted responses for the personal_id scope, and none is registered",
    )
}

async fn encrypt_to(p: &Provider, client: &Client, e: Encryption, jws: &str) -> Result<String, OAuthError> {
    let keys = p.client_jwks.encryption_keys(&p.http, client).await.map_err(|err| unusable_key(client, err))?;
    let recipient = Recipient::select(&keys.raw, e.alg).map_err(|err| unusable_key(client, err))?;
    jwe::encrypt(&recipient, e.enc, Some("JWT"), jws.as_bytes()).map_err(|err| unusable_key(client, err))
}

/// The ID token as the client registered it: the signed JWT, or that JWT encrypted to its key.
pub async fn id_token(p: &Provider, client: &Client, scopes: &[String], jws: String) -> Result<String, OAuthError> {
    let encryption = client.encryption.id_token();
    if client.encryption.refuses_in_clear(scopes, encryption.is_some()) {
        return Err(personal_id_in_clear(client));
    }
    match encryption {
        Some(e) => encrypt_to(p, client, e, &jws).await,
        None => Ok(jws),
    }
}

/// The userinfo response as the client registered it. A JWT carries `iss` and `aud` (OIDC Core
/// §5.3.2) so it cannot be replayed as another client's or another provider's response.
pub async fn userinfo(
    p: &Provider,
    client: &Client,
    scopes: &[String],
    mut claims: Map<String, Value>,
) -> Result<UserinfoBody, OAuthError> {
    let encryption = client.encryption.userinfo();
    if client.encryption.refuses_in_clear(scopes, encryption.is_some()) {
        return Err(personal_id_in_clear(client));
    }
    let signing =
        client.encryption.userinfo_signing_alg(p.id_token_alg(client)).map_err(|e| unusable_key(client, e))?;
    let Some(alg) = signing else { return Ok(UserinfoBody::Json(Value::Object(claims))) };
    claims.insert("iss".into(), json!(p.issuer));
    claims.insert("aud".into(), json!(client.client_id));
    claims.insert("iat".into(), json!(unix_now()));
    let jws = p.keys.sign_jwt(alg, "JWT", &Value::Object(claims)).map_err(|e| {
        tracing::error!(error = %e, "userinfo signing failed");
        OAuthError::server_error()
    })?;
    match encryption {
        Some(e) => encrypt_to(p, client, e, &jws).await.map(UserinfoBody::Jwt),
        None => Ok(UserinfoBody::Jwt(jws)),
    }
}
