//! The provider's pages: login choice, consent, errors, logout. Markup only; decisions are in
//! `flow` and `logout`.

use super::claims::describe_scope;
use super::error::OAuthError;
use crate::web::page::{Lang, escape, layout};

pub fn login_choice(lang: Lang, tx: &str, client_name: &str, switch: &str) -> String {
    let body = format!(
        r#"<h1>{h}</h1>
<p>{intro}</p>
<form method="post" action="/login/vneid">
<input type="hidden" name="tx" value="{tx}">
<button type="submit" id="login-vneid">{vneid}</button>
</form>
<p class="note">{note}</p>"#,
        h = lang.t("Đăng nhập", "Log in"),
        intro = escape(
            &lang
                .t("Dịch vụ «{}» cần xác thực danh tính của bạn.", "The service “{}” needs to confirm who you are.")
                .replace("{}", client_name)
        ),
        tx = escape(tx),
        vneid =
            lang.t("Đăng nhập bằng tài khoản định danh điện tử VNeID", "Log in with your VNeID electronic identity"),
        note = lang.t(
            "Bạn sẽ được chuyển đến hệ thống định danh điện tử quốc gia, rồi quay lại đây.",
            "You will be taken to the national electronic identification system, then brought back here."
        ),
    );
    layout(lang, lang.t("Đăng nhập", "Log in"), &body, Some(switch))
}

pub fn consent(lang: Lang, tx: &str, client_name: &str, scopes: &[String], person: &str, switch: &str) -> String {
    let items: String = scopes
        .iter()
        .filter_map(|s| describe_scope(s))
        .map(|(vi, en)| format!("<li>{}</li>", escape(lang.t(vi, en))))
        .collect();
    let items = if items.is_empty() {
        format!("<li>{}</li>", lang.t("Mã định danh ẩn danh của bạn", "An anonymous identifier for you"))
    } else {
        items
    };
    let body = format!(
        r#"<h1>{h}</h1>
<p>{intro}</p>
<ul id="consent-claims">{items}</ul>
<p class="note">{law}</p>
<form method="post" action="/consent">
<input type="hidden" name="tx" value="{tx}">
<button type="submit" name="decision" value="allow" id="consent-allow">{allow}</button>
<button type="submit" name="decision" value="deny" class="secondary" id="consent-deny">{deny}</button>
</form>"#,
        h = lang.t("Chia sẻ thông tin", "Share your information"),
        intro = escape(
            &lang
                .t("Xin chào {p}. Dịch vụ «{c}» đề nghị nhận các thông tin sau:", "Hello {p}. The service “{c}” asks to receive:")
                .replace("{p}", person)
                .replace("{c}", client_name)
        ),
        law = lang.t(
            "Sự đồng ý của bạn được ghi lại theo Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân. Bạn có thể rút lại bất cứ lúc nào tại trang Tài khoản.",
            "Your consent is recorded under Decree 13/2023 on personal data protection. You can withdraw it at any time on your Account page."
        ),
        tx = escape(tx),
        allow = lang.t("Đồng ý", "Allow"),
        deny = lang.t("Từ chối", "Deny"),
    );
    layout(lang, lang.t("Chia sẻ thông tin", "Share your information"), &body, Some(switch))
}

pub fn error(lang: Lang, e: &OAuthError) -> String {
    let body = format!(
        r#"<h1>{h}</h1>
<div class="error" role="alert"><p>{msg}</p><p class="note">{code}: {desc}</p></div>
<p>{what}</p>"#,
        h = lang.t("Không thể tiếp tục", "Cannot continue"),
        msg = lang.t(
            "Yêu cầu đăng nhập từ dịch vụ không hợp lệ, nên chúng tôi không chuyển bạn quay lại dịch vụ đó.",
            "The service's login request is not valid, so we did not send you back to it."
        ),
        code = escape(e.error.as_str()),
        desc = escape(e.error_description.as_deref().unwrap_or_default()),
        what = lang.t(
            "Hãy quay lại trang của dịch vụ và thử lại, hoặc báo cho đơn vị quản lý dịch vụ.",
            "Go back to the service's page and try again, or tell the service's operator."
        ),
    );
    layout(lang, lang.t("Lỗi", "Error"), &body, None)
}

/// A user-facing problem with a retry (upstream down, store down, verification failed).
pub fn problem(lang: Lang, title_vi: &str, title_en: &str, msg_vi: &str, msg_en: &str, retry: Option<&str>) -> String {
    let retry = retry
        .map(|u| format!(r#"<a class="button" href="{}" id="retry">{}</a>"#, escape(u), lang.t("Thử lại", "Try again")))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>{}</h1><div class="error" role="alert"><p>{}</p></div>{retry}"#,
        escape(lang.t(title_vi, title_en)),
        escape(lang.t(msg_vi, msg_en))
    );
    layout(lang, lang.t(title_vi, title_en), &body, None)
}

/// A citizen login that failed (e-ID refused, population data mismatch, upstream down): what
/// happened, a retry when it can help, and a way back to the service.
pub fn login_failed(lang: Lang, msg_vi: &str, msg_en: &str, retry: Option<&str>, back: &str) -> String {
    let retry = retry
        .map(|u| format!(r#"<a class="button" href="{}" id="retry">{}</a>"#, escape(u), lang.t("Thử lại", "Try again")))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>{h}</h1><div class="error" role="alert" id="login-error"><p>{msg}</p></div>{retry}<a class="button secondary" href="{back}" id="back-to-service">{b}</a>"#,
        h = lang.t("Chưa đăng nhập được", "Login did not succeed"),
        msg = escape(lang.t(msg_vi, msg_en)),
        back = escape(back),
        b = lang.t("Quay lại dịch vụ", "Back to the service"),
    );
    layout(lang, lang.t("Chưa đăng nhập được", "Login did not succeed"), &body, None)
}

pub fn unavailable(lang: Lang) -> String {
    problem(
        lang,
        "Hệ thống tạm thời gián đoạn",
        "Temporarily unavailable",
        "Hệ thống đang quá tải hoặc gián đoạn. Yêu cầu của bạn chưa bị mất: vui lòng thử lại sau ít phút.",
        "The system is overloaded or interrupted. Nothing was lost: please try again in a few minutes.",
        None,
    )
}

pub fn logged_out(lang: Lang) -> String {
    let body = format!(
        "<h1>{}</h1><p>{}</p>",
        lang.t("Bạn đã đăng xuất", "You are logged out"),
        lang.t("Bạn có thể đóng cửa sổ này.", "You can close this window.")
    );
    layout(lang, lang.t("Đã đăng xuất", "Logged out"), &body, None)
}

pub fn confirm_logout(lang: Lang, token: &str) -> String {
    let body = format!(
        r#"<h1>{h}</h1><form method="post" action="/logout/confirm"><input type="hidden" name="token" value="{t}">
<button type="submit" id="logout-confirm">{yes}</button></form>"#,
        h = lang.t("Đăng xuất khỏi tất cả dịch vụ?", "Log out of all services?"),
        t = escape(token),
        yes = lang.t("Đăng xuất", "Log out"),
    );
    layout(lang, lang.t("Đăng xuất", "Log out"), &body, None)
}

/// OAuth 2.0 Form Post Response Mode: the browser posts the response to the client. The
/// script is served from our origin (CSP allows 'self' only); without scripts, a button.
pub fn form_post(lang: Lang, redirect_uri: &str, params: &[(String, String)]) -> String {
    let inputs: String = params
        .iter()
        .map(|(k, v)| format!(r#"<input type="hidden" name="{}" value="{}">"#, escape(k), escape(v)))
        .collect();
    let body = format!(
        r#"<form method="post" action="{}" id="form-post">{inputs}<button type="submit">{}</button></form><script src="/assets/form-post.js"></script>"#,
        escape(redirect_uri),
        lang.t("Tiếp tục", "Continue")
    );
    layout(lang, lang.t("Đang chuyển hướng", "Redirecting"), &body, None)
}

pub const FORM_POST_JS: &str = "document.getElementById('form-post').submit();";
