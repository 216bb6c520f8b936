//! The master key that encrypts signing keys at rest.
//!
//! Private keys live in the database, which is backed up, replicated and read by more people
//! than the service itself. Encrypting them under a key that only the service's environment
//! holds means a database dump alone does not let anyone mint tokens.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use zeroize::{Zeroize, Zeroizing};

use super::{Alg, Error, Result};

/// Version byte in front of every ciphertext, so the format can change without guessing.
const FORMAT_V1: u8 = 1;
const KEY_LEN: usize = 32;

/// AES-256-GCM key for private keys at rest. Never printed: `Debug` is redacted and there is no
/// `Display` or `Serialize`.
pub struct MasterKey {
    key: LessSafeKey,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// Parses 32 bytes in base64 (standard or URL-safe, padded or not), as it comes from the
    /// environment. Surrounding whitespace is ignored because env files often end in a newline.
    pub fn from_base64(encoded: &str) -> Result<Self> {
        let encoded = encoded.trim();
        let mut bytes = Zeroizing::new(
            STANDARD
                .decode(encoded)
                .or_else(|_| URL_SAFE.decode(encoded))
                .or_else(|_| URL_SAFE_NO_PAD.decode(encoded))
                .map_err(|_| Error::InvalidMasterKey("not valid base64"))?,
        );
        if bytes.len() != KEY_LEN {
            bytes.zeroize();
            return Err(Error::InvalidMasterKey("must be 32 bytes (256 bits) once decoded"));
        }
        Self::from_bytes(&bytes)
    }

    /// Reads the master key from an environment variable.
    pub fn from_env(var: &str) -> Result<Self> {
        let value =
            Zeroizing::new(std::env::var(var).map_err(|_| Error::InvalidMasterKey("environment variable unset"))?);
        Self::from_base64(&value)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| Error::InvalidMasterKey("must be 32 bytes (256 bits)"))?;
        Ok(Self { key: LessSafeKey::new(unbound) })
    }

    /// A fresh random key, base64-encoded, for `xacthuc dev` to write into `keys/` at first start.
    pub fn generate_base64() -> Result<Zeroizing<String>> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new().fill(bytes.as_mut()).map_err(|_| Error::Crypto("random generator failed"))?;
        Ok(Zeroizing::new(STANDARD.encode(bytes.as_ref())))
    }

    /// Encrypts a PKCS#8 private key. Output: version byte, random 96-bit nonce, ciphertext and
    /// tag. Random nonces are safe here: a key ring sees a handful of encryptions per year, far
    /// from the 2^32 messages where GCM nonce collisions start to matter.
    pub(crate) fn seal(&self, kid: &str, alg: Alg, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.seal_with(&associated_data(kid, alg), plaintext)
    }

    /// Decrypts what [`seal`](Self::seal) produced for the same kid and alg. The kid and alg are
    /// bound as associated data, so a ciphertext copied into another record fails here instead
    /// of silently serving a key under a wrong kid.
    pub(crate) fn open(&self, kid: &str, alg: Alg, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.open_with(&associated_data(kid, alg), sealed).map_err(|e| e.into_record(kid))
    }

    /// Encrypts another secret kept in the database (e.g. the pairwise salt), bound to its
    /// `name` so a ciphertext cannot be moved to another setting or passed off as a key.
    pub(crate) fn seal_setting(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.seal_with(&setting_associated_data(name), plaintext)
    }

    pub(crate) fn open_setting(&self, name: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.open_with(&setting_associated_data(name), sealed)
            .map_err(|_| Error::DecryptSetting { name: name.to_owned() })
    }

    fn seal_with(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| Error::Crypto("random generator failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        let sealed = self.key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut body);
        if sealed.is_err() {
            body.zeroize();
            return Err(Error::Crypto("encryption failed"));
        }
        out.extend_from_slice(&body);
        body.zeroize();
        Ok(out)
    }

    fn open_with(&self, aad: &[u8], sealed: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, OpenError> {
        let (&version, rest) = sealed.split_first().ok_or(OpenError::Format("empty ciphertext"))?;
        if version != FORMAT_V1 {
            return Err(OpenError::Format("unknown encryption format"));
        }
        if rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(OpenError::Format("ciphertext is truncated"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Format("bad nonce"))?;
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let len = self.key.open_in_place(nonce, Aad::from(aad), &mut buf).map_err(|_| OpenError::Auth)?.len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// Why decryption failed: the bytes are not our format, or authentication failed (wrong master
/// key or altered ciphertext). Callers turn it into the error naming what was being opened.
enum OpenError {
    Format(&'static str),
    Auth,
}

impl OpenError {
    fn into_record(self, kid: &str) -> Error {
        match self {
            OpenError::Format(reason) => Error::InvalidRecord { kid: kid.to_owned(), reason },
            OpenError::Auth => Error::Decrypt { kid: kid.to_owned() },
        }
    }
}

fn setting_associated_data(name: &str) -> Vec<u8> {
    format!("xacthuc setting v1|{name}").into_bytes()
}

fn associated_data(kid: &str, alg: Alg) -> Vec<u8> {
    format!("xacthuc signing key v1|{}|{kid}", alg.jose_name()).into_bytes()
}
