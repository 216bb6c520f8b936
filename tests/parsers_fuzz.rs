//! Property test: random bytes and mutations of genuine samples (a certificate as PEM and DER,
//! a CSR, a detached CMS from OpenSSL, a PDF signed by pyHanko; fixtures in
//! tests/signatures/fixtures) never panic any parser of untrusted certificate input; random
//! bytes are refused with an error value. Kept to a few seconds.

use proptest::prelude::*;
use sha2::Digest as _;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;
use xacthuc::certs::signature_input::{Input, examine};
use xacthuc::certs::{cms, parse_certificate, pdf};

const CERT_PEM: &[u8] = include_bytes!("signatures/fixtures/cert.pem");
const CSR_DER: &[u8] = include_bytes!("signatures/fixtures/csr.der");
const CMS_DER: &[u8] = include_bytes!("signatures/fixtures/cms.der");
const PDF: &[u8] = include_bytes!("signatures/fixtures/signed.pdf");

const CERT_DER: &[u8] = include_bytes!("signatures/fixtures/cert.der");

/// Every parser, on the same bytes; none may panic.
fn all_parsers(bytes: &[u8]) {
    let _ = parse_certificate(bytes);
    let _ = X509CertificationRequest::from_der(bytes);
    let _ = cms::parse(bytes);
    let _ = pdf::signatures(bytes);
    let _ = examine(&Input::Cms { document_sha256: vec![0; 32], cms: bytes.to_vec() });
    let _ = examine(&Input::Raw {
        document_sha256: vec![0; 32],
        signature: bytes.to_vec(),
        certificate: CERT_DER.to_vec(),
    });
}

/// A sample with a few bytes overwritten, a slice cut out, or truncated.
fn mutated(sample: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let len = sample.len();
    (prop::collection::vec((0..len, any::<u8>()), 1..6), 0..len, 0..64usize, any::<bool>()).prop_map(
        move |(edits, cut_at, cut_len, truncate)| {
            let mut b = sample.to_vec();
            for (at, v) in edits {
                b[at] = v;
            }
            if truncate {
                b.truncate(cut_at);
            } else {
                let end = (cut_at + cut_len).min(b.len());
                b.drain(cut_at..end);
            }
            b
        },
    )
}

#[test]
fn genuine_samples_parse() {
    assert!(parse_certificate(CERT_PEM).is_ok());
    assert!(parse_certificate(CERT_DER).is_ok());
    assert!(X509CertificationRequest::from_der(CSR_DER).is_ok());
    let signed = cms::parse(CMS_DER).unwrap();
    let digest = sha2::Sha256::digest(b"fixture document");
    assert_eq!(signed.signers[0].check(&digest).problem, None, "the fixture CMS signs the fixture document");
    let sigs = pdf::signatures(PDF).unwrap();
    assert_eq!(sigs.len(), 1);
    assert!(sigs[0].covers_whole_file);
    assert!(examine(&Input::Pdf { pdf: PDF.to_vec() }).unwrap()[0].intact.problem.is_none());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        all_parsers(&bytes);
        prop_assert!(parse_certificate(&bytes).is_err());
        prop_assert!(cms::parse(&bytes).is_err());
        prop_assert!(pdf::signatures(&bytes).is_err());
    }

    #[test]
    fn random_pem_is_refused(body in "[A-Za-z0-9+/=\n]{0,400}", label in "(CERTIFICATE|CMS|PKCS7|X)") {
        let text = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
        all_parsers(text.as_bytes());
    }

    #[test]
    fn mutated_certificates(pem in mutated(CERT_PEM), der in mutated(CERT_DER)) {
        all_parsers(&pem);
        all_parsers(&der);
    }

    #[test]
    fn mutated_csrs(b in mutated(CSR_DER)) {
        all_parsers(&b);
    }

    #[test]
    fn mutated_cms(b in mutated(CMS_DER)) {
        all_parsers(&b);
    }

    #[test]
    fn mutated_pdfs(b in mutated(PDF)) {
        let _ = pdf::signatures(&b);
        let _ = examine(&Input::Pdf { pdf: b });
    }
}
