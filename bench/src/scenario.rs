//! The scenario file (TOML): which provider, which client, what to do on each page, who logs in,
//! which operation and which load. Everything is checked when loaded, so a bad file is one clear
//! message before any request is sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use scraper::Selector;
use serde::Deserialize;

use crate::html::selector;
use crate::load::{LoadModel, parse_duration};
use crate::template::Template;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub provider: ProviderFile,
    #[serde(default)]
    pub identities: Option<IdentitiesFile>,
    #[serde(default)]
    pub pages: Vec<PageFile>,
    #[serde(default)]
    pub scenario: RunFile,
    #[serde(default)]
    pub load: LoadFile,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    /// Issuer URL; discovery is `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Literal secret, or `${ENV_VAR}`.
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default = "default_auth")]
    pub client_auth: String,
    pub redirect_uri: String,
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Scope for client_credentials (default: none sent).
    #[serde(default)]
    pub client_credentials_scope: Option<String>,
    /// Extra authorization parameters, templated (e.g. `login_hint = "{{personal_id}}"`).
    #[serde(default)]
    pub authorize_params: BTreeMap<String, String>,
    /// Verify the ID token's signature against the JWKS, and iss/aud/exp/nonce.
    #[serde(default = "yes")]
    pub verify_id_token: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitiesFile {
    /// CSV with a header row, relative to the scenario file.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Or rows given inline: `inline = [{ personal_id = "…" }]`.
    #[serde(default)]
    pub inline: Vec<BTreeMap<String, String>>,
    /// Conditions each row must meet: `col == value`, `col != value`, `col == $other_col`.
    #[serde(default, rename = "where")]
    pub where_: Vec<String>,
    /// Skip this many matching rows first (e.g. to avoid citizens used by an earlier run).
    #[serde(default)]
    pub skip: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageFile {
    pub name: String,
    /// The page is this one if this CSS selector matches something on it...
    #[serde(default)]
    pub when_selector: Option<String>,
    /// ...and/or its URL contains this text.
    #[serde(default)]
    pub when_url: Option<String>,
    /// The form to submit (a CSS selector for the form or an element inside it).
    #[serde(default)]
    pub form: Option<String>,
    /// The button to press (CSS selector); its form is submitted with its name=value.
    #[serde(default)]
    pub submit: Option<String>,
    /// Fields to set (templated), added when the form lacks them.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// A waiting-room page: wait for its meta refresh and follow it; time here is counted apart.
    #[serde(default)]
    pub queue: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    /// login | sso_login | client_credentials | refresh | userinfo | day
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Pages with a meta refresh that no page rule matches count as waiting-room pages.
    #[serde(default = "yes")]
    pub meta_refresh_is_queue: bool,
    /// Longest time a login may spend in waiting rooms before it counts as failed.
    #[serde(default = "default_max_queue")]
    pub max_queue_wait: String,
    /// Operation weights for `day` (a day in the province).
    #[serde(default)]
    pub mix: BTreeMap<String, u32>,
}

impl Default for RunFile {
    fn default() -> Self {
        Self {
            kind: default_kind(),
            meta_refresh_is_queue: true,
            max_queue_wait: default_max_queue(),
            mix: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct LoadFile {
    /// closed (N virtual users looping) | open (arrivals on a schedule)
    #[serde(default)]
    pub model: Option<String>,
    /// Closed: virtual users. Open: size of the pool of logged-in users for refresh/userinfo/day.
    #[serde(default)]
    pub users: Option<usize>,
    /// Closed: how long to run.
    #[serde(default)]
    pub duration: Option<String>,
    /// Closed: stop after this many operations (whichever of duration and iterations comes first).
    #[serde(default)]
    pub iterations: Option<u64>,
    /// Open: constant | ramp | steps | spike
    #[serde(default)]
    pub arrival: Option<String>,
    #[serde(default)]
    pub rate: Option<f64>,
    #[serde(default)]
    pub from: Option<f64>,
    #[serde(default)]
    pub to: Option<f64>,
    /// steps = [[rate, "duration"], …]
    #[serde(default)]
    pub steps: Vec<(f64, String)>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub within: Option<String>,
    /// Open: arrivals finding this many operations in flight are dropped and counted as errors.
    #[serde(default)]
    pub max_in_flight: Option<usize>,
    /// Timeout of each HTTP request.
    #[serde(default)]
    pub request_timeout: Option<String>,
}

fn default_auth() -> String {
    "client_secret_basic".into()
}
fn default_scope() -> String {
    "openid".into()
}
fn default_kind() -> String {
    "login".into()
}
fn default_max_queue() -> String {
    "10m".into()
}
fn yes() -> bool {
    true
}

/// The operations a virtual user performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// A complete login in a new browser, as the next identity.
    Login,
    /// A login in the virtual user's browser, which has a session at the provider already.
    SsoLogin,
    ClientCredentials,
    Refresh,
    Userinfo,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Login => "login",
            Op::SsoLogin => "sso_login",
            Op::ClientCredentials => "client_credentials",
            Op::Refresh => "refresh",
            Op::Userinfo => "userinfo",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "login" => Op::Login,
            "sso_login" => Op::SsoLogin,
            "client_credentials" => Op::ClientCredentials,
            "refresh" => Op::Refresh,
            "userinfo" => Op::Userinfo,
            _ => return None,
        })
    }
    /// Whether the operation needs a virtual user who logged in before (a set-up login).
    pub fn needs_session(self) -> bool {
        matches!(self, Op::SsoLogin | Op::Refresh | Op::Userinfo)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Post,
    None,
}

pub struct Provider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub client_auth: ClientAuth,
    pub redirect_uri: url::Url,
    pub scope: String,
    pub client_credentials_scope: Option<String>,
    pub authorize_params: Vec<(String, Template)>,
    pub verify_id_token: bool,
}

pub struct PageRule {
    pub name: String,
    pub when_selector: Option<(Selector, String)>,
    pub when_url: Option<String>,
    pub form: Option<(Selector, String)>,
    pub submit: Option<(Selector, String)>,
    pub fields: Vec<(String, Template)>,
    pub queue: bool,
}

pub struct Identities {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub source: String,
}

pub struct Scenario {
    pub provider: Provider,
    pub identities: Identities,
    pub pages: Vec<PageRule>,
    /// The operation mix: one entry for a single-operation scenario.
    pub mix: Vec<(Op, u32)>,
    pub kind: String,
    pub meta_refresh_is_queue: bool,
    pub max_queue_wait: Duration,
    pub load: LoadModel,
    pub users: usize,
    pub request_timeout: Duration,
}

/// Overrides from the command line, applied before validation.
#[derive(Default, Clone)]
pub struct Overrides {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub redirect_uri: Option<String>,
    pub kind: Option<String>,
    pub scope: Option<String>,
    /// Extra or replaced authorization parameters (templated like the file's).
    pub authorize_params: Vec<(String, String)>,
    pub identities_file: Option<PathBuf>,
    pub load: LoadFile,
    pub identities_skip: Option<usize>,
}

impl Scenario {
    pub fn load(path: &Path, o: &Overrides) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read scenario file {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_str(&text, base, o).with_context(|| format!("scenario file {}", path.display()))
    }

    pub fn from_str(text: &str, base: &Path, o: &Overrides) -> anyhow::Result<Self> {
        let mut f: ScenarioFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(v) = &o.issuer {
            f.provider.issuer = v.clone();
        }
        if let Some(v) = &o.client_id {
            f.provider.client_id = v.clone();
        }
        if let Some(v) = &o.client_secret {
            f.provider.client_secret = Some(v.clone());
        }
        if let Some(v) = &o.redirect_uri {
            f.provider.redirect_uri = v.clone();
        }
        if let Some(v) = &o.kind {
            f.scenario.kind = v.clone();
        }
        if let Some(v) = &o.scope {
            f.provider.scope = v.clone();
        }
        for (k, v) in &o.authorize_params {
            f.provider.authorize_params.insert(k.clone(), v.clone());
        }
        if let Some(file) = &o.identities_file {
            // A file named on the command line is relative to the current directory.
            let abs = std::env::current_dir().map(|d| d.join(file)).unwrap_or_else(|_| file.clone());
            match f.identities.as_mut() {
                Some(ids) => {
                    ids.file = Some(abs);
                    ids.inline.clear();
                }
                None => {
                    f.identities = Some(IdentitiesFile { file: Some(abs), inline: vec![], where_: vec![], skip: 0 })
                }
            }
        }
        if let (Some(ids), Some(skip)) = (f.identities.as_mut(), o.identities_skip) {
            ids.skip = skip;
        }
        merge_load(&mut f.load, &o.load);

        let identities = match &f.identities {
            Some(i) => load_identities(i, base)?,
            None => Identities { columns: vec![], rows: vec![], source: "none".into() },
        };
        let cols = &identities.columns;
        let p = &f.provider;
        let issuer = p.issuer.trim_end_matches('/').to_string();
        url::Url::parse(&issuer).with_context(|| format!("provider.issuer {issuer:?} is not a URL"))?;
        let client_secret = match &p.client_secret {
            Some(s) if s.starts_with("${") && s.ends_with('}') => {
                let var = &s[2..s.len() - 1];
                Some(std::env::var(var).with_context(|| format!("provider.client_secret: ${{{var}}} is not set"))?)
            }
            other => other.clone(),
        };
        let client_auth = match p.client_auth.as_str() {
            "client_secret_basic" => ClientAuth::Basic,
            "client_secret_post" => ClientAuth::Post,
            "none" => ClientAuth::None,
            other => bail!("provider.client_auth {other:?}: use client_secret_basic, client_secret_post or none"),
        };
        if client_auth != ClientAuth::None && client_secret.is_none() {
            bail!("provider.client_secret is required with {}", p.client_auth);
        }
        let redirect_uri = url::Url::parse(&p.redirect_uri)
            .with_context(|| format!("provider.redirect_uri {:?} is not a URL", p.redirect_uri))?;
        let authorize_params = p
            .authorize_params
            .iter()
            .map(|(k, v)| Ok((k.clone(), Template::parse(v, cols).with_context(|| format!("authorize_params.{k}"))?)))
            .collect::<anyhow::Result<_>>()?;
        let provider = Provider {
            issuer,
            client_id: p.client_id.clone(),
            client_secret,
            client_auth,
            redirect_uri,
            scope: p.scope.clone(),
            client_credentials_scope: p.client_credentials_scope.clone(),
            authorize_params,
            verify_id_token: p.verify_id_token,
        };

        let mut pages = Vec::new();
        for pf in &f.pages {
            let ctx = || format!("page {:?}", pf.name);
            let sel = |s: &Option<String>| -> anyhow::Result<Option<(Selector, String)>> {
                s.as_ref().map(|s| Ok((selector(s).map_err(anyhow::Error::msg)?, s.clone()))).transpose()
            };
            if pf.when_selector.is_none() && pf.when_url.is_none() {
                bail!("page {:?}: give when_selector or when_url (or both)", pf.name);
            }
            if !pf.queue && pf.form.is_none() && pf.submit.is_none() {
                bail!("page {:?}: say what to do: form, submit, or queue = true", pf.name);
            }
            let fields = pf
                .fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), Template::parse(v, cols).with_context(|| format!("field {k}"))?)))
                .collect::<anyhow::Result<_>>()
                .with_context(ctx)?;
            pages.push(PageRule {
                name: pf.name.clone(),
                when_selector: sel(&pf.when_selector).with_context(ctx)?,
                when_url: pf.when_url.clone(),
                form: sel(&pf.form).with_context(ctx)?,
                submit: sel(&pf.submit).with_context(ctx)?,
                fields,
                queue: pf.queue,
            });
        }

        let kind = f.scenario.kind.clone();
        let mix: Vec<(Op, u32)> = if kind == "day" {
            let mix = if f.scenario.mix.is_empty() {
                // A day in the province: most traffic is services using tokens they hold.
                [("login", 10), ("sso_login", 20), ("userinfo", 40), ("refresh", 20), ("client_credentials", 10)]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect()
            } else {
                f.scenario.mix.clone()
            };
            let mut out = Vec::new();
            for (k, w) in mix {
                let op = Op::parse(&k).with_context(|| {
                    format!("scenario.mix: unknown operation {k:?} (login, sso_login, client_credentials, refresh, userinfo)")
                })?;
                if w > 0 {
                    out.push((op, w));
                }
            }
            if out.is_empty() {
                bail!("scenario.mix: every weight is 0");
            }
            out
        } else {
            let op = Op::parse(&kind).with_context(|| {
                format!("scenario.kind {kind:?}: use login, sso_login, client_credentials, refresh, userinfo or day")
            })?;
            vec![(op, 1)]
        };
        let needs_login = mix.iter().any(|(op, _)| *op != Op::ClientCredentials);
        if needs_login && !provider.scope.split_whitespace().any(|s| s == "openid") {
            bail!("provider.scope must include openid for logins");
        }

        let (load, users) = LoadModel::from_file(&f.load)?;
        let request_timeout =
            parse_duration(f.load.request_timeout.as_deref().unwrap_or("30s")).context("load.request_timeout")?;
        let max_queue_wait = parse_duration(&f.scenario.max_queue_wait).context("scenario.max_queue_wait")?;
        Ok(Scenario {
            provider,
            identities,
            pages,
            mix,
            kind,
            meta_refresh_is_queue: f.scenario.meta_refresh_is_queue,
            max_queue_wait,
            load,
            users,
            request_timeout,
        })
    }

    /// One line per setting, for `check` and the report header.
    pub fn describe(&self) -> String {
        let mix: Vec<String> = self.mix.iter().map(|(op, w)| format!("{}×{w}", op.name())).collect();
        format!(
            "provider   {}\nclient     {} ({:?})\nscope      {}\nscenario   {} [{}]\npages      {}\nidentities {} rows from {} (columns: {})\nload       {}",
            self.provider.issuer,
            self.provider.client_id,
            self.provider.client_auth,
            self.provider.scope,
            self.kind,
            mix.join(", "),
            if self.pages.is_empty() {
                "none (redirects only)".to_string()
            } else {
                self.pages.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
            },
            self.identities.rows.len(),
            self.identities.source,
            if self.identities.columns.len() > 6 {
                format!("{}, … {} in all", self.identities.columns[..6].join(", "), self.identities.columns.len())
            } else {
                self.identities.columns.join(", ")
            },
            self.load.describe(self.users),
        )
    }
}

fn merge_load(f: &mut LoadFile, o: &LoadFile) {
    // One end given on the command line replaces the file's ends: `--iterations 3000` means
    // 3,000 operations, not "3,000 or the file's 20 s, whichever comes first".
    if o.iterations.is_some() && o.duration.is_none() {
        f.duration = None;
    }
    if o.duration.is_some() && o.iterations.is_none() {
        f.iterations = None;
    }
    macro_rules! take {
        ($($field:ident),*) => { $( if o.$field.is_some() { f.$field = o.$field.clone(); } )* };
    }
    take!(model, users, duration, iterations, arrival, rate, from, to, count, within, max_in_flight, request_timeout);
    if !o.steps.is_empty() {
        f.steps = o.steps.clone();
    }
    // An open-model flag on the command line implies the open model.
    if o.arrival.is_some() && o.model.is_none() {
        f.model = Some("open".into());
    }
}

/// A `where` condition on identity rows.
#[derive(Debug, PartialEq)]
pub enum Cond {
    Eq(usize, Operand),
    Ne(usize, Operand),
}

#[derive(Debug, PartialEq)]
pub enum Operand {
    Value(String),
    Column(usize),
}

pub fn parse_cond(s: &str, cols: &[String]) -> anyhow::Result<Cond> {
    let (l, r, eq) = if let Some((l, r)) = s.split_once("==") {
        (l, r, true)
    } else if let Some((l, r)) = s.split_once("!=") {
        (l, r, false)
    } else {
        bail!("identities.where {s:?}: write `column == value`, `column != value` or `column == $other`");
    };
    let col = |n: &str| {
        cols.iter()
            .position(|c| c == n)
            .with_context(|| format!("identities.where {s:?}: no column {n:?} (columns: {})", cols.join(", ")))
    };
    let left = col(l.trim())?;
    let r = r.trim();
    let right = match r.strip_prefix('$') {
        Some(c) => Operand::Column(col(c)?),
        None => Operand::Value(r.trim_matches('"').to_string()),
    };
    Ok(if eq { Cond::Eq(left, right) } else { Cond::Ne(left, right) })
}

impl Cond {
    pub fn holds(&self, row: &[String]) -> bool {
        let get = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
        let (l, r, eq) = match self {
            Cond::Eq(l, r) => (l, r, true),
            Cond::Ne(l, r) => (l, r, false),
        };
        let right = match r {
            Operand::Value(v) => v.as_str(),
            Operand::Column(i) => get(*i),
        };
        (get(*l) == right) == eq
    }
}

fn load_identities(f: &IdentitiesFile, base: &Path) -> anyhow::Result<Identities> {
    let (columns, rows, source) = match (&f.file, f.inline.is_empty()) {
        (Some(_), false) => bail!("identities: give file or inline, not both"),
        (Some(file), true) => {
            let path = if file.is_absolute() { file.clone() } else { base.join(file) };
            let mut rdr = csv::Reader::from_path(&path)
                .with_context(|| format!("identities.file: cannot open {}", path.display()))?;
            let columns: Vec<String> = rdr
                .headers()
                .with_context(|| format!("identities.file {}: no header row", path.display()))?
                .iter()
                .map(|h| h.trim_start_matches('\u{feff}').to_string())
                .collect();
            let mut rows = Vec::new();
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.with_context(|| format!("identities.file {}: row {}", path.display(), i + 2))?;
                rows.push(rec.iter().map(String::from).collect::<Vec<_>>());
            }
            (columns, rows, path.display().to_string())
        }
        (None, false) => {
            let mut columns: Vec<String> = Vec::new();
            for r in &f.inline {
                for k in r.keys() {
                    if !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
            }
            let rows = f
                .inline
                .iter()
                .map(|r| columns.iter().map(|c| r.get(c).cloned().unwrap_or_default()).collect())
                .collect();
            (columns, rows, "inline".to_string())
        }
        (None, true) => bail!("identities: give file = \"….csv\" or inline = [{{ … }}]"),
    };
    let conds = f.where_.iter().map(|c| parse_cond(c, &columns)).collect::<anyhow::Result<Vec<_>>>()?;
    let total = rows.len();
    let rows: Vec<Vec<String>> = rows.into_iter().filter(|r| conds.iter().all(|c| c.holds(r))).skip(f.skip).collect();
    if rows.is_empty() {
        bail!("identities: none of the {total} rows of {source} is left after `where` and `skip`");
    }
    Ok(Identities { columns, rows, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Arrivals;

    const MIN: &str = r#"
[provider]
issuer = "http://localhost:8080/"
client_id = "bench"
client_secret = "s3cret"
redirect_uri = "http://127.0.0.1:1/cb"
scope = "openid profile"
authorize_params = { login_hint = "{{personal_id}}" }

[identities]
inline = [{ personal_id = "001188271828", status = "living" }, { personal_id = "036041964113", status = "deceased" }]
where = ["status == living"]

[[pages]]
name = "eid"
when_selector = "form[action='/oauth2/login']"
form = "form[action='/oauth2/login']"
fields = { login = "{{personal_id}}", passcode = "{{personal_id[6:12]}}" }

[load]
users = 4
duration = "2s"
"#;

    #[test]
    fn a_minimal_scenario_loads() {
        let s = Scenario::from_str(MIN, Path::new("."), &Overrides::default()).unwrap();
        assert_eq!(s.provider.issuer, "http://localhost:8080");
        assert_eq!(s.identities.rows.len(), 1, "where filters the deceased");
        assert_eq!(s.pages[0].fields[1].1.render(&s.identities.rows[0], 0), "271828");
        assert_eq!(s.mix, vec![(Op::Login, 1)]);
        assert!(s.describe().contains("closed"));
    }

    #[test]
    fn command_line_overrides_win() {
        let o = Overrides {
            issuer: Some("http://127.0.0.1:9999".into()),
            kind: Some("day".into()),
            load: LoadFile {
                arrival: Some("spike".into()),
                count: Some(100),
                within: Some("1s".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let s = Scenario::from_str(MIN, Path::new("."), &o).unwrap();
        assert_eq!(s.provider.issuer, "http://127.0.0.1:9999");
        assert_eq!(s.mix.len(), 5);
        assert!(matches!(s.load, LoadModel::Open { arrivals: Arrivals::Spike { count: 100, .. }, .. }));
    }

    #[test]
    fn an_end_on_the_command_line_replaces_the_files() {
        let o = Overrides { load: LoadFile { iterations: Some(30), ..Default::default() }, ..Default::default() };
        let s = Scenario::from_str(MIN, Path::new("."), &o).unwrap();
        assert_eq!(s.load, LoadModel::Closed { duration: None, iterations: Some(30) });
        let o = Overrides {
            load: LoadFile { iterations: Some(30), duration: Some("5s".into()), ..Default::default() },
            ..Default::default()
        };
        let s = Scenario::from_str(MIN, Path::new("."), &o).unwrap();
        assert_eq!(s.load, LoadModel::Closed { duration: Some(Duration::from_secs(5)), iterations: Some(30) });
    }

    #[test]
    fn bad_files_give_clear_messages() {
        let err = |text: &str| Scenario::from_str(text, Path::new("."), &Overrides::default()).err().unwrap();
        let e = format!("{:#}", err("not toml ["));
        assert!(e.contains("expected") || e.contains("invalid"), "{e}");
        let e = format!("{:#}", err(&MIN.replace("{{personal_id[6:12]}}", "{{pid}}")));
        assert!(e.contains("unknown identity column `pid`"), "{e}");
        let e = format!("{:#}", err(&MIN.replace("client_id", "clientid")));
        assert!(e.contains("unknown field"), "{e}");
        let e = format!("{:#}", err(&MIN.replace("form[action='/oauth2/login']\"\nform", "form[\"\nform")));
        assert!(e.contains("invalid CSS selector"), "{e}");
        let e = format!("{:#}", err(&MIN.replace("status == living", "state == living")));
        assert!(e.contains("no column \"state\""), "{e}");
        let e = format!("{:#}", err(&MIN.replace("status == living", "status == nobody")));
        assert!(e.contains("none of the 2 rows"), "{e}");
        let e = format!("{:#}", err(&MIN.replace("duration = \"2s\"", "duration = \"2 parsecs\"")));
        assert!(e.contains("duration"), "{e}");
    }

    #[test]
    fn where_conditions() {
        let cols: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let row = vec!["x".to_string(), "x".to_string()];
        assert!(parse_cond("a == $b", &cols).unwrap().holds(&row));
        assert!(!parse_cond("a != x", &cols).unwrap().holds(&row));
        assert!(parse_cond("b == \"x\"", &cols).unwrap().holds(&row));
        assert!(parse_cond("a ~ b", &cols).is_err());
    }
}
