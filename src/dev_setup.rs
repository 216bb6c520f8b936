//! What development mode adds around the provider: the national-system mocks in-process and
//! the demo relying party registered. None of this runs in production.

use xacthuc_mocks::{GovCaConfig, MocksConfig, PopulationConfig, RunningMocks, VneidClient, VneidConfig};

use crate::config::Config;
use crate::crypto::{random_token, sha256_hex};
use crate::oidc::clients::{AuthMethod, Client};
use crate::store::{Db, DbError};

pub const PORTAL_CLIENT_ID: &str = "demo-portal";
/// The e-ID mock knows xacthuc as this client.
pub const VNEID_CLIENT_ID: &str = "xacthuc";
pub const POPULATION_DEV_KEY: &str = "xacthuc-dev-population-key";

fn localhost(port: u16) -> String {
    format!("http://localhost:{port}")
}

/// Points xacthuc at the mocks and makes sure the key it uses toward the e-ID exists; returns
/// its public JWK for the mock's client registration.
pub fn use_mocks(config: &mut Config) -> Result<serde_json::Value, String> {
    let key_file = config.vneid_client_key_file.get_or_insert_with(|| config.keys_dir.join("vneid-client.pem")).clone();
    let jwk = crate::citizens::upstream::ClientKey::load_or_create(&key_file)?.public_jwk();
    config.vneid_issuer.get_or_insert_with(|| localhost(config.mock_vneid_port));
    config.population_url.get_or_insert_with(|| localhost(config.mock_population_port));
    config.population_api_key.get_or_insert_with(|| POPULATION_DEV_KEY.to_string().into());
    Ok(jwk)
}

pub fn mocks_config(config: &Config, client_jwk: serde_json::Value) -> MocksConfig {
    let issuer = config.issuer.trim_end_matches('/');
    MocksConfig {
        data_dir: config.data_dir.join("mocks"),
        vneid: VneidConfig {
            issuer: localhost(config.mock_vneid_port),
            port: config.mock_vneid_port,
            clients: vec![VneidClient {
                client_id: VNEID_CLIENT_ID.into(),
                redirect_uris: vec![format!("{issuer}/callback/vneid")],
                client_secret: None,
                jwks: Some(serde_json::json!({ "keys": [client_jwk] })),
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

pub async fn start_mocks(config: &Config, client_jwk: serde_json::Value) -> anyhow::Result<RunningMocks> {
    xacthuc_mocks::start_all(mocks_config(config, client_jwk)).await
}

/// Registers (or refreshes) the demo portal and returns its secret. The secret is made anew at
/// each start: only its hash is stored, and the portal runs in this same process.
pub async fn register_portal(db: &Db, config: &Config, now: i64) -> Result<String, DbError> {
    let base = localhost(config.portal_port);
    let secret = random_token();
    let client = Client {
        secret_hash: Some(sha256_hex(&secret)),
        post_logout_redirect_uris: vec![format!("{base}/")],
        backchannel_logout_uri: Some(format!("{base}/backchannel-logout")),
        scopes: ["openid", "profile", "address", "personal_id", "organisation", "offline_access"]
            .map(String::from)
            .to_vec(),
        ..Client::new(
            PORTAL_CLIENT_ID,
            "Cổng dịch vụ công tỉnh (thử nghiệm)",
            AuthMethod::ClientSecretBasic,
            vec![format!("{base}/callback")],
        )
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

/// The demo officers' shared password: known to everyone, so these accounts are refused by any
/// mode but development (`officer_demo_accounts`).
pub const DEMO_OFFICER_PASSWORD: &str = "thu-nghiem-Hai-Phong-2026";

/// Makes (or finds) the demo province, a demo commune, a demo super-administrator and a demo
/// officer, each with the demo password and a TOTP secret; returns the banner lines. Runs at
/// every start and changes nothing once they exist, so the secrets stay those already printed.
pub async fn demo_officers(state: &crate::app::AppState) -> Result<String, String> {
    use crate::officers::auth::{password::Hasher, totp};
    use crate::officers::directory::AdminRole;
    use crate::officers::{NewOfficer, NewUnit, UnitKind};

    let (db, keys, c) = (&state.db, &state.oidc.keys, &state.config);
    let now = crate::clock::unix_now();
    let err = |e: &dyn std::fmt::Display| format!("demo officers: {e}");
    for (code, name, kind, parent) in [
        ("demo", "Tỉnh Thử Nghiệm", UnitKind::Province, None),
        ("demo.x1", "Xã Thử Nghiệm", UnitKind::Commune, Some("demo")),
    ] {
        if db.unit_by_code(code).await.map_err(|e| err(&e))?.is_none() {
            let u = NewUnit { code: code.into(), name: name.into(), kind, parent_code: parent.map(String::from) };
            db.create_unit(&u, now).await.map_err(|e| err(&e))?;
        }
    }
    let hasher = Hasher::new(c.officer_argon2_m_kib, c.officer_argon2_t, c.officer_argon2_p, 1).map_err(|e| err(&e))?;
    let mut out = format!(
        "  Demo officers (\"Officer login\" on the portal; add the TOTP secret to any authenticator app;\n   \
         the administrator also manages the demo province in the admin console, {}/admin):\n",
        c.issuer.trim_end_matches('/')
    );
    for (username, full_name, unit, position, admin) in [
        ("demo.admin", "Quản Trị Thử", "demo", "Quản trị viên", true),
        ("demo.canbo", "Cán Bộ Thử", "demo.x1", "Chuyên viên", false),
    ] {
        let o = match db.officer_by_username(username).await.map_err(|e| err(&e))? {
            Some(o) => o,
            None => {
                let new = NewOfficer {
                    username: username.into(),
                    full_name: full_name.into(),
                    unit_code: unit.into(),
                    position: Some(position.into()),
                    ..NewOfficer::default()
                };
                db.create_officer(&new, now).await.map_err(|e| err(&e))?
            }
        };
        db.mark_demo_officer(&o.id).await.map_err(|e| err(&e))?;
        if !o.has_password {
            let hash = hasher.hash(DEMO_OFFICER_PASSWORD).await.map_err(|e| err(&e))?;
            db.set_officer_password_hash(&o.id, &hash, now).await.map_err(|e| err(&e))?;
        }
        let secret = match db.totp_secret(&o.id).await.map_err(|e| err(&e))? {
            Some(sealed) => totp::open(keys, &o.id, &sealed).map_err(|e| err(&e))?,
            None => {
                let s = totp::new_secret();
                let sealed = totp::seal(keys, &o.id, &s).map_err(|e| err(&e))?;
                db.activate_totp(&o.id, &sealed, 0, now).await.map_err(|e| err(&e))?;
                s
            }
        };
        if admin {
            let root = db.unit_by_code("demo").await.map_err(|e| err(&e))?.ok_or_else(|| err(&"no demo unit"))?;
            db.grant_admin(&o.id, AdminRole::SuperAdmin, &root.id).await.map_err(|e| err(&e))?;
        }
        out.push_str(&format!(
            "    {:<11} password {}  TOTP secret {}  {}\n",
            username,
            DEMO_OFFICER_PASSWORD,
            totp::base32(&secret),
            if admin { "super-administrator of the demo province" } else { "officer of the demo commune" }
        ));
    }
    Ok(out)
}
