//! What every query shares: its parameters (`filter`, `startIndex`, `count`, `sortBy`,
//! `sortOrder`, `attributes`, `excludedAttributes`, from a GET's query or a `/.search` body),
//! the ListResponse, and the projection of a resource onto the attributes asked for.

use std::collections::HashMap;

use scim_v2::filter::{AttrPath, Filter};
use serde_json::{Map, Value, json};

use super::error::{ScimError, ScimResult};
use super::filter::{self, get_ci};
use super::{LIST_SCHEMA, MAX_PAGE};

#[derive(Debug, Default)]
pub struct Query {
    pub filter: Option<Filter>,
    /// 1-based (RFC 7644 §3.4.2.4).
    pub start_index: usize,
    pub count: usize,
    pub sort_by: Option<AttrPath>,
    pub descending: bool,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

fn names(v: Option<&Value>) -> ScimResult<Vec<String>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|x| x.as_str().map(str::to_owned).ok_or_else(|| syntax("attribute names are strings")))
            .collect(),
        Some(_) => Err(syntax("attributes are a list of names")),
    }
}

fn syntax(detail: &str) -> ScimError {
    ScimError::bad("invalidSyntax", detail)
}

/// A non-negative integer given as a number or (query strings) as text; out-of-range values are
/// clamped as RFC 7644 §3.4.2.4 says (a start below 1 is 1, a negative count is 0).
fn int(v: Option<&Value>, name: &str) -> ScimResult<Option<i64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| ScimError::bad("invalidValue", format!("{name} is an integer")))
        }
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ScimError::bad("invalidValue", format!("{name} is an integer"))),
        Some(_) => Err(ScimError::bad("invalidValue", format!("{name} is an integer"))),
    }
}

impl Query {
    /// From a GET's query parameters.
    pub fn from_params(params: &HashMap<String, String>) -> ScimResult<Query> {
        let obj: Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        Query::from_json(&Value::Object(obj))
    }

    /// From a SearchRequest body (RFC 7644 §3.4.3), or the query parameters made into one.
    pub fn from_json(v: &Value) -> ScimResult<Query> {
        let filter = match get_ci(v, "filter") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(filter::parse(s)?),
            Some(_) => return Err(ScimError::bad("invalidFilter", "a filter is a string")),
        };
        let sort_by = match get_ci(v, "sortBy").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => match filter::parse_path(s)? {
                scim_v2::filter::PatchPath::Attr(p) => Some(p),
                _ => return Err(ScimError::bad("invalidValue", "sortBy names one attribute")),
            },
            None => None,
        };
        let descending = match get_ci(v, "sortOrder").and_then(Value::as_str) {
            None => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(_) => return Err(ScimError::bad("invalidValue", "sortOrder is ascending or descending")),
        };
        let start = int(get_ci(v, "startIndex"), "startIndex")?.unwrap_or(1).max(1);
        let count = int(get_ci(v, "count"), "count")?.unwrap_or(MAX_PAGE as i64).clamp(0, MAX_PAGE as i64);
        Ok(Query {
            filter,
            start_index: usize::try_from(start).unwrap_or(usize::MAX),
            count: count as usize,
            sort_by,
            descending,
            attributes: names(get_ci(v, "attributes"))?,
            excluded: names(get_ci(v, "excludedAttributes"))?,
        })
    }

    /// The projection asked for on a single resource (GET, POST, PUT, PATCH answers).
    pub fn projection(params: &HashMap<String, String>) -> ScimResult<(Vec<String>, Vec<String>)> {
        let q = Query::from_params(
            &params
                .iter()
                .filter(|(k, _)| k.to_ascii_lowercase().ends_with("attributes"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )?;
        Ok((q.attributes, q.excluded))
    }
}

/// A ListResponse of one page.
pub fn response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// Keeps what `attributes` names (plus `id` and `schemas`, always returned), or drops what
/// `excluded` names. Names may carry a schema URN and one sub-attribute.
pub fn project(mut v: Value, attributes: &[String], excluded: &[String]) -> Value {
    if attributes.is_empty() && excluded.is_empty() {
        return v;
    }
    let Some(obj) = v.as_object_mut() else { return v };
    let parsed = |list: &[String]| -> Vec<(Option<String>, String, Option<String>)> {
        list.iter().filter_map(|n| split(n, obj.keys().filter(|k| k.starts_with("urn:")))).collect()
    };
    let (keep, drop) = (parsed(attributes), parsed(excluded));
    let mut out = Map::new();
    for (k, val) in obj.iter() {
        let always = matches!(k.as_str(), "id" | "schemas");
        if k.starts_with("urn:") {
            let inner: Vec<_> =
                keep.iter().filter(|(u, ..)| u.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(k))).collect();
            let whole = keep.iter().any(|(u, n, _)| u.is_none() && n.eq_ignore_ascii_case(k));
            let mut ext = val.clone();
            if !keep.is_empty() && !whole {
                if inner.is_empty() {
                    continue;
                }
                ext = filter_obj(&ext, |name, sub| {
                    inner.iter().any(|(_, n, s)| n.eq_ignore_ascii_case(name) && (s.is_none() || sub.is_none()))
                });
            }
            let dropped: Vec<_> =
                drop.iter().filter(|(u, ..)| u.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(k))).collect();
            ext = filter_obj(&ext, |name, _| {
                !dropped.iter().any(|(_, n, s)| s.is_none() && n.eq_ignore_ascii_case(name))
            });
            out.insert(k.clone(), ext);
            continue;
        }
        let asked = keep.iter().find(|(u, n, _)| u.is_none() && n.eq_ignore_ascii_case(k));
        if !always && !keep.is_empty() && asked.is_none() {
            continue;
        }
        if !always && drop.iter().any(|(u, n, s)| u.is_none() && s.is_none() && n.eq_ignore_ascii_case(k)) {
            continue;
        }
        out.insert(k.clone(), val.clone());
    }
    Value::Object(out)
}

fn filter_obj(v: &Value, keep: impl Fn(&str, Option<&str>) -> bool) -> Value {
    match v.as_object() {
        Some(o) => {
            Value::Object(o.iter().filter(|(k, _)| keep(k, None)).map(|(k, x)| (k.clone(), x.clone())).collect())
        }
        None => v.clone(),
    }
}

/// `urn:…:User:position` → (Some(urn), "position", None); `name.formatted` → (None, "name",
/// Some("formatted")); a bare extension URN → (None, urn, None).
fn split<'a>(
    name: &str,
    mut extensions: impl Iterator<Item = &'a String>,
) -> Option<(Option<String>, String, Option<String>)> {
    let name = name.trim();
    if let Some(urn) = extensions.find(|u| name.len() > u.len() && name[..u.len()].eq_ignore_ascii_case(u)) {
        let rest = name[urn.len()..].trim_start_matches(':');
        let (n, s) = rest.split_once('.').map_or((rest, None), |(n, s)| (n, Some(s.to_owned())));
        return Some((Some(urn.clone()), n.to_owned(), s));
    }
    if name.starts_with("urn:") {
        // A core schema's URN prefix: the attribute itself.
        let rest = name.rsplit_once(':').map(|(_, r)| r).unwrap_or(name);
        if name.to_ascii_lowercase().contains(":core:") {
            let (n, s) = rest.split_once('.').map_or((rest, None), |(n, s)| (n, Some(s.to_owned())));
            return Some((None, n.to_owned(), s));
        }
        return Some((None, name.to_owned(), None));
    }
    let (n, s) = name.split_once('.').map_or((name, None), |(n, s)| (n, Some(s.to_owned())));
    Some((None, n.to_owned(), s))
}
