//! Signatures of a PDF (PAdES basic, ISO 32000 §12.8): each signature dictionary's `/ByteRange`
//! and `/Contents` (the embedded CMS), found with `lopdf`. The byte ranges are checked against
//! the file (in bounds, in order, the hole exactly the `/Contents` string) and hashed here.
//! Input is untrusted: every failure is a [`PdfError`], never a panic.

use chrono::{NaiveDateTime, TimeZone, Utc};
use lopdf::{Dictionary, Document, Object};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PdfError {
    #[error("the PDF is unreadable: {0}")]
    Malformed(String),
    #[error("the PDF carries no signature")]
    NoSignature,
    #[error("a signature's /ByteRange is invalid: {0}")]
    ByteRange(String),
}

/// One signature dictionary of the document.
#[derive(Clone, Debug)]
pub struct PdfSignature {
    /// The CMS (`/Contents`), zero padding included.
    pub cms: Vec<u8>,
    /// SHA-256 of the bytes `/ByteRange` covers.
    pub digest: [u8; 32],
    /// Whether the ranges cover the whole file except the `/Contents` hole; false when the file
    /// was extended after this signature (an incremental update, such as a later signature).
    pub covers_whole_file: bool,
    /// `/M`: the signing time the signer's software claims (unix seconds).
    pub claimed_time: Option<i64>,
}

/// Every signature of `pdf`, in object order.
pub fn signatures(pdf: &[u8]) -> Result<Vec<PdfSignature>, PdfError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(PdfError::Malformed("it does not start with %PDF-".into()));
    }
    let doc = Document::load_mem(pdf).map_err(|e| PdfError::Malformed(e.to_string()))?;
    // A signature dictionary is usually an object of its own, but may sit directly in its
    // field's `/V`.
    let found = doc
        .objects
        .values()
        .filter_map(|o| match o {
            Object::Dictionary(d) if is_signature(d) => Some(d),
            Object::Dictionary(d) => match d.get(b"V") {
                Ok(Object::Dictionary(v)) if is_signature(v) => Some(v),
                _ => None,
            },
            _ => None,
        })
        .map(|d| signature(pdf, d))
        .collect::<Result<Vec<_>, _>>()?;
    if found.is_empty() {
        return Err(PdfError::NoSignature);
    }
    Ok(found)
}

fn is_signature(d: &Dictionary) -> bool {
    let typed = match d.get(b"Type") {
        Ok(Object::Name(n)) => n == b"Sig",
        Ok(_) => false,
        Err(_) => true,
    };
    typed && d.has(b"ByteRange") && d.has(b"Contents")
}

fn signature(pdf: &[u8], d: &Dictionary) -> Result<PdfSignature, PdfError> {
    let bad = |why: &str| PdfError::ByteRange(why.to_owned());
    let cms = match d.get(b"Contents") {
        Ok(Object::String(bytes, _)) => bytes.clone(),
        _ => return Err(PdfError::Malformed("a signature's /Contents is not a string".into())),
    };
    let range: Vec<usize> = match d.get(b"ByteRange") {
        Ok(Object::Array(items)) => items
            .iter()
            .map(|o| match o {
                Object::Integer(n) => usize::try_from(*n).map_err(|_| bad("negative offset")),
                _ => Err(bad("not integers")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad("not an array")),
    };
    let [a, b, c, d_len] = range[..] else { return Err(bad("expected four integers")) };
    let first_end = a.checked_add(b).ok_or_else(|| bad("overflow"))?;
    let second_end = c.checked_add(d_len).ok_or_else(|| bad("overflow"))?;
    if a != 0 {
        return Err(bad("the first range must start at 0"));
    }
    if first_end >= c || second_end > pdf.len() {
        return Err(bad("the ranges are out of order or past the end of the file"));
    }
    // The hole must be exactly the `/Contents` hex string, so no unsigned bytes hide there.
    let hole = &pdf[first_end..c];
    let inner = hole
        .strip_prefix(b"<")
        .and_then(|h| h.strip_suffix(b">"))
        .ok_or_else(|| bad("the hole is not a hex string"))?;
    if inner.len() != cms.len() * 2 || hex_decode(inner).as_deref() != Some(cms.as_slice()) {
        return Err(bad("the hole is not the signature's /Contents"));
    }
    let mut h = Sha256::new();
    h.update(&pdf[..first_end]);
    h.update(&pdf[c..second_end]);
    Ok(PdfSignature {
        cms,
        digest: h.finalize().into(),
        covers_whole_file: second_end == pdf.len(),
        claimed_time: match d.get(b"M") {
            Ok(Object::String(s, _)) => pdf_date(s),
            _ => None,
        },
    })
}

fn hex_decode(s: &[u8]) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
    s.chunks_exact(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// A PDF date `D:YYYYMMDDHHmmSS` with an optional `Z` or `±HH'mm'` offset.
fn pdf_date(raw: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(raw).ok()?.strip_prefix("D:")?;
    let local = NaiveDateTime::parse_from_str(s.get(..14)?, "%Y%m%d%H%M%S").ok()?;
    let offset = match s.get(14..15) {
        Some(sign @ ("+" | "-")) => {
            let hours: i64 = s.get(15..17)?.parse().ok()?;
            let minutes: i64 = s.get(18..20).and_then(|m| m.parse().ok()).unwrap_or(0);
            let secs = hours * 3600 + minutes * 60;
            if sign == "+" { secs } else { -secs }
        }
        _ => 0,
    };
    Some(Utc.from_utc_datetime(&local).timestamp() - offset)
}
