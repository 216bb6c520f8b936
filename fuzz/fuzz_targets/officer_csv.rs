//! An officer import file as uploaded (admin API, console, CLI): CSV structure, header, each
//! row's fields, roles and duplicates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xacthuc::officers::import::offline_errors(data);
});
