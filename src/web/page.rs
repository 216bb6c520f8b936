//! Server-rendered pages: one accessible, mobile-friendly layout (`templates/layout.html`),
//! Vietnamese by default with English. Pages are askama templates, escaped automatically; each
//! feature keeps its texts, one table per language, in its own `texts.rs`.

use askama::Template;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    /// `ui_locales` (or `?lang=`) first, then Accept-Language, else Vietnamese.
    pub fn pick(explicit: Option<&str>, headers: &HeaderMap) -> Lang {
        let from = |s: &str| {
            s.split([' ', ',']).find_map(|t| match t.trim().get(..2) {
                Some("vi") => Some(Lang::Vi),
                Some("en") => Some(Lang::En),
                _ => None,
            })
        };
        explicit
            .and_then(from)
            .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(from))
            .unwrap_or(Lang::Vi)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Picks the text for this language.
    pub fn t<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }
}

/// The page language of a request: `?lang=` or `?ui_locales=` first, then Accept-Language.
impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        #[derive(serde::Deserialize)]
        struct Q {
            lang: Option<String>,
            ui_locales: Option<String>,
        }
        let q = Query::<Q>::try_from_uri(&parts.uri).ok().map(|Query(q)| q);
        let explicit = q.and_then(|q| q.lang.or(q.ui_locales));
        Ok(Lang::pick(explicit.as_deref(), &parts.headers))
    }
}

/// A text in both languages, for the few texts that travel as data (a login method's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text {
    pub vi: &'static str,
    pub en: &'static str,
}

impl Text {
    pub const fn new(vi: &'static str, en: &'static str) -> Self {
        Self { vi, en }
    }

    pub fn get(self, lang: Lang) -> &'static str {
        lang.t(self.vi, self.en)
    }
}

/// The layout's own texts, one table per language.
pub struct LayoutTexts {
    pub brand: &'static str,
    pub language: &'static str,
    /// The name of the other language, in that language.
    pub other_name: &'static str,
}

static LAYOUT_VI: LayoutTexts =
    LayoutTexts { brand: "Xác thực điện tử tỉnh", language: "Ngôn ngữ", other_name: "English" };
static LAYOUT_EN: LayoutTexts =
    LayoutTexts { brand: "Provincial e-authentication", language: "Language", other_name: "Tiếng Việt" };

pub const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1b1f23;line-height:1.5}\
header{background:#a50e0e;color:#fff;padding:.75rem 1rem}header a{color:#fff}\
.brand{font-weight:700;font-size:1.1rem}main{max-width:34rem;margin:1.5rem auto;background:#fff;padding:1.5rem;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}\
h1{font-size:1.4rem;margin-top:0}button,.button{display:block;width:100%;box-sizing:border-box;font-size:1rem;padding:.8rem 1rem;margin:.5rem 0;border-radius:.4rem;border:2px solid #a50e0e;background:#a50e0e;color:#fff;cursor:pointer;text-align:center;text-decoration:none}\
button.secondary,.button.secondary{background:#fff;color:#a50e0e}button:focus,a:focus,.button:focus{outline:3px solid #1a73e8;outline-offset:2px}\
ul{padding-left:1.2rem}.note{color:#555;font-size:.9rem}.error{border-left:4px solid #a50e0e;padding-left:.75rem}\
nav.lang{text-align:right;font-size:.9rem}\
label{display:block;font-weight:600;margin-top:.5rem}input[type=text],input[type=password],input[type=email],input[type=tel],input[type=number]{display:block;width:100%;box-sizing:border-box;font-size:1rem;padding:.7rem;margin:.25rem 0 .75rem;border:1px solid #767676;border-radius:.4rem}input:focus{outline:3px solid #1a73e8;outline-offset:1px}\
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem;border-bottom:1px solid #ddd}\
@media (max-width:40rem){main{margin:0;border-radius:0;box-shadow:none}}";

/// What every page's layout needs: language, title and the link to the other language.
pub struct Frame {
    pub lang: Lang,
    pub title: &'static str,
    pub switch: Option<String>,
    pub layout: &'static LayoutTexts,
}

impl Frame {
    pub fn new(lang: Lang, title: &'static str) -> Self {
        let layout = match lang {
            Lang::Vi => &LAYOUT_VI,
            Lang::En => &LAYOUT_EN,
        };
        Self { lang, title, switch: None, layout }
    }

    /// Offers this page in the other language (`path_and_query` is this page's URL).
    pub fn switchable(mut self, path_and_query: &str) -> Self {
        self.switch = Some(switch_url(path_and_query, self.lang));
        self
    }

    pub fn style(&self) -> &'static str {
        STYLE
    }

    pub fn other_code(&self) -> &'static str {
        self.lang.other().code()
    }
}

/// Renders a page template with `status`. Rendering writes into a String and cannot fail on
/// input; should it fail anyway, the answer is a plain 500 without details.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn html(status: StatusCode, page: String) -> Response {
    let mut r = (status, Html(page)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    r
}

/// A time for the pages (UTC; the pages name the zone).
pub fn fmt_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// The same URL with `lang` set to the other language.
pub fn switch_url(path_and_query: &str, lang: Lang) -> String {
    let other = lang.other().code();
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push(("lang".into(), other.into()));
    let q: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{path}?{q}")
}
