//! Filters (RFC 7644 §3.4.2.2), parsed by the `scim_v2` crate (which bounds their depth and
//! terms; we bound their length). Users are filtered in SQL, so a page costs the same however
//! many officers the province has; Groups (a few thousand units at most) and PATCH value paths
//! are matched on their JSON. An attribute we cannot filter on is `invalidFilter`, never a
//! silent "matches nothing". Matching on JSON is [`super::matching`].

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, PatchPath, ValFilter};

use super::error::{ScimError, ScimResult};
pub use super::matching::{check_group_filter, get_ci, matches, matches_val, plain_name};
use super::{MAX_FILTER_LEN, OFFICER_SCHEMA, USER_SCHEMA};

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidFilter", detail)
}

/// Parses a `filter` parameter.
pub fn parse(text: &str) -> ScimResult<Filter> {
    if text.len() > MAX_FILTER_LEN {
        return Err(invalid(format!("a filter is at most {MAX_FILTER_LEN} bytes")));
    }
    text.parse::<Filter>().map_err(|e| invalid(format!("the filter does not parse: {e}")))
}

/// Parses a PATCH `path`.
pub fn parse_path(text: &str) -> ScimResult<PatchPath> {
    if text.len() > MAX_FILTER_LEN {
        return Err(ScimError::bad("invalidPath", format!("a path is at most {MAX_FILTER_LEN} bytes")));
    }
    text.parse::<PatchPath>().map_err(|e| ScimError::bad("invalidPath", format!("the path does not parse: {e}")))
}

/// A User attribute that can be filtered and sorted on, as an officer column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Id,
    UserName,
    FullName,
    Active,
    Email,
    Phone,
    UnitCode,
    Position,
    PersonalId,
    LastModified,
    ExternalId,
}

impl Column {
    /// The User attribute for a path, `None` when it is not one we store. The personal ID
    /// exists only for callers allowed to see it.
    pub fn of(path: &AttrPath, personal_id: bool) -> Option<Column> {
        let name = plain_name(path, &[USER_SCHEMA, OFFICER_SCHEMA])?;
        Some(match name.as_str() {
            "id" => Column::Id,
            "username" => Column::UserName,
            "displayname" | "name.formatted" => Column::FullName,
            "active" => Column::Active,
            "emails" | "emails.value" => Column::Email,
            "phonenumbers" | "phonenumbers.value" => Column::Phone,
            "unitcode" => Column::UnitCode,
            "position" => Column::Position,
            "personalid" if personal_id => Column::PersonalId,
            "meta.lastmodified" => Column::LastModified,
            "externalid" => Column::ExternalId,
            _ => return None,
        })
    }

    /// The SQL expression (officers `o` joined with units `u`).
    pub fn sql(self) -> &'static str {
        match self {
            Column::Id => "o.id",
            Column::UserName => "o.username",
            Column::FullName => "o.full_name",
            Column::Active => "o.status",
            Column::Email => "o.email",
            Column::Phone => "o.phone",
            Column::UnitCode => "u.code",
            Column::Position => "o.position",
            Column::PersonalId => "o.personal_id",
            Column::LastModified => "o.updated_at",
            // The caller's own externalIds, joined as `x`.
            Column::ExternalId => "x.external_id",
        }
    }

    /// Case-insensitive attributes (RFC 7643 `caseExact: false`) compare lower-cased. Usernames
    /// are stored lower-case already.
    fn folded(self) -> bool {
        matches!(self, Column::FullName | Column::Email | Column::Position)
    }
}

/// A bound value of a translated filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// A User filter as a SQL condition with numbered placeholders from `$first`, and their values.
#[derive(Debug, Default)]
pub struct UserSql {
    pub condition: String,
    pub binds: Vec<Bind>,
    first: usize,
}

impl UserSql {
    pub fn translate(f: &Filter, first: usize, personal_id: bool) -> ScimResult<UserSql> {
        let mut out = UserSql { first, ..UserSql::default() };
        let mut b = Builder { out: &mut out, personal_id };
        b.filter(f)?;
        Ok(out)
    }

    fn bind(&mut self, v: Bind) -> String {
        self.binds.push(v);
        format!("${}", self.first + self.binds.len() - 1)
    }
}

struct Builder<'a> {
    out: &'a mut UserSql,
    personal_id: bool,
}

impl Builder<'_> {
    fn filter(&mut self, f: &Filter) -> ScimResult<()> {
        match f {
            Filter::Attr(e) => self.attr(e, None),
            Filter::ValuePath(vp) => {
                let parent = Column::of(&vp.attr, self.personal_id)
                    .filter(|c| matches!(c, Column::Email | Column::Phone) && vp.attr.sub_attr.is_none())
                    .ok_or_else(|| invalid(format!("cannot filter on {}[...]", vp.attr)))?;
                self.val(&vp.filter, parent)
            }
            Filter::Not(inner) => self.wrap("NOT (", |b| b.filter(inner), ")"),
            Filter::And(items) => self.join(items.as_slice(), " AND ", Self::filter),
            Filter::Or(items) => self.join(items.as_slice(), " OR ", Self::filter),
        }
    }

    /// Inside `emails[...]`: only `value` is stored.
    fn val(&mut self, f: &ValFilter, parent: Column) -> ScimResult<()> {
        match f {
            ValFilter::Attr(e) => self.attr(e, Some(parent)),
            ValFilter::Not(inner) => self.wrap("NOT (", |b| b.val(inner, parent), ")"),
            ValFilter::And(items) => self.join(items.as_slice(), " AND ", |b, x| b.val(x, parent)),
            ValFilter::Or(items) => self.join(items.as_slice(), " OR ", |b, x| b.val(x, parent)),
        }
    }

    fn wrap(&mut self, open: &str, inner: impl FnOnce(&mut Self) -> ScimResult<()>, close: &str) -> ScimResult<()> {
        self.out.condition.push_str(open);
        inner(self)?;
        self.out.condition.push_str(close);
        Ok(())
    }

    fn join<T>(
        &mut self,
        items: &[T],
        sep: &str,
        mut each: impl FnMut(&mut Self, &T) -> ScimResult<()>,
    ) -> ScimResult<()> {
        self.out.condition.push('(');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.condition.push_str(sep);
            }
            each(self, item)?;
        }
        self.out.condition.push(')');
        Ok(())
    }

    fn attr(&mut self, e: &AttrExp, parent: Option<Column>) -> ScimResult<()> {
        let path = match e {
            AttrExp::Present(p) | AttrExp::Comparison(p, _, _) => p,
        };
        let col = match parent {
            Some(parent)
                if path.uri.is_none() && path.sub_attr.is_none() && path.name.eq_ignore_ascii_case("value") =>
            {
                parent
            }
            Some(_) => return Err(invalid(format!("only value can be filtered inside brackets, not {path}"))),
            None => Column::of(path, self.personal_id).ok_or_else(|| invalid(format!("cannot filter on {path}")))?,
        };
        let sql = match e {
            AttrExp::Present(_) => present(col),
            AttrExp::Comparison(_, op, value) => self.comparison(col, op, value)?,
        };
        self.out.condition.push_str(&sql);
        Ok(())
    }

    fn comparison(&mut self, col: Column, op: &CompareOp, value: &CompValue) -> ScimResult<String> {
        let c = col.sql();
        match (col, op, value) {
            (Column::Active, CompareOp::Eq | CompareOp::Ne, CompValue::True | CompValue::False) => {
                let wanted = matches!(value, CompValue::True) == matches!(op, CompareOp::Eq);
                Ok(if wanted { format!("{c} = 'active'") } else { format!("{c} <> 'active'") })
            }
            (Column::Active, ..) => Err(invalid("active compares with eq or ne to true or false")),
            (_, CompareOp::Eq, CompValue::Null) => Ok(format!("NOT {}", present(col))),
            (_, CompareOp::Ne, CompValue::Null) => Ok(present(col)),
            (Column::LastModified, _, CompValue::Str(s)) => {
                let t = chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|_| invalid("meta.lastModified compares with an RFC 3339 date-time"))?;
                let p = self.out.bind(Bind::Int(t.timestamp()));
                let sym = symbol(op).ok_or_else(|| invalid("meta.lastModified takes eq, ne, gt, ge, lt or le"))?;
                Ok(format!("{c} {sym} {p}"))
            }
            (_, _, CompValue::Str(s)) => {
                let (expr, v) =
                    if col.folded() { (format!("LOWER({c})"), s.to_lowercase()) } else { (c.to_owned(), s.clone()) };
                let v = if col == Column::UserName { v.to_lowercase() } else { v };
                let like = |pattern: String, b: &mut Self| {
                    let p = b.out.bind(Bind::Text(pattern));
                    format!("({expr} LIKE {p} ESCAPE '\\')")
                };
                Ok(match op {
                    CompareOp::Co => like(format!("%{}%", escape_like(&v)), self),
                    CompareOp::Sw => like(format!("{}%", escape_like(&v)), self),
                    CompareOp::Ew => like(format!("%{}", escape_like(&v)), self),
                    CompareOp::Ne => {
                        let p = self.out.bind(Bind::Text(v));
                        format!("({c} IS NULL OR {expr} <> {p})")
                    }
                    other => {
                        let p = self.out.bind(Bind::Text(v));
                        format!("{expr} {} {p}", symbol(other).unwrap_or("="))
                    }
                })
            }
            _ => Err(invalid("this attribute compares with a string")),
        }
    }
}

fn present(col: Column) -> String {
    match col {
        Column::Active | Column::Id | Column::UserName | Column::LastModified | Column::UnitCode => "1 = 1".into(),
        c => format!("({0} IS NOT NULL AND {0} <> '')", c.sql()),
    }
}

fn symbol(op: &CompareOp) -> Option<&'static str> {
    Some(match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        _ => return None,
    })
}

/// `LIKE` with the value's own wildcards taken literally.
fn escape_like(s: &str) -> String {
    s.chars().flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect()
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
