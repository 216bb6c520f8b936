//! Trust anchors (the Government CA's roots) and the pool of intermediates used to complete a
//! chain a certificate does not carry. Both come from configuration (PEM files); in development
//! mode they default to the mock Government CA's.

use std::path::{Path, PathBuf};

use super::parse::{CertInfo, ParseError, parse_certificates};

#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    pub anchors: Vec<CertInfo>,
    pub intermediates: Vec<CertInfo>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("{path}: {error}")]
    Parse { path: PathBuf, error: ParseError },
    #[error("{path}: {subject} is not a CA certificate")]
    NotCa { path: PathBuf, subject: String },
}

impl TrustStore {
    /// Loads PEM files of roots and of intermediates. Every certificate must be a CA's.
    pub fn load(anchors: &[PathBuf], intermediates: &[PathBuf]) -> Result<Self, TrustError> {
        Ok(Self { anchors: read_all(anchors)?, intermediates: read_all(intermediates)? })
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Every certificate that may stand for an issuer: the pool, then the anchors.
    pub(crate) fn issuers(&self) -> impl Iterator<Item = (&CertInfo, bool)> {
        self.intermediates.iter().map(|c| (c, false)).chain(self.anchors.iter().map(|c| (c, true)))
    }

    pub(crate) fn is_anchor(&self, c: &CertInfo) -> bool {
        self.anchors.iter().any(|a| a.der == c.der)
    }
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<CertInfo>, TrustError> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(read_one(p)?);
    }
    Ok(out)
}

fn read_one(path: &Path) -> Result<Vec<CertInfo>, TrustError> {
    let bytes = std::fs::read(path).map_err(|error| TrustError::Read { path: path.to_owned(), error })?;
    let certs = parse_certificates(&bytes).map_err(|error| TrustError::Parse { path: path.to_owned(), error })?;
    if let Some(c) = certs.iter().find(|c| !c.is_ca) {
        return Err(TrustError::NotCa { path: path.to_owned(), subject: c.subject.clone() });
    }
    Ok(certs)
}
