//! Configuration: built-in defaults, then a TOML file, then environment variables, each
//! overriding the one before. Validated once at start so a bad value stops start-up with one
//! line that names the key, what is wrong and what is allowed.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use base64::Engine;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Prefix of every environment variable that sets a key.
pub const ENV_PREFIX: &str = "XACTHUC_";
/// Marks master keys generated for development so production refuses them.
pub const DEV_KEY_MARKER: &str = "dev:";

/// How the process runs; validation differs per mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `cargo run`: embedded SQLite, in-process store and mocks, demo credentials.
    Dev,
    /// Production: PostgreSQL and Redis required, no development credentials.
    Serve,
    /// Only touches the database.
    Migrate,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable in development, JSON in production.
    #[default]
    Auto,
    Pretty,
    Json,
}

/// Every configuration key. The README's configuration table lists the same keys; keep them in
/// step. Keys are flat so each maps to exactly one environment variable.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub host: String,
    pub port: u16,
    /// `host:port` of a separate listener for `/metrics`; when set, the main port does not
    /// serve it. `serve` defaults it to 127.0.0.1:9464, `dev` keeps metrics on the main port.
    pub metrics_addr: Option<String>,
    pub issuer: String,
    pub allow_insecure_issuer: bool,
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
    pub database_url: Option<SecretString>,
    pub database_max_connections: u32,
    pub database_acquire_timeout_ms: u64,
    pub redis_url: Option<SecretString>,
    pub redis_key_prefix: String,
    pub redis_timeout_ms: u64,
    pub master_key: Option<SecretString>,
    pub clients_file: Option<PathBuf>,
    pub vneid_issuer: Option<String>,
    pub vneid_client_id: String,
    pub vneid_client_key_file: Option<PathBuf>,
    pub vneid_client_secret: Option<SecretString>,
    pub population_url: Option<String>,
    pub population_api_key: Option<SecretString>,
    pub request_timeout_secs: u64,
    pub session_ttl_secs: u64,
    pub login_tx_max_bytes: usize,
    pub login_tx_per_browser: i64,
    pub login_tx_per_ip: i64,
    pub client_ip_header: Option<String>,
    /// Proxies (CIDRs) whose forwarded-for header names the client address; from any other
    /// peer the header is ignored. See "Edge rate limits" in docs/operations.md.
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// The fixed window of the edge rate limits; each limit below counts requests per window,
    /// 0 turning it off.
    pub rate_limit_window_secs: u64,
    /// Browser-facing protocol pages (authorize, login, consent, callbacks) per client address.
    pub rate_limit_page_per_ip: i64,
    /// Back-channel protocol endpoints (PAR, token, userinfo) per client address.
    pub rate_limit_api_per_ip: i64,
    /// PAR and token requests per client_id (as claimed, before authentication).
    pub rate_limit_per_client: i64,
    pub client_cache_ttl_secs: u64,
    pub key_rotation_days: u64,
    pub key_reload_secs: u64,
    pub body_limit_bytes: usize,
    pub shutdown_grace_secs: u64,
    pub log_format: LogFormat,
    pub log_level: String,
    pub mock_vneid_port: u16,
    pub mock_population_port: u16,
    pub mock_gov_ca_port: u16,
    pub portal_port: u16,
    pub dev_citizens: usize,
    pub officer_argon2_m_kib: u32,
    pub officer_argon2_t: u32,
    pub officer_argon2_p: u32,
    /// Password hashes computed at once; 0 means the number of CPUs.
    pub officer_password_hashes_max: usize,
    pub officer_login_delay_after: i64,
    pub officer_login_delay_max_secs: u64,
    pub officer_lockout_threshold: i64,
    pub officer_lockout_ip_threshold: i64,
    pub officer_lockout_secs: u64,
    pub officer_second_factor_required: bool,
    /// PEM files of the Government CA roots trusted for officers' certificates. Empty in
    /// development mode means the mock CA's.
    pub cert_trust_anchors: Vec<PathBuf>,
    /// PEM files of intermediate CAs, used to complete chains certificates do not carry.
    pub cert_intermediates: Vec<PathBuf>,
    /// What an unknown revocation status (no current CRL) means: `refuse` or `accept`.
    pub cert_revocation_unknown: UnknownPolicy,
    /// How often the CRLs in use are fetched again.
    pub cert_crl_refresh_secs: u64,
    /// The CA's issuing API (CSRs, renewals, revocations). The mock CA's in development mode.
    pub cert_ca_url: Option<String>,
    /// The expiry notification job warns of active certificates ending within this many days.
    pub cert_expiry_notify_days: u64,
    /// How often the expiry notification job runs; 0 turns it off.
    pub cert_expiry_check_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            metrics_addr: None,
            issuer: "http://localhost:8080".into(),
            allow_insecure_issuer: false,
            data_dir: "data".into(),
            keys_dir: "keys".into(),
            database_url: None,
            database_max_connections: 10,
            database_acquire_timeout_ms: 5_000,
            redis_url: None,
            redis_key_prefix: "xacthuc:".into(),
            redis_timeout_ms: 500,
            master_key: None,
            clients_file: None,
            vneid_issuer: None,
            vneid_client_id: "xacthuc".into(),
            vneid_client_key_file: None,
            vneid_client_secret: None,
            population_url: None,
            population_api_key: None,
            request_timeout_secs: 15,
            session_ttl_secs: 8 * 3600,
            login_tx_max_bytes: 8 * 1024,
            login_tx_per_browser: 30,
            login_tx_per_ip: 2000,
            client_ip_header: None,
            trusted_proxies: Vec::new(),
            rate_limit_window_secs: 60,
            rate_limit_page_per_ip: 1200,
            rate_limit_api_per_ip: 12_000,
            rate_limit_per_client: 6000,
            client_cache_ttl_secs: 30,
            key_rotation_days: 30,
            key_reload_secs: 60,
            body_limit_bytes: 64 * 1024,
            shutdown_grace_secs: 20,
            log_format: LogFormat::Auto,
            log_level: "info".into(),
            mock_vneid_port: 8081,
            mock_population_port: 8082,
            mock_gov_ca_port: 8083,
            portal_port: 8084,
            dev_citizens: 100_000,
            officer_argon2_m_kib: 19 * 1024,
            officer_argon2_t: 2,
            officer_argon2_p: 1,
            officer_password_hashes_max: 0,
            officer_login_delay_after: 3,
            officer_login_delay_max_secs: 8,
            officer_lockout_threshold: 10,
            officer_lockout_ip_threshold: 100,
            officer_lockout_secs: 900,
            officer_second_factor_required: true,
            cert_trust_anchors: Vec::new(),
            cert_intermediates: Vec::new(),
            cert_revocation_unknown: UnknownPolicy::Refuse,
            cert_crl_refresh_secs: 3600,
            cert_ca_url: None,
            cert_expiry_notify_days: 30,
            cert_expiry_check_secs: 86_400,
        }
    }
}

/// What to do when revocation cannot be checked (no current CRL).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownPolicy {
    /// Unknown is a failure (the default).
    #[default]
    Refuse,
    /// Unknown is reported but does not fail the validation.
    Accept,
}

/// A configuration problem, always tied to one key.
#[derive(Debug, thiserror::Error)]
#[error("configuration key `{key}` ({source_hint}): {problem}")]
pub struct ConfigError {
    pub key: String,
    pub source_hint: String,
    pub problem: String,
}

impl ConfigError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        Self { key: key.into(), source_hint: env_name(key), problem: problem.into() }
    }
}

/// The environment variable(s) that set `key`, to tell the operator where to look.
pub fn env_name(key: &str) -> String {
    let prefixed = format!("{ENV_PREFIX}{}", key.to_ascii_uppercase());
    match key {
        "database_url" | "redis_url" => format!("{} or {prefixed}", key.to_ascii_uppercase()),
        _ => prefixed,
    }
}

/// Where the backing store lives, parsed from `redis_url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedisTarget {
    Standalone(String),
    /// Seed nodes of a Redis Cluster.
    Cluster(Vec<String>),
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError {
                    key: "config".into(),
                    source_hint: "--config / XACTHUC_CONFIG".into(),
                    problem: format!("file {} does not exist", path.display()),
                });
            }
            fig = fig.merge(Toml::file(path));
        }
        // The bare DATABASE_URL / REDIS_URL are the conventional names; the prefixed ones win.
        fig = fig
            .merge(Env::raw().only(&["DATABASE_URL", "REDIS_URL"]))
            .merge(Env::prefixed(ENV_PREFIX).ignore(&["CONFIG"]));
        fig.extract::<Config>().map_err(|e| figment_error(&e))
    }

    /// Defaults, then `text` as a configuration file, without the environment: the parser
    /// that [`Config::load`] runs on a file, public for the fuzzer (`fuzz/fuzz_targets/config.rs`).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Figment::new().merge(Toml::string(text)).extract::<Config>().map_err(|e| figment_error(&e))
    }

    fn validate_officer_login(&self) -> Result<(), ConfigError> {
        if argon2::Params::new(self.officer_argon2_m_kib, self.officer_argon2_t, self.officer_argon2_p, None).is_err() {
            return Err(ConfigError::new(
                "officer_argon2_m_kib",
                "argon2 parameters out of range (m at least 8 × p KiB, t and p at least 1)",
            ));
        }
        if self.officer_lockout_threshold < 1 || self.officer_lockout_ip_threshold < 1 {
            return Err(ConfigError::new("officer_lockout_threshold", "thresholds must be at least 1"));
        }
        if self.officer_lockout_secs == 0 {
            return Err(ConfigError::new("officer_lockout_secs", "must be at least 1"));
        }
        Ok(())
    }

    fn validate_edge_limits(&self) -> Result<(), ConfigError> {
        for cidr in &self.trusted_proxies {
            parse_cidr(cidr).map_err(|problem| ConfigError::new("trusted_proxies", problem))?;
        }
        if self.rate_limit_window_secs == 0 {
            return Err(ConfigError::new("rate_limit_window_secs", "must be at least 1"));
        }
        for (key, v) in [
            ("rate_limit_page_per_ip", self.rate_limit_page_per_ip),
            ("rate_limit_api_per_ip", self.rate_limit_api_per_ip),
            ("rate_limit_per_client", self.rate_limit_per_client),
        ] {
            if v < 0 {
                return Err(ConfigError::new(key, "must be 0 (off) or more"));
            }
        }
        Ok(())
    }

    /// `trusted_proxies` as networks (validated at start).
    pub fn trusted_proxy_nets(&self) -> Vec<ipnet::IpNet> {
        self.trusted_proxies.iter().filter_map(|c| parse_cidr(c).ok()).collect()
    }

    /// Checks what the types alone cannot. Never echoes secret values.
    pub fn validate(&self, mode: Mode) -> Result<(), ConfigError> {
        if mode != Mode::Migrate {
            self.listen_addr()?;
            self.metrics_socket_addr()?;
            self.validate_issuer(mode)?;
            if self.request_timeout_secs == 0 {
                return Err(ConfigError::new("request_timeout_secs", "must be at least 1"));
            }
            if self.key_reload_secs == 0 {
                return Err(ConfigError::new("key_reload_secs", "must be at least 1"));
            }
            if self.body_limit_bytes < 1024 {
                return Err(ConfigError::new("body_limit_bytes", "must be at least 1024"));
            }
            if self.login_tx_max_bytes < 2048 {
                return Err(ConfigError::new("login_tx_max_bytes", "must be at least 2048"));
            }
            if self.login_tx_per_browser < 1 || self.login_tx_per_ip < 1 {
                return Err(ConfigError::new("login_tx_per_browser", "limits must be at least 1"));
            }
            self.validate_officer_login()?;
            self.validate_edge_limits()?;
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError::new("database_max_connections", "must be at least 1"));
        }
        match (&self.database_url, mode) {
            (Some(url), _) => {
                let scheme = database_scheme(url.expose_secret())?;
                if mode == Mode::Serve && scheme != "postgres" {
                    return Err(ConfigError::new(
                        "database_url",
                        "production mode needs PostgreSQL: expected postgres://user@host:port/db",
                    ));
                }
            }
            (None, Mode::Dev) => {}
            (None, _) => {
                return Err(ConfigError::new(
                    "database_url",
                    "missing: expected postgres://user@host:port/db (or sqlite://path for migrate)",
                ));
            }
        }
        match (&self.redis_url, mode) {
            (Some(_), _) => {
                self.redis_target()?;
            }
            (None, Mode::Serve) => {
                return Err(ConfigError::new(
                    "redis_url",
                    "missing: production mode needs redis://host:port, a comma-separated node list or redis+cluster://h1:p1,h2:p2",
                ));
            }
            (None, _) => {}
        }
        if mode == Mode::Serve {
            self.validate_national_systems()?;
        }
        if let Some(key) = &self.master_key {
            let key = key.expose_secret();
            if mode == Mode::Serve && key.starts_with(DEV_KEY_MARKER) {
                return Err(ConfigError::new(
                    "master_key",
                    "is a development key; production needs its own: 32 random bytes in base64",
                ));
            }
            decode_master_key(key)?;
        } else if mode == Mode::Serve {
            return Err(ConfigError::new(
                "master_key",
                "missing: production needs 32 random bytes in base64 (e.g. `openssl rand -base64 32`)",
            ));
        }
        Ok(())
    }

    /// Production must reach the national e-ID and the population database; dev mode fills
    /// these in with its mocks.
    fn validate_national_systems(&self) -> Result<(), ConfigError> {
        let url_key = |key: &str, v: &Option<String>| -> Result<(), ConfigError> {
            let v = v
                .as_deref()
                .ok_or_else(|| ConfigError::new(key, "missing: expected the https base URL of the national system"))?;
            let url = url::Url::parse(v).map_err(|e| ConfigError::new(key, format!("invalid URL {v:?}: {e}")))?;
            // Citizens' identities and the population lookup's API key travel over these.
            self.require_https(key, &url, Mode::Serve)
        };
        url_key("vneid_issuer", &self.vneid_issuer)?;
        url_key("population_url", &self.population_url)?;
        if self.population_api_key.is_none() {
            return Err(ConfigError::new(
                "population_api_key",
                "missing: the API key issued by the data-sharing platform",
            ));
        }
        match (&self.vneid_client_key_file, &self.vneid_client_secret) {
            (Some(path), _) if !path.exists() => Err(ConfigError::new(
                "vneid_client_key_file",
                format!("{} does not exist: expected an ES256 private key in PEM", path.display()),
            )),
            (Some(_), _) | (None, Some(_)) => Ok(()),
            (None, None) => Err(ConfigError::new(
                "vneid_client_key_file",
                "missing: private_key_jwt toward the e-ID needs an ES256 key in PEM (or set vneid_client_secret)",
            )),
        }
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        let ip: IpAddr = self.host.parse().map_err(|_| {
            ConfigError::new(
                "host",
                format!("invalid value {:?}: expected an IP address such as 127.0.0.1 or 0.0.0.0", self.host),
            )
        })?;
        Ok(SocketAddr::new(ip, self.port))
    }

    /// The separate metrics listener, if `metrics_addr` is set.
    pub fn metrics_socket_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        let Some(raw) = &self.metrics_addr else { return Ok(None) };
        let addr: SocketAddr = raw.parse().map_err(|_| {
            ConfigError::new(
                "metrics_addr",
                format!("invalid value {raw:?}: expected an IP address and port such as 127.0.0.1:9464"),
            )
        })?;
        if let Ok(main) = self.listen_addr()
            && addr.port() == main.port()
            && addr.port() != 0
        {
            return Err(ConfigError::new("metrics_addr", "must use another port than the main listener (`port`)"));
        }
        Ok(Some(addr))
    }

    fn validate_issuer(&self, mode: Mode) -> Result<(), ConfigError> {
        let url = url::Url::parse(&self.issuer).map_err(|e| {
            ConfigError::new("issuer", format!("invalid value {:?}: {e}; expected an absolute https URL", self.issuer))
        })?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::new("issuer", "must have no query or fragment (OIDC Discovery §3)"));
        }
        self.require_https("issuer", &url, mode)
    }

    /// https, except in development or, for a loopback host, with `allow_insecure_issuer`.
    fn require_https(&self, key: &str, url: &url::Url, mode: Mode) -> Result<(), ConfigError> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if mode == Mode::Dev => Ok(()),
            "http" if self.allow_insecure_issuer && is_loopback_host(url) => Ok(()),
            "http" => Err(ConfigError::new(
                key,
                "must be https in production; http is allowed only for a loopback host with allow_insecure_issuer=true",
            )),
            other => Err(ConfigError::new(key, format!("scheme {other:?} is not allowed: expected https"))),
        }
    }

    /// Parses `redis_url`: one URL, a comma-separated node list, or `redis+cluster://h1:p1,h2:p2`.
    pub fn redis_target(&self) -> Result<Option<RedisTarget>, ConfigError> {
        let Some(raw) = &self.redis_url else { return Ok(None) };
        parse_redis_target(raw.expose_secret()).map(Some)
    }

    pub fn master_key_bytes(&self) -> Result<Option<[u8; 32]>, ConfigError> {
        self.master_key.as_ref().map(|k| decode_master_key(k.expose_secret())).transpose()
    }
}

/// A list, or one string of comma-separated items (the form an environment variable takes).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::One(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        Raw::Many(v) => v,
    })
}

/// A CIDR such as 10.0.0.0/8, or a bare address (a /32 or /128).
fn parse_cidr(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("invalid value {raw:?}: expected a CIDR such as 10.0.0.0/8 or an IP address"))
}

fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Returns "sqlite" or "postgres" for a well-formed database URL.
fn database_scheme(url: &str) -> Result<&'static str, ConfigError> {
    let bad = |why: String| {
        ConfigError::new(
            "database_url",
            format!("malformed: {why}; expected postgres://user@host:port/db or sqlite://path"),
        )
    };
    let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    match parsed.scheme() {
        "postgres" | "postgresql" => {
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(bad("no host".into()));
            }
            Ok("postgres")
        }
        "sqlite" => Ok("sqlite"),
        other => Err(bad(format!("unsupported scheme {other:?}"))),
    }
}

fn parse_redis_target(raw: &str) -> Result<RedisTarget, ConfigError> {
    let bad = |why: &str| {
        ConfigError::new(
            "redis_url",
            format!(
                "malformed: {why}; expected redis://host:port, a comma-separated list of such URLs, or redis+cluster://h1:p1,h2:p2"
            ),
        )
    };
    let raw = raw.trim();
    if let Some(rest) = raw.strip_prefix("redis+cluster://") {
        let nodes: Vec<String> = rest.split(',').map(|n| format!("redis://{}", n.trim())).collect();
        for n in &nodes {
            check_redis_url(n).map_err(|e| bad(&e))?;
        }
        return Ok(RedisTarget::Cluster(nodes));
    }
    let nodes: Vec<String> = raw.split(',').map(|n| n.trim().to_string()).collect();
    for n in &nodes {
        check_redis_url(n).map_err(|e| bad(&e))?;
    }
    match <[String; 1]>::try_from(nodes) {
        Ok([one]) => Ok(RedisTarget::Standalone(one)),
        Err(many) => Ok(RedisTarget::Cluster(many)),
    }
}

fn check_redis_url(u: &str) -> Result<(), String> {
    let parsed = url::Url::parse(u).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "redis" | "rediss") {
        return Err(format!("unsupported scheme {:?}", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    Ok(())
}

fn decode_master_key(key: &str) -> Result<[u8; 32], ConfigError> {
    let body = key.strip_prefix(DEV_KEY_MARKER).unwrap_or(key).trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| ConfigError::new("master_key", "is not valid base64: expected 32 random bytes in base64"))?;
    bytes.try_into().map_err(|b: Vec<u8>| {
        ConfigError::new("master_key", format!("decodes to {} bytes: expected exactly 32", b.len()))
    })
}

/// Turns figment's error into our one-line form, naming the key and what is allowed.
fn figment_error(e: &figment::Error) -> ConfigError {
    use figment::error::Kind;
    let key = e.path.join(".");
    let key = if key.is_empty() { "config".to_string() } else { key };
    let problem = match &e.kind {
        Kind::InvalidType(actual, expected) => format!("invalid value {actual}: expected {}", explain(expected)),
        Kind::InvalidValue(actual, expected) => format!("invalid value {actual}: expected {}", explain(expected)),
        Kind::UnknownVariant(actual, allowed) => {
            format!("invalid value {actual:?}: expected one of {}", allowed.join(", "))
        }
        Kind::UnknownField(field, _) => {
            return ConfigError {
                key: field.clone(),
                source_hint: source_of(e).replace("{key}", &env_name(field)),
                problem: "unknown key: see the configuration table in README.md".into(),
            };
        }
        other => other.to_string(),
    };
    ConfigError { key: key.clone(), source_hint: source_of(e).replace("{key}", &env_name(&key)), problem }
}

fn source_of(e: &figment::Error) -> String {
    match &e.metadata {
        Some(m) if m.name.contains("TOML") || m.source.is_some() => {
            m.source.as_ref().map(|s| s.to_string()).unwrap_or_else(|| m.name.to_string())
        }
        _ => "{key}".into(),
    }
}

fn explain(expected: &str) -> String {
    match expected {
        "u16" => "a port number from 0 to 65535".into(),
        "u32" | "u64" | "usize" => "a whole number, 0 or more".into(),
        "a boolean" | "bool" => "true or false".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests;
