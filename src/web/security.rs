//! Security headers on every response. Pages are self-contained (no third-party assets), so a
//! strict CSP costs nothing; framing is refused to stop click-jacking of login and consent.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' http: https:";

/// Adds the baseline headers; `hsts` only when served over HTTPS in production.
pub async fn headers(hsts: bool, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    set_default(h, header::CONTENT_SECURITY_POLICY, CSP);
    set_default(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(h, header::X_FRAME_OPTIONS, "DENY");
    set_default(h, header::REFERRER_POLICY, "no-referrer");
    set_default(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    if hsts {
        set_default(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    resp
}

/// A handler may set a narrower header of its own (e.g. a form_post page); keep it.
fn set_default(h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str) {
    h.entry(name).or_insert(HeaderValue::from_static(value));
}
