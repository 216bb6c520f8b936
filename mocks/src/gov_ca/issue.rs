//! Building officer certificates and CRLs with rcgen.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertificateSigningRequestParams,
    CrlDistributionPoint, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevocationReason, RevokedCertParams, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// OID of `UID` (userid), which Vietnamese CAs use for `CCCD:<12 digits>` and `MST:<tax>`.
const UID_OID: [u64; 7] = [0, 9, 2342, 19_200_300, 100, 1, 1];

/// Validity limits of Decree 68/2024.
pub const MAX_NEW_DAYS: i64 = 5 * 365 + 1;
pub const MAX_RENEWAL_DAYS: i64 = 3 * 365 + 1;
pub const CA_YEARS: i64 = 20;

/// Deliberately broken certificates, for xacthuc's negative tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    #[default]
    Normal,
    /// Validity ended yesterday.
    Expired,
    /// Validity starts in 30 days.
    NotYetValid,
    /// Signed by a CA with the issuing CA's name but another key, which nobody trusts.
    UnknownCa,
    /// keyEncipherment + serverAuth instead of digitalSignature + nonRepudiation.
    WrongKeyUsage,
}

pub struct Subject<'a> {
    pub name: &'a str,
    pub personal_id: &'a str,
    pub unit: &'a str,
    pub department: Option<&'a str>,
    pub province: &'a str,
}

pub fn officer_params(s: &Subject<'_>, serial: &[u8], days: i64, variant: Variant, crl_url: &str) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::StateOrProvinceName, s.province);
    dn.push(DnType::OrganizationName, s.unit);
    if let Some(ou) = s.department {
        dn.push(DnType::OrganizationalUnitName, ou);
    }
    dn.push(DnType::CustomDnType(UID_OID.to_vec()), format!("CCCD:{}", s.personal_id));
    dn.push(DnType::CommonName, s.name);
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from_slice(serial));
    (p.not_before, p.not_after) = match variant {
        Variant::Expired => (now - Duration::days(400), now - Duration::days(1)),
        Variant::NotYetValid => (now + Duration::days(30), now + Duration::days(30 + days)),
        _ => (now - Duration::minutes(5), now + Duration::days(days)),
    };
    if variant == Variant::WrongKeyUsage {
        p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    } else {
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::EmailProtection];
    }
    p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![crl_url.to_string()] }];
    p.use_authority_key_identifier_extension = true;
    p.key_identifier_method = KeyIdMethod::Sha256;
    p
}

pub fn ca_params(cn: &str, path_len: Option<u8>) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::OrganizationName, "Ban Cơ yếu Chính phủ (mô phỏng)");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.not_before = now - Duration::days(1);
    p.not_after = now + Duration::days(365 * CA_YEARS);
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    p
}

/// Signs a certificate for a CSR's key (the CSR's own subject is ignored: the CA decides
/// the subject from the registration data, as a real RA does).
pub fn sign_csr(csr_pem: &str, params: CertificateParams, issuer: &Issuer<'_, KeyPair>) -> Result<String, String> {
    let mut csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(|e| format!("invalid CSR: {e}"))?;
    csr.params = params;
    csr.signed_by(issuer).map(|c| c.pem()).map_err(|e| e.to_string())
}

/// Signs a certificate for a bare public key (PEM SubjectPublicKeyInfo).
pub fn sign_public_key(
    spki_pem: &str,
    params: CertificateParams,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<String, String> {
    let key = rcgen::SubjectPublicKeyInfo::from_pem(spki_pem).map_err(|e| format!("invalid public_key_pem: {e}"))?;
    params.signed_by(&key, issuer).map(|c| c.pem()).map_err(|e| e.to_string())
}

/// A certificate with the key the CA generated for it.
pub struct Generated {
    pub cert_pem: String,
    pub key_pem: String,
    /// PKCS#12 of both, protected by the given password.
    pub pkcs12: Vec<u8>,
}

/// Signs a certificate for a freshly generated key.
pub fn sign_generated(
    rsa: bool,
    params: CertificateParams,
    issuer: &Issuer<'_, KeyPair>,
    p12_password: &str,
) -> Result<Generated, String> {
    let key = if rsa {
        KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
    } else {
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
    }
    .map_err(|e| e.to_string())?;
    let cert = params.signed_by(&key, issuer).map_err(|e| e.to_string())?;
    let pkcs12 = super::pkcs12::build(cert.der(), &key.serialize_der(), p12_password)?;
    Ok(Generated { cert_pem: cert.pem(), key_pem: key.serialize_pem(), pkcs12 })
}

pub fn parse_reason(s: &str) -> Option<RevocationReason> {
    Some(match s {
        "unspecified" => RevocationReason::Unspecified,
        "keyCompromise" | "key_compromise" => RevocationReason::KeyCompromise,
        "affiliationChanged" | "affiliation_changed" => RevocationReason::AffiliationChanged,
        "superseded" => RevocationReason::Superseded,
        "cessationOfOperation" | "cessation_of_operation" => RevocationReason::CessationOfOperation,
        "certificateHold" | "certificate_hold" => RevocationReason::CertificateHold,
        "privilegeWithdrawn" | "privilege_withdrawn" => RevocationReason::PrivilegeWithdrawn,
        _ => return None,
    })
}

/// A CRL listing `revoked` (serial bytes, unix time, reason), valid for a day.
pub fn crl(
    revoked: &[(Vec<u8>, i64, RevocationReason)],
    number: u64,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<Vec<u8>, String> {
    let now = OffsetDateTime::now_utc();
    let params = CertificateRevocationListParams {
        this_update: now - Duration::minutes(1),
        next_update: now + Duration::days(1),
        crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|(serial, at, reason)| RevokedCertParams {
                serial_number: SerialNumber::from_slice(serial),
                revocation_time: OffsetDateTime::from_unix_timestamp(*at).unwrap_or(now),
                reason_code: Some(*reason),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params.signed_by(issuer).map(|c| c.der().to_vec()).map_err(|e| e.to_string())
}
