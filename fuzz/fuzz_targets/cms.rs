//! Detached CMS signatures sent to POST /api/signatures/verify, through the same entry point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xacthuc::certs::cms;
use xacthuc::certs::signature_input::{Input, examine};

fuzz_target!(|data: &[u8]| {
    if let Ok(signed) = cms::parse(data) {
        for s in &signed.signers {
            let _ = s.check(&[0u8; 32]);
        }
    }
    let _ = examine(&Input::Cms { document_sha256: vec![0; 32], cms: data.to_vec() });
});
