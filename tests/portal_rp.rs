//! The demo portal as a relying party, against a stub provider served by the test: the
//! authorization request (PKCE S256, state, nonce, acr_values), discovery retry, the callback
//! with token exchange and ID-token validation, UserInfo, RP-initiated logout, and rejection of
//! bad responses. The stub checks what a real provider checks (client_secret_basic, PKCE), so a
//! portal that skips a step fails here.

// The demo portal exists only in builds with development mode.
#![cfg(feature = "dev")]

#[path = "support/portal_stub.rs"]
mod portal_stub;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use portal_stub::*;
use tower::ServiceExt;

#[tokio::test]
async fn login_redirect_carries_pkce_state_nonce() {
    let op = Stub::start().await;
    let portal = op.portal();
    let r = portal.clone().oneshot(get("/login", None)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&r).expect("session cookie");
    let raw_cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(raw_cookie.contains("HttpOnly") && raw_cookie.contains("SameSite=Lax"), "{raw_cookie}");
    assert!(!cookie.is_empty());
    let loc = location(&r);
    assert!(loc.starts_with(&format!("{}/authorize?", op.issuer)), "{loc}");
    let q = query(&loc);
    assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(q.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(q.get("redirect_uri").map(String::as_str), Some("http://portal.test/callback"));
    assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"));
    assert_eq!(q.get("code_challenge").map(String::len), Some(43), "S256 challenge is 43 base64url chars");
    assert!(q.get("state").is_some_and(|s| s.len() >= 16));
    assert!(q.get("nonce").is_some_and(|s| s.len() >= 16));
    assert_eq!(q.get("ui_locales").map(String::as_str), Some("vi"));
    let scopes: Vec<&str> = q["scope"].split(' ').collect();
    for s in ["openid", "profile", "address", "personal_id"] {
        assert!(scopes.contains(&s), "{scopes:?}");
    }
    assert!(!q.contains_key("acr_values"));

    // Level 2 asks for it; a second login gets fresh values.
    let r = portal.oneshot(get("/login?level=2&lang=en", Some(&cookie))).await.unwrap();
    let q2 = query(&location(&r));
    assert_eq!(q2.get("acr_values").map(String::as_str), Some("urn:xacthuc:acr:eid2"));
    assert_eq!(q2.get("ui_locales").map(String::as_str), Some("en"));
    for k in ["state", "nonce", "code_challenge"] {
        assert_ne!(q[k], q2[k], "{k} must be fresh per login");
    }
}

#[tokio::test]
async fn discovery_is_retried_until_the_provider_is_up() {
    let op = Stub::start().await;
    op.set(|s| s.discovery_down = true);
    let portal = op.portal();
    let r = portal.clone().oneshot(get("/login", None)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    op.set(|s| s.discovery_down = false);
    let r = portal.oneshot(get("/login", None)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn full_login_shows_claims_then_rp_initiated_logout() {
    let op = Stub::start().await;
    let portal = op.portal();
    let cookie = op.login(&portal, "").await;
    let page = body(portal.clone().oneshot(get("/", Some(&cookie))).await.unwrap()).await;
    assert!(page.contains(r#"id="claims""#), "{page}");
    assert!(page.contains("Nguyễn Văn An"));
    assert!(page.contains("079203001234"), "UserInfo personal_id shown");
    assert!(page.contains("UserInfo"));
    assert!(page.contains("Mức 1"), "acr explained");
    assert!(page.contains(r#"id="logout""#));
    assert_eq!(op.get(|s| s.token_calls), 1);

    let r = portal.clone().oneshot(post("/logout", &cookie, "lang=vi")).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = location(&r);
    assert!(loc.starts_with(&format!("{}/logout?", op.issuer)), "{loc}");
    let q = query(&loc);
    assert_eq!(q.get("post_logout_redirect_uri").map(String::as_str), Some("http://portal.test/"));
    assert!(q.get("id_token_hint").is_some_and(|t| t.split('.').count() == 3));
    let state = q.get("state").cloned().expect("logout state");
    // Back from the provider: logged out, and told so.
    let page = body(portal.oneshot(get(&format!("/?state={state}"), Some(&cookie))).await.unwrap()).await;
    assert!(page.contains(r#"id="login""#) && page.contains(r#"id="login-level2""#));
    assert!(page.contains("Bạn đã đăng xuất"));
    assert!(!page.contains(r#"id="claims""#));
}

#[tokio::test]
async fn level2_request_refuses_a_level1_id_token() {
    let op = Stub::start().await;
    let portal = op.portal();
    let (status, page) = op.try_login(&portal, "?level=2", |_| {}).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("invalid_response") && page.contains("eid2"), "{page}");
    op.set(|s| s.acr = "urn:xacthuc:acr:eid2".into());
    let (status, _) = op.try_login(&portal, "?level=2", |_| {}).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn bad_id_tokens_and_responses_are_refused() {
    let op = Stub::start().await;
    let portal = op.portal();
    // Each case breaks one thing; the good case first, so the harness itself is shown to work.
    let (status, _) = op.try_login(&portal, "", |_| {}).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    type Tweak = fn(&mut StubState);
    let cases: [(&str, Tweak); 6] = [
        ("wrong nonce", |s| s.nonce = Some("another".into())),
        ("wrong at_hash", |s| s.at_hash = Some("AAAAAAAAAAAAAAAAAAAAAA".into())),
        ("wrong audience", |s| s.aud = "someone-else".into()),
        ("wrong issuer", |s| s.iss = Some("http://evil.test".into())),
        ("expired", |s| s.exp_offset = -3600),
        ("unknown key", |s| s.sign_with_other_key = true),
    ];
    for (name, tweak) in cases {
        let (status, page) = op.try_login(&portal, "", tweak).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name} must be refused");
        assert!(page.contains("invalid_response"), "{name}: {page}");
        op.set(|s| *s = StubState::default());
    }
}

#[tokio::test]
async fn callback_checks_state_iss_and_shows_provider_errors() {
    let op = Stub::start().await;
    let portal = op.portal();
    let r = portal.clone().oneshot(get("/login", None)).await.unwrap();
    let cookie = set_cookie(&r).unwrap();
    let q = query(&location(&r));
    let state = &q["state"];
    let iss = urlenc(&op.issuer);

    // Unknown state: nothing is exchanged.
    let r =
        portal.clone().oneshot(get(&format!("/callback?code=c&state=nope&iss={iss}"), Some(&cookie))).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Missing iss although the provider advertises RFC 9207.
    let r = portal.clone().oneshot(get(&format!("/callback?code=c&state={state}"), Some(&cookie))).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(op.get(|s| s.token_calls), 0);

    // An OAuth error from the provider is shown with its description.
    let r = portal.clone().oneshot(get("/login?lang=en", Some(&cookie))).await.unwrap();
    let state = query(&location(&r))["state"].clone();
    let uri =
        format!("/callback?error=access_denied&error_description=the+user+declined&state={}&iss={iss}", urlenc(&state));
    let r = portal.oneshot(get(&uri, Some(&cookie))).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = body(r).await;
    assert!(page.contains("access_denied") && page.contains("the user declined"), "{page}");
    assert!(page.contains(r#"lang="en""#));
}

#[tokio::test]
async fn pages_are_bilingual_and_script_free() {
    let op = Stub::start().await;
    let portal = op.portal();
    let r = portal.clone().oneshot(get("/", None)).await.unwrap();
    let csp = r.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let vi = body(r).await;
    assert!(vi.contains(r#"<html lang="vi">"#) && vi.contains("Đăng nhập") && vi.contains("viewport"));
    assert!(!vi.contains("<script") && !vi.contains("style="));
    let en = body(portal.oneshot(get("/?lang=en", None)).await.unwrap()).await;
    assert!(en.contains(r#"<html lang="en">"#) && en.contains("Log in"));
}

#[tokio::test]
async fn received_values_are_shown_escaped() {
    let op = Stub::start().await;
    op.set(|s| s.name = r#"<script>alert(1)</script> & "An""#.into());
    let portal = op.portal();
    let cookie = op.login(&portal, "").await;
    let page = body(portal.clone().oneshot(get("/", Some(&cookie))).await.unwrap()).await;
    assert!(!page.contains("<script") && !page.contains("</script>"), "{page}");
    // In the greeting and in both claim rows (ID token and UserInfo), as text.
    assert_eq!(unescape_html(&page).matches(r#"<script>alert(1)</script> & "An""#).count(), 3, "{page}");
    // Unix times are shown readable too.
    assert!(page.contains(" UTC)</span>"), "{page}");

    // So is an error the provider sends back.
    let r = portal.clone().oneshot(get("/login", Some(&cookie))).await.unwrap();
    let state = query(&location(&r))["state"].clone();
    let uri = format!(
        "/callback?error={}&error_description={}&state={}&iss={}",
        urlenc("<b>x</b>"),
        urlenc("<img src=x onerror=alert(1)>"),
        urlenc(&state),
        urlenc(&op.issuer)
    );
    let r = portal.oneshot(get(&uri, Some(&cookie))).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = body(r).await;
    assert!(!page.contains("<b>") && !page.contains("<img"), "{page}");
    let text = unescape_html(&page);
    assert!(text.contains(r#"<code id="error-code"><b>x</b></code>"#), "{page}");
    assert!(text.contains(r#"<dd id="error-description"><img src=x onerror=alert(1)></dd>"#), "{page}");
}

#[tokio::test]
async fn problem_pages_speak_the_browsers_language() {
    let op = Stub::start().await;
    let portal = op.portal();
    // A callback nobody asked for, from an English browser: a page in English, no details.
    let r = portal
        .clone()
        .oneshot(
            Request::get("/callback?code=c&state=nope")
                .header(header::ACCEPT_LANGUAGE, "en-GB")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    let page = body(r).await;
    assert!(page.contains(r#"<html lang="en">"#) && page.contains("Invalid login response"), "{page}");
    assert!(!page.contains("error-code"), "{page}");
    // The provider down: 503 with a page in the language the login was started in.
    op.set(|s| s.discovery_down = true);
    let r = portal.oneshot(get("/login?lang=vi", None)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = body(r).await;
    assert!(page.contains(r#"<html lang="vi">"#) && page.contains("Hệ thống xác thực chưa sẵn sàng"), "{page}");
    assert!(page.contains(r#"href="/?lang=vi""#), "a way back home: {page}");
}

#[tokio::test]
async fn the_logged_in_page_in_english() {
    let op = Stub::start().await;
    op.set(|s| s.acr = "urn:xacthuc:acr:eid2".into());
    let portal = op.portal();
    let cookie = op.login(&portal, "?lang=en").await;
    let page = body(portal.oneshot(get("/?lang=en", Some(&cookie))).await.unwrap()).await;
    assert!(page.contains(r#"<html lang="en">"#), "{page}");
    assert!(page.contains("Hello, Nguyễn Văn An") && page.contains("ID token"), "{page}");
    assert!(page.contains("Level 2: identity verified in person"), "{page}");
    assert!(page.contains("<code>urn:xacthuc:acr:eid2</code>"), "{page}");
    assert!(page.contains(r#"<input type="hidden" name="lang" value="en">"#), "{page}");
    assert!(page.contains(r#"href="/?lang=vi" hreflang="vi" lang="vi">Tiếng Việt</a>"#), "{page}");
}

#[tokio::test]
async fn repeated_parameters_get_the_page_not_a_bare_rejection() {
    let op = Stub::start().await;
    let portal = op.portal();
    let r = portal.clone().oneshot(get("/?state=a&state=b&lang=en&lang=en", None)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    assert!(page.contains(r#"<html lang="en">"#) && page.contains(r#"id="login""#), "{page}");
    let r = portal.clone().oneshot(get("/login?level=2&level=2", None)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(query(&location(&r)).get("acr_values").map(String::as_str), Some("urn:xacthuc:acr:eid2"));
    // The logout button's form with its field twice still logs out.
    let cookie = op.login(&portal, "").await;
    let r = portal.clone().oneshot(post("/logout", &cookie, "lang=en&lang=en")).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = location(&r);
    assert!(loc.starts_with(&format!("{}/logout?", op.issuer)), "{loc}");
    assert_eq!(query(&loc).get("ui_locales").map(String::as_str), Some("en"));
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("portal_session={c}"));
    }
    b.body(Body::empty()).unwrap()
}

fn post(uri: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, format!("portal_session={cookie}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}
