//! The token endpoint (RFC 6749 §3.2): authorization_code (single use; a replay revokes what
//! the code issued), refresh_token (rotation with family-wide reuse detection, and an opt-in
//! per-client grace window for the client's own concurrent refreshes) and client_credentials.
//!
//! A code or refresh token is only ever consumed by the client it was issued to: the client
//! authenticates first, and the stores are asked for it on that client's behalf only.

use axum::http::HeaderMap;

use super::clients::{Client, GrantType};
use super::dpop::{self, Proof};
use super::error::{ErrorCode, OAuthError};
use super::grants::{self, CodeData, Grant, Redeem, RefreshUse};
use super::mint::{self, IdTokenInput, TokenResponse};
use super::provider::Provider;
use super::request::{Params, verify_pkce};
use super::session;
use super::{client_auth, fapi2};
use crate::clock::unix_now;

/// `dpop_proof`: the request's `DPoP` header, if it had one (RFC 9449 §5).
pub async fn token(
    p: &Provider,
    headers: &HeaderMap,
    form: &Params,
    dpop_proof: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let client = client_auth::authenticate(p, headers, form).await?;
    let grant_type = form.get("grant_type").ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let proof = proof_at_server(p, &client, dpop_proof, "/token").await?;
    fapi2::require_proof(&client, proof.is_some())?;
    let proof = proof.as_ref();
    let result = match grant_type.as_str() {
        "authorization_code" => authorization_code(p, &client, form, proof).await,
        "refresh_token" => refresh(p, &client, form, proof).await,
        "client_credentials" => client_credentials(p, &client, form, proof).await,
        _ => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "supported: authorization_code, refresh_token, client_credentials",
        )),
    };
    let outcome = if result.is_ok() { "issued" } else { "refused" };
    metrics::counter!("token_requests_total", "grant_type" => grant_label(grant_type), "outcome" => outcome)
        .increment(1);
    result
}

/// Verifies the proof, if any, sent to the authorization server's endpoint at `path` (POST).
/// These proofs must carry the server's nonce (RFC 9449 §8), which keeps their freshness under
/// our control rather than the client's clock.
pub async fn proof_at_server(
    p: &Provider,
    client: &Client,
    jwt: Option<&str>,
    path: &str,
) -> Result<Option<Proof>, OAuthError> {
    let Some(jwt) = jwt else { return Ok(None) };
    let htu = p.endpoint(path);
    let expect =
        dpop::Expect { htm: "POST", htu: &htu, access_token: None, nonce_required: true, algs: dpop::algs_for(client) };
    Ok(Some(dpop::verify(p, jwt, &expect).await?))
}

/// RFC 9449 §5 and §10: what is bound to a key (a code, a public client's refresh token) is
/// used only with a proof of that key.
fn check_binding(bound: &str, proof: Option<&Proof>, what: &str) -> Result<(), OAuthError> {
    let proof =
        proof.ok_or_else(|| OAuthError::new(ErrorCode::InvalidDpopProof, format!("{what} is bound to a DPoP key")))?;
    if proof.jkt != bound {
        return Err(OAuthError::invalid_grant(format!("{what} is bound to another DPoP key")));
    }
    Ok(())
}

fn grant_label(g: &str) -> &'static str {
    match g {
        "authorization_code" => "authorization_code",
        "refresh_token" => "refresh_token",
        "client_credentials" => "client_credentials",
        _ => "other",
    }
}

fn require_grant(client: &Client, g: GrantType) -> Result<(), OAuthError> {
    if client.allows_grant(g) {
        Ok(())
    } else {
        Err(OAuthError::new(ErrorCode::UnauthorizedClient, "this client may not use this grant type"))
    }
}

async fn authorization_code(
    p: &Provider,
    client: &Client,
    form: &Params,
    proof: Option<&Proof>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, GrantType::AuthorizationCode)?;
    let code = form.get("code").ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let grant_id = grants::new_grant_id();
    let data = match grants::redeem_code(p, &client.client_id, code, &grant_id).await? {
        Redeem::Fresh(d) => d,
        Redeem::Replayed { grant_id } => {
            // RFC 6749 §4.1.2: a code used twice is a sign of theft; revoke what it issued.
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; revoking its grant");
            p.db.revoke_grant(&grant_id, unix_now()).await?;
            return Err(OAuthError::invalid_grant("the authorization code was already used"));
        }
        Redeem::Unknown => return Err(OAuthError::invalid_grant("the authorization code is invalid or expired")),
    };
    let req = &data.request;
    if req.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the authorization code was issued to another client"));
    }
    if form.get("redirect_uri") != Some(&req.redirect_uri) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    let verifier =
        form.get("code_verifier").ok_or_else(|| OAuthError::invalid_grant("code_verifier is required (PKCE)"))?;
    if !verify_pkce(verifier, &req.code_challenge) {
        return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"));
    }
    // RFC 9449 §10: a code bound at authorization is redeemed only with a proof of that key.
    if let Some(bound) = &req.dpop_jkt {
        check_binding(bound, proof, "this authorization code")?;
    }
    let t = unix_now();
    let grant = Grant {
        id: grant_id,
        client_id: client.client_id.clone(),
        account_id: Some(data.account_id.clone()),
        sid: Some(data.sid.clone()),
        scopes: req.scopes.clone(),
        auth_time: Some(data.auth_time),
        acr: Some(data.acr.clone()),
        amr: data.amr.clone(),
        cert_thumbprint: data.cert_thumbprint.clone(),
        expires_at: t + client.refresh_token_ttl_secs as i64,
        revoked: false,
        dpop_jkt: refresh_binding(client, proof),
    };
    if !p.db.insert_grant(&grant, t).await? {
        return Err(OAuthError::invalid_grant("the authorization code was already used"));
    }
    // Checked once the grant exists: a logout or a withdrawal racing with this redemption is
    // then either seen here, or comes after and revokes the new grant itself.
    if let Err(e) = authorization_still_stands(p, client, &data).await {
        p.db.revoke_grant(&grant.id, unix_now()).await?;
        return Err(e);
    }
    let refresh_token = if client.allows_grant(GrantType::RefreshToken) {
        Some(p.db.issue_refresh_token(&grant.id, (grant.expires_at - t).max(0), t).await?)
    } else {
        None
    };
    let account = p.account_for(&data.account_id, &client.client_id).await?;
    let id_token = IdTokenFor { nonce: req.nonce.as_deref(), account: account.as_ref() };
    respond(p, client, &grant, Some(id_token), refresh_token, proof).await
}

/// RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key (a confidential
/// client's are already bound to its authentication).
fn refresh_binding(client: &Client, proof: Option<&Proof>) -> Option<String> {
    proof.filter(|_| client.is_public()).map(|p| p.jkt.clone())
}

/// A code stands for an authorization that can end before it is redeemed: its SSO session
/// logged out, or the consent it was given under withdrawn. Trusted clients need no consent,
/// except for the personal ID (the rule of the authorization flow).
async fn authorization_still_stands(p: &Provider, client: &Client, data: &CodeData) -> Result<(), OAuthError> {
    if session::find_by_sid(p, &data.account_id, &data.sid).await?.is_none() {
        return Err(OAuthError::invalid_grant("the session of this authorization code has ended"));
    }
    if !p.account_active(&data.account_id).await? {
        return Err(OAuthError::invalid_grant("the account is suspended or disabled"));
    }
    let scopes = &data.request.scopes;
    if super::consent::consent_required(&p.scopes, client, scopes)
        && !p.db.has_consent(&data.account_id, &client.client_id, scopes).await?
    {
        return Err(OAuthError::invalid_grant("the consent for this authorization code was withdrawn"));
    }
    Ok(())
}

async fn refresh(
    p: &Provider,
    client: &Client,
    form: &Params,
    proof: Option<&Proof>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, GrantType::RefreshToken)?;
    let token = form.get("refresh_token").ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    // Checked before the token is spent, so a thief without the key burns nothing.
    if let Some(bound) = p.db.refresh_token_binding(token).await? {
        check_binding(&bound, proof, "this refresh token")?;
    }
    let t = unix_now();
    let successor = grants::successor_token(p, token);
    let used = p.db.use_refresh_token(token, &successor, &client.client_id, t).await?;
    let within_grace = used.within_grace(client.refresh_retry_secs(), t);
    let grant_id = match used {
        RefreshUse::Fresh { grant_id } => grant_id,
        RefreshUse::Reused { grant_id, .. } if within_grace => {
            // The client's own concurrent refresh (e.g. two tabs): it gets the successor the
            // first one got, so the family stays one chain.
            tracing::info!(client_id = %client.client_id, "refresh token presented again within the grace window");
            grant_id
        }
        RefreshUse::Reused { grant_id, .. } => {
            // A rotated-out token came back: one copy is in the wrong hands. Revoke the family.
            tracing::warn!(client_id = %client.client_id, "refresh token reuse detected; revoking the family");
            p.db.revoke_grant(&grant_id, t).await?;
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used; the session's tokens are revoked",
            ));
        }
        RefreshUse::Expired => return Err(OAuthError::invalid_grant("the refresh token has expired")),
        RefreshUse::Revoked => return Err(OAuthError::invalid_grant("the refresh token has been revoked")),
        RefreshUse::OtherClient => {
            return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
        }
        RefreshUse::Unknown => return Err(OAuthError::invalid_grant("the refresh token is invalid")),
    };
    let mut grant =
        p.db.grant(&grant_id).await?.ok_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))?;
    // Ownership and revocation were checked atomically when the token was spent (see
    // use_refresh_token): the winner of a race succeeds even if a reuse revokes the family a
    // moment later. The grace path only read the revocation state, so it looks again.
    if within_grace && grant.revoked {
        return Err(OAuthError::invalid_grant("the refresh token has been revoked"));
    }
    if grant.expires_at <= t {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    // A narrower scope may be asked for (RFC 6749 §6), never a wider one.
    if let Some(scope) = form.get("scope") {
        let asked: Vec<String> = scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if asked.iter().any(|s| !grant.scopes.contains(s)) {
            return Err(OAuthError::new(ErrorCode::InvalidScope, "a refresh cannot widen the scope"));
        }
        grant.scopes = asked;
    }
    let account = match &grant.account_id {
        Some(id) if !p.account_active(id).await? => {
            p.db.revoke_grant(&grant.id, unix_now()).await?;
            return Err(OAuthError::invalid_grant("the account is suspended or disabled"));
        }
        Some(id) => p.account_for(id, &client.client_id).await?,
        None => None,
    };
    let with_id_token = grant.scopes.iter().any(|s| s == "openid");
    let id_token = with_id_token.then_some(IdTokenFor { nonce: None, account: account.as_ref() });
    respond(p, client, &grant, id_token, Some(successor), proof).await
}

async fn client_credentials(
    p: &Provider,
    client: &Client,
    form: &Params,
    proof: Option<&Proof>,
) -> Result<TokenResponse, OAuthError> {
    require_grant(client, GrantType::ClientCredentials)?;
    let scopes: Vec<String> = match form.get("scope") {
        Some(s) => s.split(' ').filter(|x| !x.is_empty()).map(str::to_owned).collect(),
        None => Vec::new(),
    };
    if let Some(bad) = scopes.iter().find(|s| !client.scopes.contains(s) || *s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!("scope {bad} is not allowed for client_credentials"),
        ));
    }
    let t = unix_now();
    let grant = Grant {
        id: grants::new_grant_id(),
        client_id: client.client_id.clone(),
        account_id: None,
        sid: None,
        scopes,
        auth_time: None,
        acr: None,
        amr: Vec::new(),
        cert_thumbprint: None,
        expires_at: t + client.access_token_ttl_secs as i64,
        revoked: false,
        dpop_jkt: None,
    };
    p.db.insert_grant(&grant, t).await?;
    let jkt = proof.map(|p| p.jkt.as_str());
    let access_token = mint::access_token(p, client, &grant, &client.client_id, jkt).map_err(sign_error)?;
    Ok(TokenResponse {
        access_token,
        token_type: token_type(jkt),
        expires_in: client.access_token_ttl_secs,
        scope: grant.scopes.join(" "),
        id_token: None,
        refresh_token: None,
    })
}

/// RFC 9449 §5.1: a bound token is of type `DPoP`.
fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() { "DPoP" } else { "Bearer" }
}

/// What an ID token in the response is made from.
struct IdTokenFor<'a> {
    nonce: Option<&'a str>,
    account: Option<&'a crate::accounts::Account>,
}

async fn respond(
    p: &Provider,
    client: &Client,
    grant: &Grant,
    id_token: Option<IdTokenFor<'_>>,
    refresh_token: Option<String>,
    proof: Option<&Proof>,
) -> Result<TokenResponse, OAuthError> {
    let account_id = grant.account_id.as_deref().unwrap_or_default();
    let sub = p.subject_for(client, account_id);
    let jkt = proof.map(|p| p.jkt.as_str());
    let access_token = mint::access_token(p, client, grant, &sub, jkt).map_err(sign_error)?;
    let id_token = match id_token {
        Some(IdTokenFor { nonce, account }) => {
            let input = IdTokenInput { client, grant, sub: &sub, nonce, access_token: Some(&access_token), account };
            let signed = mint::id_token(p, input).map_err(sign_error)?;
            Some(super::sealed::id_token(p, client, &grant.scopes, signed).await?)
        }
        None => None,
    };
    metrics::counter!("tokens_issued_total", "kind" => "access").increment(1);
    Ok(TokenResponse {
        access_token,
        token_type: token_type(jkt),
        expires_in: client.access_token_ttl_secs,
        scope: grant.scopes.join(" "),
        id_token,
        refresh_token,
    })
}

fn sign_error(e: crate::tokens::Error) -> OAuthError {
    tracing::error!(error = %e, "token signing failed");
    OAuthError::server_error()
}
