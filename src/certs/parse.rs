//! Reading certificates from PEM or DER input into [`CertInfo`], with x509-parser. Input is
//! untrusted: every failure is a [`ParseError`], never a panic.

use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

/// OID of `UID` (userid): Vietnamese CAs put `CCCD:<12 digits>` there.
pub const UID_OID: &str = "0.9.2342.19200300.100.1.1";

/// Upper bound on one upload (a chain of a few certificates is a few KB).
pub const MAX_INPUT: usize = 256 * 1024;

/// What the registry and the checks need from a certificate.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CertInfo {
    #[serde(skip)]
    pub der: Vec<u8>,
    /// Lower-case hex of the serial number's bytes, no separators.
    pub serial: String,
    /// RFC 4514 strings.
    pub issuer: String,
    pub subject: String,
    pub common_name: Option<String>,
    /// The 12 digits of `UID=CCCD:<12 digits>`, when the subject carries one.
    pub personal_id: Option<String>,
    /// `O`: the unit.
    pub organisation: Option<String>,
    /// `OU`: the department.
    pub organisational_unit: Option<String>,
    pub not_before: i64,
    pub not_after: i64,
    /// `x5t#S256`: base64url (no padding) of the SHA-256 of the DER.
    pub thumbprint: String,
    /// CRL distribution points (HTTP URIs only).
    pub crl_urls: Vec<String>,
    pub is_ca: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("no certificate in the input")]
    Empty,
    #[error("the input is larger than {MAX_INPUT} bytes")]
    TooLarge,
    #[error("the PEM is malformed: {0}")]
    Pem(String),
    #[error("the PEM block is a {0}, not a CERTIFICATE")]
    WrongPemLabel(String),
    #[error("the DER is not an X.509 certificate: {0}")]
    Der(String),
}

/// The first certificate of PEM (any number of blocks) or DER input.
pub fn parse_certificate(input: &[u8]) -> Result<CertInfo, ParseError> {
    parse_certificates(input)?.into_iter().next().ok_or(ParseError::Empty)
}

/// Every certificate of PEM input (in order), or the one of DER input.
pub fn parse_certificates(input: &[u8]) -> Result<Vec<CertInfo>, ParseError> {
    if input.len() > MAX_INPUT {
        return Err(ParseError::TooLarge);
    }
    let trimmed = input.trim_ascii();
    if trimmed.is_empty() {
        return Err(ParseError::Empty);
    }
    if !trimmed.starts_with(b"-----BEGIN") {
        // DER as given: its last bytes may well be whitespace values (0x20, 0x0a…).
        return Ok(vec![info(input)?]);
    }
    let blocks = pem::parse_many(trimmed).map_err(|e| ParseError::Pem(e.to_string()))?;
    if blocks.is_empty() {
        return Err(ParseError::Empty);
    }
    blocks
        .iter()
        .map(|b| match b.tag() {
            "CERTIFICATE" => info(b.contents()),
            other => Err(ParseError::WrongPemLabel(other.chars().take(40).collect())),
        })
        .collect()
}

/// PEM of a DER certificate.
pub fn to_pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}

/// `x5t#S256` of a DER certificate.
pub fn thumbprint(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

pub(crate) fn x509(der: &[u8]) -> Result<X509Certificate<'_>, ParseError> {
    match X509Certificate::from_der(der) {
        Ok(([], c)) => Ok(c),
        Ok(_) => Err(ParseError::Der("trailing bytes after the certificate".into())),
        Err(e) => Err(ParseError::Der(e.to_string())),
    }
}

fn info(der: &[u8]) -> Result<CertInfo, ParseError> {
    let c = x509(der)?;
    let subject = c.subject();
    let first = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
        it.next().and_then(|a| a.as_str().ok()).map(str::to_owned)
    };
    let uid = subject.iter_attributes().find(|a| a.attr_type().to_id_string() == UID_OID).and_then(|a| a.as_str().ok());
    let personal_id = uid
        .and_then(|u| u.strip_prefix("CCCD:"))
        .filter(|d| d.len() == 12 && d.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned);
    let mut crl_urls = Vec::new();
    for ext in c.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            for p in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                    for n in names {
                        if let GeneralName::URI(u) = n
                            && (u.starts_with("http://") || u.starts_with("https://"))
                        {
                            crl_urls.push((*u).to_owned());
                        }
                    }
                }
            }
        }
    }
    let is_ca = matches!(c.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    Ok(CertInfo {
        der: der.to_vec(),
        serial: hex(c.raw_serial()),
        issuer: c.issuer().to_string(),
        subject: subject.to_string(),
        common_name: first(&mut subject.iter_common_name()),
        personal_id,
        organisation: first(&mut subject.iter_organization()),
        organisational_unit: first(&mut subject.iter_organizational_unit()),
        not_before: c.validity().not_before.timestamp(),
        not_after: c.validity().not_after.timestamp(),
        thumbprint: thumbprint(der),
        crl_urls,
        is_ca,
    })
}

pub(crate) fn hex(b: &[u8]) -> String {
    // Serials are positive integers; a leading 00 byte only keeps the sign bit clear.
    let b = if b.len() > 1 && b[0] == 0 { &b[1..] } else { b };
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_certificate() {
        assert_eq!(parse_certificate(b""), Err(ParseError::Empty));
        assert!(matches!(parse_certificate(b"\x30\x03\x02\x01\x01"), Err(ParseError::Der(_))));
        assert!(matches!(
            parse_certificate(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"),
            Err(ParseError::Pem(_))
        ));
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(parse_certificate(key.as_bytes()), Err(ParseError::WrongPemLabel(_))));
        assert_eq!(parse_certificate(&vec![b'0'; MAX_INPUT + 1]), Err(ParseError::TooLarge));
    }

    /// DER is read byte for byte: a certificate whose signature ends in a byte that happens to
    /// be ASCII whitespace must not lose it (it once did, through trimming meant for PEM). The
    /// parser does not check the signature, so changing its last byte keeps the DER readable.
    #[test]
    fn der_ending_in_a_whitespace_byte_is_kept() {
        let mut der = include_bytes!("../../tests/signatures/fixtures/cert.der").to_vec();
        for last in [b' ', b'\t', b'\n', b'\r', 0x0c] {
            *der.last_mut().unwrap() = last;
            assert_eq!(parse_certificate(&der).unwrap().thumbprint, thumbprint(&der));
        }
    }
}
