//! Validation rules of `config.rs`.

use super::*;

#[test]
fn redis_targets() {
    assert_eq!(
        parse_redis_target("redis://127.0.0.1:6379").unwrap(),
        RedisTarget::Standalone("redis://127.0.0.1:6379".into())
    );
    assert_eq!(
        parse_redis_target("redis+cluster://127.0.0.1:7000,127.0.0.1:7001").unwrap(),
        RedisTarget::Cluster(vec!["redis://127.0.0.1:7000".into(), "redis://127.0.0.1:7001".into()])
    );
    assert!(matches!(parse_redis_target("redis://a:1,redis://b:2").unwrap(), RedisTarget::Cluster(n) if n.len() == 2));
    assert!(parse_redis_target("http://x").is_err());
    assert!(parse_redis_target("not a url").is_err());
}

#[test]
fn database_urls() {
    assert_eq!(database_scheme("postgres://postgres@127.0.0.1:5432/test").unwrap(), "postgres");
    assert_eq!(database_scheme("sqlite://data/x.db?mode=rwc").unwrap(), "sqlite");
    let err = database_scheme("postgres//nohost").unwrap_err();
    assert_eq!(err.key, "database_url");
    assert!(database_scheme("mysql://x/y").is_err());
}

fn with_national_systems(mut c: Config) -> Config {
    c.vneid_issuer = Some("https://vneid.example.vn".into());
    c.vneid_client_secret = Some("s".to_string().into());
    c.population_url = Some("https://lgsp.example.vn".into());
    c.population_api_key = Some("k".to_string().into());
    c
}

#[test]
fn master_key_rules() {
    let good = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    assert!(decode_master_key(&good).is_ok());
    assert!(decode_master_key("short").is_err());
    let mut c = with_national_systems(Config {
        master_key: Some(format!("{DEV_KEY_MARKER}{good}").into()),
        ..Config::default()
    });
    c.database_url = Some("postgres://p@127.0.0.1/test".to_string().into());
    c.redis_url = Some("redis://127.0.0.1:6379".to_string().into());
    c.issuer = "https://id.example.vn".into();
    assert_eq!(c.validate(Mode::Serve).unwrap_err().key, "master_key");
    c.master_key = Some(good.into());
    c.validate(Mode::Serve).unwrap();
}

#[test]
fn issuer_rules() {
    let mut c = with_national_systems(Config::default());
    c.validate(Mode::Dev).unwrap();
    c.database_url = Some("postgres://p@127.0.0.1/test".to_string().into());
    c.redis_url = Some("redis://127.0.0.1:6379".to_string().into());
    c.master_key = Some(base64::engine::general_purpose::STANDARD.encode([1u8; 32]).into());
    c.issuer = "http://127.0.0.1:8080".into();
    assert_eq!(c.validate(Mode::Serve).unwrap_err().key, "issuer");
    c.allow_insecure_issuer = true;
    c.validate(Mode::Serve).unwrap();
    c.issuer = "http://id.example.vn".into();
    assert_eq!(c.validate(Mode::Serve).unwrap_err().key, "issuer");
    c.issuer = "https://id.example.vn".into();
    c.population_api_key = None;
    assert_eq!(c.validate(Mode::Serve).unwrap_err().key, "population_api_key");
}

/// A configuration `serve` accepts, to vary one key at a time.
fn production() -> Config {
    let mut c = with_national_systems(Config::default());
    c.database_url = Some("postgres://p@127.0.0.1/test".to_string().into());
    c.redis_url = Some("redis://127.0.0.1:6379".to_string().into());
    c.master_key = Some(base64::engine::general_purpose::STANDARD.encode([1u8; 32]).into());
    c.issuer = "https://id.example.vn".into();
    c
}

#[test]
fn national_systems_need_https_in_production() {
    production().validate(Mode::Serve).unwrap();
    for key in ["vneid_issuer", "population_url"] {
        let set = |c: &mut Config, v: &str| match key {
            "vneid_issuer" => c.vneid_issuer = Some(v.into()),
            _ => c.population_url = Some(v.into()),
        };
        let mut c = production();
        set(&mut c, "http://national.example.vn");
        assert_eq!(c.validate(Mode::Serve).unwrap_err().key, key, "plain http to a remote host");
        c.allow_insecure_issuer = true;
        assert_eq!(c.validate(Mode::Serve).unwrap_err().key, key, "the flag does not open remote hosts");
        set(&mut c, "http://127.0.0.1:8081");
        c.validate(Mode::Serve).unwrap();
        c.allow_insecure_issuer = false;
        assert_eq!(c.validate(Mode::Serve).unwrap_err().key, key, "loopback needs the explicit flag");
        set(&mut c, "ftp://127.0.0.1/x");
        c.allow_insecure_issuer = true;
        assert_eq!(c.validate(Mode::Serve).unwrap_err().key, key, "only http(s)");
        // Development points these at the mocks over http.
        set(&mut c, "http://localhost:8081");
        c.allow_insecure_issuer = false;
        c.validate(Mode::Dev).unwrap();
    }
}

#[test]
fn metrics_addr_rules() {
    let mut c = production();
    assert_eq!(c.metrics_socket_addr().unwrap(), None);
    c.metrics_addr = Some("127.0.0.1:9464".into());
    assert_eq!(c.metrics_socket_addr().unwrap(), Some("127.0.0.1:9464".parse().unwrap()));
    c.validate(Mode::Serve).unwrap();
    c.metrics_addr = Some("localhost".into());
    assert_eq!(c.validate(Mode::Serve).unwrap_err().key, "metrics_addr");
    c.metrics_addr = Some(format!("0.0.0.0:{}", c.port));
    assert_eq!(c.validate(Mode::Serve).unwrap_err().key, "metrics_addr", "the main port is taken");
}

#[test]
fn trusted_proxies_from_a_list_or_one_string() {
    let from_toml: Config = Figment::new()
        .merge(figment::providers::Toml::string(r#"trusted_proxies = ["10.0.0.0/8", "192.0.2.7"]"#))
        .extract()
        .unwrap();
    assert_eq!(from_toml.trusted_proxy_nets().len(), 2);
    let from_env: Config = Figment::new()
        .merge(figment::providers::Serialized::default("trusted_proxies", "10.0.0.0/8, 2001:db8::/32"))
        .extract()
        .unwrap();
    assert_eq!(from_env.trusted_proxies, vec!["10.0.0.0/8".to_string(), "2001:db8::/32".to_string()]);
    let mut bad = production();
    bad.trusted_proxies = vec!["10.0.0.0/33".into()];
    assert_eq!(bad.validate(Mode::Serve).unwrap_err().key, "trusted_proxies");
    let mut bad = production();
    bad.rate_limit_window_secs = 0;
    assert_eq!(bad.validate(Mode::Serve).unwrap_err().key, "rate_limit_window_secs");
}
