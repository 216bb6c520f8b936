//! The hash chain: each entry's hash covers the previous entry's hash and every field of its
//! own, in an unambiguous encoding, so altering, removing or re-hashing any entry breaks a link.
//!
//! `hash = hex(SHA-256(prev_hash || encoding))` where `prev_hash` is the previous entry's hash
//! as 64 lower-case hex characters ([`GENESIS`] for the first) and `encoding` is, in order:
//! a version tag, `seq` and `at` as 8-byte big-endian integers, then each text field as an
//! 8-byte big-endian length and its UTF-8 bytes, an optional one preceded by a byte 0 (absent)
//! or 1 (present). The detail is hashed as the exact JSON text stored. Length prefixes mean no
//! two different entries share an encoding, whatever their fields contain.

use sha2::{Digest, Sha256};

use super::Entry;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names the encoding, so a future change of fields cannot be confused with this one.
const VERSION: &[u8] = b"xacthuc-audit-v1";

/// The hash an entry must carry, given its fields and `prev_hash` (its own `hash` is ignored).
pub fn entry_hash(e: &Entry) -> String {
    let mut h = Sha256::new();
    h.update(e.prev_hash.as_bytes());
    text(&mut h, VERSION);
    h.update(e.seq.to_be_bytes());
    h.update(e.at.to_be_bytes());
    text(&mut h, e.actor.as_bytes());
    text(&mut h, e.action.as_bytes());
    for field in [&e.object_type, &e.object_id, &e.unit_id, &e.ip] {
        match field {
            None => h.update([0u8]),
            Some(v) => {
                h.update([1u8]);
                text(&mut h, v.as_bytes());
            }
        }
    }
    text(&mut h, e.detail.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn text(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Why a link is broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Defect {
    /// The entry's fields do not produce its hash: it was altered.
    HashMismatch,
    /// The entry does not point at the previous entry's hash: the previous one was altered and
    /// re-hashed, or entries were re-ordered.
    PrevHashMismatch,
    /// No entry with this seq; `next` is the one found after the gap (none: the end of the
    /// log is missing, the head records more entries).
    Missing { next: Option<i64> },
    /// The last entry is not the one the head recorded: it was re-hashed, or the head altered.
    HeadMismatch,
}

impl std::fmt::Display for Defect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Defect::HashMismatch => f.write_str("hash mismatch: the entry was altered"),
            Defect::PrevHashMismatch => {
                f.write_str("prev_hash mismatch: it does not link to the previous entry, which was altered")
            }
            Defect::Missing { next: Some(n) } => write!(f, "entry missing (seq gap; the next entry is {n})"),
            Defect::Missing { next: None } => f.write_str("entry missing (the log ends before the recorded head)"),
            Defect::HeadMismatch => f.write_str("the last entry's hash differs from the recorded head"),
        }
    }
}

/// Checks entries one at a time in `seq` order, remembering only the last link.
#[derive(Debug)]
pub struct Walker {
    expected: i64,
    prev_hash: String,
}

impl Default for Walker {
    fn default() -> Self {
        Self { expected: 1, prev_hash: GENESIS.to_owned() }
    }
}

impl Walker {
    /// The next entry; on a broken link, the seq it is at and why.
    pub fn check(&mut self, e: &Entry) -> Result<(), (i64, Defect)> {
        if e.seq != self.expected {
            return Err((self.expected, Defect::Missing { next: Some(e.seq) }));
        }
        if e.prev_hash != self.prev_hash {
            return Err((e.seq, Defect::PrevHashMismatch));
        }
        if entry_hash(e) != e.hash {
            return Err((e.seq, Defect::HashMismatch));
        }
        self.expected += 1;
        self.prev_hash.clone_from(&e.hash);
        Ok(())
    }

    /// Entries checked so far.
    pub fn checked(&self) -> u64 {
        (self.expected - 1) as u64
    }

    /// After the last entry: the chain must end where the head says.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), (i64, Defect)> {
        if self.expected <= head_seq {
            return Err((self.expected, Defect::Missing { next: None }));
        }
        if self.prev_hash != head_hash {
            return Err((head_seq, Defect::HeadMismatch));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = Entry {
                    seq,
                    at: 1_800_000_000 + seq,
                    actor: "system".into(),
                    action: "login.failed".into(),
                    object_type: None,
                    object_id: None,
                    unit_id: Some("u1".into()),
                    ip: None,
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = entry_hash(&e);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn walk(entries: &[Entry]) -> Result<(), (i64, Defect)> {
        let mut w = Walker::default();
        entries.iter().try_for_each(|e| w.check(e))?;
        let last = entries.last().map_or((0, GENESIS.to_owned()), |e| (e.seq, e.hash.clone()));
        w.finish(last.0, &last.1)
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(walk(&chain(5)), Ok(()));
        assert_eq!(walk(&[]), Ok(()));
    }

    #[test]
    fn every_field_is_covered() {
        let base = chain(1).remove(0);
        let variants: [fn(&mut Entry); 10] = [
            |e| e.seq += 1,
            |e| e.prev_hash = "1".repeat(64),
            |e| e.at += 1,
            |e| e.actor.push('x'),
            |e| e.action.push('x'),
            |e| e.object_type = Some(String::new()),
            |e| e.object_id = Some("o".into()),
            |e| e.unit_id = None,
            |e| e.ip = Some("10.0.0.1".into()),
            |e| e.detail = "{ }".into(),
        ];
        for change in variants {
            let mut e = base.clone();
            change(&mut e);
            assert_ne!(entry_hash(&e), base.hash, "{e:?}");
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = chain(1).remove(0);
        let mut b = a.clone();
        (a.actor, a.action) = ("ab".into(), "c".into());
        (b.actor, b.action) = ("a".into(), "bc".into());
        assert_ne!(entry_hash(&a), entry_hash(&b));
        (a.object_type, a.object_id) = (Some("x".into()), None);
        (b.object_type, b.object_id) = (None, Some("x".into()));
        assert_ne!(entry_hash(&a), entry_hash(&b));
    }

    #[test]
    fn breaks_are_named_at_the_right_seq() {
        let mut altered = chain(5);
        altered[2].detail = r#"{"x":1}"#.into();
        assert_eq!(walk(&altered), Err((3, Defect::HashMismatch)));

        let mut gap = chain(5);
        gap.remove(1);
        assert_eq!(walk(&gap), Err((2, Defect::Missing { next: Some(3) })));

        let mut rehashed = chain(5);
        rehashed[1].actor = "officer:evil".into();
        rehashed[1].hash = entry_hash(&rehashed[1]);
        assert_eq!(walk(&rehashed), Err((3, Defect::PrevHashMismatch)));
    }

    #[test]
    fn the_head_catches_a_cut_or_rehashed_end() {
        let entries = chain(5);
        let mut w = Walker::default();
        entries[..4].iter().for_each(|e| w.check(e).unwrap());
        assert_eq!(w.finish(5, &entries[4].hash), Err((5, Defect::Missing { next: None })));
        w.check(&entries[4]).unwrap();
        assert_eq!(w.finish(5, GENESIS), Err((5, Defect::HeadMismatch)));
        assert_eq!(w.finish(5, &entries[4].hash), Ok(()));
    }
}
