//! Authorization codes (session store, single use) and grants with their refresh tokens
//! (database). A grant is everything one authorization produced; revoking it revokes all of it.

use std::time::Duration;

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
}

/// How long a redeemed code is remembered, to detect replays and revoke what it issued.
const USED_CODE_MEMORY: Duration = Duration::from_secs(3600);
const USED_PREFIX: &[u8] = b"used:";

fn code_key(code: &str) -> String {
    format!("code:{}", sha256_hex(code))
}

pub async fn issue_code(p: &Provider, data: &CodeData) -> Result<String, KvError> {
    let code = random_token();
    let doc = serde_json::to_vec(data).map_err(|e| KvError::Misuse(e.to_string()))?;
    p.kv.set(&code_key(&code), &doc, p.code_ttl).await?;
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

/// Marks the code used, atomically: of two concurrent redemptions exactly one gets `Fresh`,
/// and the other sees the marker, so a replay is detected even in a race.
pub async fn redeem_code(p: &Provider, code: &str, grant_id: &str) -> Result<Redeem, KvError> {
    let key = code_key(code);
    let Some(current) = p.kv.get(&key).await? else { return Ok(Redeem::Unknown) };
    if let Some(gid) = current.strip_prefix(USED_PREFIX) {
        return Ok(Redeem::Replayed { grant_id: String::from_utf8_lossy(gid).into_owned() });
    }
    let marker = [USED_PREFIX, grant_id.as_bytes()].concat();
    if !p.kv.compare_and_set(&key, &current, &marker, USED_CODE_MEMORY).await? {
        return match p.kv.get(&key).await? {
            Some(v) if v.starts_with(USED_PREFIX) => {
                Ok(Redeem::Replayed { grant_id: String::from_utf8_lossy(&v[USED_PREFIX.len()..]).into_owned() })
            }
            _ => Ok(Redeem::Unknown),
        };
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
    pub expires_at: i64,
    pub revoked: bool,
}

impl Db {
    /// Inserts a grant; false if its id is already taken, which happens only when a replay of
    /// the code that is creating it got there first and left a revoked tombstone.
    pub async fn insert_grant(&self, g: &Grant, now: i64) -> Result<bool, DbError> {
        let n = sqlx::query(
            "INSERT INTO grants (id, client_id, account_id, sid, scopes, claims, auth_time, acr, amr, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, '[]', $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
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
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn grant(&self, id: &str) -> Result<Option<Grant>, DbError> {
        let row = sqlx::query(
            "SELECT id, client_id, account_id, sid, scopes, auth_time, acr, amr, expires_at, revoked_at FROM grants WHERE id = $1",
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
        }))
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

    /// Spends a refresh token. The conditional UPDATE is the whole concurrency story: the
    /// database lets exactly one caller flip `used_at`, on SQLite and PostgreSQL alike, and only
    /// while the grant is live. The winner succeeds even if a concurrent reuse revokes the
    /// family a moment later: that revocation then kills the token the winner receives.
    pub async fn use_refresh_token(&self, token: &str, now: i64) -> Result<RefreshUse, DbError> {
        let hash = sha256_hex(token);
        let flipped = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             AND grant_id IN (SELECT id FROM grants WHERE revoked_at IS NULL)",
        )
        .bind(now)
        .bind(&hash)
        .execute(self.pool())
        .await?
        .rows_affected();
        let row = sqlx::query("SELECT grant_id, used_at, expires_at FROM refresh_tokens WHERE token_hash = $1")
            .bind(&hash)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(RefreshUse::Unknown) };
        let grant_id: String = r.try_get(0)?;
        let used_at: Option<i64> = r.try_get(1)?;
        Ok(match flipped {
            1 => RefreshUse::Fresh { grant_id },
            _ if r.try_get::<i64, _>(2)? <= now => RefreshUse::Expired,
            _ if used_at.is_none() => RefreshUse::Revoked,
            _ => RefreshUse::Reused { grant_id },
        })
    }
}

pub enum RefreshUse {
    Fresh {
        grant_id: String,
    },
    /// A spent token came back: someone holds a copy. The caller revokes the family.
    Reused {
        grant_id: String,
    },
    Expired,
    /// Its grant was revoked (logout, replay, revocation).
    Revoked,
    Unknown,
}

pub fn new_grant_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
