//! The officer pages as templates (`templates/officers/`).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use crate::officers::auth::texts::{self, Texts};
use crate::web::page::{self, Frame, Lang};

#[derive(Template)]
#[template(path = "officers/password.html")]
pub struct PasswordPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub tx: &'a str,
    pub username: &'a str,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "officers/second.html")]
pub struct SecondPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub tx: &'a str,
    pub totp: bool,
    pub webauthn: Option<&'a str>,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "officers/enrol.html")]
pub struct EnrolPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub qr: &'a str,
    pub secret: &'a str,
    pub action: &'a str,
    pub hidden: Vec<(&'static str, String)>,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "officers/codes.html")]
pub struct CodesPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub codes: &'a [String],
    pub method: &'static str,
    pub action: &'a str,
    pub hidden: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "officers/setup.html")]
pub struct SetupPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub token: &'a str,
    pub username: &'a str,
    pub reset: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "officers/message.html")]
struct MessagePage {
    frame: Frame,
    message: &'static str,
    error: bool,
    back: Option<(&'static str, &'static str)>,
}

pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "officers/security.html")]
pub struct SecurityPage<'a> {
    pub frame: Frame,
    pub t: &'static Texts,
    pub name: &'a str,
    pub csrf: String,
    pub keys: Vec<KeyRow>,
    pub webauthn: Option<String>,
    pub totp: bool,
    pub codes_left: i64,
}

/// A page with one message: `title` and `message` pick from the language's table.
pub fn message(
    status: StatusCode,
    lang: Lang,
    title: fn(&'static Texts) -> &'static str,
    text: fn(&'static Texts) -> &'static str,
) -> Response {
    let t = texts::of(lang);
    let error = !status.is_success();
    page::render(status, &MessagePage { frame: Frame::new(lang, title(t)), message: text(t), error, back: None })
}

/// A message with a link back to the security page.
pub fn security_message(status: StatusCode, lang: Lang, text: fn(&'static Texts) -> &'static str) -> Response {
    let t = texts::of(lang);
    let back = Some(("/officer/security", t.back));
    page::render(
        status,
        &MessagePage { frame: Frame::new(lang, t.security_title), message: text(t), error: true, back },
    )
}

/// A time for the pages; "—" for never.
pub fn fmt_time(t: Option<i64>) -> String {
    t.map(page::fmt_time).filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}
