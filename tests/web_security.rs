//! Browser-facing defences over real HTTP, on both backends: every POST form of `templates/`
//! refuses a missing or forged token (and a request marked cross-site), every page refuses to
//! be framed, and cookies carry their flags.
//!
//! Open redirects and mix-up are tested in tests/oidc_protocol.rs (`redirect_uri_attacks`:
//! an unregistered redirect_uri gets an error page, never a redirect; `request_errors_are_redirected`:
//! `iss` in every authorization response, RFC 9207; the logout test: an unregistered
//! post_logout_redirect_uri is not followed).

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use support::browser::Browser;
use support::officers::{self, at_issuer, console_log_in, hidden, location, post_at_issuer};
use support::op::{Backend, TestOp, http};
use xacthuc::officers::directory::AdminRole;

/// What stops a forged submission of a form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    /// A `csrf` field equal to the session's token, and no `Sec-Fetch-Site` other than
    /// same-origin (the console's session, or the provider's SSO session).
    SessionToken,
    /// The login transaction (`tx`), which only the browser holding its binding cookie may use.
    LoginTx,
    /// A one-time token the page itself carries (logout confirmation, officer set-up link).
    PageToken,
    /// Not a form of ours: the `form_post` page posts to the client, the demo portal's log-out
    /// is the portal's.
    NotOurs,
}

/// Every POST form action in `templates/` (query and `{{ }}` parts normalised to `{}`) and its
/// guard. A new form fails `every_post_form_is_classified` until it is listed here.
const FORMS: &[(&str, Guard)] = &[
    ("/account/consents/revoke", Guard::SessionToken),
    ("/account/sessions/end", Guard::SessionToken),
    ("/admin/certificates/register", Guard::SessionToken),
    ("/admin/certificates/{}/revoke", Guard::SessionToken),
    ("/admin/clients/{}/enablement", Guard::SessionToken),
    ("/admin/clients/{}/redirect-uris", Guard::SessionToken),
    ("/admin/clients/{}/secret", Guard::SessionToken),
    ("/admin/logout", Guard::SessionToken),
    ("/admin/officers/bulk", Guard::SessionToken),
    ("/admin/officers/import", Guard::SessionToken),
    ("/admin/officers/new", Guard::SessionToken),
    ("/admin/officers/{}/grants", Guard::SessionToken),
    ("/admin/officers/{}/grants/revoke", Guard::SessionToken),
    ("/admin/officers/{}/move", Guard::SessionToken),
    ("/admin/officers/{}/profile", Guard::SessionToken),
    ("/admin/officers/{}/reset", Guard::SessionToken),
    ("/admin/officers/{}/roles", Guard::SessionToken),
    ("/admin/officers/{}/sessions/end", Guard::SessionToken),
    ("/admin/officers/{}/status", Guard::SessionToken),
    ("/admin/officers/{}/unlock", Guard::SessionToken),
    ("/admin/units/merge", Guard::SessionToken),
    ("/admin/units/new", Guard::SessionToken),
    ("/admin/units/{}/rename", Guard::SessionToken),
    ("/officer/security/passkeys/add", Guard::SessionToken),
    ("/officer/security/passkeys/remove", Guard::SessionToken),
    ("/officer/security/passkeys/rename", Guard::SessionToken),
    ("/officer/security/recovery-codes", Guard::SessionToken),
    ("/officer/security/totp", Guard::SessionToken),
    ("/consent", Guard::LoginTx),
    ("/login/abort", Guard::LoginTx),
    ("/login/cert/verify", Guard::LoginTx),
    ("/login/officer/otp", Guard::LoginTx),
    ("/login/officer/password", Guard::LoginTx),
    ("/login/officer/webauthn", Guard::LoginTx),
    // A login method's start (`/login/officer`, `/login/vneid`, ...), the officer enrolment
    // step, or the form_post page's target (the client's redirect URI).
    ("{}", Guard::LoginTx),
    ("/logout/confirm", Guard::PageToken),
    ("/officer/setup", Guard::PageToken),
    ("/logout", Guard::NotOurs),
];

/// `action` of every `<form method="post">` under `templates/`, normalised.
fn post_forms() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for tag in text.split("<form").skip(1).map(|t| &t[..t.find('>').unwrap_or(t.len())]) {
                if !tag.contains("method=\"post\"") {
                    continue;
                }
                let action = tag.split("action=\"").nth(1).and_then(|a| a.split('"').next()).unwrap_or_default();
                let action = action.split('?').next().unwrap_or_default();
                let mut norm = String::new();
                let mut rest = action;
                while let Some(start) = rest.find("{{") {
                    norm.push_str(&rest[..start]);
                    norm.push_str("{}");
                    rest = rest[start..].find("}}").map_or("", |end| &rest[start + end + 2..]);
                }
                norm.push_str(rest);
                out.insert(norm, path.display().to_string());
            }
        }
    }
    out
}

#[test]
fn every_post_form_is_classified() {
    let listed: BTreeMap<&str, Guard> = FORMS.iter().copied().collect();
    for (action, file) in post_forms() {
        assert!(listed.contains_key(action.as_str()), "form {action} of {file} has no guard listed in FORMS");
    }
    let found = post_forms();
    for (action, _) in FORMS {
        assert!(found.contains_key(*action), "FORMS lists {action}, which no template has any more");
    }
}

/// A super administrator logged in to the console (hence with an SSO session at the provider).
async fn logged_in(backend: Backend) -> Option<(TestOp, Browser, String, String)> {
    let op = officers::start(backend).await?;
    let (sa, secret) = officers::officer(&op, "sa.csrf", true).await;
    let root = op.state.db.unit_by_code("31").await.unwrap().unwrap();
    op.state.db.grant_admin(&sa.id, AdminRole::SuperAdmin, &root.id).await.unwrap();
    let b = Browser::new();
    let page = console_log_in(&op, &b, "/admin/officers", "sa.csrf", &secret.unwrap()).await;
    let csrf = hidden(&page, "csrf");
    Some((op, b, csrf, sa.id))
}

async fn forms_refuse_forged_tokens(backend: Backend) {
    let Some((op, b, csrf, officer_id)) = logged_in(backend).await else { return };
    let unit_id = op.state.db.unit_by_code("31.x1").await.unwrap().unwrap().id;
    for (action, guard) in FORMS.iter().filter(|(_, g)| *g == Guard::SessionToken) {
        let path = action.replace("{}", if action.contains("/units/") { &unit_id } else { &officer_id });
        let path = if action.contains("/clients/") { action.replace("{}", "eoffice") } else { path };
        // What each form needs besides its token, so only the token decides.
        let fields = [
            ("id", officer_id.as_str()),
            ("unit_id", unit_id.as_str()),
            ("sid", "x"),
            ("name", "x"),
            ("status", "disabled"),
            ("action", "suspend"),
            ("credential", "{}"),
            ("reason", "keyCompromise"),
            ("certificate", "x"),
            ("from", "31.x1"),
            ("into", "31"),
            ("code", "31.x9"),
            ("kind", "commune"),
            ("username", "cb.csrf"),
            ("full_name", "Cán bộ"),
            ("unit_code", "31.x1"),
            ("client_id", "eoffice"),
            ("roles", "van_thu"),
            ("enabled", "false"),
            ("redirect_uris", "https://evil.example/cb"),
            ("csv", "username,full_name\n"),
        ];
        let missing = b.http.post(at_issuer(&op, &path)).form(&fields).send().await.unwrap();
        let mut forged_form = fields.to_vec();
        forged_form.push(("csrf", "forged-token"));
        let forged = b.http.post(at_issuer(&op, &path)).form(&forged_form).send().await.unwrap();
        let mut genuine = fields.to_vec();
        genuine.push(("csrf", csrf.as_str()));
        let cross = b.http.post(at_issuer(&op, &path)).header("sec-fetch-site", "cross-site").form(&genuine);
        let cross = cross.send().await.unwrap();
        for (what, r) in [("no token", missing), ("a forged token", forged), ("a cross-site request", cross)] {
            let status = r.status().as_u16();
            assert!(
                status == 403 || status == 400,
                "{action} ({guard:?}) with {what}: {status}, expected a refusal (400/403); {}",
                r.text().await.unwrap_or_default()
            );
        }
    }
    assert_eq!(
        op.state.db.officer_by_username("sa.csrf").await.unwrap().unwrap().status,
        xacthuc::officers::OfficerStatus::Active,
        "no forged form changed anything"
    );
    // The genuine token works: the refusals above are the token's doing, not the session's.
    let r = post_at_issuer(&op, &b, "/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 200, "log-out with the page's token");

    // Login-transaction forms: a transaction started in one browser cannot be driven from
    // another (the attacker's page posting into the victim's login), nor can an invented one.
    let victim = Browser::new();
    let (_, tx) = officers::choice_at(&op.config.issuer, &victim, None).await;
    let attacker = Browser::new();
    for (action, _) in FORMS.iter().filter(|(a, g)| *g == Guard::LoginTx && !a.contains('{')) {
        for tx in [tx.as_str(), "forged-transaction"] {
            let form = [("tx", tx), ("username", "sa.csrf"), ("password", officers::PASSWORD), ("code", "000000")];
            let r = post_at_issuer(&op, &attacker, action, &form).await;
            assert!(r.status().is_client_error(), "{action} with tx {tx} from another browser: {}", r.status());
        }
    }
    let r = post_at_issuer(&op, &attacker, "/login/officer", &[("tx", &tx)]).await;
    assert!(r.status().is_client_error(), "a login method's start from another browser: {}", r.status());
    // One-time page tokens: an invented one is refused.
    for (action, field) in [("/logout/confirm", "token"), ("/officer/setup", "token")] {
        let r =
            post_at_issuer(&op, &attacker, action, &[(field, "forged"), ("password", "x"), ("password2", "x")]).await;
        assert!(r.status().is_client_error(), "{action} with a forged token: {}", r.status());
    }
    op.stop().await;
}
on_both_backends!(csrf, super::forms_refuse_forged_tokens);

fn assert_unframeable(what: &str, h: &HeaderMap) {
    assert_eq!(h.get("x-frame-options").and_then(|v| v.to_str().ok()), Some("DENY"), "{what}: X-Frame-Options");
    let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP frame-ancestors in {csp:?}");
    // RFC 9700 §4.2: no code or state leaks to third parties through the Referer.
    assert_eq!(h.get("referrer-policy").and_then(|v| v.to_str().ok()), Some("no-referrer"), "{what}: Referrer-Policy");
}

async fn no_page_can_be_framed(backend: Backend) {
    let Some(op) = officers::start(backend).await else { return };
    let authorize = officers::auth_url(&op.config.issuer, None);
    let paths = [
        "/",
        "/no-such-page",
        "/authorize",
        "/authorize?client_id=unknown",
        "/account",
        "/admin",
        "/admin/officers",
        "/officer/security",
        "/officer/setup?token=x",
        "/logout",
        "/login?tx=unknown",
        "/.well-known/openid-configuration",
        "/jwks",
        "/healthz",
        "/readyz",
        "/userinfo",
        "/scim/v2/ServiceProviderConfig",
        "/admin/api/openapi.json",
        "/assets/form-post.js",
    ];
    let client = http();
    for path in paths {
        let r = client.get(at_issuer(&op, path)).send().await.unwrap();
        assert_unframeable(path, r.headers());
    }
    // The pages of a login in progress, and a form_post answer (a page of its own CSP).
    let b = Browser::new();
    let r = b.http.get(&authorize).send().await.unwrap();
    assert_unframeable("authorize", r.headers());
    let login = location(&r);
    let r = b.http.get(at_issuer(&op, &login)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_unframeable("the login choice page", r.headers());
    let form_post = authorize.replace("scope=openid", "scope=openid%20unknown_scope") + "&response_mode=form_post";
    let r = b.http.get(&form_post).send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let body = r.text().await.unwrap();
    assert!(body.contains("invalid_scope"), "{status}: the error goes to the client by form_post: {body}");
    assert_unframeable("a form_post page", &headers);
    op.stop().await;
}
on_both_backends!(framing, super::no_page_can_be_framed);

/// Every cookie the provider sets: HttpOnly, SameSite, host-only with Path=/; in production
/// also Secure with the `__Host-` prefix.
async fn cookies_carry_their_flags(backend: Backend) {
    let Some(op) = officers::start(backend).await else { return };
    let mut seen = Vec::new();
    let client = http();
    // The login transaction's binding cookie, and the console's login state.
    let r = client.get(officers::auth_url(&op.config.issuer, None)).send().await.unwrap();
    seen.extend(r.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()));
    let r = client.get(at_issuer(&op, "/admin/officers")).send().await.unwrap();
    seen.extend(r.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()));
    assert!(!seen.is_empty(), "the login sets a cookie");
    for c in &seen {
        let attrs: Vec<String> = c.split(';').map(|a| a.trim().to_ascii_lowercase()).collect();
        assert!(attrs.iter().any(|a| a == "httponly"), "HttpOnly: {c}");
        assert!(attrs.iter().any(|a| a == "samesite=lax" || a == "samesite=strict"), "SameSite: {c}");
        assert!(attrs.iter().any(|a| a == "path=/"), "Path=/: {c}");
        assert!(!attrs.iter().any(|a| a.starts_with("domain=")), "host-only (no Domain): {c}");
    }
    // In production (Mode::Serve sets secure_cookies) the same cookies are Secure and `__Host-`.
    let mut production = op.state.oidc.clone();
    production.secure_cookies = true;
    let mut h = HeaderMap::new();
    xacthuc::oidc::session::set_cookie(&production, "xacthuc_sid", Some("v"), 60, &mut h);
    xacthuc::oidc::session::set_cookie(&production, "xacthuc_sid", None, 0, &mut h);
    for c in h.get_all(SET_COOKIE) {
        let c = c.to_str().unwrap();
        assert!(c.starts_with("__Host-xacthuc_sid="), "__Host- prefix: {c}");
        for flag in ["; Secure", "; HttpOnly", "; SameSite=Lax", "; Path=/"] {
            assert!(c.contains(flag), "{flag} in {c}");
        }
    }
    op.stop().await;
}
on_both_backends!(cookies, super::cookies_carry_their_flags);
