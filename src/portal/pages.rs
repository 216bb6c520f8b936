//! The portal's pages as templates (`templates/portal/`): Vietnamese by default, English with
//! `?lang=en`. No scripts at all, styles from our own stylesheet (the CSP allows nothing else),
//! every value escaped by the templates. Also the page-level error the handlers return.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::rp::PortalError;
use super::session::{LoggedIn, PortalSession};
use super::texts::{self, Problem, Texts};
use crate::web::page::{Lang, render};

/// The stylesheet, served from our origin at `/assets/portal.css`.
pub const CSS: &str = include_str!("../../templates/portal/portal.css");

/// What the portal's layout needs besides the texts: language and title.
pub struct Frame {
    pub lang: Lang,
    pub title: &'static str,
}

impl Frame {
    pub fn other_code(&self) -> &'static str {
        self.lang.other().code()
    }
}

/// What happened just before this page.
pub enum Notice {
    LoggedOut,
    EndedByProvider,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage<'a> {
    frame: Frame,
    t: &'static Texts,
    notice: Option<&'static str>,
    user: Option<UserView<'a>>,
}

/// The logged-in part of the home page.
struct UserView<'a> {
    name: &'a str,
    acr_text: &'static str,
    acr: Option<&'a str>,
    userinfo_error: Option<&'a str>,
    rows: Vec<ClaimRow<'a>>,
}

struct ClaimRow<'a> {
    source: &'static str,
    name: &'a str,
    value: String,
    /// Times are Unix seconds; shown readable too.
    when: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/problem.html")]
struct ProblemPage<'a> {
    frame: Frame,
    t: &'static Texts,
    problem: &'static Problem,
    error: Option<&'a str>,
    description: Option<&'a str>,
}

pub fn home(lang: Lang, session: Option<&PortalSession>, notice: Option<Notice>) -> Response {
    let t = texts::of(lang);
    let notice = notice.map(|n| match n {
        Notice::LoggedOut => t.logged_out,
        Notice::EndedByProvider => t.ended_by_provider,
    });
    let user = session.and_then(|s| s.user.as_ref()).map(|u| user_view(t, u));
    render(StatusCode::OK, &HomePage { frame: Frame { lang, title: t.home_title }, t, notice, user })
}

fn user_view<'a>(t: &'static Texts, user: &'a LoggedIn) -> UserView<'a> {
    let name = user
        .userinfo
        .as_ref()
        .and_then(|u| u.get("name"))
        .or_else(|| user.id_claims.get("name"))
        .and_then(Value::as_str)
        .unwrap_or(&user.sub);
    let mut rows: Vec<_> = claim_rows(t.id_token, &user.id_claims).collect();
    if let Some(u) = &user.userinfo {
        rows.extend(claim_rows(t.userinfo, u));
    }
    UserView {
        name,
        acr_text: explain_acr(t, user.acr.as_deref()),
        acr: user.acr.as_deref(),
        userinfo_error: user.userinfo_error.as_deref(),
        rows,
    }
}

fn claim_rows<'a>(source: &'static str, claims: &'a Map<String, Value>) -> impl Iterator<Item = ClaimRow<'a>> {
    claims.iter().map(move |(k, v)| {
        let value = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let when = match (k.as_str(), v.as_i64()) {
            ("exp" | "iat" | "auth_time" | "updated_at", Some(t)) => {
                chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
            }
            _ => None,
        };
        ClaimRow { source, name: k, value, when }
    })
}

/// What the `acr` value means for the citizen, in plain words.
fn explain_acr(t: &'static Texts, acr: Option<&str>) -> &'static str {
    match acr {
        Some("urn:xacthuc:acr:eid1") => t.acr.eid1,
        Some("urn:xacthuc:acr:eid2") => t.acr.eid2,
        Some("urn:xacthuc:acr:org-eid1" | "urn:xacthuc:acr:org-eid2") => t.acr.org,
        Some("urn:xacthuc:acr:officer-mfa") => t.acr.officer_mfa,
        Some("urn:xacthuc:acr:officer-hwk") => t.acr.officer_hwk,
        Some("urn:xacthuc:acr:officer-pwd") => t.acr.officer_pwd,
        Some("urn:xacthuc:acr:officer-cert") => t.acr.officer_cert,
        Some(_) => t.acr.unknown,
        None => t.acr.none,
    }
}

/// A failed login step: the browser gets a page in its language.
#[derive(Debug)]
pub enum PageError {
    /// The callback answers no login this browser started, or one that has expired.
    Stale(Lang),
    /// A step with the provider failed.
    Provider(Lang, PortalError),
}

/// Lets a handler write `app.rp.step().await.or_page(lang)?`.
pub trait OrPage<T> {
    fn or_page(self, lang: Lang) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, PortalError> {
    fn or_page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| PageError::Provider(lang, e))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Stale(lang) => problem(StatusCode::BAD_REQUEST, lang, |t| &t.stale, None, None),
            PageError::Provider(lang, PortalError::Unavailable(m)) => {
                tracing::warn!(reason = %m, "portal: identity provider unavailable");
                problem(StatusCode::SERVICE_UNAVAILABLE, lang, |t| &t.unavailable, None, None)
            }
            PageError::Provider(lang, PortalError::OAuth { error, description }) => {
                problem(StatusCode::BAD_REQUEST, lang, |t| &t.provider_error, Some(&error), description.as_deref())
            }
            PageError::Provider(lang, PortalError::Invalid(m)) => {
                tracing::warn!(reason = %m, "portal: response from the identity provider rejected");
                problem(StatusCode::BAD_REQUEST, lang, |t| &t.rejected, Some("invalid_response"), Some(&m))
            }
        }
    }
}

fn problem(
    status: StatusCode,
    lang: Lang,
    which: fn(&'static Texts) -> &'static Problem,
    error: Option<&str>,
    description: Option<&str>,
) -> Response {
    let t = texts::of(lang);
    let problem = which(t);
    render(status, &ProblemPage { frame: Frame { lang, title: problem.title }, t, problem, error, description })
}
