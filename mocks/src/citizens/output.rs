//! Writing citizens to CSV or JSON Lines, for tools and data loads outside Rust.

use std::io::{self, Write};

use serde::Serialize;

use super::model::{CardStatus, Citizen, LifeStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Jsonl,
}

/// One flat row; field names are the CSV header.
#[derive(Serialize)]
struct Row<'a> {
    index: u32,
    personal_id: &'a str,
    birth_registration_province: u16,
    eid_name: &'a str,
    population_name: String,
    birth_date: String,
    gender: &'static str,
    ethnicity: &'static str,
    religion: &'static str,
    nationality: &'static str,
    origin_old_province: u16,
    origin_old_commune: u32,
    origin_new_province: u16,
    origin_new_commune: u32,
    permanent_street: String,
    permanent_old_province: u16,
    permanent_old_district: u16,
    permanent_old_commune: u32,
    permanent_new_province: u16,
    permanent_new_commune: u32,
    current_old_province: u16,
    current_old_district: u16,
    current_old_commune: u32,
    current_new_province: u16,
    current_new_commune: u32,
    household_head: &'a str,
    relation: &'static str,
    status: &'static str,
    card: &'static str,
    eid_level: u8,
    passcode: String,
}

const HEADER: &str = "index,personal_id,birth_registration_province,eid_name,population_name,birth_date,gender,ethnicity,\
religion,nationality,origin_old_province,origin_old_commune,origin_new_province,\
origin_new_commune,permanent_street,permanent_old_province,permanent_old_district,\
permanent_old_commune,permanent_new_province,permanent_new_commune,current_old_province,\
current_old_district,current_old_commune,current_new_province,current_new_commune,\
household_head,relation,status,card,eid_level,passcode";

fn row(c: &Citizen) -> Row<'_> {
    Row {
        index: c.index,
        personal_id: c.personal_id.as_str(),
        birth_registration_province: c.birth_registration_province,
        eid_name: &c.name,
        population_name: c.population_name(),
        birth_date: c.birth_date_compact(),
        gender: c.gender.vietnamese(),
        ethnicity: c.ethnicity,
        religion: c.religion,
        nationality: c.nationality,
        origin_old_province: c.origin.old_province,
        origin_old_commune: c.origin.old_commune,
        origin_new_province: c.origin.new_province,
        origin_new_commune: c.origin.new_commune,
        permanent_street: c.permanent.street(),
        permanent_old_province: c.permanent.old_province,
        permanent_old_district: c.permanent.old_district,
        permanent_old_commune: c.permanent.old_commune,
        permanent_new_province: c.permanent.new_province,
        permanent_new_commune: c.permanent.new_commune,
        current_old_province: c.current.old_province,
        current_old_district: c.current.old_district,
        current_old_commune: c.current.old_commune,
        current_new_province: c.current.new_province,
        current_new_commune: c.current.new_commune,
        household_head: c.household_head.as_str(),
        relation: c.relation,
        status: match c.status {
            LifeStatus::Living => "living",
            LifeStatus::Deceased => "deceased",
        },
        card: match c.card {
            CardStatus::Valid => "valid",
            CardStatus::Revoked => "revoked",
            CardStatus::NotIssued => "not_issued",
        },
        eid_level: c.eid_level.unwrap_or(0),
        passcode: c.passcode(),
    }
}

/// Writes the CSV header (JSON Lines has none).
pub fn write_header(out: &mut impl Write, format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Csv => writeln!(out, "{HEADER}"),
        OutputFormat::Jsonl => Ok(()),
    }
}

/// Writes citizens, one per line. `eid_level` 0 means no e-ID account.
pub fn write_citizens(out: &mut impl Write, format: OutputFormat, cs: &[Citizen]) -> io::Result<()> {
    for c in cs {
        let r = row(c);
        match format {
            OutputFormat::Jsonl => {
                serde_json::to_writer(&mut *out, &r)?;
                out.write_all(b"\n")?;
            }
            OutputFormat::Csv => write_csv(out, &r)?,
        }
    }
    Ok(())
}

fn write_csv(out: &mut impl Write, r: &Row<'_>) -> io::Result<()> {
    // Names and streets never contain commas or quotes, but escape anyway: a CSV that breaks
    // on the first odd name is worse than a slightly slower one.
    let q = csv_field;
    writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        r.index,
        r.personal_id,
        r.birth_registration_province,
        q(r.eid_name),
        q(&r.population_name),
        r.birth_date,
        r.gender,
        q(r.ethnicity),
        q(r.religion),
        q(r.nationality),
        r.origin_old_province,
        r.origin_old_commune,
        r.origin_new_province,
        r.origin_new_commune,
        q(&r.permanent_street),
        r.permanent_old_province,
        r.permanent_old_district,
        r.permanent_old_commune,
        r.permanent_new_province,
        r.permanent_new_commune,
        r.current_old_province,
        r.current_old_district,
        r.current_old_commune,
        r.current_new_province,
        r.current_new_commune,
        r.household_head,
        r.relation,
        r.status,
        r.card,
        r.eid_level,
        r.passcode,
    )
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")).into() } else { s.into() }
}

/// Generates and writes `count` citizens in chunks, generating each chunk on all cores while
/// keeping memory flat (a million citizens never sit in memory at once). Returns the count.
pub fn generate_to(seed: u64, count: usize, format: OutputFormat, out: &mut impl Write) -> io::Result<usize> {
    const CHUNK: usize = 64 * 1024;
    let count = count.max(super::DEMO_COUNT as usize).min(u32::MAX as usize);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // One buffer per thread, reused across chunks: fresh multi-megabyte buffers each round
    // cost more in page faults than the serialisation itself.
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); threads];
    let mut start = 0usize;
    while start < count {
        let end = (start + CHUNK * threads).min(count);
        let per = (end - start).div_ceil(threads).div_ceil(4) * 4;
        // Each thread generates and serialises its own slice; the writer only concatenates.
        let results: Vec<io::Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = buffers
                .iter_mut()
                .enumerate()
                .map(|(t, buf)| {
                    let a = (start + t * per).min(end) as u32;
                    let b = (start + (t + 1) * per).min(end) as u32;
                    s.spawn(move || {
                        buf.clear();
                        write_citizens(buf, format, &super::generate_range(seed, a..b))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(io::Error::other("generator thread panicked"))))
                .collect()
        });
        for (r, b) in results.into_iter().zip(&buffers) {
            r?;
            out.write_all(b)?;
        }
        start = end;
    }
    Ok(count)
}
