//! Values filled into forms and authorization parameters: `{{column}}` or `{{column[a:b]}}`
//! (characters a..b, 0-based, end excluded, as in Python) from the virtual user's identity row.
//! `{{vu}}` is the virtual user's number. Column names are resolved when the scenario is loaded,
//! so a typo is an error before any request is sent.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Column { index: usize, slice: Option<(usize, usize)> },
    Vu,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed `{{{{` in {0:?}")]
    Unclosed(String),
    #[error("unknown identity column `{name}` in {template:?} (columns: {columns})")]
    UnknownColumn { name: String, template: String, columns: String },
    #[error("bad slice `{slice}` in {template:?}: write [start:end] with start <= end")]
    BadSlice { slice: String, template: String },
}

impl Template {
    pub fn parse(src: &str, columns: &[String]) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = src;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| TemplateError::Unclosed(src.to_string()))?;
            parts.push(Self::placeholder(after[..close].trim(), src, columns)?);
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Self { parts })
    }

    fn placeholder(inner: &str, src: &str, columns: &[String]) -> Result<Part, TemplateError> {
        let (name, slice) = match inner.find('[') {
            Some(i) => {
                let s = &inner[i..];
                let bad = || TemplateError::BadSlice { slice: s.to_string(), template: src.to_string() };
                let body = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).ok_or_else(bad)?;
                let (a, b) = body.split_once(':').ok_or_else(bad)?;
                let a: usize = if a.trim().is_empty() { 0 } else { a.trim().parse().map_err(|_| bad())? };
                let b: usize = if b.trim().is_empty() { usize::MAX } else { b.trim().parse().map_err(|_| bad())? };
                if a > b {
                    return Err(bad());
                }
                (inner[..i].trim(), Some((a, b)))
            }
            None => (inner, None),
        };
        if name == "vu" && slice.is_none() {
            return Ok(Part::Vu);
        }
        match columns.iter().position(|c| c == name) {
            Some(index) => Ok(Part::Column { index, slice }),
            None => Err(TemplateError::UnknownColumn {
                name: name.to_string(),
                template: src.to_string(),
                columns: if columns.is_empty() { "none: no identity list".into() } else { columns.join(", ") },
            }),
        }
    }

    pub fn render(&self, row: &[String], vu: usize) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Vu => out.push_str(&vu.to_string()),
                Part::Column { index, slice } => {
                    let v = row.get(*index).map(String::as_str).unwrap_or("");
                    match slice {
                        None => out.push_str(v),
                        Some((a, b)) => out.extend(v.chars().skip(*a).take(b.saturating_sub(*a))),
                    }
                }
            }
        }
        out
    }

    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} part(s)", self.parts.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<String> {
        vec!["personal_id".into(), "name".into()]
    }

    #[test]
    fn passcode_is_digits_7_to_12_of_the_personal_id() {
        let t = Template::parse("{{personal_id[6:12]}}", &cols()).unwrap();
        let row = vec!["001188271828".to_string(), "Trần Thị Bích Ngọc".to_string()];
        assert_eq!(t.render(&row, 0), "271828");
    }

    #[test]
    fn text_columns_vu_and_unicode() {
        let t = Template::parse("hi {{ name }} #{{vu}} {{name[:4]}}!", &cols()).unwrap();
        let row = vec!["1".to_string(), "Trần Thị".to_string()];
        assert_eq!(t.render(&row, 7), "hi Trần Thị #7 Trần!");
        assert!(Template::parse("plain", &cols()).unwrap().is_constant());
    }

    #[test]
    fn errors_are_reported() {
        assert!(matches!(Template::parse("{{nope}}", &cols()), Err(TemplateError::UnknownColumn { .. })));
        assert!(matches!(Template::parse("{{name", &cols()), Err(TemplateError::Unclosed(_))));
        assert!(matches!(Template::parse("{{name[4:2]}}", &cols()), Err(TemplateError::BadSlice { .. })));
        assert!(matches!(Template::parse("{{name[x]}}", &cols()), Err(TemplateError::BadSlice { .. })));
    }
}
