//! What a browser would do with an HTML page, without a browser: find the form a scenario names
//! (by the form or by the button to press), collect its fields as a browser submits them, and
//! spot a meta refresh (the waiting room's self-refreshing queue page). Uses a real HTML parser.

use std::time::Duration;

use scraper::{ElementRef, Html, Selector};
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A form ready to send: method, absolute action URL and fields in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSubmission {
    pub method: Method,
    pub action: Url,
    pub fields: Vec<(String, String)>,
}

impl FormSubmission {
    /// Sets a field: replaces the first field of that name, or appends it.
    pub fn set(&mut self, name: &str, value: String) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(f) => f.1 = value,
            None => self.fields.push((name.to_string(), value)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("no element matches `{0}` on this page")]
    NoMatch(String),
    #[error("`{0}` matches an element that is not inside a <form>")]
    NotInForm(String),
    #[error("the form's action {0:?} is not a valid URL")]
    BadAction(String),
    #[error("the form has method {0:?}; only GET and POST are supported")]
    BadMethod(String),
}

/// Parses a CSS selector, with a message naming it when it is invalid.
pub fn selector(src: &str) -> Result<Selector, String> {
    Selector::parse(src).map_err(|e| format!("invalid CSS selector `{src}`: {e}"))
}

/// A parsed page. Not `Send`: analyse it, then drop it before the next `.await`.
pub struct Page {
    doc: Html,
    url: Url,
}

impl Page {
    pub fn parse(body: &str, url: Url) -> Self {
        Self { doc: Html::parse_document(body), url }
    }

    pub fn matches(&self, sel: &Selector) -> bool {
        self.doc.select(sel).next().is_some()
    }

    pub fn title(&self) -> Option<String> {
        let sel = Selector::parse("title").ok()?;
        let t: String = self.doc.select(&sel).next()?.text().collect();
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        (!t.is_empty()).then_some(t)
    }

    /// The form to submit. With `submit`, the element matched is the button pressed (its
    /// name=value is sent, its `formaction`/`formmethod` win) and its form is the enclosing one;
    /// otherwise the first element matching `form` (or its enclosing form).
    pub fn form(
        &self,
        form: Option<(&Selector, &str)>,
        submit: Option<(&Selector, &str)>,
    ) -> Result<FormSubmission, FormError> {
        let (form_el, submitter) = match (submit, form) {
            (Some((sel, src)), form) => {
                let scope: Vec<ElementRef> = match form {
                    Some((fsel, fsrc)) => {
                        let f = self.doc.select(fsel).next().ok_or_else(|| FormError::NoMatch(fsrc.to_string()))?;
                        vec![enclosing_form(f).ok_or_else(|| FormError::NotInForm(fsrc.to_string()))?]
                    }
                    None => vec![],
                };
                let button = match scope.first() {
                    Some(f) => f.select(sel).next(),
                    None => self.doc.select(sel).next(),
                }
                .ok_or_else(|| FormError::NoMatch(src.to_string()))?;
                let f = enclosing_form(button).ok_or_else(|| FormError::NotInForm(src.to_string()))?;
                (f, Some(button))
            }
            (None, Some((sel, src))) => {
                let el = self.doc.select(sel).next().ok_or_else(|| FormError::NoMatch(src.to_string()))?;
                (enclosing_form(el).ok_or_else(|| FormError::NotInForm(src.to_string()))?, None)
            }
            (None, None) => {
                let sel = Selector::parse("form").expect("static selector");
                let f = self.doc.select(&sel).next().ok_or_else(|| FormError::NoMatch("form".into()))?;
                (f, None)
            }
        };
        let attr = |name: &str| {
            submitter
                .and_then(|b| b.value().attr(&format!("form{name}")))
                .or_else(|| form_el.value().attr(name))
                .map(str::trim)
        };
        let action = match attr("action") {
            None | Some("") => self.url.clone(),
            Some(a) => self.url.join(a).map_err(|_| FormError::BadAction(a.to_string()))?,
        };
        let method = match attr("method").map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("get") => Method::Get,
            Some("post") => Method::Post,
            Some(other) => return Err(FormError::BadMethod(other.to_string())),
        };
        Ok(FormSubmission { method, action, fields: fields(form_el, submitter) })
    }

    /// `<meta http-equiv="refresh" content="5; url=/queue?t=…">`: the delay and the target
    /// (absolute), or the page itself when the content names no URL.
    pub fn meta_refresh(&self) -> Option<(Duration, Url)> {
        let sel = Selector::parse("meta[http-equiv]").expect("static selector");
        let meta = self
            .doc
            .select(&sel)
            .find(|m| m.value().attr("http-equiv").is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh")))?;
        let content = meta.value().attr("content")?.trim();
        let (delay, rest) = match content.find([';', ',']) {
            Some(i) => (&content[..i], content[i + 1..].trim()),
            None => (content, ""),
        };
        let secs: f64 = delay.trim().parse().ok().filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
        let target = rest
            .split_once('=')
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case("url"))
            .map(|(_, v)| v.trim().trim_matches(['\'', '"']))
            .filter(|v| !v.is_empty());
        let url = match target {
            Some(t) => self.url.join(t).ok()?,
            None => self.url.clone(),
        };
        Some((Duration::from_secs_f64(secs.min(3600.0)), url))
    }
}

fn enclosing_form(el: ElementRef<'_>) -> Option<ElementRef<'_>> {
    if el.value().name() == "form" {
        return Some(el);
    }
    el.ancestors().filter_map(ElementRef::wrap).find(|a| a.value().name() == "form")
}

/// The form data set as a browser builds it (HTML § 4.10.21.4), for the controls a login form
/// uses: inputs (checked boxes and radios only), selects, textareas, and the pressed button.
fn fields(form: ElementRef<'_>, submitter: Option<ElementRef<'_>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for node in form.descendants() {
        let Some(el) = ElementRef::wrap(node) else { continue };
        let v = el.value();
        let Some(name) = v.attr("name").filter(|n| !n.is_empty()) else { continue };
        if v.attr("disabled").is_some() {
            continue;
        }
        let is_submitter = submitter.is_some_and(|s| s.id() == el.id());
        match v.name() {
            "input" => {
                let ty = v.attr("type").unwrap_or("text").to_ascii_lowercase();
                match ty.as_str() {
                    "submit" | "image" | "button" | "reset" | "file" => {
                        if is_submitter && ty == "submit" {
                            out.push((name.into(), v.attr("value").unwrap_or("Submit").into()));
                        }
                    }
                    "checkbox" | "radio" => {
                        if v.attr("checked").is_some() {
                            out.push((name.into(), v.attr("value").unwrap_or("on").into()));
                        }
                    }
                    _ => out.push((name.into(), v.attr("value").unwrap_or("").into())),
                }
            }
            "button" => {
                let ty = v.attr("type").unwrap_or("submit").to_ascii_lowercase();
                if is_submitter && ty == "submit" {
                    out.push((name.into(), v.attr("value").unwrap_or("").into()));
                }
            }
            "textarea" => out.push((name.into(), el.text().collect())),
            "select" => {
                let opts: Vec<ElementRef> = el
                    .descendants()
                    .filter_map(ElementRef::wrap)
                    .filter(|o| o.value().name() == "option" && o.value().attr("disabled").is_none())
                    .collect();
                let chosen: Vec<&ElementRef> = opts.iter().filter(|o| o.value().attr("selected").is_some()).collect();
                let chosen = if chosen.is_empty() { opts.first().into_iter().collect() } else { chosen };
                for o in chosen {
                    let val = o.value().attr("value").map(String::from).unwrap_or_else(|| o.text().collect());
                    out.push((name.into(), val));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHOICE: &str = r#"<!doctype html><html><head><title> Đăng nhập </title></head><body>
<form method="post" action="/login/vneid"><input type="hidden" name="tx" value="T1">
<button type="submit" id="login-vneid">VNeID</button></form>
<form method="post" action="/login/officer"><input type="hidden" name="tx" value="T1">
<button type="submit" id="login-officer">Officer</button></form>
<form method="post" action="/login/abort"><input type="hidden" name="tx" value="T1">
<input type="hidden" name="reason" value="access_denied"><button id="login-cancel">Cancel</button></form>
</body></html>"#;

    const EID: &str = r#"<html><body><form method="post" action="/oauth2/login">
<input type="hidden" name="txn" value="abc&amp;1">
<label>ID <input name="login" required></label>
<label>Passcode <input name="passcode" type="password"></label>
<input type="checkbox" name="remember" value="yes"><input type="checkbox" name="agree" checked>
<input name="off" disabled value="x"><input type="file" name="f">
<select name="lang"><option value="en">EN</option><option selected>vi</option></select>
<textarea name="note">hello</textarea>
<button type="submit">Đăng nhập</button></form></body></html>"#;

    const CONSENT: &str = r#"<form method="post" action="/consent"><input type="hidden" name="tx" value="C9">
<button type="submit" name="decision" value="allow" id="consent-allow">Allow</button>
<button type="submit" name="decision" value="deny" id="consent-deny">Deny</button></form>"#;

    fn page(body: &str, url: &str) -> Page {
        Page::parse(body, Url::parse(url).unwrap())
    }

    #[test]
    fn pressing_a_button_submits_its_own_form() {
        let p = page(CHOICE, "http://op.test/login?x=1");
        let sel = selector("#login-vneid").unwrap();
        let f = p.form(None, Some((&sel, "#login-vneid"))).unwrap();
        assert_eq!(f.method, Method::Post);
        assert_eq!(f.action.as_str(), "http://op.test/login/vneid");
        assert_eq!(f.fields, vec![("tx".to_string(), "T1".to_string())]);
        assert_eq!(p.title().as_deref(), Some("Đăng nhập"));
        assert!(p.matches(&sel));
        assert!(!p.matches(&selector("#consent-allow").unwrap()));
    }

    #[test]
    fn the_pressed_button_value_is_sent_and_not_the_others() {
        let p = page(CONSENT, "http://op.test/consent");
        let sel = selector("#consent-allow").unwrap();
        let f = p.form(None, Some((&sel, "#consent-allow"))).unwrap();
        assert_eq!(f.fields, vec![("tx".into(), "C9".into()), ("decision".into(), "allow".into())]);
    }

    #[test]
    fn form_fields_as_a_browser_collects_them_then_filled() {
        let p = page(EID, "http://eid.test/oauth2/authorize?client_id=x");
        let sel = selector("form[action='/oauth2/login']").unwrap();
        let mut f = p.form(Some((&sel, "form")), None).unwrap();
        assert_eq!(f.action.as_str(), "http://eid.test/oauth2/login");
        let names: Vec<&str> = f.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["txn", "login", "passcode", "agree", "lang", "note"]);
        assert_eq!(f.fields[0].1, "abc&1", "entities are decoded");
        assert_eq!(f.fields[3].1, "on");
        assert_eq!(f.fields[4].1, "vi");
        f.set("login", "001188271828".into());
        f.set("extra", "1".into());
        assert_eq!(f.fields[1].1, "001188271828");
        assert_eq!(f.fields.last().unwrap().0, "extra");
    }

    #[test]
    fn default_form_action_and_method() {
        let p = page("<form><input name=q value=1></form>", "http://x.test/search?a=b");
        let f = p.form(None, None).unwrap();
        assert_eq!(f.method, Method::Get);
        assert_eq!(f.action.as_str(), "http://x.test/search?a=b");
    }

    #[test]
    fn missing_or_misplaced_elements_are_errors_not_panics() {
        let p = page("<p id=lonely>no form</p><p>broken <form", "http://x.test/");
        let sel = selector("#nothing").unwrap();
        assert_eq!(p.form(None, Some((&sel, "#nothing"))), Err(FormError::NoMatch("#nothing".into())));
        let lonely = selector("#lonely").unwrap();
        assert_eq!(p.form(Some((&lonely, "#lonely")), None), Err(FormError::NotInForm("#lonely".into())));
        assert!(selector("form[").is_err());
        let p = page("<form method=put><input name=a></form>", "http://x.test/");
        assert_eq!(p.form(None, None), Err(FormError::BadMethod("put".into())));
        let p = page("", "http://x.test/");
        assert!(p.form(None, None).is_err());
        assert!(p.title().is_none());
    }

    #[test]
    fn meta_refresh_of_a_queue_page() {
        let p = page(r#"<meta http-equiv="Refresh" content="3; URL='/queue?pos=12'">"#, "http://op.test/authorize?x");
        let (d, u) = p.meta_refresh().unwrap();
        assert_eq!(d, Duration::from_secs(3));
        assert_eq!(u.as_str(), "http://op.test/queue?pos=12");
        let p = page(r#"<meta http-equiv="refresh" content="0.5">"#, "http://op.test/wait");
        assert_eq!(p.meta_refresh().unwrap(), (Duration::from_millis(500), Url::parse("http://op.test/wait").unwrap()));
        assert!(page(r#"<meta http-equiv="refresh" content="soon">"#, "http://op.test/").meta_refresh().is_none());
        assert!(page("<p>nothing</p>", "http://op.test/").meta_refresh().is_none());
    }
}
