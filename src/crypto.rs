//! The two primitives every secret the provider hands out is made with: a random token, and
//! the hash it is stored under.

use base64::Engine;
use sha2::{Digest, Sha256};

/// 256 random bits from the OS, base64url without padding: codes, session ids, refresh tokens,
/// transaction ids, client secrets.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Lower-case hex SHA-256, for storing bearer secrets (codes, refresh tokens, client secrets)
/// by hash only.
pub fn sha256_hex(value: &str) -> String {
    sha256_hex_bytes(value.as_bytes())
}

/// Hex SHA-256 of bytes (a file's fingerprint in the audit log).
pub fn sha256_hex_bytes(value: &[u8]) -> String {
    Sha256::digest(value).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_256_bits_and_fresh() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64url");
        assert_ne!(a, b);
    }

    #[test]
    fn sha256_hex_known_answer() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
