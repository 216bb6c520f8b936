//! TOTP (RFC 6238, SHA-1, 6 digits, 30 s, one step of skew) and recovery codes. The secret is
//! sealed under the master key, bound to the officer (the sealing name carries the officer id,
//! so a sealed secret copied to another row does not open). A secret becomes active only once
//! the officer typed a code from it (verify-before-activate); until then it lives in the login
//! transaction or the session store, never in this table. Each accepted code's time step is
//! recorded atomically, so a code is never accepted twice.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::Row;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::crypto::sha256_hex;
use crate::officers::DirectoryError;
use crate::store::Db;
use crate::tokens::KeyRing;

pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "xacthuc";

fn seal_name(officer_id: &str) -> String {
    format!("officer_totp:{officer_id}")
}

/// A fresh 160-bit secret.
pub fn new_secret() -> Zeroizing<Vec<u8>> {
    Zeroizing::new(Secret::generate().as_ref().to_vec())
}

pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret).to_base32()
}

/// The generator for a secret; `label` is what the authenticator app shows (the username).
pub fn totp(secret: &[u8], label: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_secret(secret)
        .with_account_name(label.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The time step a code matches (now, or one step either side), if any.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, "x")?;
    t.check(&code, u64::try_from(now).ok()?).and_then(|s| i64::try_from(s).ok())
}

/// The enrolment QR code as a PNG data URI (works without scripts).
pub fn qr_data_uri(secret: &[u8], label: &str) -> Option<String> {
    totp(secret, label)?.to_qr_base64().ok().map(|b| format!("data:image/png;base64,{b}"))
}

pub fn seal(keys: &KeyRing, officer_id: &str, secret: &[u8]) -> Result<String, DirectoryError> {
    let sealed = keys.seal_setting(&seal_name(officer_id), secret).map_err(|_| sealing())?;
    Ok(URL_SAFE_NO_PAD.encode(sealed))
}

pub fn open(keys: &KeyRing, officer_id: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, DirectoryError> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| sealing())?;
    keys.open_setting(&seal_name(officer_id), &bytes).map_err(|_| sealing())
}

fn sealing() -> DirectoryError {
    DirectoryError::invalid("totp", "the sealed secret does not open")
}

/// Ten recovery codes (50 random bits each, `xxxxx-xxxxx` in an unambiguous alphabet).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            let chars: String = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A typed recovery code, normalised (case, spaces, dashes) and hashed.
pub fn recovery_hash(code: &str) -> String {
    let c: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    sha256_hex(&c)
}

impl Db {
    /// Activates (or replaces) the officer's TOTP secret; `step` is the step of the code that
    /// proved the enrolment, so that code cannot then log in.
    pub async fn activate_totp(
        &self,
        officer_id: &str,
        sealed: &str,
        step: i64,
        now: i64,
    ) -> Result<(), DirectoryError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM officer_totp WHERE officer_id = $1").bind(officer_id).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO officer_totp (officer_id, secret_sealed, activated_at, last_step, created_at) VALUES ($1, $2, $3, $4, $3)",
        )
        .bind(officer_id)
        .bind(sealed)
        .bind(now)
        .bind(step)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The officer's active sealed secret.
    pub async fn totp_secret(&self, officer_id: &str) -> Result<Option<String>, DirectoryError> {
        let row =
            sqlx::query("SELECT secret_sealed FROM officer_totp WHERE officer_id = $1 AND activated_at IS NOT NULL")
                .bind(officer_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Accepts `step` once: true only if no code of this step or a later one was accepted
    /// before. The comparison is in the UPDATE, so two instances cannot both accept it.
    pub async fn consume_totp_step(&self, officer_id: &str, step: i64) -> Result<bool, DirectoryError> {
        let n = sqlx::query("UPDATE officer_totp SET last_step = $1 WHERE officer_id = $2 AND last_step < $1")
            .bind(step)
            .bind(officer_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Removes TOTP and recovery codes (second-factor recovery through a reset link).
    pub async fn clear_totp(&self, officer_id: &str) -> Result<(), DirectoryError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM officer_totp WHERE officer_id = $1").bind(officer_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM officer_recovery_codes WHERE officer_id = $1")
            .bind(officer_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the officer's recovery codes with these (hashed) ones.
    pub async fn replace_recovery_codes(&self, officer_id: &str, codes: &[String]) -> Result<(), DirectoryError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM officer_recovery_codes WHERE officer_id = $1")
            .bind(officer_id)
            .execute(&mut *tx)
            .await?;
        for c in codes {
            sqlx::query("INSERT INTO officer_recovery_codes (officer_id, code_hash) VALUES ($1, $2)")
                .bind(officer_id)
                .bind(recovery_hash(c))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Uses a recovery code once (atomically).
    pub async fn use_recovery_code(&self, officer_id: &str, code: &str, now: i64) -> Result<bool, DirectoryError> {
        let n = sqlx::query(
            "UPDATE officer_recovery_codes SET used_at = $1 WHERE officer_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(officer_id)
        .bind(recovery_hash(code))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn recovery_codes_left(&self, officer_id: &str) -> Result<i64, DirectoryError> {
        let row = sqlx::query("SELECT COUNT(*) FROM officer_recovery_codes WHERE officer_id = $1 AND used_at IS NULL")
            .bind(officer_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_only() {
        let secret = new_secret();
        let t = totp(&secret, "cb001").expect("totp");
        let now = 1_800_000_000i64;
        let code = t.generate(now as u64).to_string();
        assert_eq!(matching_step(&secret, &code, now), Some(now / 30));
        assert_eq!(matching_step(&secret, &code, now + 30), Some(now / 30), "one step of skew");
        assert_eq!(matching_step(&secret, &code, now + 90), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert!(qr_data_uri(&secret, "cb001").is_some_and(|u| u.starts_with("data:image/png;base64,")));
    }

    #[test]
    fn recovery_codes_are_normalised() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(recovery_hash(&codes[0]), recovery_hash(&codes[0].to_uppercase().replace('-', " ")));
    }
}
