//! Synthetic citizens: the generator, the in-memory population, demo identities and file
//! output.

mod demo;
mod generate;
mod model;
mod output;
pub(crate) mod rng;
mod tables;

use std::collections::HashMap;

pub use demo::{
    DEMO_COUNT, DEMO_ORGS, DemoCase, DemoCitizen, DemoOrg, DemoRepresentative, UNREGISTERED_REPRESENTATIVE_ID,
    demo_citizen, demo_citizens,
};
pub use generate::{BLOCK, generate, generate_block, generate_range, serial_for};
pub use model::{
    AccountKind, Address, CardStatus, Citizen, LifeStatus, NameVariant, REFERENCE_DATE, old_id_for, passcode_for,
};
pub use output::{OutputFormat, generate_to, write_citizens, write_header};
pub(crate) use rng::Rng;

use vn_identity::PersonalId;

/// The in-memory population shared by the e-ID and population-database mocks.
#[derive(Debug, Default)]
pub struct Population {
    citizens: Vec<Citizen>,
    by_id: HashMap<PersonalId, u32>,
    /// Old CMND numbers (born before 2000) to the citizen; a rare collision keeps the first.
    by_old_id: HashMap<String, u32>,
    households: HashMap<PersonalId, Vec<u32>>,
}

impl Population {
    /// Generates `count` citizens (at least the demo ones) for `seed` and indexes them.
    pub fn generate(seed: u64, count: usize) -> Self {
        Self::from_citizens(generate(seed, count))
    }

    pub fn from_citizens(citizens: Vec<Citizen>) -> Self {
        let mut by_id = HashMap::with_capacity(citizens.len());
        let mut by_old_id = HashMap::new();
        let mut households: HashMap<PersonalId, Vec<u32>> = HashMap::new();
        for (pos, c) in citizens.iter().enumerate() {
            let pos = pos as u32;
            // The demo unregistered representative is absent whatever the seed and size.
            if c.personal_id.as_str() == UNREGISTERED_REPRESENTATIVE_ID {
                continue;
            }
            // Beyond a million citizens IDs may collide (see `serial_for`); keep the first.
            if by_id.insert(c.personal_id, pos).is_some() {
                continue;
            }
            households.entry(c.household_head).or_default().push(pos);
            if let Some(old) = c.old_id() {
                by_old_id.entry(old).or_insert(pos);
            }
        }
        Population { citizens, by_id, by_old_id, households }
    }

    pub fn get(&self, id: &PersonalId) -> Option<&Citizen> {
        self.by_id.get(id).and_then(|&i| self.citizens.get(i as usize))
    }

    /// The citizen an old 9-digit CMND number is linked to.
    pub fn by_old_id(&self, old_id: &str) -> Option<&Citizen> {
        self.by_old_id.get(old_id).and_then(|&i| self.citizens.get(i as usize))
    }

    /// Members of the household whose head is `head`, head first.
    pub fn household(&self, head: &PersonalId) -> Vec<&Citizen> {
        self.households
            .get(head)
            .map(|v| v.iter().filter_map(|&i| self.citizens.get(i as usize)).collect())
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.citizens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.citizens.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Citizen> {
        self.citizens.iter()
    }
}
