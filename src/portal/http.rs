//! The HTTP client the `openidconnect` crate runs on. The crate's own reqwest integration pins an
//! older reqwest; this adapter puts it on the workspace's reqwest (rustls, no OpenSSL).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Bodies from the provider (discovery, JWKS, tokens, UserInfo) are small; cap them so a broken
/// or hostile endpoint cannot make the portal buffer without bound.
const MAX_BODY: usize = 256 * 1024;

#[derive(Clone)]
pub struct Http(pub reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub String);

impl Http {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            // Following redirects from an OP endpoint would let it point us anywhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self(client)
    }
}

/// Reads a body up to `MAX_BODY` bytes.
pub async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| HttpError(describe(&e)))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(HttpError("response too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short reason. The URLs we call carry no codes or tokens (those travel in bodies and
/// headers), so naming the URL is safe.
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        e.to_string()
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(|e| HttpError(describe(&e)))?;
            let resp = self.0.execute(request).await.map_err(|e| HttpError(describe(&e)))?;
            let mut builder = http_response_builder(resp.status());
            for (name, value) in resp.headers() {
                builder = builder.header(name, value);
            }
            let body = read_body(resp).await?;
            builder.body(body).map_err(|e| HttpError(e.to_string()))
        })
    }
}

fn http_response_builder(status: reqwest::StatusCode) -> axum::http::response::Builder {
    axum::http::Response::builder().status(status.as_u16())
}
