//! CMS / PKCS#7 detached `SignedData` (RFC 5652), as signing tools and PDF signatures carry it,
//! read with RustCrypto's `cms`: each signer, its certificate (found by issuer and serial or by
//! subject key identifier among the certificates in the message), its signed attributes and
//! its signature. Input is untrusted: every failure is a [`CmsError`], never a panic.

use cms::cert::x509::time::Time;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{AnyRef, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tagged};
use sha2::{Digest, Sha256};

use super::digest_sig::{PublicKey, Scheme};
use super::parse::{CertInfo, parse_certificate, x509};
use x509_parser::extensions::{KeyIdentifier, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Name};

/// Upper bound on one CMS message (a signature with a chain is a few KB; PDFs reserve ~16 KB).
pub const MAX_CMS: usize = 512 * 1024;

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CmsError {
    #[error("the CMS is larger than {MAX_CMS} bytes")]
    TooLarge,
    #[error("the CMS is not valid DER: {0}")]
    Encoding(String),
    #[error("the PEM is malformed: {0}")]
    Pem(String),
    #[error("the CMS is not SignedData")]
    NotSignedData,
    #[error("the SignedData has no signer")]
    NoSigner,
    #[error("the signer's certificate is not in the CMS")]
    SignerCertificateMissing,
    #[error("a certificate in the CMS is unreadable: {0}")]
    Certificate(String),
    #[error("unsupported digest algorithm {0} (SHA-256 only)")]
    UnsupportedDigest(String),
}

/// One signer of a SignedData.
#[derive(Clone, Debug)]
pub struct CmsSigner {
    pub certificate: CertInfo,
    /// The `signingTime` signed attribute (unix seconds): what the signer claims.
    pub signing_time: Option<i64>,
    message_digest: Option<Vec<u8>>,
    /// Whether the `content-type` attribute equals the encapsulated content type.
    content_type_ok: bool,
    /// The signed attributes, DER as `SET OF` (what was signed), when present.
    signed_attrs: Option<Vec<u8>>,
    signature: Vec<u8>,
    rsa_pss: bool,
}

/// A parsed SignedData: its signers and every certificate it carries.
#[derive(Clone, Debug)]
pub struct SignedCms {
    pub signers: Vec<CmsSigner>,
    pub certificates: Vec<CertInfo>,
}

/// Whether a signature holds, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intactness {
    pub scheme: Option<Scheme>,
    pub problem: Option<String>,
}

/// PEM (`CMS` or `PKCS7`) or DER, trailing zero bytes allowed (PDFs pad `/Contents`).
pub fn parse(input: &[u8]) -> Result<SignedCms, CmsError> {
    if input.len() > MAX_CMS {
        return Err(CmsError::TooLarge);
    }
    let trimmed = input.trim_ascii();
    if trimmed.starts_with(b"-----BEGIN") {
        let block = pem::parse(trimmed).map_err(|e| CmsError::Pem(e.to_string()))?;
        if !matches!(block.tag(), "CMS" | "PKCS7") {
            return Err(CmsError::Pem(format!(
                "a {} block, not CMS or PKCS7",
                block.tag().chars().take(40).collect::<String>()
            )));
        }
        return parse_der(block.contents());
    }
    parse_der(input)
}

fn parse_der(der: &[u8]) -> Result<SignedCms, CmsError> {
    let enc = |e: der::Error| CmsError::Encoding(e.to_string());
    let mut reader = SliceReader::new(der).map_err(enc)?;
    let info = ContentInfo::decode(&mut reader).map_err(enc)?;
    let rest = reader.read_slice(reader.remaining_len()).map_err(enc)?;
    if rest.iter().any(|b| *b != 0) {
        return Err(CmsError::Encoding("trailing bytes after the CMS".into()));
    }
    if info.content_type != SIGNED_DATA {
        return Err(CmsError::NotSignedData);
    }
    let signed_der = info.content.to_der().map_err(enc)?;
    let signed = SignedData::from_der(&signed_der).map_err(enc)?;
    let certificates = raw_certificates(&signed_der)
        .map_err(enc)?
        .iter()
        .map(|der| parse_certificate(der).map_err(|e| CmsError::Certificate(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let content_type = signed.encap_content_info.econtent_type;
    let signers = signed
        .signer_infos
        .0
        .iter()
        .map(|si| signer(si, &certificates, content_type))
        .collect::<Result<Vec<_>, _>>()?;
    if signers.is_empty() {
        return Err(CmsError::NoSigner);
    }
    Ok(SignedCms { signers, certificates })
}

/// The certificates' DER exactly as the message carries them, read as raw values with `der`:
/// the registry is keyed by the thumbprint of those exact bytes, so nothing is re-encoded.
fn raw_certificates(signed_data: &[u8]) -> Result<Vec<Vec<u8>>, der::Error> {
    let outer = AnyRef::from_der(signed_data)?;
    let mut fields = SliceReader::new(outer.value())?;
    // version, digestAlgorithms, encapContentInfo, then [0] IMPLICIT CertificateSet if present.
    for _ in 0..3 {
        AnyRef::decode(&mut fields)?;
    }
    let mut out = Vec::new();
    let next = AnyRef::decode(&mut fields)?;
    let tag = next.tag();
    if tag.is_context_specific() && tag.is_constructed() && tag.number().value() == 0 {
        let mut set = SliceReader::new(next.value())?;
        while !set.is_finished() {
            let choice = AnyRef::decode(&mut set)?;
            // Only plain certificates (a SEQUENCE); the other CertificateChoices are obsolete.
            if choice.tag() == der::Tag::Sequence {
                out.push(choice.to_der()?);
            }
        }
    }
    Ok(out)
}

fn signer(si: &SignerInfo, infos: &[CertInfo], content_type: ObjectIdentifier) -> Result<CmsSigner, CmsError> {
    let enc = |e: der::Error| CmsError::Encoding(e.to_string());
    if si.digest_alg.oid != SHA256 {
        return Err(CmsError::UnsupportedDigest(si.digest_alg.oid.to_string()));
    }
    let index = infos.iter().position(|c| identifies(&si.sid, c)).ok_or(CmsError::SignerCertificateMissing)?;
    let (mut message_digest, mut content_type_ok, mut signing_time) = (None, false, None);
    if let Some(attrs) = &si.signed_attrs {
        for a in attrs.iter() {
            let Some(value) = a.values.get(0) else { continue };
            let value = value.to_der().map_err(enc)?;
            match a.oid {
                MESSAGE_DIGEST => {
                    message_digest = Some(OctetString::from_der(&value).map_err(enc)?.into_bytes().into_vec())
                }
                CONTENT_TYPE => content_type_ok = ObjectIdentifier::from_der(&value).map_err(enc)? == content_type,
                SIGNING_TIME => {
                    signing_time = Some(Time::from_der(&value).map_err(enc)?.to_unix_duration().as_secs() as i64)
                }
                _ => {}
            }
        }
    }
    Ok(CmsSigner {
        certificate: infos[index].clone(),
        signing_time,
        message_digest,
        content_type_ok,
        signed_attrs: si.signed_attrs.as_ref().map(|a| a.to_der()).transpose().map_err(enc)?,
        signature: si.signature.as_bytes().to_vec(),
        rsa_pss: si.signature_algorithm.oid == RSA_PSS,
    })
}

fn identifies(sid: &SignerIdentifier, info: &CertInfo) -> bool {
    let Ok(c) = x509(&info.der) else { return false };
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            let issuer = isn.issuer.to_der().ok();
            let issuer = issuer.as_deref().and_then(|d| X509Name::from_der(d).ok()).map(|(_, n)| n.to_string());
            issuer.as_deref() == Some(info.issuer.as_str())
                && unsigned(c.raw_serial()) == unsigned(isn.serial_number.as_bytes())
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => c.extensions().iter().any(|e| {
            matches!(e.parsed_extension(), ParsedExtension::SubjectKeyIdentifier(KeyIdentifier(k)) if *k == ski.0.as_bytes())
        }),
    }
}

/// An INTEGER's magnitude bytes, without the sign-keeping leading zeros.
fn unsigned(b: &[u8]) -> &[u8] {
    let zeros = b.iter().take_while(|x| **x == 0).count().min(b.len().saturating_sub(1));
    &b[zeros..]
}

impl CmsSigner {
    /// Whether this signer signed the document whose SHA-256 is `document_sha256`.
    pub fn check(&self, document_sha256: &[u8]) -> Intactness {
        let refused = |why: &str| Intactness { scheme: None, problem: Some(why.to_owned()) };
        let key = match PublicKey::of_certificate(&self.certificate.der) {
            Ok(k) => k,
            Err(e) => return refused(&e.to_string()),
        };
        let signed_digest = match &self.signed_attrs {
            Some(attrs) => {
                match &self.message_digest {
                    None => return refused("the signed attributes carry no message digest"),
                    Some(d) if d.as_slice() != document_sha256 => {
                        return refused("the document's hash differs from the signed message digest");
                    }
                    Some(_) => {}
                }
                if !self.content_type_ok {
                    return refused("the content-type attribute does not match the signed content");
                }
                Sha256::digest(attrs).to_vec()
            }
            None => document_sha256.to_vec(),
        };
        match key.verify_sha256(&signed_digest, &self.signature, Some(self.rsa_pss)) {
            Some(scheme) => Intactness { scheme: Some(scheme), problem: None },
            None => refused("the signature does not verify with the signer's public key"),
        }
    }
}
