//! The extractor of protocol parameters off the wire: the query string for GET, a form body
//! for POST. Parsing never fails the request by itself: the handler gets either the parameters or an OAuth error
//! to render in its own way (JSON at the token endpoints, a page or redirect at /authorize).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};

use super::error::OAuthError;
use super::request::Params;

pub struct WireParams(pub Result<Params, OAuthError>);

impl<S: Send + Sync> FromRequest<S> for WireParams {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            let query = req.uri().query().unwrap_or_default().as_bytes().to_vec();
            return Ok(WireParams(parse(&query)));
        }
        let is_form = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        });
        if !is_form {
            return Ok(WireParams(Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ))));
        }
        Ok(WireParams(match Bytes::from_request(req, state).await {
            Ok(body) => parse(&body),
            Err(_) => Err(OAuthError::invalid_request("the request body could not be read (too large?)")),
        }))
    }
}

/// RFC 6749 §3.1: parameters sent without a value are treated as omitted, and a parameter
/// must not appear more than once. Public for the fuzzer (`fuzz/fuzz_targets/oauth_params.rs`).
pub fn parse(raw: &[u8]) -> Result<Params, OAuthError> {
    let mut out = Params::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        if v.is_empty() {
            continue;
        }
        if out.insert(k.clone().into_owned(), v.into_owned()).is_some() {
            return Err(OAuthError::invalid_request(format!("parameter {k} is repeated")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_empty_parameters() {
        assert!(parse(b"a=1&a=2").is_err());
        let p = parse(b"a=1&b=&c=x%20y").unwrap();
        assert_eq!(p.get("a").map(String::as_str), Some("1"));
        assert!(!p.contains_key("b"));
        assert_eq!(p.get("c").map(String::as_str), Some("x y"));
    }
}
