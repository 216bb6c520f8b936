//! xacthuc as a relying party of the national e-ID.
//!
//! A login is two calls around the citizen's visit to the e-ID:
//! 1. [`Upstream::begin`] builds the authorize URL (state, nonce, PKCE S256, `acr_values` when
//!    a level is demanded) and a [`PendingUpstream`] the caller keeps in its login transaction;
//! 2. [`Upstream::complete`] checks the returned `state`, redeems the code (private_key_jwt),
//!    validates the ID token and returns the [`EidIdentity`] — or [`Upstream::callback_error`]
//!    when the e-ID sent the citizen back with an error.
//!
//! ID-token validation uses the `openidconnect` crate: signature (RS256 only) against the cached
//! JWKS, refetched once on an unknown `kid`; issuer; audience; expiry and issue time with a
//! bounded clock-skew tolerance; nonce. Then the `acr` must meet what was demanded: a weaker
//! login is never accepted, whatever the e-ID did with `acr_values`.

mod client_auth;
mod error;
mod http;
mod identity;
mod metadata;

use std::time::Duration;

use chrono::Utc;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AuthType, AuthenticationContextClass, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, Client,
    ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IdTokenVerifier, IssuerUrl, LoginHint, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use url::Url;

pub use self::client_auth::{ClientAuthConfig, ClientKey};
pub use self::error::{Unavailability, UpstreamError};
use self::http::{HttpClient, HttpError};
use self::identity::VneidClaims;
pub use self::identity::{AccountType, EidIdentity, EidLogin, OrgIdentity, Representative};
use self::metadata::{EidMetadata, MetadataCache};
use super::AccountLevel;
use super::resilience::{CircuitState, Guard, GuardConfig};
use crate::clock::unix_now;

/// Clock-skew tolerance is capped: a large one would let expired tokens through.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamConfig {
    /// The e-ID's issuer; discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// xacthuc's callback, registered at the e-ID.
    pub redirect_uri: String,
    pub client_auth: ClientAuthConfig,
    /// Timeout, in-flight bound and circuit breaker for every call to the e-ID.
    #[serde(default)]
    pub guard: GuardConfig,
    /// Tolerance for the e-ID's clock on `exp` and `iat`, at most [`MAX_CLOCK_SKEW_SECS`].
    #[serde(default = "default_skew")]
    pub clock_skew_secs: u64,
    /// How long discovery metadata and JWKS are cached.
    #[serde(default = "default_metadata_ttl")]
    pub metadata_ttl_secs: u64,
    /// How long a [`PendingUpstream`] may wait for its callback.
    #[serde(default = "default_login_ttl")]
    pub login_ttl_secs: u64,
    /// Scopes besides `openid`.
    #[serde(default)]
    pub extra_scopes: Vec<String>,
}

fn default_skew() -> u64 {
    60
}
fn default_metadata_ttl() -> u64 {
    3600
}
fn default_login_ttl() -> u64 {
    600
}

impl UpstreamConfig {
    /// A configuration with the defaults for everything but the registration.
    pub fn new(issuer: &str, client_id: &str, redirect_uri: &str, client_auth: ClientAuthConfig) -> Self {
        UpstreamConfig {
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            client_auth,
            guard: GuardConfig::default(),
            clock_skew_secs: default_skew(),
            metadata_ttl_secs: default_metadata_ttl(),
            login_ttl_secs: default_login_ttl(),
            extra_scopes: Vec::new(),
        }
    }
}

/// What `begin` hands the caller to keep until the callback. It holds the PKCE verifier and the
/// nonce, so it belongs in server-side state (the login transaction), never in a URL or an
/// unencrypted cookie.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingUpstream {
    state: String,
    nonce: String,
    pkce_verifier: String,
    acr_min: Option<AccountLevel>,
    /// Unix seconds.
    created_at: i64,
}

impl PendingUpstream {
    /// The `state` sent upstream; the callback carries it back, so a caller may index its
    /// login transactions by it.
    pub fn state(&self) -> &str {
        &self.state
    }

    pub fn acr_min(&self) -> Option<AccountLevel> {
        self.acr_min
    }
}

impl std::fmt::Debug for PendingUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingUpstream")
            .field("acr_min", &self.acr_min)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

type VneidIdTokenFields = IdTokenFields<
    VneidClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type VneidTokenResponse = StandardTokenResponse<VneidIdTokenFields, CoreTokenType>;
type VneidClient = Client<
    VneidClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    VneidTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

enum Auth {
    Key(ClientKey),
    Secret(ClientSecret),
}

/// The e-ID relying party. One per process; share it behind an `Arc`.
pub struct Upstream {
    cfg: UpstreamConfig,
    client_id: ClientId,
    redirect: RedirectUrl,
    auth: Auth,
    http: HttpClient,
    guard: Guard,
    metadata: MetadataCache,
    skew: chrono::Duration,
}

impl Upstream {
    pub fn new(mut cfg: UpstreamConfig) -> Result<Self, UpstreamError> {
        let bad = |what: &str| UpstreamError::Config(what.to_string());
        let issuer =
            IssuerUrl::new(cfg.issuer.trim_end_matches('/').to_string()).map_err(|_| bad("issuer is not a URL"))?;
        let redirect = RedirectUrl::new(cfg.redirect_uri.clone()).map_err(|_| bad("redirect_uri is not a URL"))?;
        if cfg.client_id.is_empty() {
            return Err(bad("client_id is empty"));
        }
        cfg.clock_skew_secs = cfg.clock_skew_secs.min(MAX_CLOCK_SKEW_SECS);
        let auth = match &cfg.client_auth {
            ClientAuthConfig::PrivateKeyJwt { private_key_pem, kid } => Auth::Key(
                ClientKey::from_pem(private_key_pem.expose_secret(), kid.clone()).map_err(UpstreamError::Config)?,
            ),
            ClientAuthConfig::ClientSecretPost { client_secret } => {
                Auth::Secret(ClientSecret::new(client_secret.expose_secret().to_string()))
            }
        };
        Ok(Upstream {
            client_id: ClientId::new(cfg.client_id.clone()),
            redirect,
            auth,
            http: HttpClient::new(cfg.guard.timeout).map_err(UpstreamError::Config)?,
            guard: super::resilience::Guard::new(cfg.guard.clone()),
            metadata: MetadataCache::new(issuer, Duration::from_secs(cfg.metadata_ttl_secs)),
            skew: chrono::Duration::seconds(cfg.clock_skew_secs as i64),
            cfg,
        })
    }

    /// The public JWK set to register at the e-ID for private_key_jwt (`None` with a secret).
    pub fn client_jwks(&self) -> Option<serde_json::Value> {
        match &self.auth {
            Auth::Key(k) => Some(serde_json::json!({ "keys": [k.public_jwk()] })),
            Auth::Secret(_) => None,
        }
    }

    /// State of the circuit breaker towards the e-ID, for health pages and metrics.
    pub fn circuit_state(&self) -> CircuitState {
        self.guard.state()
    }

    /// Starts a login. Fails fast with `Unavailable` while the circuit is open: sending the
    /// citizen to an e-ID known to be down only moves the error page somewhere less helpful.
    pub async fn begin(
        &self,
        acr_min: Option<AccountLevel>,
        login_hint: Option<&str>,
    ) -> Result<(Url, PendingUpstream), UpstreamError> {
        if self.guard.is_open() {
            return Err(UpstreamError::Unavailable(Unavailability::CircuitOpen));
        }
        let eid = self.metadata.get(&self.http, &self.guard).await?;
        let client = self.client(&eid);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.cfg.extra_scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(level) = acr_min {
            // One value: the e-ID treats the weakest listed level as the floor.
            request = request.add_auth_context_value(AuthenticationContextClass::new(level.upstream_acr().into()));
        }
        if let Some(hint) = login_hint.map(str::trim).filter(|h| !h.is_empty()) {
            request = request.set_login_hint(LoginHint::new(hint.to_string()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingUpstream {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            acr_min,
            created_at: unix_now(),
        };
        Ok((url, pending))
    }

    /// Finishes a login from the callback's `code` and `state`.
    pub async fn complete(
        &self,
        pending: &PendingUpstream,
        code: &str,
        returned_state: &str,
    ) -> Result<EidLogin, UpstreamError> {
        self.check_callback(pending, returned_state)?;
        let eid = self.metadata.get(&self.http, &self.guard).await?;
        let response = self.redeem(&eid, pending, code).await?;
        let id_token = response
            .id_token()
            .ok_or_else(|| UpstreamError::InvalidResponse("token response without id_token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match id_token.claims(&self.verifier(&eid), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                // The e-ID rotated its key since we cached the JWKS: refetch once and retry.
                let fresh = self.metadata.refresh_jwks(&eid, &self.http, &self.guard).await?;
                id_token.claims(&self.verifier(&fresh), &nonce).cloned()
            }
            other => other.cloned(),
        }
        .map_err(|e| UpstreamError::TokenRejected(e.to_string()))?;
        // OIDC Core §3.1.3.7 item 5: a present `azp` must be us (the crate leaves this to us).
        if claims.authorized_party().is_some_and(|azp| azp.as_str() != self.client_id.as_str()) {
            return Err(UpstreamError::TokenRejected("azp is another client".into()));
        }
        let login = EidLogin::from_claims(&claims)?;
        if let Some(required) = pending.acr_min
            && login.level() < required
        {
            return Err(UpstreamError::LevelTooLow { required, got: login.level() });
        }
        match &login {
            EidLogin::Citizen(c) => tracing::info!(
                personal_id = %super::mask_personal_id(c.personal_id.as_str()),
                level = ?c.level,
                "e-ID login verified"
            ),
            // A tax code or TechID is public register data, not personal data.
            EidLogin::Organisation(o) => {
                tracing::info!(organisation = o.key(), kind = ?o.account_type, level = ?o.level, "e-ID organisation login verified")
            }
        }
        Ok(login)
    }

    /// The error for a callback carrying `error=…` instead of a code. The state is checked
    /// first, so a forged error callback cannot pass for the e-ID's answer.
    pub fn callback_error(
        &self,
        pending: &PendingUpstream,
        returned_state: &str,
        error: &str,
        description: Option<&str>,
    ) -> UpstreamError {
        if let Err(e) = self.check_callback(pending, returned_state) {
            return e;
        }
        match error {
            "server_error" | "temporarily_unavailable" => {
                UpstreamError::Unavailable(Unavailability::ReportedByUpstream)
            }
            _ => UpstreamError::Denied {
                error: error.chars().filter(|c| c.is_ascii_graphic()).take(64).collect(),
                description: description.map(|d| d.chars().take(256).collect()),
            },
        }
    }

    fn check_callback(&self, pending: &PendingUpstream, returned_state: &str) -> Result<(), UpstreamError> {
        if !bool::from(pending.state.as_bytes().ct_eq(returned_state.as_bytes())) {
            return Err(UpstreamError::StateMismatch);
        }
        let age = unix_now().saturating_sub(pending.created_at);
        if age < -(self.cfg.clock_skew_secs as i64) || age > self.cfg.login_ttl_secs as i64 {
            return Err(UpstreamError::Expired);
        }
        Ok(())
    }

    fn client(&self, eid: &EidMetadata) -> VneidClient {
        let secret = match &self.auth {
            Auth::Secret(s) => Some(s.clone()),
            Auth::Key(_) => None,
        };
        VneidClient::from_provider_metadata(eid.metadata.clone(), self.client_id.clone(), secret)
            .set_redirect_uri(self.redirect.clone())
            .set_auth_type(AuthType::RequestBody)
    }

    fn verifier<'a>(&self, eid: &'a EidMetadata) -> IdTokenVerifier<'a, CoreJsonWebKey> {
        let skew = self.skew;
        IdTokenVerifier::new_public_client(self.client_id.clone(), eid.metadata.issuer().clone(), eid.jwks().clone())
            .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
            // "Now" moved back by the tolerance: a token whose `exp` passed less than `skew` ago
            // (the e-ID's clock is behind ours) is still accepted; one beyond that is not.
            .set_time_fn(move || Utc::now() - skew)
            .set_issue_time_verifier_fn(move |iat| {
                if iat > Utc::now() + skew {
                    Err(format!("issued in the future ({iat}); clock skew beyond tolerance"))
                } else {
                    Ok(())
                }
            })
    }

    async fn redeem(
        &self,
        eid: &EidMetadata,
        pending: &PendingUpstream,
        code: &str,
    ) -> Result<VneidTokenResponse, UpstreamError> {
        let client = self.client(eid);
        let token_endpoint = eid
            .metadata
            .token_endpoint()
            .ok_or_else(|| UpstreamError::InvalidResponse("discovery has no token_endpoint".into()))?
            .to_string();
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| UpstreamError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        if let Auth::Key(key) = &self.auth {
            let assertion = key.assertion(&self.cfg.client_id, &token_endpoint).map_err(UpstreamError::Config)?;
            request = request
                .add_extra_param("client_assertion_type", client_auth::JWT_BEARER)
                .add_extra_param("client_assertion", assertion);
        }
        let result = self.guard.run(request.request_async(&self.http), |e| token_error(e).is_upstream_fault()).await;
        result.map_err(|g| UpstreamError::from(g.map_inner(|e| token_error(&e))))
    }
}

type TokenError = RequestTokenError<HttpError, StandardErrorResponse<CoreErrorResponseType>>;

fn token_error(e: &TokenError) -> UpstreamError {
    match e {
        RequestTokenError::Request(h) => UpstreamError::from(h),
        RequestTokenError::ServerResponse(r) => UpstreamError::CodeRejected {
            error: r.error().as_ref().to_string(),
            description: r.error_description().cloned(),
        },
        RequestTokenError::Parse(p, _) => UpstreamError::InvalidResponse(format!("token response: {p}")),
        RequestTokenError::Other(o) => UpstreamError::InvalidResponse(o.clone()),
    }
}
