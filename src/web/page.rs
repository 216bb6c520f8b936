//! Server-rendered pages: one accessible, mobile-friendly layout, Vietnamese by default with
//! English. Every interpolated value goes through `escape`.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1b1f23;line-height:1.5}\
header{background:#a50e0e;color:#fff;padding:.75rem 1rem}header a{color:#fff}\
.brand{font-weight:700;font-size:1.1rem}main{max-width:34rem;margin:1.5rem auto;background:#fff;padding:1.5rem;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}\
h1{font-size:1.4rem;margin-top:0}button,.button{display:block;width:100%;box-sizing:border-box;font-size:1rem;padding:.8rem 1rem;margin:.5rem 0;border-radius:.4rem;border:2px solid #a50e0e;background:#a50e0e;color:#fff;cursor:pointer;text-align:center;text-decoration:none}\
button.secondary,.button.secondary{background:#fff;color:#a50e0e}button:focus,a:focus,.button:focus{outline:3px solid #1a73e8;outline-offset:2px}\
ul{padding-left:1.2rem}.note{color:#555;font-size:.9rem}.error{border-left:4px solid #a50e0e;padding-left:.75rem}\
nav.lang{text-align:right;font-size:.9rem}table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem;border-bottom:1px solid #ddd}\
@media (max-width:40rem){main{margin:0;border-radius:0;box-shadow:none}}";

/// The full page. `lang_switch` is the URL of this page in the other language, if any.
pub fn layout(lang: Lang, title: &str, body: &str, lang_switch: Option<&str>) -> String {
    let switch = lang_switch
        .map(|u| {
            let label = lang.t("English", "Tiếng Việt");
            let other = lang.t("en", "vi");
            format!(
                r#"<nav class="lang" aria-label="{}"><a href="{}" hreflang="{other}" lang="{other}">{label}</a></nav>"#,
                lang.t("Ngôn ngữ", "Language"),
                escape(u)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · xacthuc</title>
<style>{STYLE}</style>
</head>
<body>
<header><span class="brand">{brand}</span></header>
<main id="main">
{switch}
{body}
</main>
</body>
</html>"#,
        code = lang.code(),
        title = escape(title),
        brand = lang.t("Xác thực điện tử tỉnh", "Provincial e-authentication"),
    )
}

pub fn html(status: StatusCode, page: String) -> Response {
    let mut r = (status, Html(page)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    r
}

/// The same URL with `lang` set to the other language.
pub fn switch_url(path_and_query: &str, lang: Lang) -> String {
    let other = lang.t("en", "vi");
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push(("lang".into(), other.into()));
    let q: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{path}?{q}")
}
