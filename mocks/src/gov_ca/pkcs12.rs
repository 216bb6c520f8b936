//! A minimal PKCS#12 (RFC 7292) writer: one certificate and its PKCS#8 key, the key encrypted
//! with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), the whole protected by an HMAC-SHA256 MAC.
//! This is the modern profile OpenSSL 3 writes by default; browsers and OS key stores import
//! it. Written by hand on aws-lc-rs primitives to avoid pulling a second crypto stack.

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{AES_256, DecryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::{digest, hmac, pbkdf2, rand};

const ITERATIONS: u32 = 2048;

const OID_DATA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01];
const OID_SHROUDED_KEY_BAG: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x02];
const OID_CERT_BAG: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x0A, 0x01, 0x03];
const OID_X509_CERT: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x16, 0x01];
const OID_LOCAL_KEY_ID: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x15];
const OID_PBES2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D];
const OID_PBKDF2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C];
const OID_HMAC_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09];
const OID_AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}
fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}
fn oid(o: &[u8]) -> Vec<u8> {
    tlv(0x06, o)
}
fn octets(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}
fn explicit0(inner: Vec<u8>) -> Vec<u8> {
    tlv(0xA0, &inner)
}
fn int(n: u32) -> Vec<u8> {
    let mut b: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
    if b.first().is_none_or(|x| x & 0x80 != 0) {
        b.insert(0, 0);
    }
    tlv(0x02, &b)
}
fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}
fn data_content_info(content: &[u8]) -> Vec<u8> {
    seq(&[oid(OID_DATA), explicit0(octets(content))])
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut b = [0u8; N];
    rand::fill(&mut b).map_err(|_| "no randomness".to_string())?;
    Ok(b)
}

/// The PFX (DER) holding `cert_der` and `key_pkcs8_der`, protected by `password`.
pub fn build(cert_der: &[u8], key_pkcs8_der: &[u8], password: &str) -> Result<Vec<u8>, String> {
    let iterations = NonZeroU32::new(ITERATIONS).ok_or("iterations")?;
    // Links the key to its certificate for importers (a hash of the certificate).
    let key_id = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
    let attrs = set(&[seq(&[oid(OID_LOCAL_KEY_ID), set(&[octets(key_id.as_ref())])])]);

    let cert_bag =
        seq(&[oid(OID_CERT_BAG), explicit0(seq(&[oid(OID_X509_CERT), explicit0(octets(cert_der))])), attrs.clone()]);

    // PBES2: the password as UTF-8 (RFC 8018 and OpenSSL 3 agree on this for PBES2).
    let salt: [u8; 16] = random()?;
    let mut key = [0u8; 32];
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, password.as_bytes(), &mut key);
    let cipher = UnboundCipherKey::new(&AES_256, &key).map_err(|_| "AES key")?;
    let cipher = PaddedBlockEncryptingKey::cbc_pkcs7(cipher).map_err(|_| "AES-CBC")?;
    let mut encrypted = key_pkcs8_der.to_vec();
    let iv = match cipher.encrypt(&mut encrypted).map_err(|_| "encryption failed")? {
        DecryptionContext::Iv128(iv) => iv.as_ref().to_vec(),
        _ => return Err("unexpected cipher context".into()),
    };
    let pbes2 = seq(&[
        oid(OID_PBES2),
        seq(&[
            seq(&[oid(OID_PBKDF2), seq(&[octets(&salt), int(ITERATIONS), seq(&[oid(OID_HMAC_SHA256), null()])])]),
            seq(&[oid(OID_AES256_CBC), octets(&iv)]),
        ]),
    ]);
    let key_bag = seq(&[oid(OID_SHROUDED_KEY_BAG), explicit0(seq(&[pbes2, octets(&encrypted)])), attrs]);

    let auth_safe = seq(&[data_content_info(&seq(&[cert_bag])), data_content_info(&seq(&[key_bag]))]);

    let mac_salt: [u8; 16] = random()?;
    let mac_key = pkcs12_kdf_sha256(&bmp_password(password), &mac_salt, ITERATIONS, 3);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &mac_key), &auth_safe);
    let mac_data =
        seq(&[seq(&[seq(&[oid(OID_SHA256), null()]), octets(tag.as_ref())]), octets(&mac_salt), int(ITERATIONS)]);
    Ok(seq(&[int(3), data_content_info(&auth_safe), mac_data]))
}

/// The password as a NUL-terminated big-endian UTF-16 string, as the PKCS#12 KDF wants it.
fn bmp_password(password: &str) -> Vec<u8> {
    let mut out: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    out.extend([0, 0]);
    out
}

/// RFC 7292 appendix B.2 with SHA-256 (u = 32, v = 64), for a 32-byte output (one block).
fn pkcs12_kdf_sha256(password: &[u8], salt: &[u8], iterations: u32, id: u8) -> [u8; 32] {
    const V: usize = 64;
    let fill = |src: &[u8]| -> Vec<u8> {
        if src.is_empty() {
            return Vec::new();
        }
        let n = V * src.len().div_ceil(V);
        src.iter().cycle().take(n).copied().collect()
    };
    let mut input = vec![id; V];
    input.extend(fill(salt));
    input.extend(fill(password));
    let mut a = digest::digest(&digest::SHA256, &input);
    for _ in 1..iterations {
        a = digest::digest(&digest::SHA256, a.as_ref());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(a.as_ref());
    out
}
