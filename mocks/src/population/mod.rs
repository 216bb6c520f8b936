//! Mock population database (CSDLQGVDC) as reached through the provincial data-sharing
//! platform: JSON in, JSON out, with the answer as SOAP XML inside the `message` field.

mod soap;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;
use vn_identity::{PersonalId, fold_name};

use crate::citizens::{LifeStatus, Population};
use crate::faults::{FaultConfig, Faults};
use crate::server::{self, Running};

pub use soap::FaultCode;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PopulationConfig {
    pub port: u16,
    /// Header carrying the API key.
    pub api_key_header: String,
    /// Accepted API keys.
    pub api_keys: Vec<String>,
    pub faults: FaultConfig,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        PopulationConfig {
            port: 8082,
            api_key_header: "X-API-Key".into(),
            api_keys: vec!["xacthuc-dev-population-key".into()],
            faults: FaultConfig::default(),
        }
    }
}

/// One logged request, for audit: who asked what, under which request code.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    pub time: i64,
    pub endpoint: &'static str,
    #[serde(rename = "MaYeuCau")]
    pub request_code: String,
    #[serde(rename = "MaCanBo")]
    pub officer: String,
    #[serde(rename = "MaDVC")]
    pub service: String,
    pub result: &'static str,
}

struct PopState {
    config: PopulationConfig,
    population: Arc<Population>,
    faults: Arc<Faults>,
    log: Mutex<VecDeque<LoggedRequest>>,
}

type Shared = Arc<PopState>;

const LOG_CAP: usize = 10_000;

/// The request body, as the platform's integration sends it. Fields stay strings so that a
/// malformed value becomes a SOAP fault, as the real system answers, not a JSON rejection.
#[derive(Debug, Deserialize)]
#[serde(default)]
#[derive(Default)]
struct LookupRequest {
    #[serde(rename = "SoDinhDanh")]
    personal_id: String,
    /// The old 9-digit CMND number, accepted instead of `SoDinhDanh` (our invention: the
    /// platform's field name for it is not public).
    #[serde(rename = "SoCMND")]
    old_id: Option<String>,
    #[serde(rename = "HoVaTen")]
    name: Option<String>,
    #[serde(rename = "Nam")]
    year: Option<serde_json::Value>,
    #[serde(rename = "MaYeuCau")]
    request_code: String,
    #[serde(rename = "MaCanBo")]
    officer: String,
    #[serde(rename = "MaDVC")]
    service: String,
    #[serde(rename = "MaTichHop")]
    _integration: Option<String>,
}

pub fn router(config: PopulationConfig, population: Arc<Population>) -> Router {
    let faults = Faults::new(config.faults.clone());
    let state = Arc::new(PopState { config, population, faults: faults.clone(), log: Mutex::new(VecDeque::new()) });
    Router::new()
        .route("/api/congdan/tracuu", post(lookup))
        .route("/api/congdan/hogiadinh", post(household))
        .route("/mock/requests", get(requests))
        .with_state(state)
        .merge(crate::faults::router(faults.clone()))
        .layer(axum::middleware::from_fn_with_state(faults, crate::faults::inject))
}

pub async fn start(
    config: PopulationConfig,
    population: Arc<Population>,
    listener: TcpListener,
) -> anyhow::Result<Running> {
    Ok(server::spawn(listener, router(config, population), "population")?)
}

type Parsed = Result<Json<LookupRequest>, axum::extract::rejection::JsonRejection>;

/// Lookup and verify: the record if `SoDinhDanh` exists and `HoVaTen` (compared folded:
/// upper-case, no diacritics) and `Nam` (birth year), when given, agree with it.
async fn lookup(State(s): State<Shared>, headers: HeaderMap, body: Parsed) -> Response {
    let req = match precheck(&s, &headers, body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (result, xml) = match find(&s, &req) {
        Err(fault) => fault,
        Ok(c) => {
            let mut mismatched = Vec::new();
            if let Some(name) = req.name.as_deref().filter(|n| !n.trim().is_empty())
                && fold_name(name) != fold_name(&c.population_name())
            {
                mismatched.push("HoVaTen");
            }
            if let Some(y) = &req.year
                && year_of(y) != Some(c.birth_year)
            {
                mismatched.push("Nam");
            }
            if !mismatched.is_empty() {
                let msg = format!("Thông tin không khớp: {}", mismatched.join(", "));
                ("mismatch", soap::fault(FaultCode::Mismatch, &msg))
            } else if c.status == LifeStatus::Deceased {
                ("deceased", soap::fault(FaultCode::Deceased, "Công dân đã mất"))
            } else {
                ("found", soap::collection([c], |c| head_name(&s, c)))
            }
        }
    };
    respond(&s, "tracuu", &req, result, xml)
}

/// Household lookup: every member of the household the person belongs to, head first.
async fn household(State(s): State<Shared>, headers: HeaderMap, body: Parsed) -> Response {
    let req = match precheck(&s, &headers, body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let (result, xml) = match find(&s, &req) {
        Err(fault) => fault,
        Ok(c) => {
            let members = s.population.household(&c.household_head);
            ("found", soap::collection(members, |c| head_name(&s, c)))
        }
    };
    respond(&s, "hogiadinh", &req, result, xml)
}

async fn requests(State(s): State<Shared>) -> Json<Vec<LoggedRequest>> {
    Json(s.log.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default())
}

/// API key, JSON shape and `MaYeuCau`; failures here are transport-level (not SOAP).
#[allow(clippy::result_large_err)]
fn precheck(s: &Shared, headers: &HeaderMap, body: Parsed) -> Result<LookupRequest, Response> {
    let key = headers.get(s.config.api_key_header.as_str()).and_then(|v| v.to_str().ok());
    if !key.is_some_and(|k| s.config.api_keys.iter().any(|a| a == k)) {
        return Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({ "status": 401, "message": "Unauthorized: missing or wrong API key" })),
        )
            .into_response());
    }
    let Ok(Json(req)) = body else {
        return Err((StatusCode::BAD_REQUEST, Json(json!({ "status": 400, "message": "Body must be a JSON object" })))
            .into_response());
    };
    if req.request_code.trim().is_empty() {
        return Err((StatusCode::BAD_REQUEST, Json(json!({ "status": 400, "message": "MaYeuCau is required" })))
            .into_response());
    }
    Ok(req)
}

fn find<'a>(s: &'a Shared, req: &LookupRequest) -> Result<&'a crate::citizens::Citizen, (&'static str, String)> {
    let not_found = || ("not_found", soap::fault(FaultCode::NotFound, "Không tìm thấy thông tin công dân"));
    if req.personal_id.trim().is_empty()
        && let Some(old) = req.old_id.as_deref().map(str::trim)
    {
        if old.len() != 9 || !old.bytes().all(|b| b.is_ascii_digit()) {
            return Err(("invalid", soap::fault(FaultCode::InvalidRequest, "SoCMND phải gồm 9 chữ số")));
        }
        return s.population.by_old_id(old).ok_or_else(not_found);
    }
    let id = PersonalId::parse(req.personal_id.trim())
        .map_err(|e| ("invalid", soap::fault(FaultCode::InvalidRequest, &format!("SoDinhDanh không hợp lệ: {e}"))))?;
    s.population.get(&id).ok_or_else(not_found)
}

fn head_name(s: &Shared, c: &crate::citizens::Citizen) -> String {
    s.population.get(&c.household_head).map(|h| h.population_name()).unwrap_or_default()
}

/// Integrations send the year as a number or a string; accept both.
fn year_of(v: &serde_json::Value) -> Option<u16> {
    match v {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn respond(s: &Shared, endpoint: &'static str, req: &LookupRequest, result: &'static str, xml: String) -> Response {
    let time = crate::vneid::now_unix() + s.faults.clock_skew_secs();
    tracing::info!(endpoint, MaYeuCau = %req.request_code, MaCanBo = %req.officer, MaDVC = %req.service, result, "population request");
    if let Ok(mut log) = s.log.lock() {
        if log.len() >= LOG_CAP {
            log.pop_front();
        }
        log.push_back(LoggedRequest {
            time,
            endpoint,
            request_code: req.request_code.clone(),
            officer: req.officer.clone(),
            service: req.service.clone(),
            result,
        });
    }
    let stamp = chrono::DateTime::from_timestamp(time, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default();
    Json(json!({
        "status": 200,
        "MaYeuCau": req.request_code,
        "ThoiGian": stamp,
        "message": xml,
    }))
    .into_response()
}
