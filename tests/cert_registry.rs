//! The certificate registry end to end against the mock Government CA, over the admin API on
//! both backends: registration (valid, and refused with each failure named), CSR issuance,
//! renewal, revocation (seen by the validator after a CRL refresh), the expiry report, unit
//! scoping, and the bulk "information changed" re-issue after a unit merge, interrupted and
//! resumed with nothing done twice.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::ca;
use support::op::{Backend, TestOp, http};
use support::registry::{PROVINCE, UNIT_A, UNIT_B, call, issued, officer, pid, read, world};
use xacthuc::certs::Who;
use xacthuc::certs::ca_client::{CaClient, Subject};

async fn upload(op: &TestOp, token: &str, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let r = http()
        .post(op.url(&format!("/admin/api{path}")))
        .bearer_auth(token)
        .header("content-type", "application/x-pem-file")
        .body(body)
        .send()
        .await
        .unwrap();
    read(r).await
}

fn codes(v: &Value) -> Vec<String> {
    v["failures"]
        .as_array()
        .map(|f| f.iter().map(|x| x["code"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

async fn registry_lifecycle(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let o1 = officer(op, "can.bo.1", 1, "31.a").await;
    let o2 = officer(op, "can.bo.2", 2, "31.b").await;

    // Valid: bound to the officer whose CCCD it carries, whatever path uploads it.
    let c1 = issued(op, 1, UNIT_A, json!({})).await;
    let (s, v) = upload(op, &w.all, "/certificates", format!("{}{}", c1.cert_pem, c1.chain_pem)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["officer_id"], o1.as_str());
    assert_eq!(v["serial"], c1.serial.as_str());
    assert_eq!(v["status"], "active");
    let c1_id = v["id"].as_str().unwrap().to_owned();
    let (s, v) = upload(op, &w.all, "/certificates", c1.cert_pem.clone()).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("already_registered")), "{v}");

    // DER is accepted too; a certificate of someone else for this officer names the failure.
    let other = issued(op, 2, UNIT_B, json!({})).await;
    let der = pem::parse(&other.cert_pem).unwrap().into_contents();
    let (s, v) = upload(op, &w.all, &format!("/officers/{o1}/certificates"), der.clone()).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("certificate_invalid")), "{v}");
    assert_eq!(codes(&v), ["personal_id"], "{v}");
    for (variant, code) in [("expired", "expired"), ("unknown_ca", "unknown_issuer")] {
        let bad = issued(op, 1, UNIT_A, json!({ "variant": variant })).await;
        let (s, v) = upload(op, &w.all, &format!("/officers/{o1}/certificates"), bad.cert_pem).await;
        assert_eq!((s, codes(&v)), (422, vec![code.to_owned()]), "{variant}: {v}");
        assert!(v["failures"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    let nobody = issued(op, 999, UNIT_A, json!({})).await;
    let (s, v) = upload(op, &w.all, "/certificates", nobody.cert_pem).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("unknown_officer")), "{v}");
    let (s, v) =
        upload(op, &w.all, "/certificates", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid_certificate")), "{v}");

    // A unit administrator of B neither registers nor sees A's officers' certificates.
    let again = issued(op, 1, UNIT_A, json!({})).await;
    let (s, _) = upload(op, &w.only_b, "/certificates", again.cert_pem.clone()).await;
    assert_eq!(s, 403);
    let (s, _) = call(op, &w.only_b, Method::GET, &format!("/officers/{o1}/certificates"), None).await;
    assert_eq!(s, 403);
    let (s, v) = upload(op, &w.only_b, &format!("/officers/{o2}/certificates"), der).await;
    assert_eq!(s, 201, "inside B: {v}");

    // CSR issuance: the officer's own key, the subject from the registry.
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap();
    let body = json!({ "officer_id": o1, "csr_pem": csr.pem().unwrap() });
    let (s, v) = call(op, &w.all, Method::POST, "/certificates/request", Some(body)).await;
    assert_eq!(s, 201, "{v}");
    let subject = v["subject"].as_str().unwrap();
    assert!(subject.contains(&format!("CCCD:{}", pid(1))) && subject.contains(UNIT_A), "{subject}");
    let issued_cert = xacthuc::certs::parse_certificate(v["pem"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(issued_cert.organisation.as_deref(), Some(UNIT_A));
    let mut tampered = csr.der().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let tampered = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", tampered));
    let body = json!({ "officer_id": o1, "csr_pem": tampered });
    let (s, v) = call(op, &w.all, Method::POST, "/certificates/request", Some(body)).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid_csr")), "{v}");

    // Renewal for the same key: at most 3 years; the old one retired pointing at the new.
    let (s, v) = call(op, &w.all, Method::POST, &format!("/certificates/{c1_id}/renew"), Some(json!({}))).await;
    assert_eq!(s, 201, "{v}");
    let renewed = v["id"].as_str().unwrap().to_owned();
    assert!(v["not_after"].as_i64().unwrap() - xacthuc::clock::unix_now() <= (3 * 365 + 1) * 86_400, "{v}");
    let (_, list) = call(op, &w.all, Method::GET, &format!("/officers/{o1}/certificates"), None).await;
    let old = list.as_array().unwrap().iter().find(|c| c["id"] == c1_id.as_str()).unwrap();
    assert_eq!((old["status"].as_str(), old["replaced_by"].as_str()), (Some("retired"), Some(renewed.as_str())));
    assert_eq!(old["status_reason"], "renewed");
    let (s, _) = call(op, &w.all, Method::POST, &format!("/certificates/{c1_id}/renew"), Some(json!({}))).await;
    assert_eq!(s, 409, "a retired certificate is not renewed");

    // Revocation at the CA and in the registry; the validator sees it once the CRL is fetched.
    let path = format!("/certificates/{renewed}/revoke");
    let (s, v) = call(op, &w.all, Method::POST, &path, Some(json!({ "reason": "bogus" }))).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = call(op, &w.all, Method::POST, &path, Some(json!({ "reason": "keyCompromise" }))).await;
    assert_eq!((s, v["status"].as_str(), v["status_reason"].as_str()), (200, Some("revoked"), Some("keyCompromise")));
    let now = xacthuc::clock::unix_now();
    op.state.certs.crl().refresh_all(now).await;
    let info = xacthuc::certs::parse_certificate(v["pem"].as_str().unwrap().as_bytes()).unwrap();
    let check = op.state.certs.validate(&info, &[], now, Some(&pid(1))).await;
    assert_eq!(check.codes(), ["revoked"], "{check:?}");

    // The expiry report, by unit, scoped.
    let short = issued(op, 3, UNIT_B, json!({ "validity_days": 10 })).await;
    let o3 = officer(op, "can.bo.3", 3, "31.b").await;
    let (s, _) = upload(op, &w.all, "/certificates", short.cert_pem).await;
    assert_eq!(s, 201);
    let (s, v) = call(op, &w.all, Method::GET, "/certificates/expiring?within_days=30", None).await;
    assert_eq!(s, 200, "{v}");
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1, "only the 10-day certificate: {v}");
    assert_eq!((rows[0]["officer_username"].as_str(), rows[0]["unit_code"].as_str()), (Some("can.bo.3"), Some("31.b")));
    assert_eq!(rows[0]["certificate"]["officer_id"], o3.as_str());
    let (_, v) = call(op, &w.all, Method::GET, "/certificates/expiring?within_days=3000", None).await;
    assert!(v.as_array().unwrap().len() >= 3, "{v}");
    let (_, v) = call(op, &w.only_b, Method::GET, "/certificates/expiring?within_days=3000", None).await;
    assert!(v.as_array().unwrap().iter().all(|r| r["unit_code"] == "31.b"), "{v}");
    let (s, _) = call(op, &w.only_b, Method::GET, &format!("/certificates/expiring?unit={}", w.a), None).await;
    assert_eq!(s, 403);

    // The audit log has each operation.
    for action in ["cert.registered", "cert.requested", "cert.renewed", "cert.revoked"] {
        let (s, v) = call(op, &w.all, Method::GET, &format!("/audit?action={action}"), None).await;
        assert_eq!(s, 200, "{v}");
        assert!(v["items"].as_array().is_some_and(|a| !a.is_empty()), "{action}: {v}");
    }
    w.op.stop().await;
}

/// How many certificates the CA re-issued from `serial`.
async fn reissues_of(op: &TestOp, serial: &str) -> usize {
    let all: Value =
        http().get(format!("http://{}/api/certificates", ca::ca(op))).send().await.unwrap().json().await.unwrap();
    all.as_array().unwrap().iter().filter(|c| c["reissue_of"] == serial).count()
}

async fn bulk_after_merge(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    // Two officers of A (certificates naming A), five of B (naming B).
    let mut serials = Vec::new();
    for n in 1..=7u32 {
        let (code, name) = if n <= 2 { ("31.a", UNIT_A) } else { ("31.b", UNIT_B) };
        officer(op, &format!("can.bo.{n}"), n, code).await;
        let c = issued(op, n, name, json!({})).await;
        let (s, v) = upload(op, &w.all, "/certificates", c.cert_pem.clone()).await;
        assert_eq!(s, 201, "{v}");
        serials.push(c.serial);
    }
    // The reform: B merged into A (the existing unit operation).
    let (s, v) = call(op, &w.all, Method::POST, &format!("/units/{}/merge", w.a), Some(json!({ "from": [w.b] }))).await;
    assert_eq!(s, 200, "{v}");

    let reg = &op.state.registry;
    let job = reg.start_reissue(Who::Operator, &w.a).await.unwrap();
    assert_eq!((job.total, job.pending), (5, 5), "only B's former officers: {job:?}");
    // Interrupted after two items.
    let seen = std::sync::Mutex::new(Vec::new());
    let p = reg.run_reissue(&job.id, Some(2), &|done, total| seen.lock().unwrap().push((done, total))).await.unwrap();
    assert_eq!((p.done, p.pending, p.status.as_str()), (2, 3, "running"), "{p:?}");
    assert_eq!(*seen.lock().unwrap(), [(1, 2), (2, 2)]);
    // A crash between the CA's answer and our write: the CA issued for a pending item, the
    // registry never heard of it.
    let pool = op.state.db.pool();
    let row = sqlx::query("SELECT c.serial, i.request_id FROM cert_job_items i JOIN officer_certificates c ON c.id = i.cert_id WHERE i.job_id = $1 AND i.state = 'pending' ORDER BY i.cert_id LIMIT 1")
        .bind(&job.id)
        .fetch_one(pool)
        .await
        .unwrap();
    let (serial, request_id): (String, String) = (sqlx::Row::get(&row, 0), sqlx::Row::get(&row, 1));
    let ca_client = CaClient::new(&format!("http://{}", ca::ca(op)), std::time::Duration::from_secs(10)).unwrap();
    let subject = Subject { name: "x".into(), unit: UNIT_A.into(), department: None, province: PROVINCE.into() };
    ca_client.reissue(&serial, &subject, &request_id).await.unwrap();
    // Resumed through the API: it finishes, nothing twice.
    let (s, v) = call(op, &w.all, Method::POST, &format!("/certificate-jobs/{}/resume", job.id), None).await;
    assert_eq!(s, 202, "{v}");
    let mut v = Value::Null;
    for _ in 0..100 {
        (_, v) = call(op, &w.all, Method::GET, &format!("/certificate-jobs/{}", job.id), None).await;
        if v["status"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (v["status"].as_str(), v["done"].as_u64(), v["failed"].as_u64()),
        (Some("done"), Some(5), Some(0)),
        "{v}"
    );
    for (i, serial) in serials.iter().enumerate() {
        assert_eq!(reissues_of(op, serial).await, usize::from(i >= 2), "certificate {i} re-issued once, A's never");
    }
    // Every former officer of B now holds one active certificate naming A, for the same key;
    // the old one retired pointing at it.
    for n in 3..=7u32 {
        let id = op.state.db.officer_id_by_personal_id(&pid(n)).await.unwrap().unwrap();
        let certs = op.state.db.certificates_of(&id).await.unwrap();
        let active: Vec<_> = certs.iter().filter(|c| c.status.as_str() == "active").collect();
        assert_eq!(active.len(), 1, "{certs:?}");
        let new = xacthuc::certs::parse_certificate(active[0].pem.as_bytes()).unwrap();
        assert_eq!(new.organisation.as_deref(), Some(UNIT_A));
        let old = certs.iter().find(|c| c.status.as_str() == "retired").unwrap();
        assert_eq!(
            (old.replaced_by.as_deref(), old.status_reason.as_deref()),
            (Some(active[0].id.as_str()), Some("reissued"))
        );
        let old_info = xacthuc::certs::parse_certificate(old.pem.as_bytes()).unwrap();
        assert_eq!(spki(&old_info.der), spki(&new.der), "the same key");
    }
    // Starting again finds nothing left to do.
    let (s, v) = call(op, &w.all, Method::POST, "/certificates/reissue", Some(json!({ "unit_id": w.a }))).await;
    assert_eq!((s, v["total"].as_u64()), (202, Some(0)), "{v}");
    // A unit administrator of B (now merged away) cannot start one for A.
    let (s, _) = call(op, &w.only_b, Method::POST, "/certificates/reissue", Some(json!({ "unit_id": w.a }))).await;
    assert_eq!(s, 403);
    w.op.stop().await;
}

/// The SubjectPublicKeyInfo bytes of a DER certificate.
fn spki(der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let (_, c) = x509_parser::certificate::X509Certificate::from_der(der).unwrap();
    c.public_key().raw.to_vec()
}

#[tokio::test]
async fn registry_lifecycle_embedded() {
    registry_lifecycle(Backend::Embedded).await;
}

#[tokio::test]
async fn registry_lifecycle_real() {
    registry_lifecycle(Backend::Real).await;
}

#[tokio::test]
async fn bulk_change_after_merge_embedded() {
    bulk_after_merge(Backend::Embedded).await;
}

#[tokio::test]
async fn bulk_change_after_merge_real() {
    bulk_after_merge(Backend::Real).await;
}

/// Runs the CLI against the test provider's database and CA (a config file naming them);
/// asynchronously, since the CA answers from this test's runtime.
async fn cli(op: &TestOp, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = op.config.data_dir.parent().unwrap().to_owned();
    let file = dir.join("certs-cli.toml");
    let list = |v: &[std::path::PathBuf]| {
        v.iter().map(|p| format!("{:?}", p.display().to_string())).collect::<Vec<_>>().join(", ")
    };
    let toml = format!(
        "cert_ca_url = {:?}\ncert_trust_anchors = [{}]\ncert_intermediates = [{}]\n",
        op.config.cert_ca_url.clone().unwrap(),
        list(&op.config.cert_trust_anchors),
        list(&op.config.cert_intermediates),
    );
    std::fs::write(&file, toml).unwrap();
    let url = secrecy::ExposeSecret::expose_secret(op.config.database_url.as_ref().unwrap()).to_owned();
    let out = tokio::process::Command::new(support::xacthuc_bin())
        .arg("--config")
        .arg(&file)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("XACTHUC_ISSUER", "https://id.haiphong.gov.vn")
        .output()
        .await
        .expect("run xacthuc");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn cli_expiring_and_reissue(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    let mut serials = Vec::new();
    for n in 1..=4u32 {
        let (code, name) = if n == 1 { ("31.a", UNIT_A) } else { ("31.b", UNIT_B) };
        officer(op, &format!("can.bo.{n}"), n, code).await;
        let extra = if n == 2 { json!({ "validity_days": 10 }) } else { json!({}) };
        let c = issued(op, n, name, extra).await;
        let (s, v) = upload(op, &w.all, "/certificates", c.cert_pem.clone()).await;
        assert_eq!(s, 201, "{v}");
        serials.push(c.serial);
    }
    let (code, out, err) = cli(op, &["certs", "expiring", "--within", "30d"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("31.b {UNIT_B}")) && out.contains("can.bo.2"), "{out}");
    assert!(!out.contains("can.bo.3") && out.contains("1 certificate(s) expiring within 30 days"), "{out}");
    let (code, out, _) = cli(op, &["certs", "expiring", "--within", "3000d", "--unit", "31.a", "--json"]).await;
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 1, "only A's: {out}");
    let (code, _, err) = cli(op, &["certs", "expiring", "--within", "soon"]).await;
    assert_eq!(code, Some(2), "{err}");
    let (code, out, _) = cli(op, &["certs", "reissue", "--help"]).await;
    assert!(code == Some(0) && out.contains("--resume") && out.contains("not done twice"), "{out}");

    let (s, v) = call(op, &w.all, Method::POST, &format!("/units/{}/merge", w.a), Some(json!({ "from": [w.b] }))).await;
    assert_eq!(s, 200, "{v}");
    // A trial of one, then the rest resumed.
    let (code, out, err) = cli(op, &["certs", "reissue", "--unit", "31.a", "--max", "1"]).await;
    assert_eq!(code, Some(1), "pending items remain: {out}{err}");
    assert!(out.contains("3 certificate(s) to re-issue") && out.contains("1 done, 2 pending"), "{out}");
    let job = out.split_whitespace().nth(1).unwrap().trim_end_matches(':').to_owned();
    let (code, out, err) = cli(op, &["certs", "reissue", "--resume", &job]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("3 done, 0 pending, 0 failed"), "{out}");
    assert!(err.contains("applied 2/2 certificates"), "plain progress off a terminal: {err}");
    for (i, serial) in serials.iter().enumerate() {
        assert_eq!(reissues_of(op, serial).await, usize::from(i >= 1), "certificate {i}");
    }
    let (code, out, _) = cli(op, &["certs", "reissue", "--unit", "31.a"]).await;
    assert_eq!(code, Some(0));
    assert!(out.contains("0 certificate(s) to re-issue"), "{out}");
    w.op.stop().await;
}

#[tokio::test]
async fn cli_expiring_and_reissue_embedded() {
    cli_expiring_and_reissue(Backend::Embedded).await;
}

#[tokio::test]
async fn cli_expiring_and_reissue_real() {
    cli_expiring_and_reissue(Backend::Real).await;
}

/// Records the notices it is given.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(String, usize)>>);

impl xacthuc::certs::expiry::Notifier for Recorder {
    fn notify<'a>(&'a self, n: &'a xacthuc::certs::expiry::ExpiryNotice) -> futures::future::BoxFuture<'a, ()> {
        self.0.lock().unwrap().push((n.unit_code.clone(), n.certificates.len()));
        Box::pin(std::future::ready(()))
    }
}

async fn expiry_notices(backend: Backend) {
    let Some(w) = world(backend).await else { return };
    let op = &w.op;
    for (n, code, unit, days) in
        [(1, "31.a", UNIT_A, 5), (2, "31.b", UNIT_B, 20), (3, "31.b", UNIT_B, 25), (4, "31.b", UNIT_B, 400)]
    {
        officer(op, &format!("can.bo.{n}"), n, code).await;
        let c = issued(op, n, unit, json!({ "validity_days": days })).await;
        op.state.registry.register(Who::Operator, None, c.cert_pem.as_bytes()).await.unwrap();
    }
    let rec = Recorder::default();
    let units = xacthuc::certs::expiry::check(&op.state.registry, 30, &rec).await.unwrap();
    assert_eq!(units, 2);
    let mut got = rec.0.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, [("31.a".to_owned(), 1), ("31.b".to_owned(), 2)], "per unit, only within 30 days");
    let rec = Recorder::default();
    assert_eq!(xacthuc::certs::expiry::check(&op.state.registry, 1, &rec).await.unwrap(), 0);
    assert!(rec.0.lock().unwrap().is_empty(), "nobody bothered when nothing expires");
    w.op.stop().await;
}

#[tokio::test]
async fn expiry_notices_embedded() {
    expiry_notices(Backend::Embedded).await;
}

#[tokio::test]
async fn expiry_notices_real() {
    expiry_notices(Backend::Real).await;
}
