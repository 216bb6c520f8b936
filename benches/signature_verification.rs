//! Signature verifications per second: the pure verification of `POST /api/signatures/verify`
//! (decode, parse the certificate / CMS / PDF, hash the PDF's byte ranges, check the
//! signature with aws-lc-rs), on one core. Excluded: path validation, the CRL lookup (a cache
//! hit in the KV store in steady state), the registry query and HTTP. Plain harness: prints the
//! median of several rounds. Fixtures: tests/signatures/fixtures (P-256 and RSA-2048 keys; the
//! PDF is pyHanko's one-page document, 5.5 KB).
//!
//! Run: `CARGO_TARGET_DIR=/work/target cargo bench -p xacthuc --bench signature_verification`

use std::hint::black_box;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use sha2::{Digest, Sha256};
use xacthuc::certs::signature_input::{Input, examine};

const ROUNDS: usize = 7;
const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/signatures/fixtures/");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIX}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn pkcs8(name: &str) -> Vec<u8> {
    pem::parse(read(name)).expect("PEM").into_contents()
}

/// Median verifications per second over `ROUNDS` rounds of `iters`, after a warm-up.
fn per_second(iters: u32, input: &Input) -> f64 {
    let run = || {
        let out = examine(black_box(input)).expect("the fixture verifies");
        assert!(out.iter().all(|e| e.intact.problem.is_none()), "{:?}", out[0].intact);
    };
    for _ in 0..iters.min(50) {
        run();
    }
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                run();
            }
            f64::from(iters) / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[ROUNDS / 2]
}

fn main() {
    let doc = b"Quyet dinh so 12/QD-UBND".as_slice();
    let digest = Sha256::digest(doc).to_vec();
    let rng = SystemRandom::new();
    let ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8("key.pem")).unwrap();
    let ec_sig = ec.sign(&rng, doc).unwrap().as_ref().to_vec();
    let rsa = RsaKeyPair::from_pkcs8(&pkcs8("rsa-key.pem")).unwrap();
    let mut rsa_sig = vec![0; rsa.public_modulus_len()];
    rsa.sign(&RSA_PKCS1_SHA256, &rng, doc, &mut rsa_sig).unwrap();
    let cases = [
        (
            "raw ECDSA P-256 (certificate PEM)",
            Input::Raw { document_sha256: digest.clone(), signature: ec_sig, certificate: read("cert.pem") },
        ),
        (
            "raw RSA-2048 PKCS#1 (certificate PEM)",
            Input::Raw { document_sha256: digest, signature: rsa_sig, certificate: read("rsa-cert.pem") },
        ),
        (
            "CMS detached, ECDSA (OpenSSL)",
            Input::Cms { document_sha256: Sha256::digest(b"fixture document").to_vec(), cms: read("cms.der") },
        ),
        ("PDF 5.5 KB, PAdES, ECDSA (pyHanko)", Input::Pdf { pdf: read("signed.pdf") }),
    ];
    println!("{:<40} {:>14}", "signature verification (one core)", "per second");
    for (name, input) in &cases {
        println!("{name:<40} {:>14.0}", per_second(2_000, input));
    }
}
