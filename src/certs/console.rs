//! Certificates in the admin console: the certificates expiring by unit, an officer's
//! certificates with their history, registration by pasting the certificate, and revocation.
//! Every action goes through [`Registry`], as the API's do, with the same unit scoping and audit.

use askama::Template;
use axum::Router;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use serde::Deserialize;

use super::registry::{Registry, RegistryError, Who};
use super::store::RegisteredCert;
use crate::admin::console::pages::{self, Chrome, ResultBody};
use crate::admin::console::{Console, ConsoleError, ConsoleForm, csrf_field, lenient};
use crate::admin::error::AdminError;
use crate::officers::DirectoryError;
use crate::oidc::Provider;
use crate::web::page::{self, Lang};

/// At most this many expiring certificates on one page (narrow by unit or days).
const SHOWN: usize = 500;

#[derive(Clone)]
pub struct CertsConsole {
    pub oidc: Provider,
    pub registry: Registry,
}

impl FromRef<CertsConsole> for Provider {
    fn from_ref(c: &CertsConsole) -> Self {
        c.oidc.clone()
    }
}

pub fn router(state: CertsConsole) -> Router {
    Router::new()
        .route("/admin/certificates", get(list))
        .route("/admin/certificates/register", post(register))
        .route("/admin/certificates/{id}/revoke", post(revoke))
        .with_state(state)
}

/// The page's own words.
struct Words {
    expiring: &'static str,
    within_days: &'static str,
    officer: &'static str,
    show: &'static str,
    serial: &'static str,
    not_after: &'static str,
    status: &'static str,
    history: &'static str,
    register: &'static str,
    register_hint: &'static str,
    revoke: &'static str,
    reason: &'static str,
    registered: &'static str,
    revoked: &'static str,
    refused: &'static str,
}

const VI: Words = Words {
    expiring: "Chứng thư số sắp hết hạn, theo đơn vị",
    within_days: "Trong vòng (ngày)",
    officer: "Tên đăng nhập cán bộ",
    show: "Xem",
    serial: "Số hiệu",
    not_after: "Hết hạn",
    status: "Trạng thái",
    history: "Chứng thư số của cán bộ (cả lịch sử)",
    register: "Đăng ký chứng thư số",
    register_hint: "Dán chứng thư số (PEM, có thể kèm chuỗi chứng thư; hoặc DER mã hóa base64). Chứng thư được kiểm tra và gắn với cán bộ có số định danh trong UID.",
    revoke: "Thu hồi",
    reason: "Lý do",
    registered: "Đã đăng ký chứng thư số",
    revoked: "Đã thu hồi chứng thư số",
    refused: "Chứng thư số không được chấp nhận",
};

const EN: Words = Words {
    expiring: "Certificates expiring, by unit",
    within_days: "Within (days)",
    officer: "Officer's username",
    show: "Show",
    serial: "Serial",
    not_after: "Expires",
    status: "Status",
    history: "The officer's certificates (with history)",
    register: "Register a certificate",
    register_hint: "Paste the certificate (PEM, optionally with its chain; or DER in base64). It is validated and bound to the officer whose personal ID its UID carries.",
    revoke: "Revoke",
    reason: "Reason",
    registered: "Certificate registered",
    revoked: "Certificate revoked",
    refused: "Certificate refused",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    within: Option<i64>,
    officer: Option<String>,
}

struct Row {
    unit: String,
    officer: String,
    serial: String,
    not_after: String,
}

struct Held {
    c: RegisteredCert,
    not_after: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin/certificates.html")]
struct CertificatesPage {
    chrome: Chrome,
    w: &'static Words,
    within: i64,
    rows: Vec<Row>,
    more: usize,
    officer: String,
    held: Vec<Held>,
    reasons: &'static [&'static str],
}

async fn list(
    State(s): State<CertsConsole>,
    c: Console,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ConsoleError> {
    let q: ListQuery = lenient(q);
    let within = q.within.unwrap_or(30).clamp(0, 3660);
    let who = Who::Admin(&c.caller);
    let expiring = s.registry.expiring(who, None, within).await.or_certs(c.lang)?;
    let more = expiring.len().saturating_sub(SHOWN);
    let rows = expiring
        .into_iter()
        .take(SHOWN)
        .map(|e| Row {
            unit: format!("{} {}", e.unit_code, e.unit_name),
            officer: format!("{} ({})", e.officer_name, e.officer_username),
            serial: e.certificate.serial,
            not_after: page::fmt_time(e.certificate.not_after),
        })
        .collect();
    let officer = q.officer.unwrap_or_default().trim().to_owned();
    let held = if officer.is_empty() {
        Vec::new()
    } else {
        let found = s.registry.db.officer_by_username(&officer).await.or_certs(c.lang)?;
        let o = found.ok_or(DirectoryError::NotFound("officer")).or_certs(c.lang)?;
        let certs = s.registry.list(who, &o.id).await.or_certs(c.lang)?;
        certs
            .into_iter()
            .map(|c| Held {
                not_after: page::fmt_time(c.not_after),
                active: c.status == super::store::CertStatus::Active,
                c,
            })
            .collect()
    };
    let here = format!("/admin/certificates?within={within}");
    let page = CertificatesPage {
        chrome: Chrome::new(&c, |t| t.certificates, &here),
        w: words(c.lang),
        within,
        rows,
        more,
        officer,
        held,
        reasons: super::ca_client::REVOCATION_REASONS,
    };
    Ok(page::render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    certificate: String,
}

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

csrf_field!(RegisterForm, RevokeForm);

async fn register(
    State(s): State<CertsConsole>,
    ConsoleForm { c, form: f }: ConsoleForm<RegisterForm>,
) -> Result<Response, ConsoleError> {
    let text = f.certificate.trim();
    // A form carries text: DER comes base64-encoded.
    let input = if text.starts_with("-----BEGIN") {
        text.as_bytes().to_vec()
    } else {
        let compact: String = text.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_else(|_| text.as_bytes().to_vec())
    };
    let w = words(c.lang);
    let body = match s.registry.register(Who::Admin(&c.caller), None, &input).await {
        Ok(cert) => ResultBody {
            message: w.registered.to_owned(),
            values: vec![("x5t#S256".into(), cert.thumbprint), (w.serial.into(), cert.serial)],
            problems: Vec::new(),
        },
        Err(RegistryError::Admin(e)) => return Err(ConsoleError::Admin(c.lang, e)),
        Err(RegistryError::Invalid(failures)) => ResultBody {
            message: w.refused.to_owned(),
            values: Vec::new(),
            problems: failures.iter().map(|f| format!("{}: {f}", f.code())).collect(),
        },
        Err(e) => ResultBody { message: w.refused.to_owned(), values: Vec::new(), problems: vec![e.to_string()] },
    };
    Ok(pages::result(&c, |t| t.certificates, body, "/admin/certificates"))
}

async fn revoke(
    State(s): State<CertsConsole>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<RevokeForm>,
) -> Result<Response, ConsoleError> {
    let w = words(c.lang);
    let body = match s.registry.revoke(Who::Admin(&c.caller), &id, f.reason.trim()).await {
        Ok(cert) => ResultBody {
            message: w.revoked.to_owned(),
            values: vec![(w.serial.into(), cert.serial), (w.reason.into(), f.reason.trim().to_owned())],
            problems: Vec::new(),
        },
        Err(RegistryError::Admin(e)) => return Err(ConsoleError::Admin(c.lang, e)),
        Err(e) => ResultBody { message: w.refused.to_owned(), values: Vec::new(), problems: vec![e.to_string()] },
    };
    Ok(pages::result(&c, |t| t.certificates, body, "/admin/certificates"))
}

/// Registry errors on a console page: authorization and store problems as the console shows
/// them; the registry's own refusals in its words.
trait OrCerts<T> {
    fn or_certs(self, lang: Lang) -> Result<T, ConsoleError>;
}

impl<T, E: Into<RegistryError>> OrCerts<T> for Result<T, E> {
    fn or_certs(self, lang: Lang) -> Result<T, ConsoleError> {
        self.map_err(|e| match e.into() {
            RegistryError::Admin(a) => ConsoleError::Admin(lang, a),
            other => ConsoleError::Admin(
                lang,
                AdminError::Directory(DirectoryError::invalid("certificate", other.to_string())),
            ),
        })
    }
}
