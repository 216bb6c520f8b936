//! The deterministic generator: the same `(seed, count)` always gives the same citizens.
//!
//! Citizens come in blocks of [`BLOCK`] consecutive indices, one random stream per block, so a
//! household (head, spouse, children, a grandparent) is consistent and any block can be made
//! on its own: that is what lets generation run on all cores and stream to disk.

use vn_identity::{Gender, PersonalId, Province};

use super::model::{Address, CardStatus, Citizen, LifeStatus, NameVariant, REFERENCE_DATE};
use super::rng::Rng;
use super::{demo, tables};

/// Citizens per household block.
pub const BLOCK: u32 = 4;

/// Digits 7–12 of the ID for a given index: an affine bijection on 0..1,000,000, so IDs look
/// random yet are unique for the first million citizens whatever the seed. Beyond a million,
/// two citizens can only collide if province, century/gender and year also agree; the
/// population index keeps the first in that rare case.
pub fn serial_for(index: u32) -> u32 {
    ((u64::from(index % 1_000_000) * 738_457 + 271_828) % 1_000_000) as u32
}

/// Generates citizens `range` (by index), in order. Demo citizens replace the first indices.
pub fn generate_range(seed: u64, range: std::ops::Range<u32>) -> Vec<Citizen> {
    let mut out = Vec::with_capacity(range.len());
    let first_block = range.start / BLOCK;
    let last_block = range.end.div_ceil(BLOCK);
    for block in first_block..last_block {
        for c in generate_block(seed, block) {
            if range.contains(&c.index) {
                out.push(c);
            }
        }
    }
    out
}

/// Generates `count` citizens using all cores. At least the demo citizens are always present.
pub fn generate(seed: u64, count: usize) -> Vec<Citizen> {
    let count = count.max(demo::DEMO_COUNT as usize).min(u32::MAX as usize) as u32;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let per = count.div_ceil(threads).div_ceil(BLOCK) * BLOCK;
    let parts: Vec<Vec<Citizen>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let start = (t * per).min(count);
                let end = ((t + 1) * per).min(count);
                s.spawn(move || generate_range(seed, start..end))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    parts.into_iter().flatten().collect()
}

#[derive(Clone, Copy)]
enum Household {
    /// Head, spouse, two children.
    Family,
    /// Head, spouse, one child, the head's mother.
    ThreeGenerations,
    /// Four one-person households (students, migrant workers, widowed elders).
    Singles,
}

/// One block of [`BLOCK`] citizens.
pub fn generate_block(seed: u64, block: u32) -> Vec<Citizen> {
    let base = block * BLOCK;
    let mut rng = Rng::new(seed, u64::from(block));
    let kind = rng.weighted(&[(Household::Family, 60), (Household::ThreeGenerations, 25), (Household::Singles, 15)]);
    let mut out = Vec::with_capacity(BLOCK as usize);
    match kind {
        Household::Singles => {
            for i in 0..BLOCK {
                let gender = if rng.chance(500) { Gender::Male } else { Gender::Female };
                let year = birth_year_adult(&mut rng, 18, 90);
                let origin = rng_province(&mut rng);
                let home_province = rng_province(&mut rng);
                let home = address(&mut rng, home_province);
                let p = Person { index: base + i, gender, year, surname: None, origin, home };
                out.push(make(&mut rng, p, None, "Chủ hộ"));
            }
        }
        Household::Family | Household::ThreeGenerations => {
            let head_male = rng.chance(750);
            let head_gender = if head_male { Gender::Male } else { Gender::Female };
            let head_year = birth_year_adult(&mut rng, 25, 80);
            let origin = rng_province(&mut rng);
            let home_province = if rng.chance(800) { origin } else { rng_province(&mut rng) };
            let home = address(&mut rng, home_province);
            let head = make(
                &mut rng,
                Person { index: base, gender: head_gender, year: head_year, surname: None, origin, home },
                None,
                "Chủ hộ",
            );
            let head_id = head.personal_id;
            let head_surname = surname_of(&head.name);
            let spouse_year = (head_year as i32 + rng.range(0, 10) as i32 - 5).clamp(1915, 2005) as u16;
            let spouse_gender = if head_male { Gender::Female } else { Gender::Male };
            let spouse_origin = if rng.chance(600) { origin } else { rng_province(&mut rng) };
            let spouse = make(
                &mut rng,
                Person {
                    index: base + 1,
                    gender: spouse_gender,
                    year: spouse_year,
                    surname: None,
                    origin: spouse_origin,
                    home,
                },
                Some(head_id),
                if head_male { "Vợ" } else { "Chồng" },
            );
            let father_surname = if head_male { head_surname } else { surname_of(&spouse.name) };
            let mother_year = if head_male { spouse_year } else { head_year };
            out.push(head);
            out.push(spouse);
            let children = if matches!(kind, Household::Family) { 2 } else { 1 };
            for c in 0..children {
                let year = (u32::from(mother_year) + rng.range(20, 38)).min(u32::from(REFERENCE_DATE.0)) as u16;
                let gender = if rng.chance(510) { Gender::Male } else { Gender::Female };
                let p = Person { index: base + 2 + c, gender, year, surname: Some(father_surname), origin, home };
                out.push(make(&mut rng, p, Some(head_id), "Con"));
            }
            if matches!(kind, Household::ThreeGenerations) {
                let year = (head_year - rng.range(20, 35) as u16).max(1915);
                let p = Person { index: base + 3, gender: Gender::Female, year, surname: None, origin, home };
                out.push(make(&mut rng, p, Some(head_id), "Mẹ"));
            }
        }
    }
    for c in &mut out {
        if c.index < demo::DEMO_COUNT {
            *c = demo::demo_citizen(c.index);
        }
    }
    out
}

struct Person {
    index: u32,
    gender: Gender,
    year: u16,
    surname: Option<&'static str>,
    origin: u16,
    home: Address,
}

fn make(rng: &mut Rng, p: Person, head: Option<PersonalId>, relation: &'static str) -> Citizen {
    let (year, month, day) = birth_date(rng, p.year);
    // Children are registered where the family lives; adults mostly where they come from.
    let registered = if relation == "Con" || rng.chance(150) { p.home.old_province } else { p.origin };
    let personal_id = PersonalId::from_parts(registered, p.gender, year, serial_for(p.index))
        .expect("province codes come from the province table and years are 1900..=2025");
    let name = full_name(rng, p.gender, p.surname);
    let (ethnicity_code, ethnicity) = rng.weighted(tables::ETHNICITIES);
    let (religion_code, religion) = rng.weighted(tables::RELIGIONS);
    let current = if rng.chance(850) {
        p.home
    } else {
        let city = rng.pick(&[1, 79, 48, 74]);
        address(rng, city)
    };
    let mut c = Citizen {
        index: p.index,
        personal_id,
        birth_registration_province: registered,
        name,
        name_variant: rng.weighted(&[
            (NameVariant::Same, 955),
            (NameVariant::UpperCase, 20),
            (NameVariant::Decomposed, 10),
            (NameVariant::NoDiacritics, 15),
        ]),
        birth_year: year,
        birth_month: month,
        birth_day: day,
        gender: p.gender,
        ethnicity_code,
        ethnicity,
        religion_code,
        religion,
        nationality: "Việt Nam",
        origin: address(rng, p.origin),
        permanent: p.home,
        current,
        household_head: head.unwrap_or(personal_id),
        relation,
        status: LifeStatus::Living,
        card: CardStatus::Valid,
        eid_level: None,
    };
    let age = c.age();
    let deceased_per_mille = match age {
        80.. => 80,
        65..=79 => 20,
        _ => 2,
    };
    if rng.chance(deceased_per_mille) {
        c.status = LifeStatus::Deceased;
    }
    c.card = match age {
        0..=13 if rng.chance(900) => CardStatus::NotIssued,
        0..=13 => CardStatus::Valid,
        _ if rng.chance(5) => CardStatus::Revoked,
        _ => CardStatus::Valid,
    };
    // Decree 69/2024: level 2 from 14 with a card; 6–14 on request; under 6 level 1 only.
    c.eid_level = match age {
        0..=5 => rng.chance(100).then_some(1),
        6..=13 => rng.chance(400).then_some(1),
        _ => rng.weighted(&[(Some(2), 850), (Some(1), 120), (None, 30)]),
    };
    c
}

fn full_name(rng: &mut Rng, gender: Gender, surname: Option<&'static str>) -> String {
    let surname = surname.unwrap_or_else(|| rng.weighted(tables::SURNAMES));
    let (middle, given) = match gender {
        Gender::Male => (rng.weighted(tables::MALE_MIDDLE), rng.weighted(tables::MALE_GIVEN)),
        Gender::Female => (rng.weighted(tables::FEMALE_MIDDLE), rng.weighted(tables::FEMALE_GIVEN)),
    };
    let mut s = String::with_capacity(surname.len() + middle.len() + given.len() + 2);
    s.push_str(surname);
    s.push(' ');
    s.push_str(middle);
    s.push(' ');
    s.push_str(given);
    s
}

fn surname_of(name: &str) -> &'static str {
    let first = name.split(' ').next().unwrap_or("");
    tables::SURNAMES.iter().map(|(s, _)| *s).find(|s| *s == first).unwrap_or("Nguyễn")
}

fn birth_year_adult(rng: &mut Rng, min_age: u32, max_age: u32) -> u16 {
    // Two draws averaged: fewer of the very old, as in a real age pyramid.
    let a = (rng.range(min_age, max_age) + rng.range(min_age, max_age)) / 2;
    (u32::from(REFERENCE_DATE.0) - a) as u16
}

fn birth_date(rng: &mut Rng, year: u16) -> (u16, u8, u8) {
    let (ry, rm, rd) = REFERENCE_DATE;
    let year = year.clamp(1905, ry);
    let max_month = if year == ry { rm - 1 } else { 12 };
    let month = rng.range(1, u32::from(max_month.max(1))) as u8;
    let days = match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let _ = rd;
    (year, month, rng.range(1, days) as u8)
}

fn rng_province(rng: &mut Rng) -> u16 {
    // Weighted draw over all 63 provinces, the unlisted ones at a common weight.
    let total: u32 = vn_identity::province::PROVINCES.iter().map(|p| province_weight(p.code)).sum();
    let mut x = rng.below(total);
    for p in &vn_identity::province::PROVINCES {
        let w = province_weight(p.code);
        if x < w {
            return p.code;
        }
        x -= w;
    }
    1
}

fn province_weight(code: u16) -> u32 {
    tables::PROVINCE_WEIGHTS.iter().find(|(c, _)| *c == code).map_or(12, |(_, w)| *w)
}

/// A synthetic address in province `old_province`, in both the old and the new structure.
pub fn address(rng: &mut Rng, old_province: u16) -> Address {
    let new_province = Province::by_code(old_province).map_or(1, |p| p.new_code);
    let old_district = (old_province * 10 + rng.below(10) as u16) % 1000;
    let old_commune = u32::from(old_district) * 30 + rng.below(30);
    // The reform merged communes, roughly three into one; the merged commune took the code of
    // one of them. Here: the lowest code of each group of three.
    let new_commune = old_commune - old_commune % 3;
    Address {
        old_province,
        old_district,
        old_commune,
        new_province,
        new_commune,
        stem: (old_commune % 997) as u16,
        new_stem: (new_commune % 997) as u16,
        house: rng.range(1, 300) as u16,
    }
}
