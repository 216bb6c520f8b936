//! Enterprises and organisations logging in through their national e-ID accounts, end to end
//! over real HTTP on both backend pairs: the relying party, xacthuc, the mock e-ID and the mock
//! population database. Services get only the kinds of account they ask for; an organisation's
//! claims, its acting representative and its consents work like a citizen's.

mod support;

use xacthuc::oidc::clients::Client;

use serde_json::Value;
use support::browser::{Browser, ConsentChoice, EidLogin, End};
use support::op::{Backend, TestOp, http};
use support::rp::{Rp, verified_claims};
use xacthuc::citizens::login::{EID1, EID2, ORG1, ORG2};

// Demo accounts of the mock e-ID (see `xacthuc-mocks demo_citizens`).
const NGOC: (&str, &str) = ("001188271828", "271828"); // citizen, representative of SONG_HONG
const SONG_HONG: (&str, &str) = ("0101234567", "246810"); // enterprise
const TAN_LAP: (&str, &str) = ("TC000000001", "135790"); // organisation (cooperative)
const BEN_THANH: (&str, &str) = ("0312345678", "112233"); // representative not in the population database
const HONG_HA: (&str, &str) = ("0100000001", "000111"); // dissolved

/// Services that accept citizens and organisations (`both`), citizens only (`citizen`),
/// organisations only (`org`), or say nothing (`none`).
fn rp(id: &str) -> Rp {
    Rp::new(id)
}

async fn register(op: &TestOp) {
    for (id, acr) in [
        ("both", Some(format!("{EID1} {ORG1}"))),
        ("citizen", Some(EID1.to_string())),
        ("org", Some(ORG1.to_string())),
        ("none", None),
    ] {
        let rp = rp(id);
        let c = Client {
            scopes: ["openid", "profile", "organisation"].map(String::from).to_vec(),
            default_acr: acr,
            name: "Một cửa thử nghiệm".into(),
            ..rp.client()
        };
        rp.register(op, &c).await;
    }
}

fn auth_url(op: &TestOp, client: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![("scope", "openid profile organisation")];
    params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    params.extend_from_slice(extra);
    rp(client).auth_url(op, &params)
}

async fn login(op: &TestOp, b: &Browser, client: &str, who: (&str, &str), extra: &[(&str, &str)]) -> End {
    let eid = EidLogin::Form { login: who.0, passcode: who.1 };
    b.journey(&auth_url(op, client, extra), &rp(client).redirect, eid, ConsentChoice::Allow).await
}

/// Redeems the code; returns the verified ID token's claims and the access token.
async fn tokens(op: &TestOp, client: &str, code: &str) -> (Value, String) {
    let r = rp(client).redeem(op, code).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let claims = verified_claims(op, t["id_token"].as_str().unwrap(), client).await;
    (claims, t["access_token"].as_str().unwrap().to_owned())
}

async fn userinfo(op: &TestOp, access_token: &str) -> reqwest::Response {
    http().get(op.url("/userinfo")).bearer_auth(access_token).send().await.unwrap()
}

fn page(end: End) -> (u16, String) {
    match end {
        End::Page { status, body, .. } => (status.as_u16(), body),
        End::AtClient(p) => panic!("expected a page, got a redirect {p:?}"),
    }
}

/// A refusal page, then "back to the service": the service gets this OAuth error.
async fn refused(op: &TestOp, b: &Browser, end: End, says: &str) -> String {
    let (status, body) = page(end);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("login-error") && body.contains(says), "{body}");
    let r = b.back_to_service(&op.base, &body).await;
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("https://") && to.contains(".example.vn/cb?"), "{to}");
    url::Url::parse(&to).unwrap().query_pairs().find(|(k, _)| k == "error").map(|(_, v)| v.into_owned()).unwrap()
}

async fn enterprise_and_organisation_logins(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op).await;
    // An enterprise: its own account, acr and claims, and its representative acting for it.
    let b = Browser::new();
    let (id, access) = tokens(&op, "both", &login(&op, &b, "both", SONG_HONG, &[]).await.code()).await;
    assert_eq!(id["acr"], ORG2);
    assert_eq!(id["account_type"], "enterprise");
    assert_eq!(id["tax_code"], SONG_HONG.0);
    assert_eq!(id["org_name"], "Công ty TNHH Phần mềm Sông Hồng");
    assert!(id["org_address"].as_str().is_some_and(|a| a.contains("Tràng Tiền")), "{id}");
    assert!(id["org_id"].is_string());
    assert_eq!(id["legal_representative"]["name"], "Trần Thị Bích Ngọc");
    assert_eq!(id["legal_representative"]["verified"], true);
    assert!(!id.to_string().contains(NGOC.0), "the representative's personal ID is not released: {id}");
    let acting = id["act"]["sub"].as_str().expect("act.sub names the person acting").to_owned();
    assert_ne!(acting, id["sub"].as_str().unwrap());
    let info: Value = userinfo(&op, &access).await.json().await.unwrap();
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["account_type"], "enterprise");
    assert_eq!(info["tax_code"], SONG_HONG.0);
    assert_eq!(info["act"]["sub"], acting.as_str());
    // `act.sub` is the subject this service knows the representative by when she logs in as
    // herself.
    let (me, _) = tokens(&op, "both", &login(&op, &Browser::new(), "both", NGOC, &[]).await.code()).await;
    assert_eq!(me["sub"], acting.as_str());
    assert_eq!(me["account_type"], "citizen");
    assert_eq!(me["acr"], EID2);
    assert!(me.get("act").is_none() && me.get("tax_code").is_none(), "{me}");
    // The audit log names the representative as the actor of the enterprise's login.
    let filter = xacthuc::audit::AuditFilter { action_prefix: Some("login.succeeded".into()), ..Default::default() };
    let entries = op.state.audit.query(&filter, xacthuc::audit::Page::default()).await.unwrap();
    let acted: Vec<_> = entries.iter().filter(|e| e.detail.contains("\"acting_account_id\":\"")).collect();
    assert_eq!(acted.len(), 1, "{entries:?}");
    let detail: Value = serde_json::from_str(&acted[0].detail).unwrap();
    let acting_id = detail["acting_account_id"].as_str().unwrap();
    assert!(acted[0].actor.ends_with(acting_id), "{:?}", acted[0]);
    assert_ne!(acted[0].object_id.as_deref(), Some(acting_id));
    // An organisation (a cooperative): keyed by TechID, no tax code.
    let (org, _) = tokens(&op, "both", &login(&op, &Browser::new(), "both", TAN_LAP, &[]).await.code()).await;
    assert_eq!(org["account_type"], "organisation");
    assert_eq!(org["org_name"], "Hợp tác xã Nông nghiệp Tân Lập");
    assert!(org["org_id"].is_string() && org.get("tax_code").is_none(), "{org}");
    assert_eq!(org["legal_representative"]["name"], "Nguyễn Văn An");
    assert!(org["act"]["sub"].is_string());
    assert_ne!(org["sub"], id["sub"]);
    // An organisation-only service takes them too, and the organisation's data only under
    // its scope.
    let (org, _) =
        tokens(&op, "org", &login(&op, &Browser::new(), "org", SONG_HONG, &[("scope", "openid")]).await.code()).await;
    assert_eq!(org["account_type"], "enterprise", "the kind is always said");
    assert!(org.get("tax_code").is_none() && org.get("legal_representative").is_none(), "{org}");
    op.stop().await;
}
on_both_backends!(enterprise_and_organisation, super::enterprise_and_organisation_logins);

async fn services_get_only_the_kinds_they_ask_for(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op).await;
    // A citizens' service refuses an enterprise, whether it says so or says nothing at all.
    for client in ["citizen", "none"] {
        let b = Browser::new();
        let end = login(&op, &b, client, SONG_HONG, &[]).await;
        assert_eq!(refused(&op, &b, end, "Dịch vụ này dành cho công dân").await, "access_denied", "{client}");
    }
    // The browser-controlled request cannot move a citizens' service to organisations.
    let b = Browser::new();
    let end = login(&op, &b, "citizen", TAN_LAP, &[("acr_values", ORG1)]).await;
    assert_eq!(refused(&op, &b, end, "công dân").await, "access_denied");
    // An organisations' service refuses a citizen.
    let b = Browser::new();
    let end = login(&op, &b, "org", NGOC, &[("ui_locales", "en")]).await;
    assert_eq!(refused(&op, &b, end, "enterprise").await, "access_denied");
    // A request may ask for organisations itself, at a level: a level-2 organisation passes.
    let (id, _) =
        tokens(&op, "none", &login(&op, &Browser::new(), "none", TAN_LAP, &[("acr_values", ORG2)]).await.code()).await;
    assert_eq!(id["acr"], ORG2);
    // A citizen's session does not carry over to an organisations' service, nor an
    // organisation's to a citizens' one: prompt=none says the login is needed.
    let b = Browser::new();
    login(&op, &b, "citizen", NGOC, &[]).await.code();
    let r = b.http.get(auth_url(&op, "org", &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("error=login_required"));
    let b = Browser::new();
    login(&op, &b, "org", SONG_HONG, &[]).await.code();
    let r = b.http.get(auth_url(&op, "citizen", &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("error=login_required"));
    op.stop().await;
}
on_both_backends!(kinds, super::services_get_only_the_kinds_they_ask_for);

async fn representative_and_dissolution(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op).await;
    // A representative the population database does not know: nobody verified would act for
    // the enterprise, so the login stops, with an explanation.
    let b = Browser::new();
    let end = login(&op, &b, "both", BEN_THANH, &[]).await;
    assert_eq!(refused(&op, &b, end, "người đại diện theo pháp luật").await, "access_denied");
    // A dissolved enterprise: the e-ID refuses it, and the service hears access_denied.
    let b = Browser::new();
    let end = login(&op, &b, "both", HONG_HA, &[]).await;
    assert_eq!(refused(&op, &b, end, "VNeID").await, "access_denied");
    op.stop().await;
}
on_both_backends!(representative, super::representative_and_dissolution);

async fn organisation_consent_and_withdrawal(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    register(&op).await;
    let b = Browser::new();
    // The organisation's data needs a recorded consent: the journey passes the consent page.
    let (_, access) = tokens(&op, "org", &login(&op, &b, "org", SONG_HONG, &[]).await.code()).await;
    let r = b.http.get(auth_url(&op, "org", &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("code="), "consent recorded");
    // The account page shows the enterprise, who logged in for it, its consent and session.
    let page = b.http.get(op.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Công ty TNHH Phần mềm Sông Hồng"), "{page}");
    assert!(page.contains("id=\"acting\"") && page.contains("Trần Thị Bích Ngọc"), "{page}");
    assert!(page.contains("organisation") && page.contains("Một cửa thử nghiệm"), "{page}");
    assert_eq!(page.matches("name=\"sid\"").count(), 1, "one session: {page}");
    let consent = page.split("name=\"id\" value=\"").nth(1).expect("a consent row").split('"').next().unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let r =
        b.http.post(op.url("/account/consents/revoke")).form(&[("id", consent), ("csrf", csrf)]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = b.http.get(auth_url(&op, "org", &[("prompt", "none")])).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().contains("error=consent_required"));
    assert_eq!(userinfo(&op, &access).await.status(), 401, "withdrawal revokes live tokens");
    // Refusing consent gives the service access_denied.
    let eid = EidLogin::Form { login: SONG_HONG.0, passcode: SONG_HONG.1 };
    let end = Browser::new().journey(&auth_url(&op, "org", &[]), &rp("org").redirect, eid, ConsentChoice::Deny).await;
    assert_eq!(end.params().get("error").map(String::as_str), Some("access_denied"));
    op.stop().await;
}
on_both_backends!(consent, super::organisation_consent_and_withdrawal);
