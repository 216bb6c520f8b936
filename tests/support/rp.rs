//! A relying party's side of the protocol, for tests that drive several clients: its
//! registration, its authorization URL (code + PKCE) and its calls to the token endpoint.
#![allow(dead_code)]

use std::sync::Arc;

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use xacthuc::crypto::sha256_hex;
use xacthuc::oidc::clients::{AuthMethod, Client};

use super::browser::Browser;
use super::op::{TestOp, http};

/// A JWT's claims, verified with the JWKS fetched over HTTP as a relying party would, by an
/// independent library.
pub async fn verified_claims(op: &TestOp, token: &str, aud: &str) -> Value {
    verified_with(op, token, aud, |_| {}).await
}

/// The same for a Security Event Token (RFC 8417), which carries no `exp`.
pub async fn verified_set(op: &TestOp, token: &str, aud: &str) -> Value {
    verified_with(op, token, aud, |v| {
        v.validate_exp = false;
        v.required_spec_claims = ["iss", "aud"].into_iter().map(String::from).collect();
    })
    .await
}

async fn verified_with(
    op: &TestOp,
    token: &str,
    aud: &str,
    tweak: impl FnOnce(&mut jsonwebtoken::Validation),
) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("JWT header");
    let jwks: jsonwebtoken::jwk::JwkSet =
        http().get(op.url("/jwks")).send().await.expect("JWKS").json().await.expect("JWKS JSON");
    let jwk = jwks.find(header.kid.as_deref().expect("kid")).expect("kid in JWKS");
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[aud]);
    v.set_issuer(&[&op.config.issuer]);
    tweak(&mut v);
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("JWK");
    jsonwebtoken::decode::<Value>(token, &key, &v).expect("valid JWT").claims
}

/// An access token from the client_credentials grant (client_secret_basic).
pub async fn client_credentials_token(op: &TestOp, client_id: &str, secret: &str, scope: &str) -> String {
    let t: Value = http()
        .post(op.url("/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    t["access_token"].as_str().unwrap_or_else(|| panic!("a token: {t}")).to_owned()
}

pub const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9.qwertyuiopasdfghjklzxcvbnm0123456789";

/// A confidential client (client_secret_basic) with one redirect URI on a host of its own.
#[derive(Clone)]
pub struct Rp {
    pub id: String,
    pub secret: String,
    pub redirect: String,
}

impl Rp {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.into(),
            secret: format!("{id}-secret-value-123"),
            redirect: format!("https://{id}.example.vn/cb"),
        }
    }

    /// Its registration: every citizen scope, refresh tokens living an hour.
    pub fn client(&self) -> Client {
        Client {
            secret_hash: Some(sha256_hex(&self.secret)),
            scopes: ["openid", "profile", "address", "personal_id", "offline_access"].map(String::from).to_vec(),
            refresh_token_ttl_secs: 3600,
            ..Client::new(
                &self.id,
                &format!("Test {}", self.id),
                AuthMethod::ClientSecretBasic,
                vec![self.redirect.clone()],
            )
        }
    }

    pub async fn register(&self, op: &TestOp, client: &Client) {
        op.state.db.put_client(client, 0).await.expect("register client");
        op.state.oidc.clients.invalidate(&client.client_id);
    }

    /// `/authorize` with code + PKCE; `extra` parameters replace the defaults.
    pub fn auth_url(&self, op: &TestOp, extra: &[(&str, &str)]) -> String {
        self.auth_url_at(&op.base, extra)
    }

    /// The same at the provider instance `base` (another replica behind the issuer).
    pub fn auth_url_at(&self, base: &str, extra: &[(&str, &str)]) -> String {
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", &self.id),
            ("redirect_uri", &self.redirect),
            ("response_type", "code"),
            ("scope", "openid profile offline_access"),
            ("state", "s-1"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        params.extend_from_slice(extra);
        let mut u = url::Url::parse(&format!("{base}/authorize")).expect("authorize URL");
        u.query_pairs_mut().extend_pairs(params);
        u.to_string()
    }

    /// A code from the browser's existing session, with no page shown (prompt=none).
    pub async fn code_from_session(&self, op: &TestOp, b: &Browser, extra: &[(&str, &str)]) -> String {
        let mut extra = extra.to_vec();
        extra.push(("prompt", "none"));
        let r = b.http.get(self.auth_url(op, &extra)).send().await.expect("authorize");
        let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let params: std::collections::HashMap<String, String> =
            url::Url::parse(&loc).map(|u| u.query_pairs().into_owned().collect()).unwrap_or_default();
        params.get("code").cloned().unwrap_or_else(|| panic!("no code from the session: {loc}"))
    }

    /// A token request authenticated as this client.
    pub async fn token(&self, op: &TestOp, form: &[(&str, &str)]) -> reqwest::Response {
        http().post(op.url("/token")).basic_auth(&self.id, Some(&self.secret)).form(form).send().await.expect("token")
    }

    /// Redeems `owner`'s code, authenticated as this client (the owner itself, or a thief).
    pub async fn redeem_for(&self, op: &TestOp, owner: &Rp, code: &str) -> reqwest::Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", owner.redirect.as_str()),
            ("code_verifier", VERIFIER),
        ];
        self.token(op, &form).await
    }

    pub async fn redeem(&self, op: &TestOp, code: &str) -> reqwest::Response {
        self.redeem_for(op, self, code).await
    }

    pub async fn refresh(&self, op: &TestOp, refresh_token: &str) -> reqwest::Response {
        self.token(op, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    /// `n` refreshes with one token, all at once; each answer's status and body.
    pub async fn refresh_concurrently(&self, op: &TestOp, refresh_token: &str, n: usize) -> Vec<(u16, Value)> {
        let client = http();
        let rt: Arc<str> = refresh_token.into();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (c, url, rt, me) = (client.clone(), op.url("/token"), rt.clone(), self.clone());
                tokio::spawn(async move {
                    let r = c
                        .post(url)
                        .basic_auth(&me.id, Some(&me.secret))
                        .form(&[("grant_type", "refresh_token"), ("refresh_token", &*rt)])
                        .send()
                        .await
                        .expect("refresh");
                    (r.status().as_u16(), r.json::<Value>().await.expect("JSON answer"))
                })
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for t in tasks {
            out.push(t.await.expect("refresh task"));
        }
        out
    }
}
