//! The population database's SOAP answer (records or a fault), as it arrives over the network.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(xml) = std::str::from_utf8(data) {
        let _ = xacthuc::citizens::population::parse_soap_answer(xml);
    }
});
