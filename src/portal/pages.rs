//! The portal's pages: Vietnamese by default, English with `?lang=en`. No scripts at all, styles
//! from our own stylesheet (the CSP allows nothing else), every value escaped.

use serde_json::{Map, Value};

use super::session::{LoggedIn, PortalSession};
use crate::web::page::{Lang, escape};

pub const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1b1f23;line-height:1.5}\
header{background:#0b4f8a;color:#fff;padding:.75rem 1rem}.brand{font-weight:700;font-size:1.1rem}\
main{max-width:48rem;margin:1.5rem auto;background:#fff;padding:1.5rem;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}\
h1{font-size:1.4rem;margin-top:0}h2{font-size:1.15rem}\
.button,button{display:block;width:100%;box-sizing:border-box;font-size:1rem;padding:.8rem 1rem;margin:.5rem 0;border-radius:.4rem;border:2px solid #0b4f8a;background:#0b4f8a;color:#fff;cursor:pointer;text-align:center;text-decoration:none}\
.secondary{background:#fff;color:#0b4f8a}\
a:focus,.button:focus,button:focus{outline:3px solid #e8a21a;outline-offset:2px}\
.notice{border-left:4px solid #0b4f8a;padding:.25rem .75rem;background:#eef5fb}.error{border-left:4px solid #a50e0e;padding:.25rem .75rem;background:#fdf0f0}\
nav.lang{text-align:right;font-size:.9rem}table{width:100%;border-collapse:collapse;font-size:.95rem}\
td,th{text-align:left;vertical-align:top;padding:.35rem;border-bottom:1px solid #ddd;overflow-wrap:anywhere}\
code{font-size:.9rem}.note{color:#555;font-size:.9rem}\
@media (max-width:40rem){main{margin:0;border-radius:0;box-shadow:none}}";

/// What happened just before this page.
pub enum Notice {
    LoggedOut,
    EndedByProvider,
}

fn layout(lang: Lang, title: &str, body: &str) -> String {
    let other = lang.t("en", "vi");
    format!(
        r#"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {brand}</title>
<link rel="stylesheet" href="/assets/portal.css">
</head>
<body>
<header><span class="brand">{brand}</span></header>
<main id="main">
<nav class="lang" aria-label="{nav}"><a href="/?lang={other}" hreflang="{other}" lang="{other}">{switch}</a></nav>
{body}
</main>
</body>
</html>"#,
        code = lang.code(),
        title = escape(title),
        brand = lang.t("Cổng dịch vụ công tỉnh (thử nghiệm)", "Provincial public-service portal (demo)"),
        nav = lang.t("Ngôn ngữ", "Language"),
        switch = lang.t("English", "Tiếng Việt"),
    )
}

pub fn home(lang: Lang, session: Option<&PortalSession>, notice: Option<Notice>) -> String {
    let notice = match notice {
        Some(Notice::LoggedOut) => format!(
            r#"<p class="notice" role="status">{}</p>"#,
            lang.t(
                "Bạn đã đăng xuất khỏi cổng và khỏi hệ thống xác thực.",
                "You have logged out of the portal and of the identity service."
            )
        ),
        Some(Notice::EndedByProvider) => format!(
            r#"<p class="notice" role="status">{}</p>"#,
            lang.t(
                "Phiên của bạn đã kết thúc vì bạn đăng xuất ở hệ thống xác thực.",
                "Your session ended because you logged out at the identity service."
            )
        ),
        None => String::new(),
    };
    let body = match session.and_then(|s| s.user.as_ref()) {
        Some(user) => logged_in(lang, user),
        None => logged_out(lang),
    };
    layout(lang, lang.t("Trang chủ", "Home"), &format!("{notice}{body}"))
}

fn logged_out(lang: Lang) -> String {
    let code = lang.code();
    format!(
        r#"<h1>{h}</h1>
<p>{intro}</p>
<a id="login" class="button" href="/login?lang={code}">{login}</a>
<a id="login-level2" class="button secondary" href="/login?level=2&amp;lang={code}">{login2}</a>
<p class="note">{note}</p>"#,
        h = lang.t("Cổng dịch vụ công tỉnh (thử nghiệm)", "Provincial public-service portal (demo)"),
        intro = lang.t(
            "Đăng nhập bằng tài khoản định danh điện tử để dùng dịch vụ công trực tuyến.",
            "Log in with your electronic identification account to use online public services."
        ),
        login = lang.t("Đăng nhập", "Log in"),
        login2 = lang.t("Đăng nhập với tài khoản mức 2", "Log in with a level-2 account"),
        note = lang.t(
            "Một số thủ tục yêu cầu tài khoản định danh điện tử mức 2 (đã xác minh trực tiếp).",
            "Some procedures require a level-2 electronic identification account (verified in person)."
        ),
    )
}

fn logged_in(lang: Lang, user: &LoggedIn) -> String {
    let name = user
        .userinfo
        .as_ref()
        .and_then(|u| u.get("name"))
        .or_else(|| user.id_claims.get("name"))
        .and_then(Value::as_str)
        .unwrap_or(&user.sub);
    let mut rows = String::new();
    claim_rows(&mut rows, lang.t("Mã thông báo ID", "ID token"), &user.id_claims);
    if let Some(u) = &user.userinfo {
        claim_rows(&mut rows, "UserInfo", u);
    }
    let userinfo_problem = user
        .userinfo_error
        .as_ref()
        .map(|e| {
            format!(
                r#"<p class="error" role="alert">{}: {}</p>"#,
                lang.t("Không lấy được thông tin từ UserInfo", "UserInfo could not be read"),
                escape(e)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<h1>{hello}, {name}</h1>
<h2>{acr_h}</h2>
<p>{acr}</p>
<h2 id="claims-heading">{claims_h}</h2>
{userinfo_problem}
<table id="claims" aria-labelledby="claims-heading">
<thead><tr><th scope="col">{source}</th><th scope="col">{claim}</th><th scope="col">{value}</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
<form method="post" action="/logout">
<input type="hidden" name="lang" value="{code}">
<button id="logout" type="submit">{logout}</button>
</form>"#,
        hello = lang.t("Xin chào", "Hello"),
        name = escape(name),
        acr_h = lang.t("Mức xác thực", "Authentication level"),
        acr = explain_acr(lang, user.acr.as_deref()),
        claims_h = lang.t("Thông tin nhận được từ hệ thống xác thực", "Claims received from the identity service"),
        source = lang.t("Nguồn", "Source"),
        claim = lang.t("Trường", "Claim"),
        value = lang.t("Giá trị", "Value"),
        code = lang.code(),
        logout = lang.t("Đăng xuất", "Log out"),
    )
}

fn claim_rows(out: &mut String, source: &str, claims: &Map<String, Value>) {
    for (k, v) in claims {
        let shown = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Times are Unix seconds; show them readable too.
        let when = match (k.as_str(), v.as_i64()) {
            ("exp" | "iat" | "auth_time" | "updated_at", Some(t)) => chrono::DateTime::from_timestamp(t, 0)
                .map(|d| format!(" <span class=\"note\">({} UTC)</span>", d.format("%Y-%m-%d %H:%M:%S")))
                .unwrap_or_default(),
            _ => String::new(),
        };
        out.push_str(&format!(
            "<tr><td>{}</td><th scope=\"row\"><code>{}</code></th><td>{}{when}</td></tr>\n",
            escape(source),
            escape(k),
            escape(&shown)
        ));
    }
}

/// What the `acr` value means for the citizen, in plain words.
pub fn explain_acr(lang: Lang, acr: Option<&str>) -> String {
    let text = match acr {
        Some("urn:xacthuc:acr:eid1") => lang.t(
            "Mức 1: tài khoản định danh điện tử mức 1; thông tin đã được đối chiếu với Cơ sở dữ liệu quốc gia về dân cư.",
            "Level 1: electronic identification account at level 1; details checked against the national population database.",
        ),
        Some("urn:xacthuc:acr:eid2") => lang.t(
            "Mức 2: danh tính đã được xác minh trực tiếp (vân tay hoặc ảnh chân dung). Đủ cho các thủ tục yêu cầu mức 2.",
            "Level 2: identity verified in person (fingerprints or portrait). Enough for procedures that require level 2.",
        ),
        Some("urn:xacthuc:acr:officer-mfa") => lang.t(
            "Cán bộ: mật khẩu và yếu tố xác thực thứ hai.",
            "Officer: password plus a second factor.",
        ),
        Some("urn:xacthuc:acr:officer-cert") => {
            lang.t("Cán bộ: chứng thư chữ ký số.", "Officer: digital-signature certificate.")
        }
        Some(_) => lang.t("Mức xác thực không xác định.", "Unknown authentication level."),
        None => lang.t("Hệ thống xác thực không cho biết mức xác thực.", "The identity service did not state a level."),
    };
    match acr {
        Some(a) => format!("{} <code>{}</code>", escape(text), escape(a)),
        None => escape(text),
    }
}

/// A failed login or logout step. `error`/`description` are the OAuth error as received.
pub fn problem(lang: Lang, title: &str, explanation: &str, error: Option<&str>, description: Option<&str>) -> String {
    let details = match error {
        Some(e) => format!(
            r#"<dl><dt>{}</dt><dd><code id="error-code">{}</code></dd>{}</dl>"#,
            lang.t("Mã lỗi", "Error code"),
            escape(e),
            description
                .map(|d| format!(
                    r#"<dt>{}</dt><dd id="error-description">{}</dd>"#,
                    lang.t("Mô tả", "Description"),
                    escape(d)
                ))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    let body = format!(
        r#"<h1>{title}</h1>
<div class="error" role="alert"><p>{explanation}</p>{details}</div>
<a class="button" href="/?lang={code}">{back}</a>"#,
        title = escape(title),
        explanation = escape(explanation),
        code = lang.code(),
        back = lang.t("Về trang chủ", "Back to the home page"),
    );
    layout(lang, title, &body)
}
