//! The relying party proper: discovery, the authorization request, the code exchange with
//! ID-token validation, UserInfo and the RP-initiated logout URL.
//!
//! The `openidconnect` crate does discovery, PKCE, the token request and ID-token validation
//! (signature against JWKS, iss, aud/azp, exp, iat, nonce, allowed algorithms). We add what it
//! leaves to the caller: `at_hash`, the RFC 9207 `iss` response parameter, the requested `acr`,
//! the UserInfo `sub` match, and a JWKS refresh when the provider has rotated keys.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, RedirectUrl,
    RequestTokenError, Scope, TokenResponse,
};
use openidconnect::{AdditionalProviderMetadata, LogoutProviderMetadata, ProviderMetadata};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use super::PortalConfig;
use super::backchannel::Keys;
use super::http::{Http, describe, read_body};
use super::session::{LoggedIn, Pending};

/// What we ask for. `offline_access` is allowed to us but a demo page has no use for refresh.
pub const SCOPES: [&str; 3] = ["profile", "address", "personal_id"];
pub const ORGANISATION_SCOPES: [&str; 2] = ["profile", "organisation"];
/// The level-2 e-ID account class (identity verified in person).
pub const ACR_EID2: &str = "urn:xacthuc:acr:eid2";
/// An enterprise's or organisation's e-ID account, at level 1 or 2.
pub const ACR_ORG: [&str; 2] = ["urn:xacthuc:acr:org-eid1", "urn:xacthuc:acr:org-eid2"];

/// An officer's certificate login.
pub const ACR_OFFICER_CERT: &str = "urn:xacthuc:acr:officer-cert";

/// Whom the person logs in as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKind {
    Citizen,
    /// A citizen with a level-2 e-ID account.
    CitizenLevel2,
    /// An enterprise or organisation, with its data under the `organisation` scope.
    Organisation,
    /// An officer with a digital-signature certificate (the ID token names the certificate).
    OfficerCert,
}

impl LoginKind {
    /// An organisation has no personal ID or residence; it has its own data.
    fn scopes(self) -> &'static [&'static str] {
        match self {
            LoginKind::Organisation => &ORGANISATION_SCOPES,
            // An officer has no residence or citizen data here: their name.
            LoginKind::OfficerCert => &["profile"],
            _ => &SCOPES,
        }
    }

    fn acr_values(self) -> Vec<String> {
        match self {
            LoginKind::Citizen => Vec::new(),
            LoginKind::CitizenLevel2 => vec![ACR_EID2.to_owned()],
            LoginKind::Organisation => ACR_ORG.map(str::to_owned).to_vec(),
            LoginKind::OfficerCert => vec![ACR_OFFICER_CERT.to_owned()],
        }
    }
}
/// Discovery is re-fetched after this long, so configuration changes reach a running portal.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` triggers a JWKS fetch at most this often, so forged tokens cannot make us
/// hammer the provider.
const JWKS_MIN_INTERVAL: Duration = Duration::from_secs(5);

/// The RFC 9207 flag, which the crate's typed metadata does not carry.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IssParameter {
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}
impl AdditionalProviderMetadata for IssParameter {}

/// Core metadata plus `end_session_endpoint` (RP-Initiated Logout) and the RFC 9207 flag.
pub type Metadata = ProviderMetadata<
    LogoutProviderMetadata<IssParameter>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The provider as last discovered.
pub struct Op {
    pub metadata: Metadata,
    pub keys: Keys,
    fetched: Instant,
    keys_fetched: Instant,
}

/// Why a step failed, in terms the page can show.
#[derive(Debug)]
pub enum PortalError {
    /// The provider cannot be reached or answered nonsense (retry later).
    Unavailable(String),
    /// The provider answered with an OAuth error.
    OAuth { error: String, description: Option<String> },
    /// What came back failed validation; never trust it.
    Invalid(String),
}

pub struct Rp {
    pub cfg: PortalConfig,
    pub http: Http,
    op: RwLock<Option<Arc<Op>>>,
    /// Held while fetching, so concurrent first requests make one discovery, not many.
    refreshing: Mutex<()>,
}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

impl Rp {
    pub fn new(cfg: PortalConfig) -> Self {
        Self { cfg, http: Http::new(), op: RwLock::new(None), refreshing: Mutex::new(()) }
    }

    /// The discovered provider, fetching it on first use and when stale. A failure is not
    /// remembered: the next request tries again (the provider may simply not be up yet).
    pub async fn op(&self) -> Result<Arc<Op>, PortalError> {
        if let Some(op) = self.op.read().await.as_ref().filter(|o| o.fetched.elapsed() < METADATA_TTL) {
            return Ok(op.clone());
        }
        let _guard = self.refreshing.lock().await;
        if let Some(op) = self.op.read().await.as_ref().filter(|o| o.fetched.elapsed() < METADATA_TTL) {
            return Ok(op.clone());
        }
        let issuer = IssuerUrl::new(self.cfg.issuer.clone()).map_err(|e| PortalError::Invalid(e.to_string()))?;
        // Checks that the document's `issuer` is exactly ours (Discovery §4.3) and fetches JWKS.
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| PortalError::Unavailable(format!("discovery failed: {e}")))?;
        let raw = self.fetch_jwks(&metadata).await?;
        let keys = Keys::parse(&raw).map_err(PortalError::Invalid)?;
        let metadata = metadata.set_jwks(parse_oidc_jwks(&raw)?);
        let now = Instant::now();
        let op = Arc::new(Op { metadata, keys, fetched: now, keys_fetched: now });
        *self.op.write().await = Some(op.clone());
        Ok(op)
    }

    /// Re-fetches JWKS after an unknown `kid`: the provider rotates keys and old caches miss the
    /// new one. Returns the current view (unchanged when fetched too recently).
    pub async fn refresh_keys(&self) -> Result<Arc<Op>, PortalError> {
        let current = self.op().await?;
        let _guard = self.refreshing.lock().await;
        if let Some(op) = self.op.read().await.as_ref()
            && (op.keys_fetched.elapsed() < JWKS_MIN_INTERVAL || !Arc::ptr_eq(op, &current))
        {
            return Ok(op.clone());
        }
        let raw = self.fetch_jwks(&current.metadata).await?;
        let keys = Keys::parse(&raw).map_err(PortalError::Invalid)?;
        let metadata = current.metadata.clone().set_jwks(parse_oidc_jwks(&raw)?);
        let op = Arc::new(Op { metadata, keys, fetched: current.fetched, keys_fetched: Instant::now() });
        *self.op.write().await = Some(op.clone());
        Ok(op)
    }

    async fn fetch_jwks(&self, metadata: &Metadata) -> Result<Vec<u8>, PortalError> {
        let url = metadata.jwks_uri().url().clone();
        let resp = self
            .http
            .0
            .get(url)
            .send()
            .await
            .map_err(|e| PortalError::Unavailable(format!("JWKS: {}", describe(&e))))?;
        if !resp.status().is_success() {
            return Err(PortalError::Unavailable(format!("JWKS: HTTP {}", resp.status().as_u16())));
        }
        read_body(resp).await.map_err(|e| PortalError::Unavailable(format!("JWKS: {e}")))
    }

    fn client(&self, op: &Op) -> Result<Client, PortalError> {
        let redirect = RedirectUrl::new(self.cfg.redirect_uri()).map_err(|e| PortalError::Invalid(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            op.metadata.clone(),
            ClientId::new(self.cfg.client_id.clone()),
            Some(ClientSecret::new(self.cfg.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The authorization request URL plus what `/callback` needs to check the answer.
    pub async fn authorization_url(
        &self,
        kind: LoginKind,
        lang: &'static str,
    ) -> Result<(String, Pending), PortalError> {
        let op = self.op().await?;
        let client = self.client(&op)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scopes(kind.scopes().iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .add_extra_param("ui_locales", lang);
        let acr_accepted = kind.acr_values();
        for acr in &acr_accepted {
            req = req.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
        let (url, state, nonce) = req.url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            acr_accepted,
            lang,
            started: Instant::now(),
        };
        Ok((url.to_string(), pending))
    }

    /// Checks the RFC 9207 `iss` response parameter: when the provider says it sends one, it
    /// must be there and be our issuer (defends against mix-up attacks).
    pub async fn check_response_iss(&self, iss: Option<&str>) -> Result<(), PortalError> {
        let op = self.op().await?;
        let advertised =
            op.metadata.additional_metadata().additional_metadata.authorization_response_iss_parameter_supported;
        match iss {
            Some(i) if i == op.metadata.issuer().as_str() => Ok(()),
            Some(_) => Err(PortalError::Invalid("the response's iss is not our provider".into())),
            // RFC 9207 §2.4: a provider that advertises the parameter must send it.
            None if advertised => Err(PortalError::Invalid("the response lacks the iss parameter".into())),
            None => Ok(()),
        }
    }

    /// Exchanges the code and validates everything that came back.
    pub async fn finish_login(&self, code: &str, pending: &Pending) -> Result<LoggedIn, PortalError> {
        let op = self.op().await?;
        let client = self.client(&op)?;
        let resp: CoreTokenResponse = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| PortalError::Invalid(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let id_token =
            resp.id_token().ok_or_else(|| PortalError::Invalid("the token response has no id_token".into()))?;
        let op = match self.validate_id_token(&op, id_token, &resp, pending) {
            Err(PortalError::Invalid(m)) if m.starts_with(NO_KEY) => {
                let op = self.refresh_keys().await?;
                self.validate_id_token(&op, id_token, &resp, pending)?;
                op
            }
            other => {
                other?;
                op
            }
        };
        let raw = id_token.to_string();
        let id_claims = verified_payload(&raw)?;
        let sub = id_claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
        let access_token = resp.access_token().secret().clone();
        let (userinfo, userinfo_error) = match self.userinfo(&op, &access_token, &sub).await {
            Ok(u) => (u, None),
            Err(e) => (None, Some(describe_error(&e))),
        };
        Ok(LoggedIn {
            id_token: raw,
            sid: id_claims.get("sid").and_then(Value::as_str).map(str::to_owned),
            acr: id_claims.get("acr").and_then(Value::as_str).map(str::to_owned),
            sub,
            id_claims,
            userinfo,
            userinfo_error,
        })
    }

    fn validate_id_token(
        &self,
        op: &Op,
        id_token: &CoreIdToken,
        resp: &CoreTokenResponse,
        pending: &Pending,
    ) -> Result<(), PortalError> {
        let client = self.client(op)?;
        let accepted = pending.acr_accepted.clone();
        let verifier: CoreIdTokenVerifier = client.id_token_verifier().set_auth_context_verifier_fn(move |acr| {
            // A service that asked for a citizen at level 2 must get exactly that: e-ID level 2
            // is the strongest citizen level, and an officer's or an enterprise's login is not a
            // citizen's.
            match acr {
                _ if accepted.is_empty() => Ok(()),
                Some(got) if accepted.iter().any(|a| a == got.as_str()) => Ok(()),
                got => Err(format!("asked for {accepted:?}, got {}", got.map(|a| a.as_str()).unwrap_or("none"))),
            }
        });
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = id_token.claims(&verifier, &nonce).map_err(|e| match e {
            openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            ) => PortalError::Invalid(NO_KEY.into()),
            other => PortalError::Invalid(format!("ID token rejected: {other}")),
        })?;
        // at_hash binds the access token to this ID token (Core §3.1.3.6); optional for the code
        // flow, but when present it must match.
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| PortalError::Invalid(e.to_string()))?;
            let key = id_token.signing_key(&verifier).map_err(|e| PortalError::Invalid(e.to_string()))?;
            let actual = AccessTokenHash::from_token(resp.access_token(), alg, key)
                .map_err(|e| PortalError::Invalid(e.to_string()))?;
            if actual != *expected {
                return Err(PortalError::Invalid("ID token at_hash does not match the access token".into()));
            }
        }
        Ok(())
    }

    /// UserInfo as raw JSON, so every claim the provider released is shown, including ones the
    /// crate's typed claims would drop. Its `sub` must be the ID token's (Core §5.3.2).
    async fn userinfo(
        &self,
        op: &Op,
        access_token: &str,
        sub: &str,
    ) -> Result<Option<Map<String, Value>>, PortalError> {
        let Some(url) = op.metadata.userinfo_endpoint() else { return Ok(None) };
        let resp = self
            .http
            .0
            .get(url.url().clone())
            .bearer_auth(access_token)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| PortalError::Unavailable(format!("UserInfo: {}", describe(&e))))?;
        let status = resp.status();
        let body = read_body(resp).await.map_err(|e| PortalError::Unavailable(format!("UserInfo: {e}")))?;
        let json: Value =
            serde_json::from_slice(&body).map_err(|_| PortalError::Invalid("UserInfo is not JSON".into()))?;
        if !status.is_success() {
            return Err(
                oauth_error(&json).unwrap_or(PortalError::Unavailable(format!("UserInfo: HTTP {}", status.as_u16())))
            );
        }
        let Value::Object(map) = json else { return Err(PortalError::Invalid("UserInfo is not a JSON object".into())) };
        if map.get("sub").and_then(Value::as_str) != Some(sub) {
            return Err(PortalError::Invalid("UserInfo sub differs from the ID token's".into()));
        }
        Ok(Some(map))
    }

    /// Where to send the browser for RP-initiated logout, and the `state` it will bring back.
    pub async fn logout_url(&self, id_token: &str, lang: &str) -> Result<Option<(String, String)>, PortalError> {
        let op = self.op().await?;
        let Some(endpoint) = op.metadata.additional_metadata().end_session_endpoint.clone() else { return Ok(None) };
        let hint: CoreIdToken =
            id_token.parse().map_err(|_| PortalError::Invalid("stored ID token unreadable".into()))?;
        let post = PostLogoutRedirectUrl::new(self.cfg.post_logout_redirect_uri())
            .map_err(|e| PortalError::Invalid(e.to_string()))?;
        let state = CsrfToken::new_random();
        let mut url = LogoutRequest::from(endpoint)
            .set_id_token_hint(&hint)
            .set_post_logout_redirect_uri(post)
            .set_state(state.clone())
            .http_get_url();
        url.query_pairs_mut().append_pair("ui_locales", lang);
        Ok(Some((url.to_string(), state.secret().clone())))
    }
}

const NO_KEY: &str = "no JWKS key matches the ID token";

fn parse_oidc_jwks(raw: &[u8]) -> Result<CoreJsonWebKeySet, PortalError> {
    serde_json::from_slice(raw).map_err(|e| PortalError::Invalid(format!("JWKS unreadable: {e}")))
}

/// The payload of a JWT whose signature was verified just before; decoded again only to show
/// every claim as sent.
fn verified_payload(jwt: &str) -> Result<Map<String, Value>, PortalError> {
    let payload = jwt.split('.').nth(1).ok_or_else(|| PortalError::Invalid("malformed ID token".into()))?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| PortalError::Invalid("malformed ID token".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| PortalError::Invalid("malformed ID token".into()))
}

fn token_error<E: std::error::Error>(
    e: RequestTokenError<E, openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>>,
) -> PortalError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            PortalError::OAuth { error: r.error().as_ref().to_owned(), description: r.error_description().cloned() }
        }
        RequestTokenError::Request(e) => PortalError::Unavailable(format!("token endpoint: {e}")),
        RequestTokenError::Parse(e, _) => PortalError::Invalid(format!("token response unreadable: {e}")),
        RequestTokenError::Other(m) => PortalError::Invalid(m),
    }
}

fn oauth_error(v: &Value) -> Option<PortalError> {
    let error = v.get("error")?.as_str()?.to_owned();
    let description = v.get("error_description").and_then(Value::as_str).map(str::to_owned);
    Some(PortalError::OAuth { error, description })
}

pub fn describe_error(e: &PortalError) -> String {
    match e {
        PortalError::Unavailable(m) | PortalError::Invalid(m) => m.clone(),
        PortalError::OAuth { error, description } => match description {
            Some(d) => format!("{error}: {d}"),
            None => error.clone(),
        },
    }
}
