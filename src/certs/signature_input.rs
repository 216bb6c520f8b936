//! What a relying party sends to have a signature checked, decoded and examined without any
//! store: the signer's certificate, whether the signature is intact, and the claimed signing
//! time. Trust (chain, revocation, the registry) is judged afterwards in `signatures`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use super::cms::{self, Intactness};
use super::digest_sig::PublicKey;
use super::parse::{CertInfo, parse_certificate};
use super::pdf;

/// The JSON request: one of a raw detached signature, a CMS, or a PDF.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// SHA-256 of the document: hex, or base64 / base64url.
    #[serde(default)]
    pub document_sha256: Option<String>,
    /// A raw signature (base64): ECDSA (DER or `r||s`) or RSA (PKCS#1 v1.5 or PSS), SHA-256.
    #[serde(default)]
    pub signature: Option<String>,
    /// The signer's certificate for a raw signature: PEM, or base64 DER.
    #[serde(default)]
    pub certificate: Option<String>,
    /// A detached CMS SignedData: PEM, or base64 DER.
    #[serde(default)]
    pub cms: Option<String>,
    /// A signed PDF, base64.
    #[serde(default)]
    pub pdf: Option<String>,
    /// The officer who should have signed: officer id or 12-digit personal ID.
    #[serde(default)]
    pub expected_officer: Option<String>,
}

/// A decoded request.
#[derive(Clone, Debug)]
pub enum Input {
    Raw { document_sha256: Vec<u8>, signature: Vec<u8>, certificate: Vec<u8> },
    Cms { document_sha256: Vec<u8>, cms: Vec<u8> },
    Pdf { pdf: Vec<u8> },
}

impl Input {
    pub fn kind(&self) -> &'static str {
        match self {
            Input::Raw { .. } => "raw",
            Input::Cms { .. } => "cms",
            Input::Pdf { .. } => "pdf",
        }
    }
}

/// Input refused, with a stable code.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct InputError {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> InputError {
    InputError { code, message: message.into() }
}

/// Where the signing time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The CMS `signingTime` signed attribute.
    CmsSigningTime,
    /// The PDF signature dictionary's `/M` (inside the signed byte ranges, but the signer's claim).
    PdfM,
}

/// One signature examined.
#[derive(Clone, Debug)]
pub struct Examined {
    pub certificate: CertInfo,
    /// Certificates that came with the signature (chain building help).
    pub extra: Vec<CertInfo>,
    pub intact: Intactness,
    pub signing_time: Option<(i64, TimeSource)>,
    /// PDFs: whether the signed ranges cover the whole file.
    pub covers_whole_document: Option<bool>,
}

impl Request {
    pub fn into_input(self) -> Result<Input, InputError> {
        let given = [self.signature.is_some(), self.cms.is_some(), self.pdf.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(refuse("invalid_request", "give exactly one of signature (with certificate), cms or pdf"));
        }
        if let Some(pdf) = self.pdf {
            if self.document_sha256.is_some() || self.certificate.is_some() {
                return Err(refuse("invalid_request", "a pdf carries its own hash and certificates"));
            }
            return Ok(Input::Pdf { pdf: b64(&pdf).ok_or_else(|| refuse("invalid_pdf", "pdf is not base64"))? });
        }
        let hash = self.document_sha256.ok_or_else(|| refuse("invalid_request", "document_sha256 is required"))?;
        let document_sha256 = sha256_value(&hash)?;
        if let Some(cms) = self.cms {
            if self.certificate.is_some() {
                return Err(refuse("invalid_request", "a cms carries its own certificates"));
            }
            let cms = pem_or_b64(&cms).ok_or_else(|| refuse("invalid_cms", "cms is neither PEM nor base64"))?;
            return Ok(Input::Cms { document_sha256, cms });
        }
        let signature = self.signature.unwrap_or_default();
        let signature =
            b64(&signature).ok_or_else(|| refuse("invalid_signature_encoding", "signature is not base64"))?;
        let cert =
            self.certificate.ok_or_else(|| refuse("invalid_request", "certificate is required with signature"))?;
        let certificate =
            pem_or_b64(&cert).ok_or_else(|| refuse("invalid_certificate", "certificate is neither PEM nor base64"))?;
        Ok(Input::Raw { document_sha256, signature, certificate })
    }
}

/// Parses and checks the signature(s) of `input`. CPU-bound; no store is asked.
pub fn examine(input: &Input) -> Result<Vec<Examined>, InputError> {
    match input {
        Input::Raw { document_sha256, signature, certificate } => {
            let cert = parse_certificate(certificate).map_err(|e| refuse("invalid_certificate", e.to_string()))?;
            let key = PublicKey::of_certificate(&cert.der).map_err(|e| refuse("unsupported_key", e.to_string()))?;
            let intact = match key.verify_sha256(document_sha256, signature, None) {
                Some(scheme) => Intactness { scheme: Some(scheme), problem: None },
                None => Intactness {
                    scheme: None,
                    problem: Some("the signature does not verify with the certificate's public key".into()),
                },
            };
            Ok(vec![Examined {
                certificate: cert,
                extra: Vec::new(),
                intact,
                signing_time: None,
                covers_whole_document: None,
            }])
        }
        Input::Cms { document_sha256, cms } => from_cms(cms, document_sha256, None, None),
        Input::Pdf { pdf } => {
            let sigs = pdf::signatures(pdf).map_err(|e| refuse("invalid_pdf", e.to_string()))?;
            let mut out = Vec::new();
            for s in sigs {
                let claimed = s.claimed_time.map(|t| (t, TimeSource::PdfM));
                out.extend(from_cms(&s.cms, &s.digest, claimed, Some(s.covers_whole_file))?);
            }
            Ok(out)
        }
    }
}

fn from_cms(
    cms: &[u8],
    digest: &[u8],
    claimed: Option<(i64, TimeSource)>,
    covers: Option<bool>,
) -> Result<Vec<Examined>, InputError> {
    let code = if covers.is_some() { "invalid_pdf" } else { "invalid_cms" };
    let signed = cms::parse(cms).map_err(|e| refuse(code, e.to_string()))?;
    Ok(signed
        .signers
        .iter()
        .map(|s| Examined {
            certificate: s.certificate.clone(),
            extra: signed.certificates.clone(),
            intact: s.check(digest),
            signing_time: s.signing_time.map(|t| (t, TimeSource::CmsSigningTime)).or(claimed),
            covers_whole_document: covers,
        })
        .collect())
}

/// 64 hex digits, or base64 / base64url of 32 bytes.
fn sha256_value(s: &str) -> Result<Vec<u8>, InputError> {
    let s = s.trim();
    let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect()
    } else {
        b64(s)
    };
    bytes
        .filter(|b| b.len() == 32)
        .ok_or_else(|| refuse("invalid_document_hash", "document_sha256 must be 32 bytes, as hex or base64"))
}

/// Base64 in any of its usual spellings, whitespace (line breaks) ignored.
fn b64(s: &str) -> Option<Vec<u8>> {
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(&clean).ok())
}

/// PEM text is passed on as is (the parsers read PEM); anything else must be base64 DER.
fn pem_or_b64(s: &str) -> Option<Vec<u8>> {
    if s.trim_start().starts_with("-----BEGIN") { Some(s.as_bytes().to_vec()) } else { b64(s) }
}
