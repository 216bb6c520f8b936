//! The key ring: which key signs for each algorithm, which keys verify, the published JWKS, and
//! rotation.
//!
//! The ring is a snapshot swapped atomically (`arc-swap`): signing and verification read the
//! current snapshot without locks, and a rotation or reload builds a new one and swaps it in, so
//! every task sees either the old or the new ring, never a half-rotated one. Updates (which
//! await the store) are serialised by an async mutex within the instance; across instances the
//! store adapter serialises `rotate`, and `reload` picks up what another instance did.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use aws_lc_rs::rsa::KeySize;
use serde::Serialize;
use serde_json::Value;

use super::key::{SigningKey, thumbprint};
use super::store::{KeyRecord, KeyStore};
use super::{Alg, Error, MasterKey, Result, jwt};

/// RSA modulus size for new RS256 and PS256 keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RsaBits {
    #[default]
    B2048,
    B3072,
}

/// Which algorithms get keys, and how they are generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Algorithms that always have an active key and are rotated together.
    pub algs: Vec<Alg>,
    pub rsa_bits: RsaBits,
}

impl Default for KeyPolicy {
    /// ES256 (our default) and RS256 (mandatory in OIDC Core §15.1).
    fn default() -> Self {
        Self { algs: vec![Alg::Es256, Alg::Rs256], rsa_bits: RsaBits::B2048 }
    }
}

impl KeyPolicy {
    fn rsa_size(&self) -> KeySize {
        match self.rsa_bits {
            RsaBits::B2048 => KeySize::Rsa2048,
            RsaBits::B3072 => KeySize::Rsa3072,
        }
    }
}

struct Entry {
    key: Arc<SigningKey>,
    created_at: i64,
    retire_at: Option<i64>,
    expires_at: Option<i64>,
}

impl Entry {
    fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// One immutable snapshot of the ring.
struct State {
    keys: HashMap<String, Entry>,
    active: [Option<Arc<SigningKey>>; Alg::ALL.len()],
    jwks: Arc<str>,
    /// Earliest `expires_at` of a published key: when the JWKS must next be recomputed.
    next_expiry: Option<i64>,
}

impl State {
    fn new(keys: HashMap<String, Entry>) -> Result<Self> {
        let mut active: [Option<(i64, &Entry)>; Alg::ALL.len()] = [None; Alg::ALL.len()];
        for e in keys.values().filter(|e| e.retire_at.is_none()) {
            // Two unretired keys for one algorithm happen only if a rotation was interrupted
            // between saving the new key and retiring the old one: the newest one signs.
            let slot = &mut active[e.key.alg.index()];
            if slot.is_none_or(|(c, cur)| (e.created_at, &e.key.kid) > (c, &cur.key.kid)) {
                *slot = Some((e.created_at, e));
            }
        }
        let active = active.map(|a| a.map(|(_, e)| e.key.clone()));

        let mut published: Vec<&Entry> = keys.values().collect();
        // Stable order for caches and diffs: by algorithm, newest first.
        published.sort_by(|a, b| {
            (a.key.alg, std::cmp::Reverse(a.created_at), &a.key.kid).cmp(&(
                b.key.alg,
                std::cmp::Reverse(b.created_at),
                &b.key.kid,
            ))
        });
        #[derive(Serialize)]
        struct Jwks {
            keys: Vec<Value>,
        }
        let jwks = serde_json::to_string(&Jwks { keys: published.iter().map(|e| e.key.jwks_entry()).collect() })?;
        let next_expiry = keys.values().filter_map(|e| e.expires_at).min();
        Ok(Self { keys, active, jwks: jwks.into(), next_expiry })
    }

    /// Decrypts and parses every record that has not expired at `now`.
    fn from_records(master: &MasterKey, records: &[KeyRecord], now: i64) -> Result<Self> {
        let mut keys = HashMap::new();
        for rec in records.iter().filter(|r| !r.is_expired(now)) {
            let key = open_record(master, rec)?;
            let entry = Entry {
                key: Arc::new(key),
                created_at: rec.created_at,
                retire_at: rec.retire_at,
                expires_at: rec.expires_at,
            };
            keys.insert(rec.kid.clone(), entry);
        }
        Self::new(keys)
    }

    /// The same ring without keys expired at `now`; keys stay parsed (no decryption).
    fn pruned(&self, now: i64) -> Result<Self> {
        let keys = self
            .keys
            .iter()
            .filter(|(_, e)| !e.is_expired(now))
            .map(|(kid, e)| {
                let entry = Entry {
                    key: e.key.clone(),
                    created_at: e.created_at,
                    retire_at: e.retire_at,
                    expires_at: e.expires_at,
                };
                (kid.clone(), entry)
            })
            .collect();
        Self::new(keys)
    }
}

/// Decrypts a record and checks that everything in it belongs together: the kid is the
/// thumbprint of the decrypted key and of the stored public JWK. A record edited in the
/// database (say, a public JWK swapped for an attacker's) is refused rather than published.
fn open_record(master: &MasterKey, rec: &KeyRecord) -> Result<SigningKey> {
    let invalid = |reason| Error::InvalidRecord { kid: rec.kid.clone(), reason };
    let pkcs8 = master.open(&rec.kid, rec.alg, &rec.private_key_enc)?;
    let key = SigningKey::from_pkcs8(rec.alg, &pkcs8).map_err(invalid)?;
    if key.kid != rec.kid {
        return Err(invalid("kid is not the thumbprint of the private key"));
    }
    let stored: serde_json::Map<String, Value> =
        serde_json::from_str(&rec.public_jwk).map_err(|_| invalid("public JWK is not JSON"))?;
    if thumbprint(&stored).map_err(invalid)? != rec.kid {
        return Err(invalid("public JWK does not match the private key"));
    }
    Ok(key)
}

fn new_record(master: &MasterKey, policy: &KeyPolicy, alg: Alg, now: i64) -> Result<KeyRecord> {
    let (key, pkcs8) = SigningKey::generate(alg, policy.rsa_size())?;
    Ok(KeyRecord {
        private_key_enc: master.seal(&key.kid, alg, &pkcs8)?,
        public_jwk: Value::Object(key.public_jwk.clone()).to_string(),
        kid: key.kid,
        alg,
        created_at: now,
        retire_at: None,
        expires_at: None,
    })
}

struct Shared {
    state: ArcSwap<State>,
    master: MasterKey,
    policy: KeyPolicy,
    /// Serialises store-touching updates within this instance.
    update: tokio::sync::Mutex<()>,
}

/// Signing keys of the provider. Cheap to clone (one `Arc`); clones share state, so a rotation
/// through one clone is seen by all.
#[derive(Clone)]
pub struct KeyRing {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.state.load();
        let mut kids: Vec<&str> = state.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        f.debug_struct("KeyRing").field("kids", &kids).finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Builds a ring from stored records. Fails if any unexpired record cannot be decrypted with
    /// `master` (wrong master key) or is inconsistent: we would rather not start than serve a
    /// JWKS that silently lacks keys.
    pub fn from_records(records: &[KeyRecord], master: MasterKey, policy: KeyPolicy, now: i64) -> Result<Self> {
        let state = State::from_records(&master, records, now)?;
        Ok(Self {
            shared: Arc::new(Shared {
                state: ArcSwap::from_pointee(state),
                master,
                policy,
                update: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// First start (and every start): loads the keys and generates an active key for each
    /// algorithm of `policy` that lacks one.
    ///
    /// Instances starting at the same moment on an empty store could each generate a key; that
    /// is harmless (the newest unretired key signs, all are published after a `reload`), but the
    /// adapter may hold the same lock as for `rotate` to avoid it.
    pub async fn ensure_keys<S: KeyStore + ?Sized>(
        store: &S,
        master: MasterKey,
        policy: KeyPolicy,
        now: i64,
    ) -> Result<Self> {
        let mut records = store.load_keys().await.map_err(Error::Store)?;
        // Decrypt before generating anything: a wrong master key must fail here, not after we
        // have added keys that only the wrong key can read.
        let state = State::from_records(&master, &records, now)?;
        for &alg in &policy.algs {
            if state.active[alg.index()].is_none() {
                let rec = new_record(&master, &policy, alg, now)?;
                store.save_key(&rec).await.map_err(Error::Store)?;
                records.push(rec);
            }
        }
        Self::from_records(&records, master, policy, now)
    }

    /// Encrypts a secret setting under the ring's master key (see [`MasterKey`]): the master
    /// key never leaves the ring, and other secrets at rest get the same protection as the keys.
    pub fn seal_setting(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.shared.master.seal_setting(name, plaintext)
    }

    /// Decrypts what [`seal_setting`](Self::seal_setting) made for the same `name`.
    pub fn open_setting(&self, name: &str, sealed: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.shared.master.open_setting(name, sealed)
    }

    /// Signs `claims` with the active key for `alg`. The header carries `alg`, `typ` (`JWT` for
    /// ID tokens, `at+jwt` for access tokens, `logout+jwt` for logout tokens) and `kid`.
    pub fn sign_jwt(&self, alg: Alg, typ: &str, claims: &impl Serialize) -> Result<String> {
        let state = self.shared.state.load();
        let key = state.active[alg.index()].as_ref().ok_or(Error::NoActiveKey(alg))?;
        jwt::encode(key, typ, claims)
    }

    /// Verifies a token signed by this ring (e.g. an `id_token_hint`) and returns its claims.
    ///
    /// Checks, in order: shape, `typ`, `kid` known and not expired at `now`, header `alg` equal
    /// to the key's algorithm (so `none`, HS256-with-public-key and other algorithm confusion
    /// fail), signature. Claims (`exp`, `aud`, …) are for [`jwt::validate_standard_claims`].
    pub fn verify_jwt(&self, token: &str, expected_typ: &str, now: i64) -> Result<Value> {
        let parts = jwt::split(token)?;
        if !jwt::typ_matches(parts.header.typ.as_deref(), expected_typ) {
            return Err(Error::WrongType);
        }
        let kid = parts.header.kid.as_deref().ok_or(Error::UnknownKid)?;
        let state = self.shared.state.load();
        let entry = state.keys.get(kid).filter(|e| !e.is_expired(now)).ok_or(Error::UnknownKid)?;
        if parts.header.alg != entry.key.alg.jose_name() {
            return Err(Error::AlgMismatch);
        }
        if !entry.key.verify(parts.signing_input.as_bytes(), &parts.signature) {
            return Err(Error::BadSignature);
        }
        jwt::payload(parts.payload_b64)
    }

    /// The JWKS document (`{"keys":[…]}`): active and retiring keys with `kid`, `alg` and
    /// `use: sig`. Precomputed; recomputed here only when a key has expired since.
    pub fn jwks_json(&self, now: i64) -> Arc<str> {
        let state = self.shared.state.load();
        if state.next_expiry.is_none_or(|t| t > now) {
            return state.jwks.clone();
        }
        self.prune(now);
        self.shared.state.load().jwks.clone()
    }

    /// Drops keys expired at `now` from the in-memory ring (the store keeps them until the next
    /// rotation deletes them).
    pub fn prune(&self, now: i64) {
        self.shared.state.rcu(|cur| {
            if cur.next_expiry.is_none_or(|t| t > now) {
                return cur.clone();
            }
            match cur.pruned(now) {
                Ok(s) => Arc::new(s),
                // Serialising the JWKS cannot fail in practice; keep the old snapshot if it does.
                Err(_) => cur.clone(),
            }
        });
    }

    /// The kid of the active key for `alg`, if any.
    pub fn active_kid(&self, alg: Alg) -> Option<String> {
        self.shared.state.load().active[alg.index()].as_ref().map(|k| k.kid.clone())
    }

    /// Algorithms with an active key, for discovery (`id_token_signing_alg_values_supported`).
    pub fn signing_algs(&self) -> Vec<Alg> {
        let state = self.shared.state.load();
        Alg::ALL.into_iter().filter(|a| state.active[a.index()].is_some()).collect()
    }

    /// Replaces the ring with what the store holds (another instance may have rotated).
    pub async fn reload<S: KeyStore + ?Sized>(&self, store: &S, now: i64) -> Result<()> {
        let _guard = self.shared.update.lock().await;
        let records = store.load_keys().await.map_err(Error::Store)?;
        let state = State::from_records(&self.shared.master, &records, now)?;
        self.shared.state.store(Arc::new(state));
        Ok(())
    }

    /// Rotates every algorithm of the policy: a new key becomes active, the previous active key
    /// retires at `now` and stays published until `now + max_token_lifetime_secs`, and keys
    /// already expired are deleted.
    ///
    /// `max_token_lifetime_secs` must cover the longest-lived token signed by these keys plus
    /// the clock-skew leeway relying parties apply and, with several instances, the interval at
    /// which the others `reload` (they keep signing with the old key until then).
    ///
    /// Algorithms outside the policy keep their keys untouched: removing an algorithm from the
    /// configuration should not silently retire keys that clients may still be configured for.
    ///
    /// Store writes are ordered so an interruption is harmless: new keys are saved first, then
    /// old ones retired (two unretired keys resolve to the newest), then expired ones deleted.
    pub async fn rotate<S: KeyStore + ?Sized>(&self, store: &S, now: i64, max_token_lifetime_secs: i64) -> Result<()> {
        let shared = &*self.shared;
        let _guard = shared.update.lock().await;
        // Work from the store, not our snapshot, so a rotation done by another instance is not
        // overwritten.
        let mut records = store.load_keys().await.map_err(Error::Store)?;
        let mut fresh = Vec::with_capacity(shared.policy.algs.len());
        for &alg in &shared.policy.algs {
            let rec = new_record(&shared.master, &shared.policy, alg, now)?;
            store.save_key(&rec).await.map_err(Error::Store)?;
            fresh.push(rec);
        }
        let expires_at = now.saturating_add(max_token_lifetime_secs.max(0));
        for rec in &mut records {
            if rec.retire_at.is_none() && shared.policy.algs.contains(&rec.alg) {
                rec.retire_at = Some(now);
                rec.expires_at = Some(expires_at);
                store.update_key(rec).await.map_err(Error::Store)?;
            }
        }
        let mut kept = Vec::with_capacity(records.len() + fresh.len());
        for rec in records {
            if rec.is_expired(now) {
                store.delete_key(&rec.kid).await.map_err(Error::Store)?;
            } else {
                kept.push(rec);
            }
        }
        kept.extend(fresh);
        let state = State::from_records(&shared.master, &kept, now)?;
        shared.state.store(Arc::new(state));
        Ok(())
    }
}
