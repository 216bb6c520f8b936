//! Signed PDFs sent to POST /api/signatures/verify: the signature dictionaries, byte ranges
//! and the CMS inside, through the same entry point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xacthuc::certs::pdf;
use xacthuc::certs::signature_input::{Input, examine};

fuzz_target!(|data: &[u8]| {
    let _ = pdf::signatures(data);
    let _ = examine(&Input::Pdf { pdf: data.to_vec() });
});
