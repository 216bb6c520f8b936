//! WebAuthn credentials (passkeys and security keys, webauthn-rs): several per officer, named
//! by the officer, removable. The relying party is the issuer: its host is the RP id, its
//! origin the only allowed origin. Ceremony state travels in the login transaction or the
//! session store, never in this process's memory, so any instance can finish a ceremony.
//!
//! Both kinds use webauthn-rs's passkey ceremonies, which require user verification (a PIN or
//! a biometric on the authenticator). Attestation is not requested: a synced passkey and a
//! hardware key look alike, so `hwk` in `amr` is an assumption about the authenticator that
//! the provider cannot verify (documented in the README).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::Row;
use webauthn_rs::prelude::{Passkey, Url, Webauthn, WebauthnBuilder};

use crate::officers::DirectoryError;
use crate::store::Db;

/// Credentials an officer may hold. The authentication ceremony's state (which carries every
/// credential) travels in the login transaction, whose size is bounded (`login_tx_max_bytes`).
pub const MAX_CREDENTIALS: usize = 5;

/// The relying party for `issuer`; `None` when its host cannot be one (an IP address).
pub fn relying_party(issuer: &str) -> Option<Webauthn> {
    let url = Url::parse(issuer).ok()?;
    let origin = Url::parse(&url.origin().ascii_serialization()).ok()?;
    let host = url.host_str()?.to_owned();
    WebauthnBuilder::new(&host, &origin).ok()?.rp_name("xacthuc").build().ok()
}

/// One credential, as the officer's security page lists it.
#[derive(Clone, Debug)]
pub struct Credential {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn cred_id(p: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(p.cred_id().as_ref() as &[u8])
}

fn bad_record() -> DirectoryError {
    DirectoryError::invalid("webauthn", "a stored credential cannot be read")
}

impl Db {
    pub async fn add_webauthn(
        &self,
        officer_id: &str,
        name: &str,
        pk: &Passkey,
        now: i64,
    ) -> Result<String, DirectoryError> {
        let id = uuid::Uuid::now_v7().to_string();
        let doc = serde_json::to_string(pk).map_err(|_| bad_record())?;
        sqlx::query(
            "INSERT INTO officer_webauthn (id, officer_id, credential_id, name, credential, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(officer_id)
        .bind(cred_id(pk))
        .bind(name)
        .bind(doc)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    pub async fn webauthn_credentials(&self, officer_id: &str) -> Result<Vec<Credential>, DirectoryError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM officer_webauthn WHERE officer_id = $1 ORDER BY created_at, id",
        )
        .bind(officer_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Credential {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                    last_used_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// The officer's credentials as webauthn-rs needs them for a ceremony.
    pub async fn passkeys(&self, officer_id: &str) -> Result<Vec<Passkey>, DirectoryError> {
        let rows = sqlx::query("SELECT credential FROM officer_webauthn WHERE officer_id = $1")
            .bind(officer_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let doc: String = r.try_get(0)?;
                serde_json::from_str(&doc).map_err(|_| bad_record())
            })
            .collect()
    }

    /// Stores the credential's updated counter after a login and marks it used.
    pub async fn webauthn_used(&self, officer_id: &str, pk: &Passkey, now: i64) -> Result<(), DirectoryError> {
        let doc = serde_json::to_string(pk).map_err(|_| bad_record())?;
        sqlx::query(
            "UPDATE officer_webauthn SET credential = $1, last_used_at = $2 WHERE officer_id = $3 AND credential_id = $4",
        )
        .bind(doc)
        .bind(now)
        .bind(officer_id)
        .bind(cred_id(pk))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn rename_webauthn(&self, officer_id: &str, id: &str, name: &str) -> Result<(), DirectoryError> {
        let n = sqlx::query("UPDATE officer_webauthn SET name = $1 WHERE officer_id = $2 AND id = $3")
            .bind(name)
            .bind(officer_id)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        if n == 0 { Err(DirectoryError::NotFound("credential")) } else { Ok(()) }
    }

    pub async fn remove_webauthn(&self, officer_id: &str, id: &str) -> Result<(), DirectoryError> {
        let n = sqlx::query("DELETE FROM officer_webauthn WHERE officer_id = $1 AND id = $2")
            .bind(officer_id)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        if n == 0 { Err(DirectoryError::NotFound("credential")) } else { Ok(()) }
    }
}

/// A credential's name as typed: trimmed, 1 to 64 characters, else a default.
pub fn credential_name(typed: &str) -> String {
    let t = typed.trim();
    if t.is_empty() { "Passkey".into() } else { t.chars().take(64).collect() }
}
