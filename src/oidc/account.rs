//! The citizen's account page: the services they consented to (with withdrawal, Decree
//! 13/2023) and their active sessions (with log-out). Needs a live SSO session.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::provider::{Provider, now};
use super::routes::{expired, unavailable};
use super::session::{self, Session};
use crate::web::page::{self, Lang, escape, layout};

pub fn router() -> Router<Provider> {
    Router::new()
        .route("/account", get(show))
        .route("/account/consents/revoke", post(revoke_consent))
        .route("/account/sessions/end", post(end_session))
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

async fn current(p: &Provider, headers: &HeaderMap, lang: Lang) -> Result<Session, Response> {
    match session::from_headers(p, headers).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(page::html(
            StatusCode::UNAUTHORIZED,
            super::pages::problem(
                lang,
                "Bạn chưa đăng nhập",
                "You are not logged in",
                "Hãy đăng nhập qua một dịch vụ của tỉnh, rồi mở lại trang này.",
                "Log in through one of the province's services, then open this page again.",
                None,
            ),
        )),
        Err(_) => Err(unavailable(lang)),
    }
}

async fn show(State(p): State<Provider>, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let s = match current(&p, &headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (Ok(consents), Ok(sessions), Ok(Some(account))) =
        (p.db.consents(&s.account_id).await, session::list(&p, &s.account_id).await, p.db.account(&s.account_id).await)
    else {
        return unavailable(lang);
    };
    let mut consent_rows = String::new();
    for c in &consents {
        let name = p
            .clients
            .get(&c.client_id)
            .await
            .ok()
            .flatten()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| c.client_id.clone());
        consent_rows.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td><form method="post" action="/account/consents/revoke"><input type="hidden" name="id" value="{}"><button type="submit" class="secondary">{}</button></form></td></tr>"#,
            escape(&name),
            escape(&c.scopes.join(", ")),
            fmt_time(c.granted_at),
            escape(&c.id),
            lang.t("Rút lại", "Withdraw"),
        ));
    }
    let mut session_rows = String::new();
    for other in &sessions {
        let this = if other.sid == s.sid { lang.t(" (phiên này)", " (this session)") } else { "" };
        session_rows.push_str(&format!(
            r#"<tr><td>{}{this}</td><td>{}</td><td><form method="post" action="/account/sessions/end"><input type="hidden" name="sid" value="{}"><button type="submit" class="secondary">{}</button></form></td></tr>"#,
            fmt_time(other.auth_time),
            escape(&other.clients.join(", ")),
            escape(&other.sid),
            lang.t("Đăng xuất", "Log out"),
        ));
    }
    let name = account.profile.get("name").and_then(|v| v.as_str()).unwrap_or_default();
    let body = format!(
        r#"<h1>{h}</h1><p>{name}</p>
<h2>{hc}</h2><table id="consents"><thead><tr><th>{svc}</th><th>{data}</th><th>{when}</th><th></th></tr></thead><tbody>{consent_rows}</tbody></table>
<h2>{hs}</h2><table id="sessions"><thead><tr><th>{login}</th><th>{svcs}</th><th></th></tr></thead><tbody>{session_rows}</tbody></table>"#,
        h = lang.t("Tài khoản của bạn", "Your account"),
        name = escape(name),
        hc = lang.t("Dịch vụ bạn đã đồng ý chia sẻ thông tin", "Services you share information with"),
        svc = lang.t("Dịch vụ", "Service"),
        data = lang.t("Thông tin", "Information"),
        when = lang.t("Thời điểm đồng ý", "Consented"),
        hs = lang.t("Phiên đăng nhập", "Sessions"),
        login = lang.t("Đăng nhập lúc", "Logged in"),
        svcs = lang.t("Dịch vụ", "Services"),
    );
    page::html(
        StatusCode::OK,
        layout(lang, lang.t("Tài khoản", "Account"), &body, Some(&page::switch_url("/account", lang))),
    )
}

fn fmt_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

#[derive(Deserialize)]
struct ConsentForm {
    id: String,
}

async fn revoke_consent(State(p): State<Provider>, headers: HeaderMap, Form(f): Form<ConsentForm>) -> Response {
    let lang = Lang::pick(None, &headers);
    let s = match current(&p, &headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    // Scoped to the session's own account: one cannot withdraw another person's consent.
    match p.db.revoke_consent(&s.account_id, &f.id, now()).await {
        Ok(_) => Redirect::to("/account").into_response(),
        Err(_) => unavailable(lang),
    }
}

#[derive(Deserialize)]
struct SessionForm {
    sid: String,
}

async fn end_session(State(p): State<Provider>, headers: HeaderMap, Form(f): Form<SessionForm>) -> Response {
    let lang = Lang::pick(None, &headers);
    let s = match current(&p, &headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match session::find_by_sid(&p, &s.account_id, &f.sid).await {
        Ok(Some(target)) => {
            super::logout::logout_session(&p, target).await;
            if f.sid == s.sid {
                let mut r = page::html(StatusCode::OK, super::pages::logged_out(lang));
                session::set_cookie(&p, session::COOKIE_NAME, None, 0, r.headers_mut());
                return r;
            }
            Redirect::to("/account").into_response()
        }
        Ok(None) => expired(lang),
        Err(_) => unavailable(lang),
    }
}
