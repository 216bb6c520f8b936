//! Officer passwords: argon2id with configurable parameters (OWASP: m=19 MiB, t=2, p=1),
//! computed off the async workers and at most N at once, so a burst of logins can neither
//! exhaust memory nor starve the runtime; and a strength policy from zxcvbn.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};
use zeroize::Zeroizing;

use crate::web::page::Lang;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 parameters: {0}")]
    Params(String),
    #[error("password hashing failed")]
    Failed,
}

/// The outcome of a verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    /// The stored hash was made with other parameters: hash again and store.
    pub rehash: bool,
}

/// Hashes and verifies passwords behind a semaphore.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of nothing, verified against when the username is unknown, so that an unknown
    /// username costs exactly what a known one does.
    dummy: Arc<OnceCell<String>>,
}

impl Hasher {
    /// `max_parallel` 0 means the number of CPUs.
    pub fn new(m_kib: u32, t: u32, p: u32, max_parallel: usize) -> Result<Self, HashError> {
        let params = Params::new(m_kib, t, p, None).map_err(|e| HashError::Params(e.to_string()))?;
        let n =
            if max_parallel == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { max_parallel };
        Ok(Self { params, permits: Arc::new(Semaphore::new(n)), dummy: Arc::new(OnceCell::new()) })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC parameter segment this hasher writes, e.g. `m=19456,t=2,p=1`.
    fn phc_params(&self) -> String {
        format!("m={},t={},p={}", self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
    }

    /// Runs `f` on the blocking pool once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Failed)?;
        let argon2 = self.argon2();
        tokio::task::spawn_blocking(move || f(argon2)).await.map_err(|_| HashError::Failed)
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
        self.run(move |a| a.hash_password_with_salt(&password, &salt).map(|h| h.to_string()))
            .await?
            .map_err(|_| HashError::Failed)
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is none (an
    /// unknown username, or no password set yet): the answer is then always "no", at the same
    /// cost.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verified, HashError> {
        let (target, real) = match stored {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy().await?, false),
        };
        let rehash = real && !self.is_current(&target);
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let matched = self.run(move |a| a.verify_password(&password, target.as_str()).is_ok()).await?;
        Ok(Verified { ok: matched && real, rehash: matched && rehash })
    }

    async fn dummy(&self) -> Result<String, HashError> {
        self.dummy.get_or_try_init(|| self.hash("xacthuc-no-such-officer")).await.cloned()
    }

    /// Whether `hash` is argon2id with this hasher's parameters.
    fn is_current(&self, hash: &str) -> bool {
        let mut parts = hash.split('$');
        let (_, alg, _version, params) = (parts.next(), parts.next(), parts.next(), parts.next());
        alg == Some("argon2id") && params == Some(self.phc_params().as_str())
    }
}

/// Why a new password is refused, in the officer's language.
pub fn weakness(password: &str, user_inputs: &[&str], lang: Lang) -> Option<String> {
    let len = password.chars().count();
    if len < 10 {
        return Some(lang.t("Mật khẩu cần ít nhất 10 ký tự.", "The password needs at least 10 characters.").into());
    }
    if len > 128 {
        return Some(lang.t("Mật khẩu dài tối đa 128 ký tự.", "The password may have at most 128 characters.").into());
    }
    // The username and the officer's name are penalised: a password built from them is weak,
    // also typed without diacritics or spaces ("levandat" for "Lê Văn Đạt").
    let mut inputs: Vec<String> = Vec::new();
    for s in user_inputs {
        let folded = vn_identity::fold_name(s).to_lowercase();
        inputs.extend(s.split_whitespace().map(str::to_lowercase));
        inputs.extend(folded.split_whitespace().map(str::to_owned));
        inputs.push(folded.replace(' ', ""));
        inputs.extend(s.split(['.', '_', '-']).map(str::to_lowercase));
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).filter(|s| !s.is_empty()).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if (estimate.score() as u8) >= 3 {
        return None;
    }
    Some(
        lang.t(
            "Mật khẩu quá dễ đoán. Hãy dùng một cụm nhiều từ không liên quan, không chứa tên hay mã cán bộ của bạn.",
            "The password is too easy to guess. Use several unrelated words, without your name or officer code.",
        )
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Hasher {
        Hasher::new(64, 1, 1, 2).expect("params")
    }

    #[tokio::test]
    async fn verifies_and_asks_for_a_rehash_when_parameters_change() {
        let h = fast();
        let stored = h.hash("a long enough passphrase").await.expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{stored}");
        assert_eq!(
            h.verify("a long enough passphrase", Some(&stored)).await.unwrap(),
            Verified { ok: true, rehash: false }
        );
        assert!(!h.verify("wrong", Some(&stored)).await.unwrap().ok);
        let stronger = Hasher::new(128, 1, 1, 2).expect("params");
        assert_eq!(
            stronger.verify("a long enough passphrase", Some(&stored)).await.unwrap(),
            Verified { ok: true, rehash: true }
        );
        // A wrong password never triggers a rehash, and no stored hash never verifies.
        assert!(!stronger.verify("wrong", Some(&stored)).await.unwrap().rehash);
        assert!(!h.verify("xacthuc-no-such-officer", None).await.unwrap().ok);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_n_hashes_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let h = Hasher::new(64, 1, 1, 2).expect("params");
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (h, now, peak) = (h.clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    h.run(move |_| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("join").expect("run");
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2, "two permits: two at once, never more");
    }

    #[test]
    fn strength_policy() {
        assert!(weakness("short", &[], Lang::En).is_some());
        assert!(weakness("password123", &[], Lang::En).is_some());
        assert!(weakness("nguyenvana2024", &["nguyenvana", "Nguyễn Văn A"], Lang::Vi).is_some());
        assert!(weakness("levandat2024", &["cb.dat", "Lê Văn Đạt"], Lang::Vi).is_some(), "the name without diacritics");
        assert!(weakness("correct horse battery staple tây hồ", &["nguyenvana"], Lang::En).is_none());
    }
}
