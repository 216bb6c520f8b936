//! Token minting: ID tokens (OIDC Core §2), RFC 9068 JWT access tokens and the token response.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::clients::Client;
use super::grants::Grant;
use super::provider::Provider;
use crate::accounts::Account;
use crate::clock::unix_now;
use crate::crypto::random_token;
use crate::tokens::{Alg, token_hash};

#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Access tokens are signed with ES256: relying parties verify them offline against JWKS.
const ACCESS_TOKEN_ALG: Alg = Alg::Es256;

/// `dpop_jkt`: the key the token is bound to (RFC 9449 §6, `cnf.jkt`), if any.
pub fn access_token(
    p: &Provider,
    client: &Client,
    grant: &Grant,
    sub: &str,
    dpop_jkt: Option<&str>,
) -> Result<String, crate::tokens::Error> {
    let iat = unix_now();
    let mut c = Map::new();
    c.insert("iss".into(), json!(p.issuer));
    c.insert("sub".into(), json!(sub));
    // The audience is the provincial API family the client calls; with no resource indicators
    // it is the client itself plus our userinfo endpoint.
    c.insert("aud".into(), json!([client.client_id, p.endpoint("/userinfo")]));
    c.insert("client_id".into(), json!(client.client_id));
    c.insert("iat".into(), json!(iat));
    c.insert("exp".into(), json!(iat + client.access_token_ttl_secs as i64));
    c.insert("jti".into(), json!(random_token()));
    c.insert("scope".into(), json!(grant.scopes.join(" ")));
    c.insert("gid".into(), json!(grant.id));
    if let Some(t) = grant.auth_time {
        c.insert("auth_time".into(), json!(t));
    }
    if let Some(acr) = &grant.acr {
        c.insert("acr".into(), json!(acr));
    }
    if !grant.amr.is_empty() {
        c.insert("amr".into(), json!(grant.amr));
    }
    if let Some(jkt) = dpop_jkt {
        c.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    p.keys.sign_jwt(ACCESS_TOKEN_ALG, "at+jwt", &Value::Object(c))
}

pub struct IdTokenInput<'a> {
    pub client: &'a Client,
    pub grant: &'a Grant,
    pub sub: &'a str,
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub account: Option<&'a Account>,
}

pub fn id_token(p: &Provider, i: IdTokenInput<'_>) -> Result<String, crate::tokens::Error> {
    let alg = p.id_token_alg(i.client);
    let iat = unix_now();
    let mut c = Map::new();
    c.insert("iss".into(), json!(p.issuer));
    c.insert("sub".into(), json!(i.sub));
    c.insert("aud".into(), json!(i.client.client_id));
    c.insert("azp".into(), json!(i.client.client_id));
    c.insert("iat".into(), json!(iat));
    c.insert("exp".into(), json!(iat + i.client.id_token_ttl_secs as i64));
    if let Some(t) = i.grant.auth_time {
        c.insert("auth_time".into(), json!(t));
    }
    if let Some(n) = i.nonce {
        c.insert("nonce".into(), json!(n));
    }
    if let Some(acr) = &i.grant.acr {
        c.insert("acr".into(), json!(acr));
    }
    if !i.grant.amr.is_empty() {
        c.insert("amr".into(), json!(i.grant.amr));
    }
    if let Some(t) = &i.grant.cert_thumbprint {
        c.insert(super::claims::CERT_THUMBPRINT_CLAIM.into(), json!(t));
    }
    if let Some(sid) = &i.grant.sid {
        // Each client sees its own derivation of the session id, never the internal one.
        c.insert("sid".into(), json!(p.client_sid(&i.client.client_id, sid)));
    }
    if let Some(at) = i.access_token {
        c.insert("at_hash".into(), json!(token_hash(alg, at)));
    }
    // Claims go in the ID token too, so clients that skip userinfo still get what was consented.
    if let Some(account) = i.account {
        for (k, v) in p.released(i.client, &account.profile, &i.grant.scopes) {
            c.entry(k).or_insert(v);
        }
    }
    p.keys.sign_jwt(alg, "JWT", &Value::Object(c))
}
