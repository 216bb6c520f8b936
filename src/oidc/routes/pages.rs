//! The provider's pages as templates (`templates/oidc/`), and the page-level error every
//! browser-facing handler returns.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::oidc::error::OAuthError;
use crate::oidc::texts::{self, Problem, Texts};
use crate::store::{DbError, KvError};
use crate::web::page::{self, Frame, Lang};

#[derive(Template)]
#[template(path = "oidc/login.html")]
pub struct LoginPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub tx: &'a str,
    pub client: &'a str,
    pub methods: Vec<MethodButton>,
}

pub struct MethodButton {
    pub id: &'static str,
    pub start: &'static str,
    pub name: &'static str,
    pub hint: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "oidc/consent.html")]
pub struct ConsentPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub tx: &'a str,
    pub client: &'a str,
    pub person: &'a str,
    pub items: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "oidc/error.html")]
struct ErrorPage<'a> {
    frame: Frame,
    t: &'static Texts,
    code: &'a str,
    description: &'a str,
}

#[derive(Template)]
#[template(path = "oidc/problem.html")]
pub struct ProblemPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub problem: &'a Problem,
    pub retry: Option<String>,
}

#[derive(Template)]
#[template(path = "oidc/logged_out.html")]
struct LoggedOutPage {
    frame: Frame,
    t: &'static Texts,
}

#[derive(Template)]
#[template(path = "oidc/confirm_logout.html")]
struct ConfirmLogoutPage<'a> {
    frame: Frame,
    t: &'static Texts,
    token: &'a str,
}

#[derive(Template)]
#[template(path = "oidc/form_post.html")]
struct FormPostPage<'a> {
    frame: Frame,
    t: &'static Texts,
    redirect_uri: &'a str,
    params: &'a [(String, String)],
}

/// A page-level failure: the browser gets a page in its language, never a redirect.
#[derive(Debug)]
pub enum PageError {
    /// The login transaction is gone or is not this browser's.
    Expired(Lang),
    /// The session store or database is down.
    Unavailable(Lang),
    /// The request cannot be served, and redirecting would be unsafe.
    Invalid(Lang, OAuthError),
    /// A page that needs a logged-in user.
    NotLoggedIn(Lang),
    /// Too many logins in progress from one browser or address.
    TooMany(Lang),
}

/// Lets a handler write `store_call().await.or_page(lang)?`.
pub trait OrPage<T> {
    fn or_page(self, lang: Lang) -> Result<T, PageError>;
}

// The cause is logged here, where it is still known: the page only says "try again later", and
// a burst's 503s must be explainable from the log (store errors carry no secrets).
impl<T> OrPage<T> for Result<T, KvError> {
    fn or_page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| {
            tracing::warn!(error = %e, "page answered 503: session store");
            PageError::Unavailable(lang)
        })
    }
}

impl<T> OrPage<T> for Result<T, DbError> {
    fn or_page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| {
            tracing::warn!(error = %e, "page answered 503: database");
            PageError::Unavailable(lang)
        })
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Expired(lang) => problem(StatusCode::BAD_REQUEST, lang, |t| &t.expired),
            PageError::Unavailable(lang) => unavailable(lang),
            PageError::Invalid(lang, e) => error(lang, &e),
            PageError::NotLoggedIn(lang) => problem(StatusCode::UNAUTHORIZED, lang, |t| &t.not_logged_in),
            PageError::TooMany(lang) => {
                let mut r = problem(StatusCode::TOO_MANY_REQUESTS, lang, |t| &t.too_many);
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(60));
                r
            }
        }
    }
}

fn problem(status: StatusCode, lang: Lang, which: fn(&'static Texts) -> &'static Problem) -> Response {
    let t = texts::of(lang);
    let p = which(t);
    page::render(status, &ProblemPage { frame: Frame::new(lang, p.title), t, problem: p, retry: None })
}

pub fn unavailable(lang: Lang) -> Response {
    let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, lang, |t| &t.unavailable);
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::web::error::RETRY_AFTER_SECS));
    r
}

pub fn error(lang: Lang, e: &OAuthError) -> Response {
    let t = texts::of(lang);
    page::render(
        StatusCode::BAD_REQUEST,
        &ErrorPage {
            frame: Frame::new(lang, t.error_title),
            t,
            code: e.error.as_str(),
            description: e.error_description.as_deref().unwrap_or_default(),
        },
    )
}

pub fn logged_out(lang: Lang) -> Response {
    let t = texts::of(lang);
    page::render(StatusCode::OK, &LoggedOutPage { frame: Frame::new(lang, t.logged_out_title), t })
}

pub fn confirm_logout(lang: Lang, token: &str) -> Response {
    let t = texts::of(lang);
    page::render(StatusCode::OK, &ConfirmLogoutPage { frame: Frame::new(lang, t.logout_title), t, token })
}

/// OAuth 2.0 Form Post Response Mode: the browser posts the response to the client. The
/// script is served from our origin (CSP allows 'self' only); without scripts, a button.
pub fn form_post(lang: Lang, redirect_uri: &str, params: &[(String, String)]) -> Response {
    let t = texts::of(lang);
    page::render(StatusCode::OK, &FormPostPage { frame: Frame::new(lang, t.redirecting), t, redirect_uri, params })
}

pub const FORM_POST_JS: &str = "document.getElementById('form-post').submit();";
