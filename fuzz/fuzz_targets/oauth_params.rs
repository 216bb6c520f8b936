//! The authorize (and PAR, token) parameters as they arrive: the form/query parser, then the
//! authorization-request validation (redirect URI, scopes, PKCE, prompt, max_age, the `claims`
//! JSON), for a plain and a PAR-only client. Also the PKCE verifier check.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use xacthuc::oidc::clients::{AuthMethod, Client};
use xacthuc::oidc::{extract, request};

static CLIENTS: LazyLock<[Client; 2]> = LazyLock::new(|| {
    let mut plain = Client::new("rp", "RP", AuthMethod::None, vec!["https://rp.example.vn/cb".into()]);
    plain.scopes = ["openid", "profile", "email", "phone", "personal_id", "offline_access"].map(String::from).to_vec();
    let mut par = plain.clone();
    par.client_id = "par".into();
    par.require_pushed_authorization_requests = true;
    [plain, par]
});

fuzz_target!(|data: &[u8]| {
    let Ok(params) = extract::parse(data) else { return };
    for client in CLIENTS.iter() {
        let _ = request::redirect_uri_for(client, &params);
        let _ = request::parse(client, &params, false);
        let _ = request::parse(client, &params, true);
    }
    if let (Some(v), Some(c)) = (params.get("code_verifier"), params.get("code_challenge")) {
        let _ = request::verify_pkce(v, c);
    }
});
