//! A scripted browser for the citizen login: a cookie jar, redirects followed one hop at a time,
//! and the two pages a person acts on (the e-ID login form, our consent page) filled in.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;

pub struct Browser {
    pub http: reqwest::Client,
}

/// How the person logs in at the e-ID.
#[derive(Clone, Copy)]
pub enum EidLogin<'a> {
    /// Personal ID + passcode in the form.
    Form { login: &'a str, passcode: &'a str },
    /// The QR code approved from the phone (the mock's approve endpoint).
    Qr { login: &'a str },
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ConsentChoice {
    Allow,
    Deny,
}

/// Where the journey ended.
#[derive(Debug)]
pub enum End {
    /// Back at the relying party with these parameters.
    AtClient(HashMap<String, String>),
    /// Stopped on a page of ours or the mock's.
    Page { status: StatusCode, url: String, body: String },
}

impl End {
    pub fn params(&self) -> &HashMap<String, String> {
        match self {
            End::AtClient(p) => p,
            End::Page { status, url, body } => {
                panic!("expected a redirect to the client, got {status} at {url}: {}", &body[..body.len().min(600)])
            }
        }
    }

    pub fn code(&self) -> String {
        self.params().get("code").cloned().unwrap_or_else(|| panic!("no code in {:?}", self.params()))
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("browser");
        Self { http }
    }

    /// Starts at `start` and walks until the client's `redirect_uri` or a page nobody acts on.
    pub async fn journey(&self, start: &str, redirect_uri: &str, eid: EidLogin<'_>, consent: ConsentChoice) -> End {
        self.journey_via(start, redirect_uri, eid, consent, None).await
    }

    /// As [`Browser::journey`], but every hop after the first that leads to the base URL
    /// `reroute.0` goes to `reroute.1` instead: another instance behind the same issuer, as a
    /// load balancer without sticky sessions would pick.
    pub async fn journey_via(
        &self,
        start: &str,
        redirect_uri: &str,
        eid: EidLogin<'_>,
        consent: ConsentChoice,
        reroute: Option<(&str, &str)>,
    ) -> End {
        let mut resp = self.http.get(start).send().await.expect("GET start");
        for _ in 0..20 {
            let url = resp.url().to_string();
            if resp.status().is_redirection() {
                let loc = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let mut next = resp.url().join(&loc).expect("location").to_string();
                if let Some((from, to)) = reroute
                    && let Some(rest) = next.strip_prefix(from)
                {
                    next = format!("{to}{rest}");
                }
                if next.starts_with(redirect_uri) {
                    let params = url::Url::parse(&next).unwrap().query_pairs().into_owned().collect();
                    return End::AtClient(params);
                }
                resp = self.http.get(&next).send().await.expect("follow");
                continue;
            }
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            let path = url::Url::parse(&url).map(|u| u.path().to_owned()).unwrap_or_default();
            resp = match (status, path.as_str()) {
                (StatusCode::OK, "/login") if body.contains("id=\"login-vneid\"") => {
                    let tx = hidden(&body, "tx").expect("tx on the login page");
                    let base = url::Url::parse(&url).unwrap();
                    self.http
                        .post(base.join("/login/vneid").unwrap())
                        .form(&[("tx", tx)])
                        .send()
                        .await
                        .expect("start e-ID")
                }
                (StatusCode::OK, "/oauth2/authorize") => self.at_eid(&url, &body, eid).await,
                (StatusCode::OK, "/consent") => {
                    let tx = hidden(&body, "tx").expect("tx on the consent page");
                    let decision = if consent == ConsentChoice::Allow { "allow" } else { "deny" };
                    let base = url::Url::parse(&url).unwrap();
                    self.http
                        .post(base.join("/consent").unwrap())
                        .form(&[("tx", tx.as_str()), ("decision", decision)])
                        .send()
                        .await
                        .expect("consent")
                }
                _ => return End::Page { status, url, body },
            };
        }
        panic!("too many hops");
    }

    /// Clicks "back to the service" on a failure page: a POST carrying the transaction and the
    /// reason, in this browser (the binding cookie goes with it).
    pub async fn back_to_service(&self, base: &str, body: &str) -> reqwest::Response {
        assert!(body.contains("id=\"back-to-service\""), "the page offers a way back");
        let tx = hidden(body, "tx").expect("tx on the failure page");
        let reason = hidden(body, "reason").expect("reason on the failure page");
        self.http
            .post(format!("{base}/login/abort"))
            .form(&[("tx", tx), ("reason", reason)])
            .send()
            .await
            .expect("abort")
    }

    async fn at_eid(&self, url: &str, body: &str, eid: EidLogin<'_>) -> reqwest::Response {
        let base = url::Url::parse(url).unwrap();
        let txn = hidden(body, "txn").expect("txn on the e-ID page");
        match eid {
            EidLogin::Form { login, passcode } => self
                .http
                .post(base.join("/oauth2/login").unwrap())
                .form(&[("txn", txn.as_str()), ("login", login), ("passcode", passcode)])
                .send()
                .await
                .expect("e-ID form"),
            EidLogin::Qr { login } => {
                let code = between(body, "<code id=\"ma\">", "</code>").expect("QR code on the e-ID page");
                let r = self
                    .http
                    .post(base.join("/mock/approve").unwrap())
                    .json(&serde_json::json!({ "code": code, "login": login }))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "approve: {}", r.text().await.unwrap_or_default());
                // The page polls; so do we.
                let status: serde_json::Value = self
                    .http
                    .get(base.join("/oauth2/login/status").unwrap())
                    .query(&[("txn", txn.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let to = status["redirect_to"].as_str().expect("approved login redirects").to_owned();
                self.http.get(base.join(&to).unwrap()).send().await.expect("follow approval")
            }
        }
    }
}

fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    between(body, &marker, "\"")
}

fn between(body: &str, start: &str, end: &str) -> Option<String> {
    let i = body.find(start)? + start.len();
    let j = body[i..].find(end)? + i;
    Some(body[i..j].replace("&amp;", "&"))
}
