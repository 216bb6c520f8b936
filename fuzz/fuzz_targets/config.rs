//! The configuration file (TOML) and every check made on it before start-up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xacthuc::config::{Config, Mode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = Config::from_toml(text) else { return };
    for mode in [Mode::Dev, Mode::Serve, Mode::Migrate] {
        let _ = config.validate(mode);
    }
    let _ = config.listen_addr();
    let _ = config.metrics_socket_addr();
    let _ = config.redis_target();
    let _ = config.master_key_bytes();
});
