//! Filters matched on a resource's JSON: Groups (a few thousand units at most, listed from the
//! unit tree) and PATCH value paths (`emails[type eq "work"]`). Attribute names compare
//! case-insensitively, as RFC 7643 §2.1 says; string values too (our attributes are not
//! case-exact where it would matter: ids are compared whole).

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};
use serde_json::Value;

use super::error::{ScimError, ScimResult};
use super::{GROUP_SCHEMA, UNIT_SCHEMA};

/// The attribute's schema-less, lower-case name (`name.formatted`), once its URN (if any) is one
/// of `schemas` (compared case-insensitively, as attribute names are).
pub fn plain_name(path: &AttrPath, schemas: &[&str]) -> Option<String> {
    if let Some(uri) = &path.uri
        && !schemas.iter().any(|s| s.eq_ignore_ascii_case(uri))
    {
        return None;
    }
    let mut name = path.name.to_ascii_lowercase();
    if let Some(sub) = &path.sub_attr {
        name.push('.');
        name.push_str(&sub.to_ascii_lowercase());
    }
    Some(name)
}

/// Group attributes a filter may name.
const GROUP_ATTRS: &[&str] =
    &["id", "externalid", "displayname", "members", "members.value", "code", "kind", "parentcode"];

/// Checks that a Group filter names only attributes Groups have.
pub fn check_group_filter(f: &Filter) -> ScimResult<()> {
    let ok =
        |p: &AttrPath| plain_name(p, &[GROUP_SCHEMA, UNIT_SCHEMA]).is_some_and(|n| GROUP_ATTRS.contains(&n.as_str()));
    let check = |p: &AttrPath| {
        if ok(p) { Ok(()) } else { Err(ScimError::bad("invalidFilter", format!("cannot filter Groups on {p}"))) }
    };
    match f {
        Filter::Attr(AttrExp::Present(p) | AttrExp::Comparison(p, _, _)) => check(p),
        Filter::ValuePath(vp) => check(&vp.attr),
        Filter::Not(inner) => check_group_filter(inner),
        Filter::And(items) | Filter::Or(items) => items.iter().try_for_each(check_group_filter),
    }
}

/// Whether a resource's JSON matches the filter.
pub fn matches(f: &Filter, resource: &Value) -> bool {
    match f {
        Filter::Attr(e) => attr_matches(e, resource),
        Filter::ValuePath(vp) => lookup(resource, &AttrPath { sub_attr: None, ..vp.attr.clone() })
            .into_iter()
            .any(|element| matches_val(&vp.filter, element)),
        Filter::Not(inner) => !matches(inner, resource),
        Filter::And(items) => items.iter().all(|f| matches(f, resource)),
        Filter::Or(items) => items.iter().any(|f| matches(f, resource)),
    }
}

/// Whether one value of a multi-valued attribute matches a bracketed filter.
pub fn matches_val(f: &ValFilter, element: &Value) -> bool {
    match f {
        ValFilter::Attr(e) => attr_matches(e, element),
        ValFilter::Not(inner) => !matches_val(inner, element),
        ValFilter::And(items) => items.iter().all(|f| matches_val(f, element)),
        ValFilter::Or(items) => items.iter().any(|f| matches_val(f, element)),
    }
}

fn attr_matches(e: &AttrExp, v: &Value) -> bool {
    match e {
        AttrExp::Present(p) => lookup(v, p).into_iter().any(|x| !x.is_null() && x.as_str() != Some("")),
        AttrExp::Comparison(p, op, expected) => {
            let found = lookup(v, p);
            if found.is_empty() {
                return matches!((op, expected), (CompareOp::Eq, CompValue::Null) | (CompareOp::Ne, _));
            }
            found.into_iter().any(|actual| compare(actual, op, expected))
        }
    }
}

/// The values at a path: keys matched case-insensitively, a URN naming an extension's object,
/// arrays flattened.
pub fn lookup<'a>(v: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let mut scope = v;
    if let Some(uri) = &path.uri
        && let Some(ext) = get_ci(v, uri)
    {
        scope = ext;
    }
    let mut found: Vec<&Value> = get_ci(scope, &path.name).into_iter().collect();
    if let Some(sub) = &path.sub_attr {
        found = found
            .into_iter()
            .flat_map(|x| match x {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            })
            .filter_map(|x| get_ci(x, sub))
            .collect();
    }
    found
        .into_iter()
        .flat_map(|x| match x {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        })
        .collect()
}

pub fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, x)| x)
}

fn compare(actual: &Value, op: &CompareOp, expected: &CompValue) -> bool {
    use std::cmp::Ordering;
    let ord = match (actual, expected) {
        (Value::String(a), CompValue::Str(b)) => {
            let (a, b) = (a.to_lowercase(), b.to_lowercase());
            match op {
                CompareOp::Co => return a.contains(&b),
                CompareOp::Sw => return a.starts_with(&b),
                CompareOp::Ew => return a.ends_with(&b),
                _ => a.cmp(&b),
            }
        }
        (Value::Bool(a), CompValue::True | CompValue::False) => a.cmp(&matches!(expected, CompValue::True)),
        (Value::Number(a), CompValue::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()).unwrap_or(Ordering::Less),
        (Value::Null, CompValue::Null) => Ordering::Equal,
        _ => return matches!(op, CompareOp::Ne),
    };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
