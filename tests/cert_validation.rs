//! Validation of officers' certificates against the mock Government CA, over real HTTP (the
//! CRL is fetched from the CA's distribution point) and on both backends (the CRL cache lives
//! in the KV store): every outcome the validator can give, each named.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use support::ca::{self, Issued};
use support::op::{Backend, TestOp};
use xacthuc::certs::crl::CrlCache;
use xacthuc::certs::{
    CertInfo, Failure, Revocation, TrustStore, UnknownPolicy, Validation, Validator, parse_certificate,
    parse_certificates,
};
use xacthuc::clock::unix_now;

const PID: &str = "001085012345";
const OTHER_PID: &str = "036190000123";

fn cert(i: &Issued) -> CertInfo {
    parse_certificate(i.cert_pem.as_bytes()).expect("the CA's certificate parses")
}

async fn check(op: &TestOp, i: &Issued) -> Validation {
    op.state.certs.validate(&cert(i), &[], unix_now(), Some(PID)).await
}

async fn outcomes(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let ca = ca::ca(&op);

    // Valid: the chain is completed from the pool (the CA's issuing certificate), the CRL
    // fetched over HTTP says good.
    let good = ca::issue(ca, PID, "normal").await;
    let info = cert(&good);
    assert_eq!(info.personal_id.as_deref(), Some(PID));
    assert_eq!(info.common_name.as_deref(), Some("Trần Thị Bình"));
    let v = check(&op, &good).await;
    assert!(v.is_valid(), "{v:?}");
    assert_eq!(v.chain.len(), 3, "leaf, issuing CA, root: {v:?}");
    assert!(matches!(v.revocation, Revocation::Good { crl_next_update } if crl_next_update > unix_now()), "{v:?}");

    // Each broken variant fails exactly its own check.
    for (variant, code) in [
        ("expired", "expired"),
        ("not_yet_valid", "not_yet_valid"),
        ("unknown_ca", "unknown_issuer"),
        ("wrong_key_usage", "key_usage"),
    ] {
        let v = check(&op, &ca::issue(ca, PID, variant).await).await;
        assert_eq!(v.codes(), vec![code], "{variant}: {v:?}");
    }
    let v = check(&op, &ca::issue(ca, PID, "unknown_ca").await).await;
    assert_eq!(v.revocation, Revocation::NotChecked, "no CRL is trusted without a chain");
    // The same expired certificate is fine at a time inside its validity.
    let expired = cert(&ca::issue(ca, PID, "expired").await);
    let v = op.state.certs.validate(&expired, &[], expired.not_before + 60, Some(PID)).await;
    assert!(!v.codes().contains(&"expired"), "{v:?}");

    // The UID names someone else; and no officer at all is asked.
    let v = op.state.certs.validate(&info, &[], unix_now(), Some(OTHER_PID)).await;
    assert_eq!(v.failures, vec![Failure::PersonalId { expected: OTHER_PID.into(), found: Some(PID.into()) }], "{v:?}");
    assert!(op.state.certs.validate(&info, &[], unix_now(), None).await.is_valid());

    // Intermediate missing: a validator trusting only the root fails without the pool, and
    // succeeds when the certificate comes with its chain.
    let root_only = TrustStore::load(&op.config.cert_trust_anchors, &[]).unwrap();
    let bare = Validator::new(root_only, op.state.certs.crl().clone(), UnknownPolicy::Refuse);
    let v = bare.validate(&info, &[], unix_now(), Some(PID)).await;
    assert_eq!(v.codes(), vec!["unknown_issuer"], "{v:?}");
    let chain = parse_certificates(good.chain_pem.as_bytes()).unwrap();
    let v = bare.validate(&info, &chain, unix_now(), Some(PID)).await;
    assert!(v.is_valid(), "the chain it carries completes the path: {v:?}");
    // A certificate that brings its own "root" is still not trusted.
    let rogue = ca::issue(ca, PID, "unknown_ca").await;
    let rogue_chain = parse_certificates(rogue.chain_pem.as_bytes()).unwrap_or_default();
    let v = op.state.certs.validate(&cert(&rogue), &rogue_chain, unix_now(), Some(PID)).await;
    assert!(v.codes().contains(&"unknown_issuer"), "{v:?}");
}

async fn revocation(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let ca = ca::ca(&op);
    let first = ca::issue(ca, PID, "normal").await;
    let second = ca::issue(ca, PID, "normal").await;
    assert!(check(&op, &first).await.is_valid());

    // Revoked at the CA: the cached CRL is used until it is refreshed, then the reason and
    // date are named.
    ca::revoke(ca, &first.serial, "keyCompromise").await;
    assert!(check(&op, &first).await.is_valid(), "the CRL is cached until its nextUpdate");
    assert_eq!(op.state.certs.crl().refresh_all(unix_now()).await, 1, "one distribution point in use");
    let v = check(&op, &first).await;
    assert_eq!(v.codes(), vec!["revoked"], "{v:?}");
    let Revocation::Revoked { reason, revoked_at } = &v.revocation else { panic!("{v:?}") };
    assert_eq!(reason, "keyCompromise");
    assert!((revoked_at - unix_now()).abs() < 120, "{revoked_at}");
    assert!(v.failures[0].to_string().contains("keyCompromise"));
    // Before its revocation it was good (a signature made then stays valid).
    let v = op.state.certs.validate(&cert(&first), &[], revoked_at - 10, Some(PID)).await;
    assert!(v.is_valid(), "{v:?}");
    assert!(check(&op, &second).await.is_valid(), "only the revoked one is listed");

    // Another instance (on the real backend it shares the CRL through Redis) sees it too.
    let other = op.another_instance().await;
    let v = other.certs.validate(&cert(&first), &[], unix_now(), Some(PID)).await;
    assert_eq!(v.codes(), vec!["revoked"], "{v:?}");
}

/// A CA of our own, so the test can take its distribution point away.
async fn crl_unavailable(backend: Backend) {
    let Some(op) = TestOp::start(backend).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = xacthuc_mocks::GovCaConfig {
        port: addr.port(),
        public_url: format!("http://{addr}"),
        data_dir: Some(dir.path().to_owned()),
    };
    let running = xacthuc_mocks::gov_ca::start(config, listener).await.unwrap();
    let issued = ca::issue(addr, PID, "normal").await;
    let trust = TrustStore::load(&[dir.path().join("root.pem")], &[dir.path().join("issuing.pem")]).unwrap();
    let now = Arc::new(AtomicI64::new(unix_now()));
    let clock = {
        let now = now.clone();
        move || now.load(Ordering::SeqCst)
    };
    let crl = CrlCache::new(op.state.kv.clone(), std::time::Duration::from_secs(2));
    let refuse = Validator::new(trust.clone(), crl.clone(), UnknownPolicy::Refuse).with_clock(clock.clone());
    let accept = Validator::new(trust, crl, UnknownPolicy::Accept).with_clock(clock);
    let leaf = cert(&issued);
    assert!(refuse.validate(&leaf, &[], unix_now(), Some(PID)).await.is_valid());

    // The CA goes away: within nextUpdate the cached CRL still answers.
    running.shutdown().await;
    assert!(refuse.validate(&leaf, &[], unix_now(), Some(PID)).await.is_valid(), "cached CRL still current");

    // Two days on, past nextUpdate (one day), with no CA to fetch from: unknown.
    now.fetch_add(2 * 86_400, Ordering::SeqCst);
    let at = unix_now() + 2 * 86_400;
    let v = refuse.validate(&leaf, &[], at, Some(PID)).await;
    assert_eq!(v.codes(), vec!["revocation_unknown"], "refused by default: {v:?}");
    assert!(v.failures[0].to_string().contains("could not be fetched"), "{}", v.failures[0]);
    let v = accept.validate(&leaf, &[], at, Some(PID)).await;
    assert!(v.is_valid(), "policy accepts unknown: {v:?}");
    assert!(matches!(v.revocation, Revocation::Unknown { .. }), "{v:?}");
}

#[tokio::test]
async fn validation_outcomes_embedded() {
    outcomes(Backend::Embedded).await;
}

#[tokio::test]
async fn validation_outcomes_real() {
    outcomes(Backend::Real).await;
}

#[tokio::test]
async fn revocation_over_http_embedded() {
    revocation(Backend::Embedded).await;
}

#[tokio::test]
async fn revocation_over_http_real() {
    revocation(Backend::Real).await;
}

#[tokio::test]
async fn crl_unavailable_past_next_update_embedded() {
    crl_unavailable(Backend::Embedded).await;
}

#[tokio::test]
async fn crl_unavailable_past_next_update_real() {
    crl_unavailable(Backend::Real).await;
}
