//! Certificate signing requests sent to the registry (PEM or DER).
#![no_main]

use libfuzzer_sys::fuzz_target;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

fuzz_target!(|data: &[u8]| {
    let _ = xacthuc::certs::csr::check(data);
    let _ = X509CertificationRequest::from_der(data);
});
