//! Endpoints that take a token: UserInfo (OIDC Core §5.3), introspection (RFC 7662) and
//! revocation (RFC 7009). Access tokens are JWTs, but a revoked grant is checked here, so
//! callers that ask us get the live answer.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde_json::{Map, Value, json};

use super::error::{ErrorCode, OAuthError};
use super::provider::Provider;
use super::request::Params;
use super::sealed::UserinfoBody;
use super::{client_auth, dpop};
use crate::audit::{Action, Actor, Audit, Event};
use crate::clock::unix_now;
use crate::crypto::sha256_hex;
use crate::tokens::validate_standard_claims;

/// Claims of a live access token: signed by us, unexpired, and its grant not revoked. Whether
/// it is sender-constrained is the caller's to check (see [`live_access_token`]).
pub async fn verified_access_token(p: &Provider, token: &str) -> Result<Value, OAuthError> {
    let t = unix_now();
    let claims = p.keys.verify_jwt(token, "at+jwt", t).map_err(|_| invalid_token())?;
    let client_id = claims.get("client_id").and_then(Value::as_str).ok_or_else(invalid_token)?;
    validate_standard_claims(&claims, &p.issuer, client_id, t, 0).map_err(|_| invalid_token())?;
    let gid = claims.get("gid").and_then(Value::as_str).ok_or_else(invalid_token)?;
    match p.db.grant(gid).await? {
        Some(g) if !g.revoked => Ok(claims),
        _ => Err(invalid_token()),
    }
}

fn invalid_token() -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, "the access token is invalid, expired or revoked")
}

/// The thumbprint a DPoP-bound access token names (`cnf.jkt`).
fn bound_key(claims: &Value) -> Option<&str> {
    claims.get("cnf").and_then(|c| c.get("jkt")).and_then(Value::as_str)
}

/// A live access token presented as a bearer token. A DPoP-bound one is refused (RFC 9449
/// §7.2): without the proof it is only a copy of a token, not its holder.
pub async fn live_access_token(p: &Provider, token: &str) -> Result<Value, OAuthError> {
    let claims = verified_access_token(p, token).await?;
    if bound_key(&claims).is_some() {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "this access token is bound to a DPoP key: present it with the DPoP scheme and a proof",
        ));
    }
    Ok(claims)
}

/// A live access token presented with the `DPoP` scheme (RFC 9449 §7.1): the proof must name
/// this token (`ath`), this request, and the key the token is bound to.
pub async fn live_dpop_access_token(
    p: &Provider,
    token: &str,
    proof: &str,
    htm: &str,
    htu: &str,
) -> Result<Value, OAuthError> {
    let claims = verified_access_token(p, token).await?;
    let bound = bound_key(&claims)
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidToken, "this access token is not bound to a DPoP key"))?;
    let client_id = claims.get("client_id").and_then(Value::as_str).unwrap_or_default();
    let client = p.clients.get(client_id).await?.ok_or_else(invalid_token)?;
    let expect =
        dpop::Expect { htm, htu, access_token: Some(token), nonce_required: false, algs: dpop::algs_for(&client) };
    let verified = dpop::verify(p, proof, &expect).await?;
    if verified.jkt != bound {
        return Err(OAuthError::new(ErrorCode::InvalidDpopProof, "the DPoP key is not the one the token is bound to"));
    }
    Ok(claims)
}

/// How the client presented its access token.
pub enum Presented {
    /// `Authorization: Bearer`, or the `access_token` form parameter.
    Bearer(String),
    /// `Authorization: DPoP` (RFC 9449 §7.1), with the request's proof (if it sent one) and the
    /// method and URL the proof must name.
    Dpop { token: String, proof: Option<String>, htm: String, htu: String },
}

impl Presented {
    pub fn is_dpop(&self) -> bool {
        matches!(self, Presented::Dpop { .. })
    }
}

/// The access token of a resource request (`htm` to `htu`), with its scheme and DPoP proof.
pub fn presented(
    headers: &HeaderMap,
    form: Option<&Params>,
    htm: &str,
    htu: String,
) -> Result<Option<Presented>, OAuthError> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some((scheme, token)) = v.split_once(' ')
        && scheme.eq_ignore_ascii_case("dpop")
    {
        let proof = proof_header(headers)?;
        return Ok(Some(Presented::Dpop { token: token.trim().to_owned(), proof, htm: htm.to_owned(), htu }));
    }
    Ok(bearer(headers, form).map(Presented::Bearer))
}

/// The request's DPoP proof: at most one `DPoP` header (RFC 9449 §4.3 step 1).
pub fn proof_header(headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let mut all = headers.get_all("dpop").iter();
    let bad = |m: &str| OAuthError::new(ErrorCode::InvalidDpopProof, m);
    match (all.next(), all.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => Ok(Some(v.to_str().map_err(|_| bad("the DPoP header is malformed"))?.trim().to_owned())),
        (Some(_), Some(_)) => Err(bad("send exactly one DPoP header")),
    }
}

/// The claims of a live access token as presented: a bearer token must not be DPoP-bound, a
/// DPoP one must come with a valid proof of its key.
pub async fn live_presented(p: &Provider, presented: &Presented) -> Result<Value, OAuthError> {
    match presented {
        Presented::Bearer(token) => live_access_token(p, token).await,
        Presented::Dpop { token, proof, htm, htu } => {
            let proof = proof.as_deref().ok_or_else(|| {
                OAuthError::new(ErrorCode::InvalidDpopProof, "a DPoP proof is required with the DPoP scheme")
            })?;
            live_dpop_access_token(p, token, proof, htm, htu).await
        }
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

/// UserInfo for the claims of an access token the caller has checked as presented.
pub async fn userinfo(p: &Provider, claims: &Value) -> Result<UserinfoBody, OAuthError> {
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
        && let Ok(claims) = verified_access_token(p, token).await
    {
        // RFC 9449 §6.2: a bound token says so, and which key holds it (`cnf`).
        let kind = if bound_key(&claims).is_some() { "DPoP" } else { "Bearer" };
        let mut out = json!({ "active": true, "token_type": kind });
        for k in ["scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "acr", "auth_time", "cnf"] {
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
        None => match verified_access_token(p, token).await {
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
