//! The synthetic population: property tests on generated IDs, determinism, output formats, and
//! (release builds only) the 1M-in-10-s requirement.

use proptest::prelude::*;
use vn_identity::PersonalId;
use xacthuc_mocks::citizens::{
    BLOCK, Citizen, DEMO_COUNT, OutputFormat, generate, generate_block, generate_range, generate_to, write_header,
};

fn check(c: &Citizen) -> Result<(), TestCaseError> {
    let parsed = PersonalId::parse(c.personal_id.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(parsed.birth_year(), c.birth_year);
    prop_assert_eq!(parsed.gender(), c.gender);
    prop_assert_eq!(parsed.province_code(), c.birth_registration_province);
    prop_assert!(c.birth_month >= 1 && c.birth_month <= 12 && c.birth_day >= 1 && c.birth_day <= 31);
    if c.age() < 14 {
        prop_assert!(c.eid_level != Some(2), "no level 2 under 14");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every generated ID validates and encodes the record's birth year, gender and province,
    /// for any seed and any household block (including the demo blocks).
    #[test]
    fn generated_ids_validate_and_encode_the_record(seed in any::<u64>(), block in 0u32..5_000_000) {
        for c in generate_block(seed, block) {
            check(&c)?;
            prop_assert_eq!(c.index / BLOCK, block);
        }
    }

    #[test]
    fn household_members_agree_with_their_head(seed in any::<u64>(), block in 2u32..1_000_000) {
        let members = generate_block(seed, block);
        for c in &members {
            if c.relation != "Chủ hộ" {
                let head = members.iter().find(|h| h.personal_id == c.household_head);
                prop_assert!(head.is_some(), "head in the same block");
            }
            if c.relation == "Con" {
                let head = members.iter().find(|h| h.relation == "Chủ hộ").unwrap();
                prop_assert!(c.birth_year > head.birth_year.saturating_sub(10), "children are younger");
            }
        }
    }
}

#[test]
fn same_seed_same_citizens_and_ranges_compose() {
    let a = generate(42, 5_000);
    let b = generate(42, 5_000);
    assert_eq!(a.len(), 5_000);
    let key = |c: &Citizen| (c.personal_id, c.name.clone(), c.birth_day);
    assert!(a.iter().zip(&b).all(|(x, y)| key(x) == key(y)));
    let mid = generate_range(42, 1_234..1_300);
    assert!(mid.iter().zip(&a[1_234..1_300]).all(|(x, y)| key(x) == key(y)));
    let other = generate(43, 5_000);
    assert!(a.iter().zip(&other).skip(DEMO_COUNT as usize).any(|(x, y)| key(x) != key(y)));
    // Demo citizens do not depend on the seed, and IDs are unique.
    assert!(a.iter().zip(&other).take(DEMO_COUNT as usize).all(|(x, y)| key(x) == key(y)));
    let ids: std::collections::HashSet<_> = a.iter().map(|c| c.personal_id).collect();
    assert_eq!(ids.len(), a.len());
}

#[test]
fn output_formats() {
    let mut csv = Vec::new();
    write_header(&mut csv, OutputFormat::Csv).unwrap();
    generate_to(1, 100, OutputFormat::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 101);
    let columns = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == columns));

    let mut jsonl = Vec::new();
    let n = generate_to(1, 100, OutputFormat::Jsonl, &mut jsonl).unwrap();
    assert_eq!(n, 100);
    let rows: Vec<serde_json::Value> =
        String::from_utf8(jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 100);
    assert_eq!(rows[0]["personal_id"], lines[1].split(',').nth(1).unwrap());
}

/// The bar: one million citizens in under 10 s. Only meaningful with optimisations, so
/// it runs in release builds: `cargo test --release -p xacthuc-mocks --test generator`.
#[cfg(not(debug_assertions))]
#[test]
fn one_million_citizens_to_json_lines_in_under_ten_seconds() {
    let start = std::time::Instant::now();
    let mut sink = std::io::sink();
    let n = generate_to(2025, 1_000_000, OutputFormat::Jsonl, &mut sink).unwrap();
    let elapsed = start.elapsed();
    eprintln!("1M citizens (JSON Lines, to a sink) in {elapsed:?}");
    assert_eq!(n, 1_000_000);
    assert!(elapsed.as_secs_f64() < 10.0, "{elapsed:?}");
}
