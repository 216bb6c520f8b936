//! Certificate revocation lists: fetched from a certificate's distribution point, verified
//! against its issuer, kept in the shared KV store until their `nextUpdate` (so every instance
//! uses one fetch), and refreshed in the background before they go stale.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::parse::{CertInfo, hex, x509};
use crate::store::Kv;

/// A CRL larger than this is refused (the national CA's is far smaller).
pub const MAX_CRL: usize = 32 * 1024 * 1024;
/// How long after `nextUpdate` a stored copy is kept, for diagnostics only: it is never used.
const KEEP_STALE: i64 = 86_400;
/// How long an instance answers from its own parsed copy before looking at the shared store
/// again: the bound on how late it sees a CRL another instance fetched.
const LOCAL_SECS: i64 = 30;

/// A CRL's entries, parsed once per instance and refresh.
struct Parsed {
    next_update: i64,
    loaded_at: i64,
    /// Serial (lower-case hex) → (reason, revocation time).
    revoked: HashMap<String, (String, i64)>,
}

/// Whether a certificate is on its issuer's CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlAnswer {
    NotListed {
        next_update: i64,
    },
    Listed {
        reason: String,
        revoked_at: i64,
    },
    /// No current CRL could be had; the text says why.
    Unavailable(String),
}

#[derive(Clone)]
pub struct CrlCache {
    kv: Kv,
    http: reqwest::Client,
    /// The distribution points this instance has used, with their issuers: the refresh job's list.
    seen: Arc<Mutex<HashMap<String, CertInfo>>>,
    local: Arc<Mutex<HashMap<String, Arc<Parsed>>>>,
}

impl CrlCache {
    pub fn new(kv: Kv, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { kv, http, seen: Arc::default(), local: Arc::default() }
    }

    /// Looks `serial` (lower-case hex) up on the CRL at `url`, issued by `issuer`, as of `now`.
    pub async fn lookup(&self, url: &str, issuer: &CertInfo, serial: &str, now: i64) -> CrlAnswer {
        if let Ok(mut seen) = self.seen.lock() {
            seen.entry(url.to_owned()).or_insert_with(|| issuer.clone());
        }
        let real_now = crate::clock::unix_now();
        let local = self.local.lock().ok().and_then(|l| l.get(url).cloned());
        let parsed = match local {
            Some(p) if p.next_update > now && real_now - p.loaded_at < LOCAL_SECS => p,
            _ => match self.load(url, issuer, now).await {
                Ok(p) => p,
                Err(e) => return CrlAnswer::Unavailable(e),
            },
        };
        match parsed.revoked.get(serial) {
            Some((reason, revoked_at)) => CrlAnswer::Listed { reason: reason.clone(), revoked_at: *revoked_at },
            None => CrlAnswer::NotListed { next_update: parsed.next_update },
        }
    }

    /// The current CRL from the shared store, or fetched if the store has none current.
    async fn load(&self, url: &str, issuer: &CertInfo, now: i64) -> Result<Arc<Parsed>, String> {
        let der = match self.stored(url).await {
            Some((next_update, der)) if next_update > now => der,
            stale => self.fetch(url, issuer, now).await.map_err(|e| match stale {
                Some((next, _)) => format!("{e}; the last CRL expired at {next}"),
                None => e,
            })?,
        };
        self.remember(url, &der)
    }

    fn remember(&self, url: &str, der: &[u8]) -> Result<Arc<Parsed>, String> {
        let parsed = Arc::new(entries(der)?);
        if let Ok(mut l) = self.local.lock() {
            l.insert(url.to_owned(), parsed.clone());
        }
        Ok(parsed)
    }

    /// Fetches every CRL this instance has used again, so none goes stale under load.
    pub async fn refresh_all(&self, now: i64) -> usize {
        let seen: Vec<(String, CertInfo)> =
            self.seen.lock().map(|s| s.iter().map(|(u, c)| (u.clone(), c.clone())).collect()).unwrap_or_default();
        let mut ok = 0;
        for (url, issuer) in seen {
            match self.fetch(&url, &issuer, now).await.and_then(|der| self.remember(&url, &der)) {
                Ok(_) => ok += 1,
                Err(e) => tracing::warn!(%url, error = %e, "CRL refresh failed"),
            }
        }
        ok
    }

    async fn stored(&self, url: &str) -> Option<(i64, Vec<u8>)> {
        let v = self.kv.get(&key(url)).await.ok()??;
        let (head, der) = v.split_at_checked(8)?;
        Some((i64::from_be_bytes(head.try_into().ok()?), der.to_vec()))
    }

    /// Downloads, checks and stores a CRL; returns its DER.
    async fn fetch(&self, url: &str, issuer: &CertInfo, now: i64) -> Result<Vec<u8>, String> {
        let res = self.http.get(url).send().await.map_err(|e| format!("CRL at {url} could not be fetched: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("CRL at {url} answered {}", res.status()));
        }
        if res.content_length().is_some_and(|n| n as usize > MAX_CRL) {
            return Err(format!("CRL at {url} is larger than {MAX_CRL} bytes"));
        }
        let der = res.bytes().await.map_err(|e| format!("CRL at {url} could not be read: {e}"))?.to_vec();
        if der.len() > MAX_CRL {
            return Err(format!("CRL at {url} is larger than {MAX_CRL} bytes"));
        }
        let next_update = check(&der, issuer).map_err(|e| format!("CRL at {url}: {e}"))?;
        if next_update <= now {
            return Err(format!("CRL at {url} is out of date (nextUpdate {next_update})"));
        }
        let mut v = next_update.to_be_bytes().to_vec();
        v.extend_from_slice(&der);
        let ttl = (next_update - crate::clock::unix_now()).max(60) + KEEP_STALE;
        if let Err(e) = self.kv.set(&key(url), &v, Duration::from_secs(ttl as u64)).await {
            tracing::warn!(error = %e, "CRL not stored in the shared cache");
        }
        metrics::counter!("crl_fetches_total").increment(1);
        Ok(der)
    }
}

fn key(url: &str) -> String {
    format!("crl:{}", super::parse::thumbprint(url.as_bytes()))
}

fn parse(der: &[u8]) -> Result<CertificateRevocationList<'_>, String> {
    match CertificateRevocationList::from_der(der) {
        Ok(([], crl)) => Ok(crl),
        Ok(_) => Err("trailing bytes after the CRL".into()),
        Err(e) => Err(format!("not a CRL: {e}")),
    }
}

/// Checks a CRL's issuer and signature; returns its `nextUpdate`.
fn check(der: &[u8], issuer: &CertInfo) -> Result<i64, String> {
    let crl = parse(der)?;
    let ca = x509(&issuer.der).map_err(|e| e.to_string())?;
    if crl.issuer() != ca.subject() {
        return Err(format!("issued by {}, not by {}", crl.issuer(), ca.subject()));
    }
    crl.verify_signature(ca.public_key()).map_err(|_| "its signature does not verify".to_owned())?;
    crl.next_update().map(|t| t.timestamp()).ok_or_else(|| "it has no nextUpdate".to_owned())
}

fn entries(der: &[u8]) -> Result<Parsed, String> {
    let crl = parse(der)?;
    let revoked = crl
        .iter_revoked_certificates()
        .map(|r| {
            let reason = r.reason_code().map(|(_, c)| reason_name(c.0)).unwrap_or("unspecified");
            (hex(r.raw_serial()), (reason.to_owned(), r.revocation_date.timestamp()))
        })
        .collect();
    Ok(Parsed {
        next_update: crl.next_update().map(|t| t.timestamp()).unwrap_or(0),
        loaded_at: crate::clock::unix_now(),
        revoked,
    })
}

/// RFC 5280 §5.3.1 names.
pub fn reason_name(code: u8) -> &'static str {
    match code {
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unspecified",
    }
}

/// Refreshes the CRLs in use every `every`.
pub fn spawn_refresh(cache: CrlCache, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            cache.refresh_all(crate::clock::unix_now()).await;
        }
    });
}
