//! Ring life-cycle tests: first start, rotation with overlap, pruning, reload by another
//! instance, interrupted rotation, and signing under concurrent rotation.

use std::collections::HashSet;

use serde_json::Value;

use super::tests::{all_algs, id_claims, master, ring_with, verify_independently};
use super::*;

const LIFETIME: i64 = 3_600;

fn jwks_kids(ring: &KeyRing, now: i64) -> HashSet<String> {
    let jwks: Value = serde_json::from_str(&ring.jwks_json(now)).expect("JSON");
    jwks["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().expect("kid").to_owned()).collect()
}

#[tokio::test]
async fn ensure_keys_generates_missing_algs_only() {
    let now = 1_750_000_000;
    let (ring, store) = ring_with(KeyPolicy::default(), now).await;
    assert_eq!(ring.signing_algs(), vec![Alg::Es256, Alg::Rs256]);
    assert!(matches!(ring.sign_jwt(Alg::EdDsa, "JWT", &id_claims(now)), Err(Error::NoActiveKey(_))));
    let kids: HashSet<String> = Alg::ALL.iter().filter_map(|a| ring.active_kid(*a)).collect();
    // Second start with EdDSA and PS256 enabled: the two existing keys are kept, two are added.
    let ring2 = KeyRing::ensure_keys(&store, master(), all_algs(), now + 10).await.expect("ensure");
    assert_eq!(store.load_keys().await.expect("load").len(), 4);
    assert_eq!(ring2.signing_algs(), Alg::ALL.to_vec());
    assert!(kids.iter().all(|k| jwks_kids(&ring2, now).contains(k)));
}

#[tokio::test]
async fn rotation_keeps_old_keys_until_expiry_then_prunes() {
    let t0 = chrono::Utc::now().timestamp();
    let (ring, store) = ring_with(all_algs(), t0).await;
    let old: Vec<(Alg, String, String)> = Alg::ALL
        .iter()
        .map(|&a| {
            let token = ring.sign_jwt(a, "JWT", &id_claims(t0)).expect("sign");
            (a, ring.active_kid(a).expect("kid"), token)
        })
        .collect();

    let t1 = t0 + 60;
    ring.rotate(&store, t1, LIFETIME).await.expect("rotate");
    let published = jwks_kids(&ring, t1);
    let n = Alg::ALL.len();
    assert_eq!(published.len(), 2 * n, "each alg: one active plus one retiring");
    for (alg, kid, token) in &old {
        assert_ne!(ring.active_kid(*alg).as_ref(), Some(kid), "new key is active");
        assert!(published.contains(kid));
        ring.verify_jwt(token, "JWT", t1).expect("old token still verifies");
        // The old token still verifies independently with what the JWKS now publishes.
        verify_independently(&ring, token, *alg, t0);
        let fresh = ring.sign_jwt(*alg, "JWT", &id_claims(t0)).expect("sign");
        verify_independently(&ring, &fresh, *alg, t0);
    }
    let retired: Vec<KeyRecord> =
        store.load_keys().await.expect("load").into_iter().filter(|r| r.retire_at.is_some()).collect();
    assert_eq!(retired.len(), n);
    assert!(retired.iter().all(|r| r.retire_at == Some(t1) && r.expires_at == Some(t1 + LIFETIME)));

    // Just before expiry: still there. At expiry: gone from JWKS and from verification,
    // without touching the store.
    let t2 = t1 + LIFETIME - 1;
    assert_eq!(jwks_kids(&ring, t2).len(), 2 * n);
    let t3 = t1 + LIFETIME;
    assert!(matches!(ring.verify_jwt(&old[0].2, "JWT", t3), Err(Error::UnknownKid)));
    assert_eq!(jwks_kids(&ring, t3).len(), n);
    assert_eq!(store.load_keys().await.expect("load").len(), 2 * n);

    // The next rotation deletes expired records from the store.
    ring.rotate(&store, t3 + 1, LIFETIME).await.expect("rotate");
    let kids: HashSet<String> = store.load_keys().await.expect("load").into_iter().map(|r| r.kid).collect();
    assert_eq!(kids.len(), 2 * n);
    assert!(old.iter().all(|(_, kid, _)| !kids.contains(kid)));
}

#[tokio::test]
async fn another_instance_sees_rotation_after_reload() {
    let now = 1_750_000_000;
    let (a, store) = ring_with(KeyPolicy::default(), now).await;
    let records = store.load_keys().await.expect("load");
    let b = KeyRing::from_records(&records, master(), KeyPolicy::default(), now).expect("b");
    a.rotate(&store, now + 1, LIFETIME).await.expect("rotate");
    let token = a.sign_jwt(Alg::Es256, "JWT", &id_claims(now)).expect("sign");
    assert!(matches!(b.verify_jwt(&token, "JWT", now + 2), Err(Error::UnknownKid)));
    b.reload(&store, now + 2).await.expect("reload");
    b.verify_jwt(&token, "JWT", now + 2).expect("verifies after reload");
    assert_eq!(a.active_kid(Alg::Es256), b.active_kid(Alg::Es256));
    assert_eq!(a.jwks_json(now + 2), b.jwks_json(now + 2));
    // A clone is the same ring, not a copy.
    let c = a.clone();
    a.rotate(&store, now + 3, LIFETIME).await.expect("rotate");
    assert_eq!(a.active_kid(Alg::Rs256), c.active_kid(Alg::Rs256));
}

#[tokio::test]
async fn interrupted_rotation_resolves_to_newest_key() {
    let now = 1_750_000_000;
    let policy = KeyPolicy { algs: vec![Alg::Es256], ..Default::default() };
    let (_a, s1) = ring_with(policy.clone(), now).await;
    let (_b, s2) = ring_with(policy.clone(), now + 100).await;
    // Two unretired ES256 records, as left by a crash between save and retire.
    let mut records = s1.load_keys().await.expect("load");
    records.extend(s2.load_keys().await.expect("load"));
    let newest = records[1].kid.clone();
    let ring = KeyRing::from_records(&records, master(), policy, now + 200).expect("ring");
    assert_eq!(ring.active_kid(Alg::Es256), Some(newest));
    assert_eq!(jwks_kids(&ring, now + 200).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signing_from_many_tasks_while_rotating() {
    let now = chrono::Utc::now().timestamp();
    let policy = KeyPolicy { algs: vec![Alg::Es256, Alg::EdDsa], ..Default::default() };
    let (ring, store) = ring_with(policy, now).await;
    let store = std::sync::Arc::new(store);
    let mut signers = Vec::new();
    for i in 0..8 {
        let ring = ring.clone();
        signers.push(tokio::spawn(async move {
            let alg = if i % 2 == 0 { Alg::Es256 } else { Alg::EdDsa };
            let mut tokens = Vec::new();
            for _ in 0..150 {
                let token = ring.sign_jwt(alg, "JWT", &id_claims(now)).expect("sign never fails");
                // Verification right after signing must succeed whatever rotated meanwhile.
                ring.verify_jwt(&token, "JWT", now).expect("verifies");
                tokens.push(token);
                tokio::task::yield_now().await;
            }
            tokens
        }));
    }
    let rotator = {
        let (ring, store) = (ring.clone(), store.clone());
        tokio::spawn(async move {
            for i in 1..=5 {
                ring.rotate(&*store, now + i, LIFETIME).await.expect("rotate");
                tokio::task::yield_now().await;
            }
        })
    };
    rotator.await.expect("rotator");
    let mut kids = HashSet::new();
    for s in signers {
        for token in s.await.expect("signer") {
            ring.verify_jwt(&token, "JWT", now + 10).expect("all tokens verify after rotations");
            kids.insert(jsonwebtoken::decode_header(&token).expect("h").kid.expect("kid"));
        }
    }
    assert_eq!(jwks_kids(&ring, now + 10).len(), 12, "2 active + 2×5 retiring");
    assert!(kids.len() >= 2);
}
