//! A real PKCS#11 token for tests: SoftHSM (Debian's softhsm2) with a token of its own in a
//! temporary directory, driven by OpenSC's `pkcs11-tool` as an officer's signing tool would
//! be. The key pair is generated inside the token and never leaves it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "1234";
const SO_PIN: &str = "12345678";
const LABEL: &str = "xacthuc-test";
const KEY_ID: &str = "01";

pub struct Token {
    dir: tempfile::TempDir,
    conf: PathBuf,
}

impl Token {
    /// A fresh token with an EC P-256 key pair, or `None` (outside CI) when SoftHSM or OpenSC
    /// is not installed; under CI their absence fails the test.
    pub fn with_p256_key() -> Option<Self> {
        if !Path::new(MODULE).exists() || !super::have("softhsm2-util") || !tool_present() {
            super::skip_or_fail("softhsm2 and opensc (pkcs11-tool) are not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        let text =
            format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display());
        std::fs::write(&conf, text).unwrap();
        let t = Token { dir, conf };
        t.run("softhsm2-util", &["--init-token", "--free", "--label", LABEL, "--so-pin", SO_PIN, "--pin", PIN]);
        t.pkcs11(&["--login", "--pin", PIN, "--keypairgen", "--key-type", "EC:prime256v1", "--id", KEY_ID]);
        Some(t)
    }

    fn run(&self, program: &str, args: &[&str]) -> Vec<u8> {
        // The configuration goes to the child only: parallel tests each have their own token.
        let out = Command::new(program).args(args).env("SOFTHSM2_CONF", &self.conf).output().unwrap();
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    fn pkcs11(&self, args: &[&str]) -> Vec<u8> {
        let mut all = vec!["--module", MODULE, "--token-label", LABEL];
        all.extend_from_slice(args);
        self.run("pkcs11-tool", &all)
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The token's public key as a PEM SubjectPublicKeyInfo.
    pub fn public_key_pem(&self) -> String {
        let out = self.file("public.der");
        self.pkcs11(&["--read-object", "--type", "pubkey", "--id", KEY_ID, "-o", &out]);
        pem::encode(&pem::Pem::new("PUBLIC KEY", std::fs::read(&out).unwrap()))
    }

    /// Signs `message` inside the token: SHA-256 here, then the token's raw ECDSA over the
    /// digest (`pkcs11-tool --sign --mechanism ECDSA`), which answers r||s.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let (digest, sig) = (self.file("digest.bin"), self.file("signature.bin"));
        std::fs::write(&digest, Sha256::digest(message)).unwrap();
        self.pkcs11(&[
            "--login",
            "--pin",
            PIN,
            "--sign",
            "--mechanism",
            "ECDSA",
            "--id",
            KEY_ID,
            "-i",
            &digest,
            "-o",
            &sig,
        ]);
        std::fs::read(&sig).unwrap()
    }
}

/// `pkcs11-tool` has no `--version`; `--help` exits non-zero, so only its presence is checked.
fn tool_present() -> bool {
    Command::new("pkcs11-tool").arg("--help").output().is_ok()
}
