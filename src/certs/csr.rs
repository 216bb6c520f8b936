//! An officer's certificate signing request (PKCS#10), checked before it goes to the CA: PEM
//! or DER, parsed with x509-parser and its self-signature verified (proof that the requester
//! holds the key). Input is untrusted: bounded, and every failure is a [`CsrError`].

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

/// A CSR is well under a few KB.
pub const MAX_CSR: usize = 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CsrError {
    #[error("the CSR is empty")]
    Empty,
    #[error("the CSR is larger than {MAX_CSR} bytes")]
    TooLarge,
    #[error("the CSR's PEM is malformed: {0}")]
    Pem(String),
    #[error("the PEM block is a {0}, not a CERTIFICATE REQUEST")]
    WrongPemLabel(String),
    #[error("the CSR is not a PKCS#10 request: {0}")]
    Der(String),
    #[error("the CSR's signature does not verify with its own key")]
    BadSignature,
}

/// A verified CSR, as PEM for the CA.
pub fn check(input: &[u8]) -> Result<String, CsrError> {
    if input.len() > MAX_CSR {
        return Err(CsrError::TooLarge);
    }
    let trimmed = input.trim_ascii();
    if trimmed.is_empty() {
        return Err(CsrError::Empty);
    }
    let der = if trimmed.starts_with(b"-----BEGIN") {
        let block = pem::parse(trimmed).map_err(|e| CsrError::Pem(e.to_string()))?;
        if !matches!(block.tag(), "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST") {
            return Err(CsrError::WrongPemLabel(block.tag().chars().take(40).collect()));
        }
        block.into_contents()
    } else {
        trimmed.to_vec()
    };
    let csr = match X509CertificationRequest::from_der(&der) {
        Ok(([], csr)) => csr,
        Ok(_) => return Err(CsrError::Der("trailing bytes after the request".into())),
        Err(e) => return Err(CsrError::Der(e.to_string())),
    };
    csr.verify_signature().map_err(|_| CsrError::BadSignature)?;
    Ok(pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_signed_request() {
        assert_eq!(check(b"  "), Err(CsrError::Empty));
        assert!(matches!(check(b"\x30\x03\x02\x01\x01"), Err(CsrError::Der(_))));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(check(cert.as_bytes()), Err(CsrError::WrongPemLabel(_))));
        assert_eq!(check(&vec![b'0'; MAX_CSR + 1]), Err(CsrError::TooLarge));
    }
}
