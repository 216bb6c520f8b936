use serde_json::json;

use super::*;
use crate::scim::{PATCH_SCHEMA, UNIT_SCHEMA};

fn sql(f: &str, personal_id: bool) -> ScimResult<UserSql> {
    UserSql::translate(&parse(f)?, 3, personal_id)
}

#[test]
fn user_filters_become_sql_with_bound_values() {
    let s = sql(r#"userName eq "ABC" and (displayName co "Thị" or not (emails pr))"#, false).unwrap();
    assert_eq!(
        s.condition,
        "(o.username = $3 AND ((LOWER(o.full_name) LIKE $4 ESCAPE '\\') OR NOT ((o.email IS NOT NULL AND o.email <> ''))))"
    );
    assert_eq!(s.binds, [Bind::Text("abc".into()), Bind::Text("%thị%".into())]);
    // The value's own wildcards are literal.
    assert_eq!(sql(r#"userName sw "a_%""#, false).unwrap().binds, [Bind::Text("a\\_\\%%".into())]);
    let active = sql("active eq false", false).unwrap();
    assert_eq!(active.condition, "o.status <> 'active'");
    let dated = sql(r#"meta.lastModified gt "2026-01-01T00:00:00Z""#, false).unwrap();
    assert_eq!(
        (dated.condition.as_str(), dated.binds.as_slice()),
        ("o.updated_at > $3", &[Bind::Int(1_767_225_600)][..])
    );
    let ext = sql(r#"urn:xacthuc:params:scim:schemas:extension:officer:2.0:User:unitCode eq "A1""#, false).unwrap();
    assert_eq!(ext.condition, "u.code = $3");
}

#[test]
fn what_cannot_be_filtered_is_invalid_filter() {
    for bad in [
        r#"nickName eq "x""#,
        r#"active co "t""#,
        r#"emails[type eq "work"]"#,
        r#"meta.lastModified gt "yesterday""#,
        r#"urn:other:schema:User:userName eq "x""#,
        "userName eq",
    ] {
        assert_eq!(sql(bad, false).err().and_then(|e| e.scim_type), Some("invalidFilter"), "{bad}");
    }
    // The personal ID exists only for callers allowed to see it.
    let pid = r#"urn:xacthuc:params:scim:schemas:extension:officer:2.0:User:personalId eq "031090000001""#;
    assert!(sql(pid, false).is_err());
    assert_eq!(sql(pid, true).unwrap().condition, "o.personal_id = $3");
    assert!(parse(&"x".repeat(MAX_FILTER_LEN + 1)).is_err());
    let deep = "not (".repeat(100) + "userName pr" + &")".repeat(100);
    assert!(parse(&deep).is_err(), "the parser bounds nesting");
}

#[test]
fn groups_match_on_their_json() {
    let g = json!({ "id": "u1", "displayName": "Xã An Lư", "members": [{ "value": "o1" }],
        UNIT_SCHEMA: { "code": "31.x1", "kind": "commune" } });
    let m = |f: &str| matches(&parse(f).unwrap(), &g);
    assert!(m(r#"displayName sw "xã an""#));
    assert!(m(r#"members[value eq "o1"]"#) && m(r#"members.value eq "o1""#) && !m(r#"members eq "o2""#));
    assert!(m(r#"urn:xacthuc:params:scim:schemas:extension:unit:2.0:Group:code eq "31.x1""#));
    assert!(m(r#"not (displayName eq "x") and id pr"#));
    assert!(check_group_filter(&parse(r#"userName eq "x""#).unwrap()).is_err());
    assert!(check_group_filter(&parse(r#"displayName eq "x" or members[value eq "y"]"#).unwrap()).is_ok());
}

#[test]
fn if_match_compares_versions() {
    use super::super::check_if_match;
    assert!(check_if_match(None, "v1").is_ok());
    assert!(check_if_match(Some("*"), "v1").is_ok());
    assert!(check_if_match(Some("W/\"v0\", W/\"v1\""), "v1").is_ok());
    assert_eq!(check_if_match(Some("W/\"v0\""), "v1").unwrap_err().status, 412);
}

#[test]
fn patch_applies_to_json() {
    use super::super::patch::apply;
    let ext = "urn:xacthuc:params:scim:schemas:extension:officer:2.0:User";
    let mut u = json!({ "userName": "a", "emails": [{ "value": "a@x.vn", "type": "work" }], ext: { "unitCode": "A" } });
    let body = json!({ "schemas": [PATCH_SCHEMA], "Operations": [
        { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@x.vn" },
        { "op": "add", "path": format!("{ext}:position"), "value": "Chuyên viên" },
        { "op": "Replace", "value": { "ACTIVE": false, ext: { "unitCode": "B" } } },
        { "op": "remove", "path": "phoneNumbers" },
    ] });
    apply(&mut u, &body, &[ext]).unwrap();
    assert_eq!(u["emails"][0]["value"], "b@x.vn");
    assert_eq!(u[ext], json!({ "unitCode": "B", "position": "Chuyên viên" }));
    assert_eq!(u["ACTIVE"], false);
    let no_target = json!({ "schemas": [PATCH_SCHEMA], "Operations": [{ "op": "replace", "path": "emails[type eq \"home\"].value", "value": "x" }] });
    assert_eq!(apply(&mut u, &no_target, &[ext]).unwrap_err().scim_type, Some("noTarget"));
    let no_schema = json!({ "Operations": [{ "op": "remove", "path": "x" }] });
    assert_eq!(apply(&mut u, &no_schema, &[ext]).unwrap_err().scim_type, Some("invalidSyntax"));
}
