//! Population-data verification for one-stop counters and online forms: does what was keyed
//! (personal ID or old CMND number, name, birth date, gender, permanent residence) match the
//! National Population Database, field by field, and why not.
//!
//! Applications keyed in by hand are rejected when they do not match the database; this lets
//! the counter software check before submitting. Who may ask and what they learn:
//! - a relying party with a live access token carrying [`SCOPE`] (client_credentials);
//! - when an officer at a counter asks for a citizen standing in front of them, the caller
//!   also passes that officer's access token (`acting_officer_token`). Only then does the
//!   answer carry the record's values as suggested corrections (and the 12-digit personal ID
//!   behind an old CMND number): the citizen is present with their documents, which is the
//!   purpose that justifies showing them (Law 91/2025/QH15). Without it the answer says only
//!   match or not, and why.
//! - Every call is rate-limited per caller and per officer, and audited (caller, officer,
//!   masked personal ID, outcome).

pub mod compare;
pub mod routes;

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use vn_identity::{Gender, PersonalId};

use crate::audit::{Action, Actor, Audit, Event};
use crate::citizens::population::LifeStatus;
use crate::citizens::{Message, PersonKey, PopulationClient, RecordAnswer, VerifyError, mask_personal_id};
use crate::oidc::Provider;
use crate::oidc::resource::Presented;
use crate::oidc::service::{self, ServiceAuthError};
use crate::store::KvError;
use compare::FieldReport;

/// The scope a caller's access token must carry.
pub const SCOPE: &str = "population.verify";
/// `MaDVC` sent to the platform for these lookups.
const SERVICE_CODE: &str = "XACTHUC-DOICHIEU";

/// Calls per minute.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub per_caller: i64,
    pub per_officer: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { per_caller: 600, per_officer: 30 }
    }
}

#[derive(Clone)]
pub struct Verification {
    pub oidc: Provider,
    pub population: Arc<PopulationClient>,
    pub audit: Audit,
    pub limits: Limits,
}

/// What was keyed. Dates as `YYYY-MM-DD` or `DD/MM/YYYY`; gender `male`/`female` or
/// `Nam`/`Nữ`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyed {
    pub personal_id: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub permanent_residence: Option<String>,
    /// The access token of the officer at the counter, when one asks for a citizen.
    #[serde(default)]
    pub acting_officer_token: Option<String>,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `found`, `not_found` or `deceased`.
    pub status: &'static str,
    pub explanation: Message,
    /// Whether the number keyed was an old CMND number linked to a personal ID.
    pub old_id_linked: bool,
    /// The 12-digit personal ID behind an old CMND number, for an acting officer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_id: Option<String>,
    /// Notes on the record as a whole (a revoked card).
    pub notes: Vec<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Fields>,
}

#[derive(Debug, Serialize)]
pub struct Fields {
    pub full_name: FieldReport,
    pub birth_date: FieldReport,
    pub gender: FieldReport,
    pub permanent_residence: FieldReport,
}

#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    /// No usable token, the scope missing, or a rate limit reached.
    #[error(transparent)]
    Service(#[from] ServiceAuthError),
    #[error("{0}")]
    Forbidden(&'static str),
    /// The input cannot be checked; names the field.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: &'static str },
    #[error("the population database is unavailable")]
    Unavailable,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<crate::store::DbError> for VerificationError {
    fn from(e: crate::store::DbError) -> Self {
        match e {
            crate::store::DbError::Unavailable(_) => VerificationError::Unavailable,
            other => VerificationError::Internal(other.to_string()),
        }
    }
}

impl From<KvError> for VerificationError {
    fn from(e: KvError) -> Self {
        tracing::warn!(error = %e, "rate-limit store unavailable");
        VerificationError::Unavailable
    }
}

/// Who asks: the client, and the officer at the counter if any.
struct Caller {
    client_id: String,
    officer: Option<String>,
}

impl Verification {
    pub async fn verify(&self, token: Option<&Presented>, keyed: Keyed) -> Result<Report, VerificationError> {
        let caller = self.caller(token, keyed.acting_officer_token.as_deref()).await?;
        self.admit(&caller).await?;
        let key = person_key(&keyed.personal_id)?;
        let birth_date = keyed.birth_date.as_deref().map(parse_date).transpose()?;
        let gender = keyed.gender.as_deref().map(parse_gender).transpose()?;
        let officer_code = caller.officer.clone().unwrap_or_else(|| caller.client_id.clone());
        let answer = self.population.record(&key, &officer_code, SERVICE_CODE).await.map_err(|e| match e {
            VerifyError::Unavailable(_) => VerificationError::Unavailable,
            other => VerificationError::Internal(other.to_string()),
        })?;
        let reveal = caller.officer.is_some();
        let old_id_linked = matches!(key, PersonKey::OldId(_)) && matches!(answer, RecordAnswer::Found(_));
        let report = match answer {
            RecordAnswer::NotFound => Report {
                status: "not_found",
                explanation: Message {
                    vi: "Không tìm thấy công dân với số này trong Cơ sở dữ liệu quốc gia về dân cư.",
                    en: "No citizen with this number in the National Population Database.",
                },
                old_id_linked: false,
                personal_id: None,
                notes: Vec::new(),
                fields: None,
            },
            RecordAnswer::Deceased => Report {
                status: "deceased",
                explanation: Message {
                    vi: "Dữ liệu dân cư ghi nhận công dân này đã mất; cơ sở dữ liệu không cung cấp thông tin để đối chiếu.",
                    en: "The population database records this citizen as deceased and releases nothing to compare.",
                },
                old_id_linked: false,
                personal_id: None,
                notes: Vec::new(),
                fields: None,
            },
            RecordAnswer::Found(record) => Report {
                status: if record.life_status == LifeStatus::Deceased { "deceased" } else { "found" },
                explanation: Message {
                    vi: "Đã đối chiếu với Cơ sở dữ liệu quốc gia về dân cư.",
                    en: "Compared with the National Population Database.",
                },
                old_id_linked,
                personal_id: (reveal && old_id_linked).then(|| record.personal_id.as_str().to_string()),
                notes: compare::record_status(&record),
                fields: Some(Fields {
                    full_name: compare::name(&keyed.full_name, &record.full_name, reveal),
                    birth_date: compare::birth_date(birth_date, record.birth_date, reveal),
                    gender: compare::gender(gender, record.gender, reveal),
                    permanent_residence: compare::residence(
                        keyed.permanent_residence.as_deref(),
                        record.permanent.as_ref(),
                        reveal,
                    ),
                }),
            },
        };
        self.record(&caller, &keyed.personal_id, &report).await;
        Ok(report)
    }

    async fn caller(
        &self,
        token: Option<&Presented>,
        officer_token: Option<&str>,
    ) -> Result<Caller, VerificationError> {
        let client_id = match service::client_with_scope(&self.oidc, token, SCOPE).await {
            Ok(client_id) => client_id,
            Err(e) => {
                if let ServiceAuthError::MissingScope { client_id, .. } = &e {
                    self.refused(client_id, &e.to_string()).await;
                }
                return Err(e.into());
            }
        };
        let officer = match officer_token {
            Some(t) => match self.officer(t).await {
                Ok(officer) => Some(officer),
                Err(e) => {
                    if let VerificationError::Forbidden(why) = &e {
                        self.refused(&client_id, why).await;
                    }
                    return Err(e);
                }
            },
            None => None,
        };
        Ok(Caller { client_id, officer })
    }

    /// A known service asking without the right: worth a trace in the audit log.
    async fn refused(&self, client_id: &str, why: &str) {
        let event = Event::new(Action::PopulationRefused)
            .actor(Actor::Client(client_id.to_owned()))
            .detail(json!({ "client_id": client_id, "reason": why }));
        let _ = self.audit.record(event).await;
    }

    /// The officer behind an access token: a live token of an active officer account.
    async fn officer(&self, token: &str) -> Result<String, VerificationError> {
        let refused = || VerificationError::Forbidden("acting_officer_token is not a live token of an active officer");
        let claims = crate::oidc::resource::live_access_token(&self.oidc, token).await.map_err(|_| refused())?;
        let gid = claims.get("gid").and_then(|v| v.as_str()).ok_or_else(refused)?;
        let grant = self.oidc.db.grant(gid).await?;
        let account_id = grant.and_then(|g| g.account_id).ok_or_else(refused)?;
        let account = self.oidc.db.account(&account_id).await?.filter(|a| a.kind == "officer").ok_or_else(refused)?;
        // The account is read once; whether its feature still serves it is asked directly.
        if !self.oidc.scopes.active(&account.kind, &account_id).await? {
            return Err(refused());
        }
        Ok(account_id)
    }

    /// Per caller and per officer, so the limits hold across instances.
    async fn admit(&self, c: &Caller) -> Result<(), VerificationError> {
        let key = format!("popverify:c:{}", crate::crypto::sha256_hex(&c.client_id));
        service::admit(&self.oidc.kv, &key, self.limits.per_caller).await?;
        if let Some(officer) = &c.officer {
            service::admit(&self.oidc.kv, &format!("popverify:o:{officer}"), self.limits.per_officer).await?;
        }
        Ok(())
    }

    /// Which officer checked which citizen, and when; the personal ID masked.
    async fn record(&self, c: &Caller, keyed_id: &str, report: &Report) {
        let outcome: Vec<(&str, compare::Outcome)> = report
            .fields
            .as_ref()
            .map(|f| {
                vec![
                    ("full_name", f.full_name.result),
                    ("birth_date", f.birth_date.result),
                    ("gender", f.gender.result),
                    ("permanent_residence", f.permanent_residence.result),
                ]
            })
            .unwrap_or_default();
        let mut e = Event::new(Action::PopulationVerified)
            .actor(match &c.officer {
                Some(o) => Actor::Officer(o.clone()),
                None => Actor::Client(c.client_id.clone()),
            })
            .detail(json!({
                "client_id": c.client_id,
                "officer_account_id": c.officer,
                "personal_id": mask_personal_id(keyed_id.trim()),
                "status": report.status,
                "fields": outcome.into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "revealed": c.officer.is_some(),
            }));
        // About the officer, so their unit's administrators see what they looked up.
        if let Some(o) = &c.officer {
            e = e.object("officer", o);
        }
        // Already logged and counted by `record` if it fails; the answer stands.
        let _ = self.audit.record(e).await;
    }
}

fn person_key(raw: &str) -> Result<PersonKey, VerificationError> {
    let s = raw.trim();
    if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(PersonKey::OldId(s.to_owned()));
    }
    PersonalId::parse(s).map(PersonKey::PersonalId).map_err(|_| VerificationError::Invalid {
        field: "personal_id",
        message: "expected a 12-digit personal ID or a 9-digit old identity card (CMND) number",
    })
}

fn parse_date(s: &str) -> Result<NaiveDate, VerificationError> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| VerificationError::Invalid { field: "birth_date", message: "expected YYYY-MM-DD or DD/MM/YYYY" })
}

fn parse_gender(s: &str) -> Result<Gender, VerificationError> {
    match s.trim().to_lowercase().as_str() {
        "male" | "nam" | "m" => Ok(Gender::Male),
        "female" | "nữ" | "nu" | "f" => Ok(Gender::Female),
        _ => Err(VerificationError::Invalid { field: "gender", message: "expected male, female, Nam or Nữ" }),
    }
}
