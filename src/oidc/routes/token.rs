//! The endpoints where clients present credentials and proofs rather than a browser: PAR, the
//! token endpoint and UserInfo, with the DPoP headers of RFC 9449 (the proof in `DPoP`, a fresh
//! server nonce in `DPoP-Nonce` on every answer, and the `DPoP` challenge on refusals).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};

use super::no_store;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::extract::WireParams;
use crate::oidc::provider::Provider;
use crate::oidc::request::Params;
use crate::oidc::resource::{self, proof_header};
use crate::oidc::sealed::UserinfoBody;
use crate::oidc::{dpop, par, token};

const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// Every answer carries the current nonce, so clients never need a failed round trip once they
/// have one (§8.2).
fn with_nonce(p: &Provider, mut r: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&dpop::current_nonce(p)) {
        r.headers_mut().insert(DPOP_NONCE, v);
    }
    r
}

pub async fn par_endpoint(State(p): State<Provider>, headers: HeaderMap, WireParams(form): WireParams) -> Response {
    let result = async {
        let proof = proof_header(&headers)?;
        par::push(&p, &headers, &form?, proof.as_deref()).await
    }
    .await;
    let r = match result {
        Ok(body) => no_store((StatusCode::CREATED, Json(body)).into_response()),
        Err(e) => e.into_response(),
    };
    with_nonce(&p, r)
}

pub async fn token_endpoint(State(p): State<Provider>, headers: HeaderMap, WireParams(form): WireParams) -> Response {
    let result = async {
        let proof = proof_header(&headers)?;
        token::token(&p, &headers, &form?, proof.as_deref()).await
    }
    .await;
    let r = match result {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => e.into_response(),
    };
    with_nonce(&p, r)
}

pub async fn userinfo_get(State(p): State<Provider>, headers: HeaderMap) -> Response {
    userinfo(p, "GET", headers, None).await
}

pub async fn userinfo_post(State(p): State<Provider>, headers: HeaderMap, WireParams(form): WireParams) -> Response {
    // A bearer header with no form body is fine (OIDC Core §5.3.1).
    userinfo(p, "POST", headers, form.ok()).await
}

async fn userinfo(p: Provider, method: &str, headers: HeaderMap, form: Option<Params>) -> Response {
    let presented = resource::presented(&headers, form.as_ref(), method, p.endpoint("/userinfo"));
    let with_dpop = presented.as_ref().is_ok_and(|t| t.as_ref().is_some_and(|t| t.is_dpop()));
    let result = async {
        let presented =
            presented?.ok_or_else(|| OAuthError::new(ErrorCode::InvalidToken, "an access token is required"))?;
        let claims = resource::live_presented(&p, &presented).await?;
        resource::userinfo(&p, &claims).await
    }
    .await;
    match result {
        Ok(UserinfoBody::Json(claims)) => with_nonce(&p, no_store(Json(claims).into_response())),
        // OIDC Core §5.3.2: a signed and/or encrypted response is a JWT of this media type.
        Ok(UserinfoBody::Jwt(jwt)) => {
            let r = ([(header::CONTENT_TYPE, HeaderValue::from_static("application/jwt"))], jwt).into_response();
            with_nonce(&p, no_store(r))
        }
        Err(e) => with_nonce(&p, resource_refusal(e, with_dpop)),
    }
}

/// RFC 6750 §3 and RFC 9449 §7.1–7.2: a refused token or proof is a 401 with a challenge for
/// each scheme this endpoint accepts; the error goes in the scheme the client used (a DPoP
/// failure always in the DPoP one). A bound token presented as Bearer is thus refused with the
/// DPoP challenge in sight.
fn resource_refusal(e: OAuthError, with_dpop: bool) -> Response {
    let dpop_error = matches!(e.error, ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce);
    let challenged = dpop_error || e.error == ErrorCode::InvalidToken;
    let code = e.error.as_str();
    let mut r = e.into_response();
    if !challenged {
        return r;
    }
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    let algs = dpop::ALGS.join(" ");
    let (bearer, dpop) = if with_dpop || dpop_error {
        ("Bearer".to_owned(), format!("DPoP error=\"{code}\", algs=\"{algs}\""))
    } else {
        (format!("Bearer error=\"{code}\""), format!("DPoP algs=\"{algs}\""))
    };
    let h = r.headers_mut();
    h.remove(header::WWW_AUTHENTICATE);
    for c in [bearer, dpop] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}
