//! The console's page templates (`templates/admin/`) and the parts every page shares.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::Console;
use super::texts::{self, Texts};
use crate::web::page::{self, Frame, Lang};

/// Wider pages than the login's (tables), and the console's navigation.
pub const CONSOLE_STYLE: &str = "main.console{max-width:72rem}nav.console{display:flex;flex-wrap:wrap;gap:1rem;margin-top:.4rem}\
nav.console a{color:#fff}nav.console form{display:inline;margin:0}nav.console button{display:inline;width:auto;margin:0;padding:.1rem .6rem;font-size:.9rem;background:#fff;color:#a50e0e}\
.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}.inline label{margin:0}.inline input,.inline select{margin:0}\
.inline button,td button{display:inline-block;width:auto;margin:0;padding:.4rem .8rem}\
select,input[type=text],input[type=date],textarea{font-size:1rem;padding:.45rem;border:1px solid #767676;border-radius:.4rem;max-width:100%}\
.scroll{overflow-x:auto}code{word-break:break-all;background:#f4f6f8;padding:.1rem .3rem}td.n{white-space:nowrap}";

/// What every console page carries: its frame, texts, who is signed in, the session's form
/// token, and the language as a query for links and forms.
pub struct Chrome {
    pub frame: Frame,
    pub t: &'static Texts,
    pub who: String,
    pub csrf: String,
    pub is_super: bool,
    /// `lang=vi` or `lang=en`: links and forms keep the chosen language.
    pub lq: String,
}

impl Chrome {
    /// `here` is the page's own path and query, for the language link.
    pub fn new(c: &Console, title: fn(&'static Texts) -> &'static str, here: &str) -> Self {
        let t = texts::of(c.lang);
        Chrome {
            frame: Frame::new(c.lang, title(t)).switchable(here),
            t,
            who: c.who.clone(),
            csrf: c.csrf.clone(),
            is_super: c.caller.is_super(),
            lq: format!("lang={}", c.lang.code()),
        }
    }

    pub fn style(&self) -> String {
        format!("{}{CONSOLE_STYLE}", self.frame.style())
    }
}

#[derive(Template)]
#[template(path = "admin/result.html")]
pub struct ResultPage {
    pub chrome: Chrome,
    pub message: String,
    /// Values shown once (set-up links, secrets), with their labels.
    pub values: Vec<(String, String)>,
    /// Problems, one per line.
    pub problems: Vec<String>,
    pub back: String,
}

pub fn result(c: &Console, heading: fn(&'static Texts) -> &'static str, page: ResultBody, back: &str) -> Response {
    let chrome = Chrome::new(c, heading, back);
    let back = format!("{back}{}{}", if back.contains('?') { '&' } else { '?' }, chrome.lq);
    let status = if page.problems.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    page::render(
        status,
        &ResultPage { chrome, message: page.message, values: page.values, problems: page.problems, back },
    )
}

/// What a result page says.
#[derive(Default)]
pub struct ResultBody {
    pub message: String,
    pub values: Vec<(String, String)>,
    pub problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct MessagePage {
    frame: Frame,
    message: String,
    error: bool,
    link: Option<(&'static str, &'static str)>,
}

/// A page with one message (no console session needed).
pub fn message(lang: Lang, message: &str, link: Option<(&'static str, &'static str)>) -> Response {
    let t = texts::of(lang);
    let frame = Frame::new(lang, t.console);
    page::render(StatusCode::OK, &MessagePage { frame, message: message.to_owned(), error: false, link })
}

/// A refusal, with a link back to the console.
pub fn problem(status: StatusCode, lang: Lang, message: String) -> Response {
    let t = texts::of(lang);
    let frame = Frame::new(lang, t.problem);
    page::render(status, &MessagePage { frame, message, error: true, link: Some(("/admin", t.back)) })
}

/// The console's login did not give an administrator.
pub fn login_failed(lang: Lang) -> Response {
    let t = texts::of(lang);
    let frame = Frame::new(lang, t.console);
    let page = MessagePage { frame, message: t.login_failed.to_owned(), error: true, link: Some(("/admin", t.retry)) };
    page::render(StatusCode::FORBIDDEN, &page)
}
