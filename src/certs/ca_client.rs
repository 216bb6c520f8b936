//! The Government CA's issuing API, as the registration authority calls it (the mock CA's in
//! development: mocks/README.md "Mock Government CA"): issue from a CSR, renew, re-issue with
//! the same key after a change of information, revoke. Every call is bounded by a timeout and
//! every failure is a [`CaError`] saying whether the CA refused or could not be reached.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the CA is asked to put in a certificate (the subject is the CA's to set, from these).
#[derive(Clone, Debug, Serialize)]
pub struct Subject {
    /// CN: the officer's full name.
    pub name: String,
    /// O: the unit's current name.
    pub unit: String,
    /// OU, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// ST: the province.
    pub province: String,
}

#[derive(Serialize)]
struct IssueBody<'a> {
    #[serde(flatten)]
    subject: &'a Subject,
    personal_id: &'a str,
    csr_pem: &'a str,
    renewal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ReissueBody<'a> {
    #[serde(flatten)]
    subject: &'a Subject,
    request_id: &'a str,
}

/// A certificate the CA issued.
#[derive(Clone, Debug, Deserialize)]
pub struct Issued {
    pub serial: String,
    pub certificate_pem: String,
    /// The issuing CA and the root, PEM.
    #[serde(default)]
    pub chain_pem: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// No CA endpoint in the configuration.
    #[error("no certificate authority is configured (cert_ca_url)")]
    NotConfigured,
    /// Timeout, connection refused, or a 5xx: worth retrying later.
    #[error("the certificate authority is unavailable: {0}")]
    Unavailable(String),
    /// A 4xx: the request itself was refused.
    #[error("the certificate authority refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    /// A success answer we cannot read.
    #[error("the certificate authority's answer is unreadable: {0}")]
    BadAnswer(String),
}

/// The RFC 5280 reason names the CA takes (`removeFromCRL` and `aACompromise` are the CA's own).
pub const REVOCATION_REASONS: &[&str] = &[
    "unspecified",
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "privilegeWithdrawn",
];

#[derive(Clone, Debug)]
pub struct CaClient {
    base: String,
    http: reqwest::Client,
}

impl CaClient {
    /// A client of the CA at `base` (e.g. [`super::ca_url`]); each call times out after `timeout`.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, CaError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CaError::Unavailable(e.to_string()))?;
        Ok(Self { base: base.trim_end_matches('/').to_owned(), http })
    }

    /// A certificate for the CSR's key (a renewal is limited to 3 years by the CA).
    pub async fn issue(
        &self,
        subject: &Subject,
        personal_id: &str,
        csr_pem: &str,
        renewal: bool,
        request_id: Option<&str>,
    ) -> Result<Issued, CaError> {
        let body = IssueBody { subject, personal_id, csr_pem, renewal, request_id };
        self.post(&format!("{}/api/certificates", self.base), &body).await
    }

    /// A new certificate for the same key as `serial`, with the subject changed. The CA answers
    /// a repeated `request_id` with the certificate it issued the first time.
    pub async fn reissue(&self, serial: &str, subject: &Subject, request_id: &str) -> Result<Issued, CaError> {
        let url = format!("{}/api/certificates/{}/reissue", self.base, path_segment(serial)?);
        self.post(&url, &ReissueBody { subject, request_id }).await
    }

    /// Revokes `serial` with an RFC 5280 reason name ([`REVOCATION_REASONS`]).
    pub async fn revoke(&self, serial: &str, reason: &str) -> Result<(), CaError> {
        let url = format!("{}/api/certificates/{}/revoke", self.base, path_segment(serial)?);
        let r = self.send(self.http.post(url).json(&serde_json::json!({ "reason": reason }))).await?;
        drop(r);
        Ok(())
    }

    async fn post<T: for<'de> Deserialize<'de>>(&self, url: &str, body: &impl Serialize) -> Result<T, CaError> {
        let r = self.send(self.http.post(url).json(body)).await?;
        r.json::<T>().await.map_err(|e| CaError::BadAnswer(e.to_string()))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, CaError> {
        let r = req.send().await.map_err(|e| CaError::Unavailable(e.to_string()))?;
        let status = r.status();
        if status.is_success() {
            return Ok(r);
        }
        let text = r.text().await.unwrap_or_default();
        // The CA answers `{"error": "..."}`; anything else is shown cut short.
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(200).collect());
        if status.is_server_error() {
            Err(CaError::Unavailable(format!("{status}: {message}")))
        } else {
            Err(CaError::Refused { status: status.as_u16(), message })
        }
    }
}

/// A serial is hex; anything else would change the URL's path.
fn path_segment(serial: &str) -> Result<&str, CaError> {
    if !serial.is_empty() && serial.len() <= 64 && serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(serial)
    } else {
        Err(CaError::Refused { status: 400, message: "the serial is not hexadecimal".into() })
    }
}
