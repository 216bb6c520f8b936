//! OpenID Provider metadata (OIDC Discovery §3, RFC 8414). Every advertised feature works: the
//! lists below are the ones the endpoints enforce.

use serde_json::{Value, json};

use super::clients::AuthMethod;
use super::provider::Provider;

pub fn metadata(p: &Provider) -> Value {
    let e = |path: &str| p.endpoint(path);
    let algs: Vec<&str> = p.keys.signing_algs().iter().map(|a| a.jose_name()).collect();
    let mut m = json!({
        "issuer": p.issuer,
        "authorization_endpoint": e("/authorize"),
        "token_endpoint": e("/token"),
        "userinfo_endpoint": e("/userinfo"),
        "jwks_uri": e("/jwks"),
        "end_session_endpoint": e("/logout"),
        "introspection_endpoint": e("/introspect"),
        "revocation_endpoint": e("/revoke"),
        "pushed_authorization_request_endpoint": e("/par"),
        "require_pushed_authorization_requests": false,
        "request_parameter_supported": true,
        "request_uri_parameter_supported": false,
        "request_object_signing_alg_values_supported": ["ES256", "RS256", "PS256", "EdDSA"],
        "scopes_supported": p.scopes.names(),
        "claims_supported": p.scopes.supported_claims(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": AuthMethod::ALL,
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256", "EdDSA"],
        "introspection_endpoint_auth_methods_supported": AuthMethod::ALL,
        "revocation_endpoint_auth_methods_supported": AuthMethod::ALL,
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": p.acr.values(),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["vi", "en"],
        "claims_parameter_supported": true,
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        // RFC 9449 §5.1 (DPoP; see src/oidc/dpop.rs).
        "dpop_signing_alg_values_supported": super::dpop::ALGS,
    });
    super::encryption::advertise(&mut m, &algs);
    m
}
