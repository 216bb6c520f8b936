//! Verifying an e-ID identity against the National Population Database (CSDLQGVDC), reached
//! through the provincial data-sharing platform: `POST /api/congdan/tracuu` with an API key,
//! JSON in, and JSON out whose `message` holds a SOAP envelope.
//!
//! # Match rules
//! A login proceeds only when, in this order:
//! 1. a record exists for the personal ID, and its `SoDinhDanh` equals the e-ID's;
//! 2. the person is not recorded as deceased;
//! 3. the names match under `vn_identity::names_match`: equal after Unicode NFC, whitespace
//!    collapsing and case folding. NFC vs NFD and upper vs title case match; a name keyed
//!    without diacritics does NOT ("Pham Thi Huong" is not "Phạm Thị Hương": in Vietnamese
//!    those are different names, and the database is the authority);
//! 4. the birth dates are equal (day, month and year);
//! 5. the identity card is not revoked (no card yet, e.g. a child, is fine).
//!
//! # Load
//! Answers are cached per (personal ID, folded name, birth year) — found records for
//! `cache_ttl_secs`, definitive negatives (not found, mismatch, deceased) for the shorter
//! `negative_ttl_secs` so a corrected record is seen soon. Concurrent lookups of one person
//! share one request (moka's `try_get_with`). Failures (timeouts, 5xx, garbage) are never
//! cached. Calls go through the same timeout / in-flight bound / circuit breaker as the e-ID.

mod error;
mod soap;

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use vn_identity::{PersonalId, fold_name, names_match};

pub use self::error::{MismatchField, VerifyError};
/// The envelope parser, public for the fuzzer: the answer comes from a national system over the network.
pub use self::soap::parse as parse_soap_answer;
pub use self::soap::{Address, CardStatus, CodeName, HouseholdHead, LegacyUnits, LifeStatus, PopulationRecord, Unit};
use super::resilience::{CircuitState, Guard, GuardConfig};
use super::upstream::{EidIdentity, Unavailability};

/// Answers larger than this are refused; one record is a few kilobytes.
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, Clone, Deserialize)]
pub struct PopulationConfig {
    /// Base URL of the platform; the lookup is `{base_url}/api/congdan/tracuu`.
    pub base_url: String,
    pub api_key: SecretString,
    #[serde(default = "default_key_header")]
    pub api_key_header: String,
    /// `MaCanBo`: who asks (here the system itself), for the platform's audit log.
    #[serde(default = "default_officer")]
    pub officer_code: String,
    /// `MaDVC`: the service the lookup is made for.
    #[serde(default = "default_service")]
    pub service_code: String,
    /// `MaTichHop`: integration code, when the platform assigned one.
    #[serde(default)]
    pub integration_code: Option<String>,
    #[serde(default)]
    pub guard: GuardConfig,
    #[serde(default = "default_ttl")]
    pub cache_ttl_secs: u64,
    #[serde(default = "default_negative_ttl")]
    pub negative_ttl_secs: u64,
    #[serde(default = "default_capacity")]
    pub cache_capacity: u64,
}

fn default_key_header() -> String {
    "X-API-Key".into()
}
fn default_officer() -> String {
    "XACTHUC".into()
}
fn default_service() -> String {
    "XACTHUC-DANGNHAP".into()
}
fn default_ttl() -> u64 {
    600
}
fn default_negative_ttl() -> u64 {
    60
}
fn default_capacity() -> u64 {
    100_000
}

impl PopulationConfig {
    pub fn new(base_url: &str, api_key: &str) -> Self {
        PopulationConfig {
            base_url: base_url.to_string(),
            api_key: SecretString::from(api_key.to_string()),
            api_key_header: default_key_header(),
            officer_code: default_officer(),
            service_code: default_service(),
            integration_code: None,
            guard: GuardConfig::default(),
            cache_ttl_secs: default_ttl(),
            negative_ttl_secs: default_negative_ttl(),
            cache_capacity: default_capacity(),
        }
    }
}

/// What one lookup request is about. The folded name and year are part of the key because the
/// database answers "mismatch" based on them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LookupKey {
    id: PersonalId,
    folded_name: String,
    year: i32,
}

/// A definitive answer of the database, worth caching.
#[derive(Debug, Clone)]
enum Lookup {
    Found(Arc<PopulationRecord>),
    NotFound,
    Mismatch,
    Deceased,
}

/// The platform's answer to one request.
enum Exchange {
    Records(Vec<PopulationRecord>),
    NotFound,
    Mismatch,
    Deceased,
}

/// How a person is looked up: the 12-digit personal ID, or the old 9-digit CMND number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKey {
    PersonalId(PersonalId),
    OldId(String),
}

/// What the database says about one person.
#[derive(Debug, Clone)]
pub enum RecordAnswer {
    Found(Box<PopulationRecord>),
    NotFound,
    /// The database confirms the number but releases no record of a deceased person.
    Deceased,
}

struct LookupExpiry {
    found: Duration,
    negative: Duration,
}

impl Expiry<LookupKey, Lookup> for LookupExpiry {
    fn expire_after_create(&self, _: &LookupKey, value: &Lookup, _: Instant) -> Option<Duration> {
        Some(if matches!(value, Lookup::Found(_)) { self.found } else { self.negative })
    }
}

/// The population-database client. One per process; share it behind an `Arc`.
pub struct PopulationClient {
    cfg: PopulationConfig,
    url: url::Url,
    http: reqwest::Client,
    guard: Guard,
    cache: Cache<LookupKey, Lookup>,
}

impl PopulationClient {
    pub fn new(cfg: PopulationConfig) -> Result<Self, String> {
        let base =
            url::Url::parse(cfg.base_url.trim_end_matches('/')).map_err(|_| "population base_url is not a URL")?;
        let url = base.join("/api/congdan/tracuu").map_err(|e| e.to_string())?;
        reqwest::header::HeaderName::from_bytes(cfg.api_key_header.as_bytes())
            .map_err(|_| "population api_key_header is not a header name")?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.guard.timeout.min(Duration::from_secs(3)))
            .timeout(cfg.guard.timeout)
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        let cache = Cache::builder()
            .max_capacity(cfg.cache_capacity)
            // For `invalidate`, which drops a person's entries whatever name/year they hold.
            .support_invalidation_closures()
            .expire_after(LookupExpiry {
                found: Duration::from_secs(cfg.cache_ttl_secs),
                negative: Duration::from_secs(cfg.negative_ttl_secs),
            })
            .build();
        Ok(PopulationClient { guard: Guard::new(cfg.guard.clone()), cfg, url, http, cache })
    }

    pub fn circuit_state(&self) -> CircuitState {
        self.guard.state()
    }

    /// Verifies the person under the match rules of this module and returns their record.
    pub async fn verify(&self, eid: &EidIdentity) -> Result<PopulationRecord, VerifyError> {
        use chrono::Datelike;
        let key =
            LookupKey { id: eid.personal_id, folded_name: fold_name(&eid.full_name), year: eid.birth_date.year() };
        let lookup = self.cache.try_get_with(key.clone(), self.fetch(&key)).await.map_err(|e| (*e).clone())?;
        let result = match lookup {
            Lookup::Found(record) => check(eid, &record).map(|()| (*record).clone()),
            Lookup::NotFound => Err(VerifyError::NotFound),
            Lookup::Mismatch => Err(VerifyError::Mismatch { field: MismatchField::NameOrBirthYear }),
            Lookup::Deceased => Err(VerifyError::Deceased),
        };
        if let Err(e) = &result {
            tracing::info!(personal_id = %super::mask_personal_id(eid.personal_id.as_str()), error = %e, "population verification refused");
        }
        result
    }

    /// Forgets cached answers for a person, e.g. after they report a corrected record.
    pub async fn invalidate(&self, id: &PersonalId) {
        let id = *id;
        // Keys also carry name and year; drop every entry of this person.
        if let Err(e) = self.cache.invalidate_entries_if(move |k, _| k.id == id) {
            tracing::warn!(error = %e, "population cache invalidation failed");
        }
    }

    async fn fetch(&self, key: &LookupKey) -> Result<Lookup, VerifyError> {
        let mut body = json!({
            "SoDinhDanh": key.id.as_str(),
            "HoVaTen": key.folded_name,
            "Nam": key.year,
            // Unique per request, for the platform's audit trail.
            "MaYeuCau": uuid::Uuid::now_v7().to_string(),
            "MaCanBo": self.cfg.officer_code,
            "MaDVC": self.cfg.service_code,
        });
        if let (Some(code), Some(obj)) = (&self.cfg.integration_code, body.as_object_mut()) {
            obj.insert("MaTichHop".into(), json!(code));
        }
        let result = self.guard.run(self.post(&body, &key.id), VerifyError::is_upstream_fault).await;
        result.map_err(VerifyError::from)
    }

    async fn post(&self, body: &serde_json::Value, id: &PersonalId) -> Result<Lookup, VerifyError> {
        Ok(match self.exchange(body).await? {
            Exchange::NotFound => Lookup::NotFound,
            Exchange::Mismatch => Lookup::Mismatch,
            Exchange::Deceased => Lookup::Deceased,
            Exchange::Records(records) if records.is_empty() => Lookup::NotFound,
            Exchange::Records(records) => records
                .into_iter()
                .find(|r| r.personal_id == *id)
                .map(|r| Lookup::Found(Arc::new(r)))
                .ok_or(VerifyError::Mismatch { field: MismatchField::PersonalId })?,
        })
    }

    /// The record of one person, by personal ID or old CMND number, for a comparison the
    /// caller makes field by field (a one-stop counter checking keyed data). Only the number
    /// is sent; `officer_code` and `service_code` tell the platform's audit who asked and for
    /// what. Not cached: a counter wants today's record.
    pub async fn record(
        &self,
        key: &PersonKey,
        officer_code: &str,
        service_code: &str,
    ) -> Result<RecordAnswer, VerifyError> {
        let mut body = json!({
            "MaYeuCau": uuid::Uuid::now_v7().to_string(),
            "MaCanBo": officer_code,
            "MaDVC": service_code,
        });
        if let Some(obj) = body.as_object_mut() {
            match key {
                PersonKey::PersonalId(id) => obj.insert("SoDinhDanh".into(), json!(id.as_str())),
                PersonKey::OldId(old) => obj.insert("SoCMND".into(), json!(old)),
            };
            if let Some(code) = &self.cfg.integration_code {
                obj.insert("MaTichHop".into(), json!(code));
            }
        }
        let answer = self.guard.run(self.exchange(&body), VerifyError::is_upstream_fault).await;
        Ok(match answer.map_err(VerifyError::from)? {
            Exchange::Deceased => RecordAnswer::Deceased,
            Exchange::NotFound | Exchange::Mismatch => RecordAnswer::NotFound,
            Exchange::Records(records) => {
                let wanted = |r: &PopulationRecord| match key {
                    PersonKey::PersonalId(id) => r.personal_id == *id,
                    PersonKey::OldId(old) => r.old_id.as_deref() == Some(old.as_str()),
                };
                match records.into_iter().find(wanted) {
                    Some(r) => RecordAnswer::Found(Box::new(r)),
                    None => RecordAnswer::NotFound,
                }
            }
        })
    }

    /// One request to the platform and its definitive answer.
    async fn exchange(&self, body: &serde_json::Value) -> Result<Exchange, VerifyError> {
        let mut response = self
            .http
            .post(self.url.clone())
            .header(self.cfg.api_key_header.as_str(), self.cfg.api_key.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            return Err(VerifyError::Unavailable(Unavailability::Maintenance));
        }
        if status.is_server_error() {
            return Err(VerifyError::Unavailable(Unavailability::ServerError));
        }
        if !status.is_success() {
            return Err(VerifyError::Rejected(format!("HTTP {status}")));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(VerifyError::InvalidResponse("answer too large".into()));
            }
            bytes.extend_from_slice(&chunk);
        }
        #[derive(Deserialize)]
        struct Envelope {
            message: String,
        }
        let envelope: Envelope =
            serde_json::from_slice(&bytes).map_err(|e| VerifyError::InvalidResponse(format!("JSON: {e}")))?;
        match soap::parse(&envelope.message).map_err(VerifyError::InvalidResponse)? {
            soap::Answer::Fault { code, message } => match code.as_deref() {
                Some("KHONG_TIM_THAY") => Ok(Exchange::NotFound),
                Some("THONG_TIN_KHONG_KHOP") => Ok(Exchange::Mismatch),
                Some("CONG_DAN_DA_MAT") => Ok(Exchange::Deceased),
                Some("YEU_CAU_KHONG_HOP_LE") => Err(VerifyError::Rejected(message)),
                _ => Err(VerifyError::InvalidResponse(format!("unknown SOAP fault {code:?}: {message}"))),
            },
            soap::Answer::Records(records) => Ok(Exchange::Records(records)),
        }
    }
}

/// The match rules of this module's documentation, in order.
fn check(eid: &EidIdentity, record: &PopulationRecord) -> Result<(), VerifyError> {
    let mismatch = |field| Err(VerifyError::Mismatch { field });
    if record.personal_id != eid.personal_id {
        return mismatch(MismatchField::PersonalId);
    }
    if record.life_status == LifeStatus::Deceased {
        return Err(VerifyError::Deceased);
    }
    if !names_match(&record.full_name, &eid.full_name) {
        return mismatch(MismatchField::Name);
    }
    if record.birth_date != eid.birth_date {
        return mismatch(MismatchField::BirthDate);
    }
    if record.card == CardStatus::Revoked {
        return Err(VerifyError::CardRevoked);
    }
    Ok(())
}

fn transport(e: reqwest::Error) -> VerifyError {
    if e.is_timeout() {
        VerifyError::Unavailable(Unavailability::Timeout)
    } else {
        VerifyError::Unavailable(Unavailability::Network)
    }
}
