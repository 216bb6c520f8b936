//! Certificates as uploaded or pasted: PEM (one or a chain) or DER.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xacthuc::certs::parse_certificate(data);
    let _ = xacthuc::certs::parse_certificates(data);
});
