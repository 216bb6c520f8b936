//! Authorization codes (session store, single use) and grants with their refresh tokens
//! (database). A grant is everything one authorization produced; revoking it revokes all of it.

use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::provider::Provider;
use super::request::AuthRequest;
use crate::crypto::{random_token, sha256_hex};
use crate::store::{Db, DbError, KvError};

/// What a code stands for, until the client redeems it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeData {
    pub request: AuthRequest,
    pub account_id: String,
    pub sid: String,
    pub acr: String,
    pub amr: Vec<String>,
    pub auth_time: i64,
    #[serde(default)]
    pub cert_thumbprint: Option<String>,
}

/// How long a redeemed code is remembered, to detect replays and revoke what it issued.
const USED_CODE_MEMORY: Duration = Duration::from_secs(3600);
const USED_PREFIX: &[u8] = b"used:";

/// The client the code was issued to is part of its key: another client presenting a leaked
/// code finds nothing there, so it can neither burn the code nor make the owner's redemption
/// look like a replay. Each part is hashed on its own so no (client, code) pair can collide
/// with another.
fn code_key(client_id: &str, code: &str) -> String {
    format!("code:{}:{}", sha256_hex(client_id), sha256_hex(code))
}

pub async fn issue_code(p: &Provider, data: &CodeData) -> Result<String, KvError> {
    let code = random_token();
    let doc = serde_json::to_vec(data).map_err(|e| KvError::Misuse(e.to_string()))?;
    // A profile may shorten the life of its clients' codes; if the registration cannot be read
    // now, the shortest life applies.
    let strict = p.clients.get(&data.request.client_id).await.map_or(true, |c| c.is_none_or(|c| c.fapi2));
    let ttl = super::fapi2::code_ttl(strict, p.code_ttl);
    p.kv.set(&code_key(&data.request.client_id, &code), &doc, ttl).await?;
    Ok(code)
}

pub enum Redeem {
    Fresh(Box<CodeData>),
    /// Already redeemed, for this grant: the caller revokes it.
    Replayed {
        grant_id: String,
    },
    Unknown,
}

/// Marks the code used, atomically and in one round trip: of two concurrent redemptions
/// exactly one gets `Fresh`, and the other sees the marker, so a replay is detected even in a
/// race. Only the code's own
/// client (authenticated by the caller) can reach it; for any other it is `Unknown`.
pub async fn redeem_code(p: &Provider, client_id: &str, code: &str, grant_id: &str) -> Result<Redeem, KvError> {
    let marker = [USED_PREFIX, grant_id.as_bytes()].concat();
    let key = code_key(client_id, code);
    let Some(current) = p.kv.mark_used(&key, USED_PREFIX, &marker, USED_CODE_MEMORY).await? else {
        return Ok(Redeem::Unknown);
    };
    if let Some(gid) = current.strip_prefix(USED_PREFIX) {
        return Ok(Redeem::Replayed { grant_id: String::from_utf8_lossy(gid).into_owned() });
    }
    match serde_json::from_slice(&current) {
        Ok(data) => Ok(Redeem::Fresh(Box::new(data))),
        Err(_) => Ok(Redeem::Unknown),
    }
}

#[derive(Clone, Debug)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub account_id: Option<String>,
    pub sid: Option<String>,
    pub scopes: Vec<String>,
    pub auth_time: Option<i64>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// See `Authenticated::cert_thumbprint`; kept so refreshed ID tokens still carry it.
    pub cert_thumbprint: Option<String>,
    pub expires_at: i64,
    pub revoked: bool,
    /// RFC 9449 §5: the DPoP key thumbprint the grant's refresh tokens are bound to (public
    /// clients); `None` when they are not bound.
    pub dpop_jkt: Option<String>,
}

impl Db {
    /// Inserts a grant; false if its id is already taken, which happens only when a replay of
    /// the code that is creating it got there first and left a revoked tombstone.
    pub async fn insert_grant(&self, g: &Grant, now: i64) -> Result<bool, DbError> {
        let n = sqlx::query(
            "INSERT INTO grants (id, client_id, account_id, sid, scopes, claims, auth_time, acr, amr, created_at, expires_at, \
             cert_thumbprint, dpop_jkt) VALUES ($1, $2, $3, $4, $5, '[]', $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&g.id)
        .bind(&g.client_id)
        .bind(&g.account_id)
        .bind(&g.sid)
        .bind(g.scopes.join(" "))
        .bind(g.auth_time)
        .bind(&g.acr)
        .bind(g.amr.join(" "))
        .bind(now)
        .bind(g.expires_at)
        .bind(&g.cert_thumbprint)
        .bind(&g.dpop_jkt)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn grant(&self, id: &str) -> Result<Option<Grant>, DbError> {
        let row = sqlx::query(
            "SELECT id, client_id, account_id, sid, scopes, auth_time, acr, amr, expires_at, revoked_at, cert_thumbprint, \
             dpop_jkt FROM grants WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let split = |s: String| s.split(' ').filter(|x| !x.is_empty()).map(str::to_owned).collect::<Vec<_>>();
        Ok(Some(Grant {
            id: r.try_get(0)?,
            client_id: r.try_get(1)?,
            account_id: r.try_get(2)?,
            sid: r.try_get(3)?,
            scopes: split(r.try_get(4)?),
            auth_time: r.try_get(5)?,
            acr: r.try_get(6)?,
            amr: split(r.try_get::<Option<String>, _>(7)?.unwrap_or_default()),
            expires_at: r.try_get(8)?,
            revoked: r.try_get::<Option<i64>, _>(9)?.is_some(),
            cert_thumbprint: r.try_get(10)?,
            dpop_jkt: r.try_get(11)?,
        }))
    }

    /// The DPoP key a refresh token's family is bound to, looked up before the token is spent:
    /// a presentation without that key must not rotate (and so burn) the holder's token.
    pub async fn refresh_token_binding(&self, token: &str) -> Result<Option<String>, DbError> {
        let row = sqlx::query(
            "SELECT g.dpop_jkt FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = $1",
        )
        .bind(sha256_hex(token))
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => None,
        })
    }

    /// Revokes a grant. If it does not exist yet (a code replayed while its first redemption
    /// is still minting), a revoked tombstone takes its id, so that redemption fails too.
    pub async fn revoke_grant(&self, id: &str, now: i64) -> Result<(), DbError> {
        let revoke =
            || sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL").bind(now).bind(id);
        if revoke().execute(self.pool()).await?.rows_affected() == 1 {
            return Ok(());
        }
        let inserted = sqlx::query(
            "INSERT INTO grants (id, client_id, scopes, claims, created_at, expires_at, revoked_at) \
             VALUES ($1, '', '', '[]', $2, $2, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        if inserted == 0 {
            // It appeared meanwhile (or was already revoked): make sure it is revoked.
            revoke().execute(self.pool()).await?;
        }
        Ok(())
    }

    pub async fn revoke_grants_of_session(&self, sid: &str, now: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE grants SET revoked_at = $1 WHERE sid = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(sid)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Stores a new refresh token (by hash) for a grant and returns the token.
    pub async fn issue_refresh_token(&self, grant_id: &str, ttl_secs: i64, now: i64) -> Result<String, DbError> {
        let token = random_token();
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(sha256_hex(&token))
        .bind(grant_id)
        .bind(now)
        .bind(now + ttl_secs)
        .execute(self.pool())
        .await?;
        Ok(token)
    }

    /// Spends a refresh token of `client_id`, storing `successor` (see [`successor_token`]) as
    /// the next one of its family.
    ///
    /// The successor is inserted first, and only while the presented token is live, unspent and
    /// the client's: every concurrent caller inserts the same row (it is derived from the
    /// token), so whoever loses the race below finds the successor already in place. Then the
    /// conditional UPDATE flips `used_at`: the database lets exactly one caller do it, on SQLite
    /// and PostgreSQL alike, and only while the grant is live and the client's. The winner
    /// succeeds even if a concurrent reuse revokes the family a moment later: that revocation
    /// then kills the successor too. Another client's token is left untouched.
    pub async fn use_refresh_token(
        &self,
        token: &str,
        successor: &str,
        client_id: &str,
        now: i64,
    ) -> Result<RefreshUse, DbError> {
        let hash = sha256_hex(token);
        let successor_hash = sha256_hex(successor);
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) \
             SELECT $1, r.grant_id, $2, g.expires_at FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
             WHERE r.token_hash = $3 AND r.used_at IS NULL AND r.expires_at > $2 \
             AND g.revoked_at IS NULL AND g.client_id = $4 \
             ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(&successor_hash)
        .bind(now)
        .bind(&hash)
        .bind(client_id)
        .execute(self.pool())
        .await?;
        let flipped = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             AND grant_id IN (SELECT id FROM grants WHERE revoked_at IS NULL AND client_id = $3)",
        )
        .bind(now)
        .bind(&hash)
        .bind(client_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        let row = sqlx::query(
            "SELECT r.grant_id, r.used_at, r.expires_at, g.client_id FROM refresh_tokens r \
             LEFT JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(RefreshUse::Unknown) };
        if r.try_get::<Option<String>, _>(3)?.as_deref() != Some(client_id) {
            return Ok(RefreshUse::OtherClient);
        }
        let grant_id: String = r.try_get(0)?;
        let used_at: Option<i64> = r.try_get(1)?;
        Ok(match (flipped, used_at) {
            (1, _) => RefreshUse::Fresh { grant_id },
            _ if r.try_get::<i64, _>(2)? <= now => RefreshUse::Expired,
            (_, None) => RefreshUse::Revoked,
            (_, Some(used_at)) => {
                let successor_live = self.refresh_token_live(&successor_hash, &grant_id, now).await?;
                RefreshUse::Reused { grant_id, used_at, successor_live }
            }
        })
    }

    /// True if this token (by hash) of this grant is unspent, unexpired and its grant live.
    async fn refresh_token_live(&self, hash: &str, grant_id: &str, now: i64) -> Result<bool, DbError> {
        let row = sqlx::query(
            "SELECT 1 FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
             WHERE r.token_hash = $1 AND r.grant_id = $2 AND r.used_at IS NULL AND r.expires_at > $3 \
             AND g.revoked_at IS NULL",
        )
        .bind(hash)
        .bind(grant_id)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }
}

pub enum RefreshUse {
    Fresh {
        grant_id: String,
    },
    /// A spent token came back: someone holds a copy. The caller revokes the family, unless the
    /// client's grace window covers it (see [`RefreshUse::within_grace`]).
    Reused {
        grant_id: String,
        used_at: i64,
        /// Whether the token's own successor is still unspent: the token is then the one that
        /// was rotated last, not an older ancestor.
        successor_live: bool,
    },
    Expired,
    /// Its grant was revoked (logout, replay, revocation).
    Revoked,
    /// Issued to another client: refused, and left exactly as it was.
    OtherClient,
    Unknown,
}

impl RefreshUse {
    /// A reuse that is only the client's own concurrent refresh (two browser tabs): the token
    /// was the last one rotated, less than `grace_secs` ago. Then the same successor is handed
    /// out again instead of revoking the family.
    pub fn within_grace(&self, grace_secs: u64, now: i64) -> bool {
        match self {
            RefreshUse::Reused { used_at, successor_live, .. } => {
                grace_secs > 0 && *successor_live && now <= used_at.saturating_add(grace_secs as i64)
            }
            _ => false,
        }
    }
}

/// The refresh token that follows `token` in its family: HMAC-SHA256 of it under a key derived
/// from the provider's secret salt (domain-separated from its use for pairwise subjects).
/// Being deterministic, a presentation within the grace window recomputes exactly the token the
/// first one received, without any token being stored in clear, and concurrent rotations of one
/// token can never fork the family. Without the server's secret it cannot be predicted.
pub fn successor_token(p: &Provider, token: &str) -> String {
    let root = hmac::Key::new(hmac::HMAC_SHA256, p.pairwise_salt.as_bytes());
    let key = hmac::Key::new(hmac::HMAC_SHA256, hmac::sign(&root, b"xacthuc refresh-token successor v1").as_ref());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hmac::sign(&key, token.as_bytes()))
}

pub fn new_grant_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
