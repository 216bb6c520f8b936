//! Mock Government CA (specialised public-service signatures, Decree 68/2024): a root CA and
//! an issuing CA kept in the data folder, officer certificates from a CSR or a generated key,
//! revocation, and the CRL over HTTP.

mod issue;
mod pkcs12;
mod reissue;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{Issuer, KeyPair};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;
use vn_identity::PersonalId;

use crate::server::{self, Running};

pub use issue::Variant;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GovCaConfig {
    pub port: u16,
    /// Public base URL; the CRL distribution point in certificates is `{public_url}/crl/issuing.crl`.
    pub public_url: String,
    /// Where CA keys, certificates and the registry of issued certificates live; `None` keeps
    /// everything in memory (a new CA per start).
    pub data_dir: Option<PathBuf>,
}

impl Default for GovCaConfig {
    fn default() -> Self {
        GovCaConfig { port: 8083, public_url: "http://localhost:8083".into(), data_dir: None }
    }
}

/// A certificate in the CA's registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedCert {
    /// Hex, lower case.
    pub serial: String,
    pub subject_name: String,
    pub personal_id: String,
    pub variant: Variant,
    pub not_after: i64,
    pub certificate_pem: String,
    pub revoked_at: Option<i64>,
    pub revocation_reason: Option<String>,
    /// The caller's idempotency key: a repeated request with the same key gets this
    /// certificate back instead of a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The certificate this one re-issued (same key, changed information).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reissue_of: Option<String>,
}

struct Ca {
    root_pem: String,
    issuing_pem: String,
    root: Issuer<'static, KeyPair>,
    issuing: Issuer<'static, KeyPair>,
    /// Same name as the issuing CA, another key, not signed by the root: "unknown CA".
    rogue: Issuer<'static, KeyPair>,
}

pub(super) struct CaState {
    config: GovCaConfig,
    ca: Ca,
    registry: Mutex<Vec<IssuedCert>>,
}

pub(super) type Shared = Arc<CaState>;

/// Password of PKCS#12 files when the request names none.
pub const DEFAULT_P12_PASSWORD: &str = "xacthuc-mock";

const ISSUING_CN: &str = "Mock CA phục vụ các cơ quan Nhà nước";

fn load_or_create(dir: Option<&Path>) -> anyhow::Result<(Ca, Vec<IssuedCert>)> {
    let read = |name: &str| dir.and_then(|d| std::fs::read_to_string(d.join(name)).ok());
    let (root_pem, root_key, issuing_pem, issuing_key) =
        match (read("root.pem"), read("root.key.pem"), read("issuing.pem"), read("issuing.key.pem")) {
            (Some(a), Some(b), Some(c), Some(d)) => (a, b, c, d),
            _ => {
                let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)?;
                let root_cert = issue::ca_params("Mock Root CA Chính phủ", None).self_signed(&root_key)?;
                let root = Issuer::from_ca_cert_pem(&root_cert.pem(), KeyPair::from_pem(&root_key.serialize_pem())?)?;
                let issuing_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
                let issuing_cert = issue::ca_params(ISSUING_CN, Some(0)).signed_by(&issuing_key, &root)?;
                let files =
                    (root_cert.pem(), root_key.serialize_pem(), issuing_cert.pem(), issuing_key.serialize_pem());
                if let Some(d) = dir {
                    std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
                    for (name, body) in [
                        ("root.pem", &files.0),
                        ("root.key.pem", &files.1),
                        ("issuing.pem", &files.2),
                        ("issuing.key.pem", &files.3),
                    ] {
                        std::fs::write(d.join(name), body).with_context(|| format!("writing {name}"))?;
                    }
                }
                files
            }
        };
    let root = Issuer::from_ca_cert_pem(&root_pem, KeyPair::from_pem(&root_key)?)?;
    let issuing = Issuer::from_ca_cert_pem(&issuing_pem, KeyPair::from_pem(&issuing_key)?)?;
    let rogue_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let rogue = Issuer::new(issue::ca_params(ISSUING_CN, Some(0)), rogue_key);
    let registry = read("issued.jsonl").map(|s| replay(&s)).unwrap_or_default();
    Ok((Ca { root_pem, issuing_pem, root, issuing, rogue }, registry))
}

pub fn router(config: GovCaConfig) -> anyhow::Result<Router> {
    let (ca, registry) = load_or_create(config.data_dir.as_deref())?;
    let state = Arc::new(CaState { config, ca, registry: Mutex::new(registry) });
    Ok(Router::new()
        .route("/ca/root.pem", get(root_pem))
        .route("/ca/issuing.pem", get(issuing_pem))
        .route("/ca/chain.pem", get(chain_pem))
        .route("/crl/issuing.crl", get(issuing_crl))
        .route("/crl/root.crl", get(root_crl))
        .route("/api/certificates", post(issue_cert).get(list))
        .route("/api/certificates/{serial}", get(one))
        .route("/api/certificates/{serial}/revoke", post(revoke))
        .route("/api/certificates/{serial}/reissue", post(reissue::reissue))
        .with_state(state))
}

pub async fn start(config: GovCaConfig, listener: TcpListener) -> anyhow::Result<Running> {
    Ok(server::spawn(listener, router(config)?, "gov-ca")?)
}

fn pem(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/x-pem-file")], body).into_response()
}

async fn root_pem(State(s): State<Shared>) -> Response {
    pem(s.ca.root_pem.clone())
}
async fn issuing_pem(State(s): State<Shared>) -> Response {
    pem(s.ca.issuing_pem.clone())
}
async fn chain_pem(State(s): State<Shared>) -> Response {
    pem(format!("{}{}", s.ca.issuing_pem, s.ca.root_pem))
}

fn crl_response(der: Result<Vec<u8>, String>) -> Response {
    match der {
        Ok(der) => ([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response(),
        Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

async fn issuing_crl(State(s): State<Shared>) -> Response {
    let revoked: Vec<_> = s
        .registry
        .lock()
        .map(|r| {
            r.iter()
                .filter(|c| c.variant != Variant::UnknownCa)
                .filter_map(|c| {
                    let at = c.revoked_at?;
                    let reason = issue::parse_reason(c.revocation_reason.as_deref().unwrap_or("unspecified"))?;
                    Some((hex_decode(&c.serial)?, at, reason))
                })
                .collect()
        })
        .unwrap_or_default();
    // The CRL number must grow; the count of revocations does, since they are never undone.
    crl_response(issue::crl(&revoked, revoked.len() as u64 + 1, &s.ca.issuing))
}

async fn root_crl(State(s): State<Shared>) -> Response {
    crl_response(issue::crl(&[], 1, &s.ca.root))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    /// CN: the officer's full name.
    name: String,
    /// 12-digit personal ID, for `UID=CCCD:<id>`.
    personal_id: String,
    /// O: the unit.
    unit: String,
    /// OU, optional.
    department: Option<String>,
    /// ST: the province.
    province: String,
    /// PEM CSR; without it (and without `public_key_pem`), the CA generates a key and returns it.
    csr_pem: Option<String>,
    /// A PEM SubjectPublicKeyInfo to certify, for keys that cannot sign a CSR easily (a key
    /// pair generated inside a PKCS#11 token by `pkcs11-tool`). Our invention: a real CA wants
    /// the CSR's proof of possession.
    public_key_pem: Option<String>,
    /// "ec" (P-256, default) or "rsa" (2048) for a generated key.
    key_type: Option<String>,
    /// Password of the PKCS#12 returned with a generated key.
    pkcs12_password: Option<String>,
    validity_days: Option<i64>,
    /// A renewal is limited to 3 years instead of 5.
    #[serde(default)]
    renewal: bool,
    #[serde(default)]
    variant: Variant,
    /// Idempotency key (our invention): the same key again returns the first answer.
    request_id: Option<String>,
}

async fn issue_cert(
    State(s): State<Shared>,
    body: Result<Json<IssueRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(r)) => r,
        Err(e) => return err(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    if let Some(done) = already_issued(&s, req.request_id.as_deref()) {
        return done;
    }
    let id = match PersonalId::parse(req.personal_id.trim()) {
        Ok(id) => id,
        Err(e) => return err(StatusCode::BAD_REQUEST, &format!("personal_id: {e}")),
    };
    if [&req.name, &req.unit, &req.province].iter().any(|v| v.trim().is_empty()) {
        return err(StatusCode::BAD_REQUEST, "name, unit and province are required");
    }
    let max = if req.renewal { issue::MAX_RENEWAL_DAYS } else { issue::MAX_NEW_DAYS };
    let days = req.validity_days.unwrap_or(max);
    if !(1..=max).contains(&days) {
        let what = if req.renewal { "a renewal: at most 3 years" } else { "a new certificate: at most 5 years" };
        return err(StatusCode::BAD_REQUEST, &format!("validity_days must be 1..={max} for {what}"));
    }
    let Some(serial) = new_serial() else { return err(StatusCode::INTERNAL_SERVER_ERROR, "no randomness") };
    let subject = issue::Subject {
        name: req.name.trim(),
        personal_id: id.as_str(),
        unit: req.unit.trim(),
        department: req.department.as_deref().map(str::trim).filter(|d| !d.is_empty()),
        province: req.province.trim(),
    };
    let crl_url = format!("{}/crl/issuing.crl", s.config.public_url.trim_end_matches('/'));
    let params = issue::officer_params(&subject, &serial, days, req.variant, &crl_url);
    let issuer = if req.variant == Variant::UnknownCa { &s.ca.rogue } else { &s.ca.issuing };
    let not_after = params.not_after.unix_timestamp();
    let p12_password = req.pkcs12_password.clone().unwrap_or_else(|| DEFAULT_P12_PASSWORD.to_string());
    let (certificate_pem, private_key_pem, pkcs12) = match (&req.csr_pem, &req.public_key_pem) {
        (Some(_), Some(_)) => return err(StatusCode::BAD_REQUEST, "csr_pem or public_key_pem, not both"),
        (Some(csr), None) => match issue::sign_csr(csr, params, issuer) {
            Ok(c) => (c, None, None),
            Err(e) => return err(StatusCode::BAD_REQUEST, &e),
        },
        (None, Some(key)) => match issue::sign_public_key(key, params, issuer) {
            Ok(c) => (c, None, None),
            Err(e) => return err(StatusCode::BAD_REQUEST, &e),
        },
        (None, None) => {
            let rsa = match req.key_type.as_deref() {
                None | Some("ec") => false,
                Some("rsa") => true,
                Some(_) => return err(StatusCode::BAD_REQUEST, "key_type is \"ec\" or \"rsa\""),
            };
            // RSA key generation takes a while; keep it off the async workers.
            let s2 = s.clone();
            let unknown = req.variant == Variant::UnknownCa;
            let signed = tokio::task::spawn_blocking(move || {
                let issuer = if unknown { &s2.ca.rogue } else { &s2.ca.issuing };
                issue::sign_generated(rsa, params, issuer, &p12_password)
            })
            .await;
            match signed {
                Ok(Ok(g)) => (g.cert_pem, Some(g.key_pem), Some(STANDARD.encode(g.pkcs12))),
                Ok(Err(e)) => return err(StatusCode::INTERNAL_SERVER_ERROR, &e),
                Err(e) => return err(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        }
    };
    let record = IssuedCert {
        serial: hex(&serial),
        subject_name: subject.name.to_string(),
        personal_id: id.to_string(),
        variant: req.variant,
        not_after,
        certificate_pem: certificate_pem.clone(),
        revoked_at: None,
        revocation_reason: None,
        request_id: req.request_id.clone(),
        reissue_of: None,
    };
    let chain = if req.variant == Variant::UnknownCa {
        String::new()
    } else {
        format!("{}{}", s.ca.issuing_pem, s.ca.root_pem)
    };
    if let Err(e) = save(&s, |r| {
        r.push(record.clone());
        Some(record.clone())
    }) {
        return err(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
    }
    issued_response(&record, &chain, private_key_pem, pkcs12)
}

/// The answer to an issue or re-issue request.
pub(super) fn issued_response(
    r: &IssuedCert,
    chain: &str,
    private_key_pem: Option<String>,
    pkcs12: Option<String>,
) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({
            "serial": r.serial,
            "certificate_pem": r.certificate_pem,
            "chain_pem": chain,
            "private_key_pem": private_key_pem,
            "pkcs12_base64": pkcs12,
            "not_after": r.not_after,
            "variant": r.variant,
            "reissue_of": r.reissue_of,
        })),
    )
        .into_response()
}

/// The certificate already issued for this idempotency key, answered again (without the
/// private key of a generated key pair: it is never kept).
pub(super) fn already_issued(s: &Shared, request_id: Option<&str>) -> Option<Response> {
    let key = request_id?;
    let found = s.registry.lock().ok()?.iter().find(|c| c.request_id.as_deref() == Some(key)).cloned()?;
    let chain = format!("{}{}", s.ca.issuing_pem, s.ca.root_pem);
    Some(issued_response(&found, &chain, None, None))
}

async fn list(State(s): State<Shared>) -> Response {
    Json(s.registry.lock().map(|r| r.clone()).unwrap_or_default()).into_response()
}

async fn one(State(s): State<Shared>, UrlPath(serial): UrlPath<String>) -> Response {
    let found = s.registry.lock().ok().and_then(|r| r.iter().find(|c| c.serial == serial.to_lowercase()).cloned());
    match found {
        Some(c) => Json(c).into_response(),
        None => err(StatusCode::NOT_FOUND, "no certificate with this serial"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RevokeRequest {
    reason: Option<String>,
}

async fn revoke(
    State(s): State<Shared>,
    UrlPath(serial): UrlPath<String>,
    body: Option<Json<RevokeRequest>>,
) -> Response {
    let reason = body.and_then(|Json(b)| b.reason).unwrap_or_else(|| "unspecified".into());
    if issue::parse_reason(&reason).is_none() {
        return err(
            StatusCode::BAD_REQUEST,
            "reason is one of unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn",
        );
    }
    let serial = serial.to_lowercase();
    let mut found = None;
    let saved = save(&s, |r| {
        if let Some(c) = r.iter_mut().find(|c| c.serial == serial) {
            if c.revoked_at.is_none() {
                c.revoked_at = Some(chrono::Utc::now().timestamp());
                c.revocation_reason = Some(reason.clone());
            }
            found = Some(c.clone());
        }
        found.clone()
    });
    match (saved, found) {
        (Err(e), _) => err(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        (Ok(()), Some(c)) => Json(c).into_response(),
        (Ok(()), None) => err(StatusCode::NOT_FOUND, "no certificate with this serial"),
    }
}

/// Applies a change to the registry and appends the record it returns (new or changed) to the
/// data folder's journal, if any: one line per change, so 3,000 issues cost 3,000 short writes
/// rather than 3,000 rewrites of the whole registry.
pub(super) fn save(s: &Shared, change: impl FnOnce(&mut Vec<IssuedCert>) -> Option<IssuedCert>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut r = s.registry.lock().map_err(|_| anyhow::anyhow!("registry lock poisoned"))?;
    let changed = change(&mut r);
    if let (Some(dir), Some(record)) = (&s.config.data_dir, changed) {
        let mut line = serde_json::to_vec(&record)?;
        line.push(b'\n');
        std::fs::OpenOptions::new().create(true).append(true).open(dir.join("issued.jsonl"))?.write_all(&line)?;
    }
    Ok(())
}

/// The registry from its journal: the last line about a serial wins, first-issued order kept.
fn replay(journal: &str) -> Vec<IssuedCert> {
    let mut out: Vec<IssuedCert> = Vec::new();
    let mut at = std::collections::HashMap::new();
    for rec in journal.lines().filter_map(|l| serde_json::from_str::<IssuedCert>(l).ok()) {
        match at.get(&rec.serial) {
            Some(&i) => out[i] = rec,
            None => {
                at.insert(rec.serial.clone(), out.len());
                out.push(rec);
            }
        }
    }
    out
}

/// A random positive 16-byte serial.
pub(super) fn new_serial() -> Option<[u8; 16]> {
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).ok()?;
    serial[0] &= 0x7f; // positive INTEGER
    serial[0] |= 0x10; // and exactly 16 bytes long, so the hex form is stable
    Some(serial)
}

pub(super) fn err(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({ "error": msg }))).into_response()
}

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}
