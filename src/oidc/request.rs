//! The authorization request: wire parameters parsed into a validated value at the edge.
//!
//! Validation follows the order that decides where an error may go (RFC 6749 §4.1.2.1): until
//! the client and its redirect URI are established, errors go to an error page; after that,
//! they are redirected to the client with `state` and `iss`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::clients::Client;
use super::error::{ErrorCode, OAuthError};

/// Raw parameters as they arrive (query, form, PAR or request object).
pub type Params = HashMap<String, String>;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    #[default]
    Query,
    FormPost,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A validated authorization request. Stored in the login transaction and, later, the code.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub acr_values: Vec<String>,
    /// The `acr` claim was requested as essential (`claims` parameter, OIDC Core §5.5.1.1).
    #[serde(default)]
    pub acr_essential: bool,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub id_token_hint: Option<String>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code is bound to (from `dpop_jkt`, or
    /// the key of the proof that came with the pushed request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

/// Where an error may be sent.
#[derive(Debug)]
pub enum RequestError {
    /// The client or redirect URI could not be trusted: show a page, never redirect.
    Page(OAuthError),
    /// Safe to send back to the verified redirect URI.
    Redirect { error: OAuthError, redirect_uri: String, state: Option<String>, response_mode: ResponseMode },
}

const MAX_PARAM_LEN: usize = 4096;

/// Step one: the redirect URI, which must equal a registered one exactly.
pub fn redirect_uri_for(client: &Client, params: &Params) -> Result<String, OAuthError> {
    let uri = params.get("redirect_uri").ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    if !client.has_redirect_uri(uri) {
        return Err(OAuthError::invalid_request("redirect_uri is not registered for this client"));
    }
    Ok(uri.clone())
}

/// Step two: everything else, with errors redirected to the verified redirect URI.
pub fn parse(client: &Client, params: &Params, via_par: bool) -> Result<AuthRequest, RequestError> {
    let redirect_uri = redirect_uri_for(client, params).map_err(RequestError::Page)?;
    let state = params.get("state").cloned();
    let response_mode = match params.get("response_mode").map(String::as_str) {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => ResponseMode::Query,
    };
    let fail = |code: ErrorCode, msg: &str| RequestError::Redirect {
        error: OAuthError::new(code, msg),
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        response_mode,
    };
    if let Some(mode) = params.get("response_mode")
        && mode != "query"
        && mode != "form_post"
    {
        return Err(fail(ErrorCode::InvalidRequest, "response_mode must be query or form_post"));
    }
    if params.values().any(|v| v.len() > MAX_PARAM_LEN) {
        return Err(fail(ErrorCode::InvalidRequest, "a parameter is too long"));
    }
    if client.must_push() && !via_par {
        return Err(fail(ErrorCode::InvalidRequest, "this client must use pushed authorization requests"));
    }
    match params.get("response_type").map(String::as_str) {
        Some("code") => {}
        Some(_) => return Err(fail(ErrorCode::UnsupportedResponseType, "only response_type=code is supported")),
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is required")),
    }
    if !client.allows_grant(super::clients::GrantType::AuthorizationCode) {
        return Err(fail(ErrorCode::UnauthorizedClient, "this client may not use the authorization code grant"));
    }
    let scopes: Vec<String> = params
        .get("scope")
        .map(|s| s.split(' ').filter(|x| !x.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(fail(ErrorCode::InvalidScope, "scope must include openid"));
    }
    if let Some(bad) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(fail(ErrorCode::InvalidScope, &format!("scope {bad} is not allowed for this client")));
    }
    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method").map(String::as_str)) {
        (Some(c), Some("S256")) if is_base64url_sha256(c) => c.clone(),
        (Some(_), Some("S256")) => {
            return Err(fail(ErrorCode::InvalidRequest, "code_challenge must be 43 base64url characters"));
        }
        (Some(_), _) => return Err(fail(ErrorCode::InvalidRequest, "code_challenge_method must be S256")),
        (None, _) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            ));
        }
    };
    let dpop_jkt = params.get("dpop_jkt").cloned();
    if dpop_jkt.as_deref().is_some_and(|j| !is_base64url_sha256(j)) {
        return Err(fail(ErrorCode::InvalidRequest, "dpop_jkt must be a base64url SHA-256 JWK thumbprint"));
    }
    let mut prompt = Prompt::default();
    for p in
        params.get("prompt").map(|s| s.split(' ').filter(|x| !x.is_empty()).collect::<Vec<_>>()).unwrap_or_default()
    {
        match p {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            _ => return Err(fail(ErrorCode::InvalidRequest, &format!("unsupported prompt value {p}"))),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(fail(ErrorCode::InvalidRequest, "prompt=none cannot be combined with other values"));
    }
    let max_age = match params.get("max_age") {
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| fail(ErrorCode::InvalidRequest, "max_age must be a non-negative integer"))?,
        ),
        None => None,
    };
    let mut acr_values: Vec<String> = params
        .get("acr_values")
        .map(|s| s.split(' ').filter(|x| !x.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let mut acr_essential = false;
    if let Some(claims) = params.get("claims") {
        let requested = acr_claim(claims).map_err(|m| fail(ErrorCode::InvalidRequest, m))?;
        if let Some((values, essential)) = requested {
            acr_values.extend(values);
            acr_essential = essential;
        }
    }
    Ok(AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        response_mode,
        scopes,
        state,
        nonce: params.get("nonce").cloned(),
        code_challenge,
        prompt,
        max_age,
        acr_values,
        acr_essential,
        login_hint: params.get("login_hint").cloned(),
        ui_locales: params.get("ui_locales").cloned(),
        id_token_hint: params.get("id_token_hint").cloned(),
        dpop_jkt,
    })
}

/// The `acr` member of the `claims` parameter (OIDC Core §5.5): its values and whether it is
/// essential. Other members are voluntary requests for claims that scopes already govern, and
/// are ignored (§5.5.1).
fn acr_claim(claims: &str) -> Result<Option<(Vec<String>, bool)>, &'static str> {
    let v: serde_json::Value = serde_json::from_str(claims).map_err(|_| "claims must be a JSON object")?;
    if !v.is_object() {
        return Err("claims must be a JSON object");
    }
    let Some(acr) = v.get("id_token").and_then(|t| t.get("acr")) else { return Ok(None) };
    if acr.is_null() {
        return Ok(Some((Vec::new(), false)));
    }
    let essential = acr.get("essential").and_then(|e| e.as_bool()).unwrap_or(false);
    let mut values: Vec<String> = acr.get("value").and_then(|x| x.as_str()).map(str::to_owned).into_iter().collect();
    if let Some(list) = acr.get("values").and_then(|x| x.as_array()) {
        values.extend(list.iter().filter_map(|x| x.as_str()).map(str::to_owned));
    }
    // `essential` without values asks only that some `acr` be returned, which it always is.
    Ok(Some((values.clone(), essential && !values.is_empty())))
}

/// Unpadded base64url of a SHA-256 digest (43 characters): a PKCE challenge (RFC 7636 §4.2),
/// or a `dpop_jkt` (RFC 9449 §10).
fn is_base64url_sha256(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.1 verifier syntax, then the S256 comparison (constant time).
pub fn verify_pkce(verifier: &str, challenge: &str) -> bool {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let syntax = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !syntax {
        return false;
    }
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}
