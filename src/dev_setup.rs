//! What development mode adds around the provider: the national-system mocks in-process and
//! the demo relying party registered. None of this runs in production.

use xacthuc_mocks::{GovCaConfig, MocksConfig, PopulationConfig, RunningMocks, VneidClient, VneidConfig};

use crate::config::Config;
use crate::oidc::clients::{AuthMethod, Client, GrantType, SubjectType, hash_secret};
use crate::store::{Db, DbError};

pub const PORTAL_CLIENT_ID: &str = "demo-portal";
/// The e-ID mock knows xacthuc as this client.
pub const VNEID_CLIENT_ID: &str = "xacthuc";
pub const VNEID_DEV_SECRET: &str = "xacthuc-dev-secret";
pub const POPULATION_DEV_KEY: &str = "xacthuc-dev-population-key";

fn localhost(port: u16) -> String {
    format!("http://localhost:{port}")
}

pub fn mocks_config(config: &Config) -> MocksConfig {
    let issuer = config.issuer.trim_end_matches('/');
    MocksConfig {
        data_dir: config.data_dir.join("mocks"),
        vneid: VneidConfig {
            issuer: localhost(config.mock_vneid_port),
            port: config.mock_vneid_port,
            clients: vec![VneidClient {
                client_id: VNEID_CLIENT_ID.into(),
                redirect_uris: vec![format!("{issuer}/callback/vneid")],
                client_secret: Some(VNEID_DEV_SECRET.into()),
                jwks: None,
            }],
            ..VneidConfig::default()
        },
        population: PopulationConfig {
            port: config.mock_population_port,
            api_keys: vec![POPULATION_DEV_KEY.into()],
            ..PopulationConfig::default()
        },
        gov_ca: GovCaConfig {
            port: config.mock_gov_ca_port,
            public_url: localhost(config.mock_gov_ca_port),
            data_dir: None,
        },
        citizens: config.dev_citizens,
        ..MocksConfig::default()
    }
}

pub async fn start_mocks(config: &Config) -> anyhow::Result<RunningMocks> {
    xacthuc_mocks::start_all(mocks_config(config)).await
}

/// Registers (or refreshes) the demo portal and returns its secret. The secret is made anew at
/// each start: only its hash is stored, and the portal runs in this same process.
pub async fn register_portal(db: &Db, config: &Config, now: i64) -> Result<String, DbError> {
    let base = localhost(config.portal_port);
    let secret = crate::oidc::clients::generate_secret();
    let client = Client {
        client_id: PORTAL_CLIENT_ID.into(),
        name: "Cổng dịch vụ công tỉnh (thử nghiệm)".into(),
        secret_hash: Some(hash_secret(&secret)),
        auth_method: AuthMethod::ClientSecretBasic,
        jwks: None,
        jwks_uri: None,
        redirect_uris: vec![format!("{base}/callback")],
        post_logout_redirect_uris: vec![format!("{base}/")],
        backchannel_logout_uri: Some(format!("{base}/backchannel-logout")),
        scopes: ["openid", "profile", "address", "personal_id", "offline_access"].map(String::from).to_vec(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        sector_identifier: None,
        subject_type: SubjectType::Pairwise,
        default_acr: None,
        id_token_signed_response_alg: "ES256".into(),
        require_pushed_authorization_requests: false,
        trusted: false,
        access_token_ttl_secs: 300,
        id_token_ttl_secs: 300,
        refresh_token_ttl_secs: 8 * 3600,
    };
    db.put_client(&client, now).await?;
    Ok(secret)
}

pub fn demo_identities_text() -> String {
    let mut out = String::from("  Demo citizens (log in at the mock e-ID with personal ID + passcode):\n");
    for c in xacthuc_mocks::demo_citizens() {
        out.push_str(&format!(
            "    {:<14} passcode {:<7} level {}  {:<24} {}\n",
            c.login,
            c.passcode,
            c.level,
            c.name,
            c.case.description()
        ));
    }
    out
}
