//! Endpoints that take a token: UserInfo (OIDC Core §5.3), introspection (RFC 7662) and
//! revocation (RFC 7009). Access tokens are JWTs, but a revoked grant is checked here, so
//! callers that ask us get the live answer.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde_json::{Map, Value, json};

use super::client_auth;
use super::error::{ErrorCode, OAuthError};
use super::provider::Provider;
use super::request::Params;
use super::sealed::UserinfoBody;
use crate::audit::{Action, Actor, Audit, Event};
use crate::clock::unix_now;
use crate::crypto::sha256_hex;
use crate::tokens::validate_standard_claims;

/// Claims of a live access token: signed by us, unexpired, and its grant not revoked.
pub async fn live_access_token(p: &Provider, token: &str) -> Result<Value, OAuthError> {
    let invalid = || OAuthError::new(ErrorCode::InvalidToken, "the access token is invalid, expired or revoked");
    let t = unix_now();
    let claims = p.keys.verify_jwt(token, "at+jwt", t).map_err(|_| invalid())?;
    let client_id = claims.get("client_id").and_then(Value::as_str).ok_or_else(invalid)?;
    validate_standard_claims(&claims, &p.issuer, client_id, t, 0).map_err(|_| invalid())?;
    let gid = claims.get("gid").and_then(Value::as_str).ok_or_else(invalid)?;
    match p.db.grant(gid).await? {
        Some(g) if !g.revoked => Ok(claims),
        _ => Err(invalid()),
    }
}

pub fn bearer(headers: &HeaderMap, form: Option<&Params>) -> Option<String> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))
    {
        return Some(t.trim().to_owned());
    }
    form.and_then(|f| f.get("access_token").cloned())
}

pub async fn userinfo(p: &Provider, token: &str) -> Result<UserinfoBody, OAuthError> {
    let claims = live_access_token(p, token).await?;
    let scopes: Vec<String> =
        claims.get("scope").and_then(Value::as_str).unwrap_or_default().split(' ').map(str::to_owned).collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(ErrorCode::InvalidToken, "the access token was not issued for OpenID Connect"));
    }
    let gid = claims.get("gid").and_then(Value::as_str).unwrap_or_default();
    let grant = p.db.grant(gid).await?.ok_or_else(OAuthError::server_error)?;
    let account = match &grant.account_id {
        Some(id) if !p.account_active(id).await? => {
            return Err(OAuthError::new(ErrorCode::InvalidToken, "the account is suspended or disabled"));
        }
        Some(id) => p.account_for(id, &grant.client_id).await?,
        None => None,
    };
    let client = p.clients.get(&grant.client_id).await?.ok_or_else(|| {
        OAuthError::new(ErrorCode::InvalidToken, "the client of this access token is no longer registered")
    })?;
    let mut out = Map::new();
    out.insert("sub".into(), claims.get("sub").cloned().unwrap_or(Value::Null));
    if let Some(t) = &grant.cert_thumbprint {
        out.insert(super::claims::CERT_THUMBPRINT_CLAIM.into(), json!(t));
    }
    if let Some(a) = account {
        out.extend(p.released(&client, &a.profile, &scopes));
    }
    super::sealed::userinfo(p, &client, &scopes, out).await
}

pub async fn introspect(p: &Provider, headers: &HeaderMap, form: &Params) -> Result<Value, OAuthError> {
    let caller = client_auth::authenticate(p, headers, form).await?;
    // RFC 7662 §2.1: the endpoint is protected; a public client proves nothing by its id.
    if caller.is_public() {
        return Err(OAuthError::invalid_client("public clients cannot use introspection"));
    }
    let token = form.get("token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let hint = form.get("token_type_hint").map(String::as_str);
    if hint != Some("refresh_token")
        && let Ok(claims) = live_access_token(p, token).await
    {
        let mut out = json!({ "active": true, "token_type": "Bearer" });
        for k in ["scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "acr", "auth_time"] {
            if let Some(v) = claims.get(k) {
                out[k] = v.clone();
            }
        }
        return Ok(out);
    }
    // Refresh tokens: active if unspent, unexpired and its grant live, and only to its own client.
    if let Some(g) = refresh_token_grant(p, token).await?
        && g.client_id == caller.client_id
    {
        return Ok(
            json!({ "active": true, "token_type": "refresh_token", "client_id": g.client_id, "scope": g.scopes.join(" "), "exp": g.expires_at }),
        );
    }
    Ok(json!({ "active": false }))
}

async fn refresh_token_grant(p: &Provider, token: &str) -> Result<Option<super::grants::Grant>, OAuthError> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT grant_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(sha256_hex(token))
    .bind(unix_now())
    .fetch_optional(p.db.pool())
    .await
    .map_err(crate::store::DbError::from)?;
    let Some(r) = row else { return Ok(None) };
    let gid: String = r.try_get(0).map_err(crate::store::DbError::from)?;
    Ok(p.db.grant(&gid).await?.filter(|g| !g.revoked))
}

/// RFC 7009: revoking either kind of token revokes its grant. Unknown tokens are not an error
/// (§2.2), and another client's token is left alone without saying so.
pub async fn revoke(p: &Provider, headers: &HeaderMap, form: &Params) -> Result<(), OAuthError> {
    let caller = client_auth::authenticate(p, headers, form).await?;
    let token = form.get("token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let grant = match refresh_token_grant(p, token).await? {
        Some(g) => Some(g),
        None => match live_access_token(p, token).await {
            Ok(c) => match c.get("gid").and_then(Value::as_str) {
                Some(gid) => p.db.grant(gid).await?,
                None => None,
            },
            Err(_) => None,
        },
    };
    if let Some(g) = grant
        && g.client_id == caller.client_id
    {
        p.db.revoke_grant(&g.id, unix_now()).await?;
        // The revocation stands either way; a failed audit write is logged and counted there.
        let event =
            Event::new(Action::TokenRevoked).actor(Actor::Client(caller.client_id.clone())).object("grant", &g.id);
        let _ = Audit::new(p.db.clone()).record(event).await;
    }
    Ok(())
}
