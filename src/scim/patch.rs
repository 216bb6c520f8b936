//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: the result is then saved as a
//! replacement would be, so a PATCH follows exactly the rules (and writes exactly the audit
//! entries) of the PUT it amounts to.

use scim_v2::filter::{AttrPath, PatchPath};
use serde_json::{Map, Value};

use super::error::{ScimError, ScimResult};
use super::filter::{self, get_ci};
use super::{MAX_PATCH_OPERATIONS, PATCH_SCHEMA};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidSyntax", detail)
}

fn no_target(detail: impl Into<String>) -> ScimError {
    ScimError::bad("noTarget", detail)
}

/// Applies a PatchOp body to `resource`. `extensions` are the schema URNs whose attributes live
/// in an object of their own.
pub fn apply(resource: &mut Value, body: &Value, extensions: &[&str]) -> ScimResult<()> {
    let schemas = get_ci(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|x| x.as_str() == Some(PATCH_SCHEMA))) {
        return Err(syntax(format!("a PATCH body names the schema {PATCH_SCHEMA}")));
    }
    let ops = get_ci(body, "Operations").and_then(Value::as_array).ok_or_else(|| syntax("Operations is required"))?;
    if ops.is_empty() || ops.len() > MAX_PATCH_OPERATIONS {
        return Err(syntax(format!("1 to {MAX_PATCH_OPERATIONS} operations")));
    }
    for o in ops {
        let op = match get_ci(o, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            _ => return Err(syntax("op is add, replace or remove")),
        };
        let value = get_ci(o, "value").cloned();
        if op != Op::Remove && value.is_none() {
            return Err(syntax("add and replace take a value"));
        }
        let path = get_ci(o, "path").and_then(Value::as_str).map(str::trim).filter(|p| !p.is_empty());
        match path {
            None => {
                let Some(Value::Object(attrs)) = value else {
                    return Err(if op == Op::Remove {
                        no_target("remove needs a path")
                    } else {
                        syntax("without a path, the value is an object")
                    });
                };
                merge(resource, attrs, op, extensions)?;
            }
            // A bare extension URN: its whole object.
            Some(p) if extensions.iter().any(|e| e.eq_ignore_ascii_case(p)) => {
                let ext = extensions.iter().find(|e| e.eq_ignore_ascii_case(p)).copied().unwrap_or(p);
                match (op, value) {
                    (Op::Remove, _) => drop(take_ci(resource, ext)),
                    (_, Some(Value::Object(attrs))) => merge(container(resource, Some(ext), true)?, attrs, op, &[])?,
                    _ => return Err(ScimError::bad("invalidValue", "an extension's value is an object")),
                }
            }
            Some(p) => at_path(resource, &filter::parse_path(p)?, op, value, extensions)?,
        }
    }
    Ok(())
}

/// Path-less add/replace: each attribute of `attrs` (an extension's object merged key by key).
fn merge(resource: &mut Value, attrs: Map<String, Value>, op: Op, extensions: &[&str]) -> ScimResult<()> {
    for (k, v) in attrs {
        match extensions.iter().find(|e| e.eq_ignore_ascii_case(&k)) {
            Some(ext) => {
                let Value::Object(inner) = v else {
                    return Err(ScimError::bad("invalidValue", "an extension's value is an object"));
                };
                merge(container(resource, Some(ext), true)?, inner, op, &[])?;
            }
            None => set(resource, &k, v, op)?,
        }
    }
    Ok(())
}

/// Sets (replace) or adds to (add: multi-valued attributes gain the new values) one attribute.
fn set(obj: &mut Value, key: &str, v: Value, op: Op) -> ScimResult<()> {
    let map = obj.as_object_mut().ok_or_else(|| no_target(format!("{key}: not an object")))?;
    let key = map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned().unwrap_or_else(|| key.to_owned());
    match (op, map.get_mut(&key), v) {
        (Op::Add, Some(Value::Array(existing)), Value::Array(new)) => {
            for item in new {
                if !existing.contains(&item) {
                    existing.push(item);
                }
            }
        }
        (Op::Add, Some(Value::Array(existing)), item) => {
            if !existing.contains(&item) {
                existing.push(item);
            }
        }
        (Op::Add, Some(Value::Object(existing)), Value::Object(new)) => existing.extend(new),
        (_, _, v) => {
            map.insert(key, v);
        }
    }
    Ok(())
}

fn take_ci(obj: &mut Value, key: &str) -> Option<Value> {
    let map = obj.as_object_mut()?;
    let k = map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()?;
    map.remove(&k)
}

/// The object a path's attribute lives in: the resource, or an extension's object (created when
/// `create`).
fn container<'a>(resource: &'a mut Value, uri: Option<&str>, create: bool) -> ScimResult<&'a mut Value> {
    let Some(uri) = uri.filter(|u| !u.to_ascii_lowercase().contains(":core:")) else { return Ok(resource) };
    let map = resource.as_object_mut().ok_or_else(|| no_target("not an object"))?;
    let key = map.keys().find(|k| k.eq_ignore_ascii_case(uri)).cloned();
    match key {
        Some(k) => map.get_mut(&k).ok_or_else(|| no_target(uri.to_owned())),
        None if create => Ok(map.entry(uri.to_owned()).or_insert_with(|| Value::Object(Map::new()))),
        None => Err(no_target(format!("{uri} is not set"))),
    }
}

fn known_extension<'a>(path: &AttrPath, extensions: &[&'a str]) -> ScimResult<Option<&'a str>> {
    match &path.uri {
        None => Ok(None),
        Some(u) if u.to_ascii_lowercase().contains(":core:") => Ok(None),
        Some(u) => extensions
            .iter()
            .find(|e| e.eq_ignore_ascii_case(u))
            .map(|e| Some(*e))
            .ok_or_else(|| ScimError::bad("invalidPath", format!("unknown schema {u}"))),
    }
}

fn at_path(
    resource: &mut Value,
    path: &PatchPath,
    op: Op,
    value: Option<Value>,
    extensions: &[&str],
) -> ScimResult<()> {
    match path {
        PatchPath::Attr(p) => {
            let ext = known_extension(p, extensions)?;
            let target = container(resource, ext, op != Op::Remove)?;
            match (&p.sub_attr, op) {
                (None, Op::Remove) => drop(take_ci(target, &p.name)),
                (None, _) => set(target, &p.name, value.unwrap_or(Value::Null), op)?,
                (Some(sub), _) => {
                    let map = target.as_object_mut().ok_or_else(|| no_target(p.to_string()))?;
                    let key =
                        map.keys().find(|k| k.eq_ignore_ascii_case(&p.name)).cloned().unwrap_or_else(|| p.name.clone());
                    if op == Op::Remove && !map.contains_key(&key) {
                        return Ok(());
                    }
                    let parent = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
                    // A sub-attribute of a multi-valued attribute: every value's.
                    let targets: Vec<&mut Value> = match parent {
                        Value::Array(items) => items.iter_mut().collect(),
                        other => vec![other],
                    };
                    for t in targets {
                        if op == Op::Remove {
                            take_ci(t, sub);
                        } else {
                            set(t, sub, value.clone().unwrap_or(Value::Null), Op::Replace)?;
                        }
                    }
                }
            }
        }
        PatchPath::Value(vp) => {
            let ext = known_extension(&vp.attr, extensions)?;
            let target = container(resource, ext, op == Op::Add)?;
            let map = target.as_object_mut().ok_or_else(|| no_target(vp.to_string()))?;
            let key = map.keys().find(|k| k.eq_ignore_ascii_case(&vp.attr.name)).cloned();
            let items = match key.and_then(|k| map.get_mut(&k)) {
                Some(Value::Array(items)) => items,
                _ if op == Op::Add => {
                    return set(target, &vp.attr.name, Value::Array(value.into_iter().collect()), Op::Add);
                }
                _ => return Err(no_target(format!("no value matches {vp}"))),
            };
            let matching: Vec<usize> =
                (0..items.len()).filter(|i| filter::matches_val(&vp.filter, &items[*i])).collect();
            if matching.is_empty() && op != Op::Add {
                return Err(no_target(format!("no value matches {vp}")));
            }
            match (&vp.sub_attr, op) {
                (None, Op::Remove) => {
                    for i in matching.into_iter().rev() {
                        items.remove(i);
                    }
                }
                (None, Op::Add) if matching.is_empty() => items.extend(value),
                (None, _) => {
                    for i in matching {
                        match (&mut items[i], value.clone()) {
                            (Value::Object(old), Some(Value::Object(new))) => old.extend(new),
                            (slot, v) => *slot = v.unwrap_or(Value::Null),
                        }
                    }
                }
                (Some(sub), _) => {
                    for i in matching {
                        if op == Op::Remove {
                            take_ci(&mut items[i], sub);
                        } else {
                            set(&mut items[i], sub, value.clone().unwrap_or(Value::Null), Op::Replace)?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
