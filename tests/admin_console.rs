//! The admin console over real HTTP on both backends: an administrator logs in through the
//! provider (password + TOTP, as the console's own relying-party login demands), then searches,
//! creates, acts in bulk and reads the audit log; a unit administrator is held to their subtree
//! on every page and form; forms without the session's token change nothing; log-out ends the
//! provider session too.

mod support;

use support::browser::Browser;
use support::ca;
use support::officers::{
    self, PASSWORD, at_issuer as at, code, console_log_in as log_in, hidden, location, post_at_issuer as post,
};
use support::op::{Backend, TestOp};
use xacthuc::officers::directory::AdminRole;
use xacthuc::officers::{NewOfficer, NewUnit, OfficerStatus, UnitKind};

/// The province ("31") with communes x1 (from the officer helpers) and x2; a super
/// administrator and a unit administrator of x1, both with TOTP; one plain officer in x2.
struct World {
    op: TestOp,
    sa_secret: Vec<u8>,
    ua_secret: Vec<u8>,
    in_x2: String,
}

async fn world(backend: Backend) -> Option<World> {
    let op = officers::start(backend).await?;
    let db = &op.state.db;
    let x2 = NewUnit {
        code: "31.x2".into(),
        name: "Xã Hòa Bình".into(),
        kind: UnitKind::Commune,
        parent_code: Some("31".into()),
    };
    db.create_unit(&x2, 1).await.unwrap();
    let (sa, sa_secret) = officers::officer(&op, "sa.tinh", true).await;
    let (ua, ua_secret) = officers::officer(&op, "qt.x1", true).await;
    let root = db.unit_by_code("31").await.unwrap().unwrap();
    let x1 = db.unit_by_code("31.x1").await.unwrap().unwrap();
    db.grant_admin(&sa.id, AdminRole::SuperAdmin, &root.id).await.unwrap();
    db.grant_admin(&ua.id, AdminRole::UnitAdmin, &x1.id).await.unwrap();
    let other = NewOfficer {
        username: "cb.x2".into(),
        full_name: "Lê Văn Ba".into(),
        unit_code: "31.x2".into(),
        ..Default::default()
    };
    let in_x2 = db.create_officer(&other, 1).await.unwrap().id;
    Some(World { op, sa_secret: sa_secret.unwrap(), ua_secret: ua_secret.unwrap(), in_x2 })
}

async fn officer_status(op: &TestOp, username: &str) -> OfficerStatus {
    op.state.db.officer_by_username(username).await.unwrap().unwrap().status
}

async fn a_super_administrator_works_through_the_console(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let b = Browser::new();
    let page = log_in(op, &b, "/admin/officers", "sa.tinh", &w.sa_secret).await;
    assert!(page.contains("lang=\"vi\"") && page.contains("cb.x2") && page.contains("qt.x1"), "{page}");
    let csrf = hidden(&page, "csrf");

    // Create: a bad personal ID comes back with the form filled in and nothing created.
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("username", "cb.moi"),
        ("full_name", "Phạm Thị Mới"),
        ("unit_code", "31.x2"),
        ("position", "Công chức"),
        ("personal_id", "12345"),
    ];
    let r = post(op, &b, "/admin/officers/new", &form).await;
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"problem\"") && body.contains("value=\"Phạm Thị Mới\""), "{body}");
    assert!(op.state.db.officer_by_username("cb.moi").await.unwrap().is_none());
    form.retain(|(k, _)| *k != "personal_id");
    let r = post(op, &b, "/admin/officers/new", &form).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("{}/officer/setup?token=", at(op, ""))), "a one-time set-up link: {body}");
    assert!(op.state.db.officer_by_username("cb.moi").await.unwrap().is_some());

    // Search and filter.
    let found = b.http.get(at(op, "/admin/officers?unit=31.x2&q=cb.m")).send().await.unwrap().text().await.unwrap();
    assert!(found.contains("cb.moi") && !found.contains("cb.x2") && !found.contains("qt.x1"), "{found}");

    // Bulk: suspend both officers of x2; a form without the token, or from another site, changes nothing.
    let moi = op.state.db.officer_by_username("cb.moi").await.unwrap().unwrap().id;
    let bulk = [("csrf", csrf.as_str()), ("action", "suspend"), ("id", moi.as_str()), ("id", w.in_x2.as_str())];
    let forged = [("csrf", "nope"), ("action", "suspend"), ("id", moi.as_str())];
    assert_eq!(post(op, &b, "/admin/officers/bulk", &forged).await.status(), 403);
    let cross = b.http.post(at(op, "/admin/officers/bulk")).header("sec-fetch-site", "cross-site").form(&bulk);
    assert_eq!(cross.send().await.unwrap().status(), 403);
    assert_eq!(officer_status(op, "cb.moi").await, OfficerStatus::Active);
    let r = post(op, &b, "/admin/officers/bulk", &bulk).await;
    assert_eq!(r.status(), 200);
    assert_eq!(officer_status(op, "cb.moi").await, OfficerStatus::Suspended);
    assert_eq!(officer_status(op, "cb.x2").await, OfficerStatus::Suspended);

    // The audit log shows what was done, by whom.
    let log = b.http.get(at(op, "/admin/audit?action=admin.officer")).send().await.unwrap().text().await.unwrap();
    assert!(log.contains("admin.officer.created") && log.contains("admin.officer.status"), "{log}");
    // By officer: their own logins (recorded about the account) are found too.
    let own = b.http.get(at(op, "/admin/audit?officer=sa.tinh")).send().await.unwrap().text().await.unwrap();
    assert!(own.contains("login.succeeded"), "{own}");

    // CSV import: a bad row reports its row number and nothing is applied; the good file
    // creates, with a set-up link; the same file again changes nothing.
    let header = "username,full_name,personal_id,email,phone,unit_code,position,roles\n";
    let bad = format!("{header}cb.csv1,Nguyễn Một,,,,31.x2,,\ncb.csv2,,,,,31.x2,,\n");
    let form = |csv: &str| {
        vec![("csrf".to_owned(), csrf.clone()), ("unit_code".into(), "31".into()), ("csv".into(), csv.to_owned())]
    };
    let r = b.http.post(at(op, "/admin/officers/import")).form(&form(&bad)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"problems\"") && body.contains("3"), "row 3 is named: {body}");
    assert!(op.state.db.officer_by_username("cb.csv1").await.unwrap().is_none(), "nothing applied");
    let good = format!("{header}cb.csv1,Nguyễn Một,,,,31.x2,,eoffice:van_thu\n");
    let body =
        b.http.post(at(op, "/admin/officers/import")).form(&form(&good)).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("/officer/setup?token="), "{body}");
    let again =
        b.http.post(at(op, "/admin/officers/import")).form(&form(&good)).send().await.unwrap().text().await.unwrap();
    assert!(!again.contains("/officer/setup?token=") && !again.contains("id=\"problems\""), "{again}");

    // Roles per relying party and a unit administrator grant, from the officer's page.
    let roles = format!("/admin/officers/{moi}/roles");
    post(op, &b, &roles, &[("csrf", &csrf), ("client_id", "eoffice"), ("roles", "van_thu, lanh_dao")]).await;
    assert_eq!(op.state.db.officer_roles(&moi, "eoffice").await.unwrap(), ["lanh_dao", "van_thu"]);
    post(op, &b, &format!("/admin/officers/{moi}/grants"), &[("csrf", &csrf), ("unit_code", "31.x2")]).await;
    let grants = op.state.db.admin_grants(&moi).await.unwrap();
    assert_eq!((grants[0].0, grants[0].1.code.as_str()), (AdminRole::UnitAdmin, "31.x2"));
    let detail = b.http.get(at(op, &format!("/admin/officers/{moi}"))).send().await.unwrap().text().await.unwrap();
    assert!(detail.contains("lanh_dao, van_thu") && detail.contains("unit_admin"), "{detail}");

    // English on request, kept by the links.
    let en = b.http.get(at(op, "/admin/units?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(en.contains("lang=\"en\"") && en.contains("Merge units") && en.contains("31.x2"), "{en}");
    assert!(en.contains("href=\"/admin/officers?lang=en\""), "{en}");

    // Log-out ends the console session and the provider's: the next page needs a new login.
    let r = post(op, &b, "/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 200);
    let r = b.http.get(at(op, "/admin/officers")).send().await.unwrap();
    let r = b.http.get(location(&r)).send().await.unwrap();
    assert!(location(&r).starts_with("/login?tx="), "a fresh login: {}", location(&r));
    w.op.stop().await;
}
on_both_backends!(super_admin, super::a_super_administrator_works_through_the_console);

async fn a_unit_administrator_stays_in_their_subtree(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let b = Browser::new();
    let page = log_in(op, &b, "/admin/officers", "qt.x1", &w.ua_secret).await;
    assert!(page.contains("qt.x1") && !page.contains("cb.x2"), "only x1's officers: {page}");
    assert!(!page.contains("/admin/clients"), "no clients link for a unit administrator");
    let csrf = hidden(&page, "csrf");
    for path in ["/admin/officers?unit=31.x2", "/admin/clients"] {
        assert_eq!(b.http.get(at(op, path)).send().await.unwrap().status(), 403, "{path}");
    }
    assert_eq!(b.http.get(at(op, &format!("/admin/officers/{}", w.in_x2))).send().await.unwrap().status(), 403);
    let status = format!("/admin/officers/{}/status", w.in_x2);
    assert_eq!(post(op, &b, &status, &[("csrf", &csrf), ("status", "disabled")]).await.status(), 403);
    let bulk = [("csrf", csrf.as_str()), ("action", "disable"), ("id", w.in_x2.as_str())];
    let r = post(op, &b, "/admin/officers/bulk", &bulk).await;
    assert!(r.text().await.unwrap().contains("id=\"problems\""), "the row outside is refused");
    assert_eq!(officer_status(op, "cb.x2").await, OfficerStatus::Active);
    let new = [("csrf", csrf.as_str()), ("username", "cb.lac"), ("full_name", "Lạc"), ("unit_code", "31.x2")];
    assert_eq!(post(op, &b, "/admin/officers/new", &new).await.status(), 403);
    let merge = [("csrf", csrf.as_str()), ("from", "31.x2"), ("into", "31.x1")];
    assert_eq!(post(op, &b, "/admin/units/merge", &merge).await.status(), 403);
    let units = b.http.get(at(op, "/admin/units")).send().await.unwrap().text().await.unwrap();
    assert!(units.contains("31.x1") && !units.contains("31.x2"), "{units}");
    assert_eq!(b.http.get(at(op, "/admin/audit?unit=31.x2")).send().await.unwrap().status(), 403);
    w.op.stop().await;
}
on_both_backends!(unit_admin, super::a_unit_administrator_stays_in_their_subtree);

/// A plain officer completes the login but gets no console.
async fn an_officer_without_a_grant_gets_no_console(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let (_, secret) = officers::officer(op, "cb.thuong", true).await;
    let b = Browser::new();
    let r = b.http.get(at(op, "/admin/officers")).send().await.unwrap();
    let r = b.http.get(location(&r)).send().await.unwrap();
    let page = b.http.get(at(op, &location(&r))).send().await.unwrap().text().await.unwrap();
    let tx = hidden(&page, "tx");
    post(op, &b, "/login/officer", &[("tx", &tx)]).await;
    let form = [("tx", tx.as_str()), ("username", "cb.thuong"), ("password", PASSWORD)];
    post(op, &b, "/login/officer/password", &form).await;
    let r = post(op, &b, "/login/officer/otp", &[("tx", &tx), ("code", &code(&secret.unwrap()))]).await;
    let r = b.http.get(location(&r)).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = b.http.get(at(op, "/admin/officers")).send().await.unwrap();
    assert!(location(&r).starts_with(&at(op, "/authorize?")), "still no console session");
    w.op.stop().await;
}
on_both_backends!(no_grant, super::an_officer_without_a_grant_gets_no_console);

/// Certificates in the console: a certificate pasted as PEM is validated and bound to the
/// officer its UID names, listed among those expiring in their unit, and revoked at the CA;
/// a unit administrator cannot register one for an officer outside their subtree.
async fn certificates_through_the_console(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let (x1_pid, x2_pid) = ("001085000701", "001085000702");
    for (username, unit, pid) in [("cb.ky", "31.x1", x1_pid), ("cb.x2.ky", "31.x2", x2_pid)] {
        let o = NewOfficer {
            username: username.into(),
            full_name: "Đỗ Thị Ký".into(),
            personal_id: Some(pid.into()),
            unit_code: unit.into(),
            ..Default::default()
        };
        op.state.db.create_officer(&o, 1).await.unwrap();
    }
    let issue = |pid: &'static str| {
        let body = serde_json::json!({ "name": "Đỗ Thị Ký", "personal_id": pid, "unit": "Xã An Lư",
            "province": "Thành phố Hải Phòng", "validity_days": 20 });
        ca::issue_with(ca::ca(op), body)
    };
    let (mine, theirs) = (issue(x1_pid).await, issue(x2_pid).await);

    // A unit administrator of x1: the x2 officer's certificate is refused, nothing stored.
    let ua = Browser::new();
    let page = log_in(op, &ua, "/admin/certificates", "qt.x1", &w.ua_secret).await;
    let csrf = hidden(&page, "csrf");
    let r = post(op, &ua, "/admin/certificates/register", &[("csrf", &csrf), ("certificate", &theirs.cert_pem)]).await;
    assert_eq!(r.status(), 403);
    let thumb = |i: &ca::Issued| xacthuc::certs::parse_certificate(i.cert_pem.as_bytes()).unwrap().thumbprint;
    assert!(op.state.db.certificate_by_thumbprint(&thumb(&theirs)).await.unwrap().is_none());
    // Within their subtree: registered, and listed as expiring in x1.
    let r = post(op, &ua, "/admin/certificates/register", &[("csrf", &csrf), ("certificate", &mine.cert_pem)]).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(&thumb(&mine)), "the thumbprint is shown");
    let stored = op.state.db.certificate_by_thumbprint(&thumb(&mine)).await.unwrap().expect("registered");
    let list = ua.http.get(at(op, "/admin/certificates?within=30")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&stored.serial) && list.contains("31.x1"), "{list}");
    let none = ua.http.get(at(op, "/admin/certificates?within=5")).send().await.unwrap().text().await.unwrap();
    assert!(!none.contains(&stored.serial), "not within 5 days");
    // An expired certificate is refused with the named check.
    let expired = ca::issue(ca::ca(op), x1_pid, "expired").await;
    let r = post(op, &ua, "/admin/certificates/register", &[("csrf", &csrf), ("certificate", &expired.cert_pem)]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("expired"));

    // The super administrator revokes it from the officer's list.
    let sa = Browser::new();
    let page = log_in(op, &sa, "/admin/certificates?officer=cb.ky", "sa.tinh", &w.sa_secret).await;
    assert!(page.contains(&stored.serial) && page.contains("name=\"reason\""), "{page}");
    let csrf = hidden(&page, "csrf");
    let revoke = format!("/admin/certificates/{}/revoke", stored.id);
    let r = post(op, &sa, &revoke, &[("csrf", "forged"), ("reason", "keyCompromise")]).await;
    assert_eq!(r.status(), 403, "a forged form does nothing");
    let r = post(op, &sa, &revoke, &[("csrf", &csrf), ("reason", "keyCompromise")]).await;
    assert_eq!(r.status(), 200);
    let after = op.state.db.certificate(&stored.id).await.unwrap().unwrap();
    assert_eq!((after.status.as_str(), after.status_reason.as_deref()), ("revoked", Some("keyCompromise")));
    w.op.stop().await;
}
on_both_backends!(certificates, super::certificates_through_the_console);
