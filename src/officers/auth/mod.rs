//! The officer login method: a password (argon2id, [`password`]) and a mandatory second factor
//! ([`totp`] with recovery codes, or a [`webauthn`] passkey or security key), with brute-force
//! protection ([`lockout`]). No HTTP here: `officers::routes` is its face.
//!
//! What a login reaches (RFC 8176 `amr`):
//! - password + TOTP or a recovery code: `urn:xacthuc:acr:officer-mfa`, `amr` [pwd, otp, mfa];
//! - password + WebAuthn: `urn:xacthuc:acr:officer-hwk`, `amr` [pwd, hwk, mfa]. Attestation is
//!   not verified (passkeys carry none), so "hardware" is assumed from the authenticator's
//!   user verification, not proven.

pub mod lockout;
pub mod password;
pub mod texts;
pub mod totp;
pub mod webauthn;

use crate::audit::{Action, Actor, Audit, Event};
use std::sync::Arc;

use sqlx::Row;

use super::DirectoryError;
use super::acr::{CLASSES, OFFICER_HWK, OFFICER_MFA};
use crate::config::{Config, Mode};
use crate::oidc::Provider;
use crate::oidc::acr::{Class, Level, Party};
use crate::oidc::login::LoginMethod;
use crate::store::Db;
use crate::web::page::Text;

pub const METHOD: &str = "officer";
pub const START: &str = "/login/officer";

/// A password alone: reached only where an operator turned the second-factor rule off
/// (`officer_second_factor_required = false`) and the officer has none. It meets no demand for
/// an officer level above it; registered so the provider knows its level.
pub const OFFICER_PWD: &str = "urn:xacthuc:acr:officer-pwd";

pub const PASSWORD_ONLY: &[Class] = &[Class {
    acr: OFFICER_PWD,
    level: Level::new(Party::Officer, 0),
    name: Text::new("Cán bộ: chỉ mật khẩu", "Officer: password only"),
}];

/// The officer login as registered with the provider.
pub fn method() -> LoginMethod {
    LoginMethod {
        id: METHOD,
        name: Text::new("Đăng nhập cán bộ", "Officer login"),
        hint: Some(Text::new(
            "Mã cán bộ, mật khẩu và yếu tố xác thực thứ hai",
            "Officer code, password and a second factor",
        )),
        // Officer levels up to the hardware key; the certificate level is another method's.
        classes: &CLASSES[..2],
        start: START,
    }
}

/// The second factor that completed a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    Otp,
    Recovery,
    WebAuthn,
    /// No second factor enrolled, and none required by configuration.
    Password,
}

impl Factor {
    /// The `acr` reached and the `amr` values.
    pub fn acr_amr(self) -> (&'static str, Vec<String>) {
        let amr = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        match self {
            Factor::Otp | Factor::Recovery => (OFFICER_MFA, amr(&["pwd", "otp", "mfa"])),
            Factor::WebAuthn => (OFFICER_HWK, amr(&["pwd", "hwk", "mfa"])),
            Factor::Password => (OFFICER_PWD, amr(&["pwd"])),
        }
    }
}

/// Everything the officer login needs, shared by its handlers.
#[derive(Clone)]
pub struct OfficerAuth {
    pub oidc: Provider,
    pub mode: Mode,
    pub hasher: password::Hasher,
    pub lockout: lockout::Policy,
    /// Officers without a second factor must enrol one before their login finishes.
    pub second_factor_required: bool,
    /// `None` when the issuer's host cannot be a WebAuthn relying party (an IP address).
    pub webauthn: Option<Arc<webauthn_rs::prelude::Webauthn>>,
    pub audit: Audit,
}

impl OfficerAuth {
    pub fn new(config: &Config, mode: Mode, oidc: Provider, audit: Audit) -> Result<Self, password::HashError> {
        let hasher = password::Hasher::new(
            config.officer_argon2_m_kib,
            config.officer_argon2_t,
            config.officer_argon2_p,
            config.officer_password_hashes_max,
        )?;
        let webauthn = webauthn::relying_party(&oidc.issuer).map(Arc::new);
        if webauthn.is_none() {
            tracing::warn!("WebAuthn is off: the issuer's host cannot be a relying-party id");
        }
        Ok(Self {
            oidc,
            mode,
            hasher,
            lockout: lockout::Policy::from_config(config),
            second_factor_required: config.officer_second_factor_required,
            webauthn,
            audit,
        })
    }

    /// An officer's own security change, into the audit log. The change stands if the entry
    /// cannot be written: `Audit::record` logs and counts that loudly.
    pub async fn audit_officer(&self, action: Action, officer_id: &str, detail: serde_json::Value) {
        let e = Event::new(action)
            .actor(Actor::Officer(officer_id.to_owned()))
            .object("officer", officer_id)
            .detail(detail);
        let _ = self.audit.record(e).await;
    }
}

/// An officer who may log in (by any method): active, and a demo account only in development
/// mode.
pub async fn may_log_in(db: &Db, mode: Mode, o: &super::Officer) -> Result<bool, DirectoryError> {
    Ok(o.status == super::OfficerStatus::Active && (mode == Mode::Dev || !db.is_demo_officer(&o.id).await?))
}

impl Db {
    /// Marks a demo account (development mode): any other mode refuses it.
    pub async fn mark_demo_officer(&self, officer_id: &str) -> Result<(), DirectoryError> {
        if !self.is_demo_officer(officer_id).await? {
            sqlx::query("INSERT INTO officer_demo_accounts (officer_id) VALUES ($1)")
                .bind(officer_id)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    pub async fn is_demo_officer(&self, officer_id: &str) -> Result<bool, DirectoryError> {
        let row = sqlx::query("SELECT COUNT(*) FROM officer_demo_accounts WHERE officer_id = $1")
            .bind(officer_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }
}
