//! The HTTP client the `openidconnect` crate calls through: reqwest 0.13 (rustls), no
//! redirects, a bounded body, and 5xx answers turned into transport errors so that a
//! maintenance page is reported as "unavailable", not as unparsable JSON.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Larger answers are refused: discovery, JWKS and token responses are a few kilobytes.
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("timed out")]
    Timeout,
    #[error("could not connect: {0}")]
    Connect(String),
    /// 5xx. 503 is what the e-ID answers when overloaded ("Hệ thống đang bảo trì").
    #[error("upstream answered HTTP {0}")]
    Status(u16),
    #[error("response body larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let inner = reqwest::Client::builder()
            // Token endpoints must not redirect (RFC 6749 §3.2); following one could leak the
            // code or the client assertion.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .timeout(timeout)
            .user_agent(concat!("xacthuc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(HttpClient { inner })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request).map_err(|e| HttpError::Other(e.to_string()))?;
        let mut response = self.inner.execute(request).await.map_err(classify)?;
        let status = response.status();
        if status.is_server_error() {
            return Err(HttpError::Status(status.as_u16()));
        }
        let mut builder = openidconnect::http::Response::builder().status(status.as_u16());
        for (name, value) in response.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|e| HttpError::Other(e.to_string()))
    }
}

fn classify(e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout
    } else if e.is_connect() {
        HttpError::Connect(e.to_string())
    } else {
        HttpError::Other(e.to_string())
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
