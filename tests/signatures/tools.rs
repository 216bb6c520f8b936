//! Signing as relying parties' tools do: raw signatures with aws-lc-rs, CMS with the OpenSSL
//! CLI, PDFs with pyHanko. A missing tool skips outside CI and fails under CI=true.

use std::path::Path;
use std::process::Command;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::support;

fn pkcs8(key_pem: &str) -> Vec<u8> {
    pem::parse(key_pem).expect("PKCS#8 PEM").into_contents()
}

/// Raw ECDSA P-256 / SHA-256 over `doc`, DER or fixed `r||s`.
pub fn ecdsa(key_pem: &str, doc: &[u8], fixed: bool) -> Vec<u8> {
    let alg = if fixed { &ECDSA_P256_SHA256_FIXED_SIGNING } else { &ECDSA_P256_SHA256_ASN1_SIGNING };
    let key = EcdsaKeyPair::from_pkcs8(alg, &pkcs8(key_pem)).expect("EC key");
    key.sign(&SystemRandom::new(), doc).expect("sign").as_ref().to_vec()
}

/// Raw RSA / SHA-256 over `doc`, PKCS#1 v1.5 or PSS.
pub fn rsa(key_pem: &str, doc: &[u8], pss: bool) -> Vec<u8> {
    let key = RsaKeyPair::from_pkcs8(&pkcs8(key_pem)).expect("RSA key");
    let mut sig = vec![0; key.public_modulus_len()];
    let padding = if pss { &RSA_PSS_SHA256 } else { &RSA_PKCS1_SHA256 };
    key.sign(padding, &SystemRandom::new(), doc, &mut sig).expect("sign");
    sig
}

/// A detached CMS (DER) from `openssl cms -sign`, or None when OpenSSL is missing (outside CI).
pub fn openssl_cms(cert_pem: &str, key_pem: &str, doc: &[u8]) -> Option<Vec<u8>> {
    if !support::have("openssl") {
        support::skip_or_fail("the OpenSSL CLI is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |f: &str| dir.path().join(f);
    std::fs::write(path("cert.pem"), cert_pem).unwrap();
    std::fs::write(path("key.pem"), key_pem).unwrap();
    std::fs::write(path("doc"), doc).unwrap();
    let out = Command::new("openssl")
        .args(["cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-signer"])
        .arg(path("cert.pem"))
        .arg("-inkey")
        .arg(path("key.pem"))
        .arg("-in")
        .arg(path("doc"))
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl cms: {}", String::from_utf8_lossy(&out.stderr));
    Some(out.stdout)
}

fn have_pyhanko() -> bool {
    Command::new("python3").args(["-c", "import pyhanko.sign"]).output().is_ok_and(|o| o.status.success())
}

/// A PDF signed by pyHanko (PAdES basic) with the CA's PKCS#12, or None when pyHanko is
/// missing (outside CI).
pub fn pyhanko_pdf(pkcs12_base64: &str, password: &str) -> Option<Vec<u8>> {
    if !have_pyhanko() {
        support::skip_or_fail("pyHanko is not installed (pip install pyhanko)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let p12 = dir.path().join("key.p12");
    let out = dir.path().join("signed.pdf");
    std::fs::write(&p12, STANDARD.decode(pkcs12_base64).expect("PKCS#12 base64")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signatures/sign_pdf.py");
    let run = Command::new("python3").arg(script).arg(&p12).arg(password).arg(&out).output().expect("python3 runs");
    assert!(run.status.success(), "sign_pdf.py: {}", String::from_utf8_lossy(&run.stderr));
    Some(std::fs::read(out).unwrap())
}
