//! Assurance: how strongly the user was identified and authenticated, kept apart from who the
//! user is. A level is a party (a citizen, an officer, an organisation) and a strength within
//! that party; levels of different parties never satisfy each other, so a citizen's strongest
//! login can never pass where a service demands an officer.
//!
//! Organisations are served only to services that ask for them: a request with no demand at
//! all accepts people (citizens, officers), never an organisation, because a service written
//! for people would otherwise take an enterprise's login for a person's.
//!
//! The provider knows no `acr` value of its own: each feature declares its classes and `app.rs`
//! registers them in a [`Catalog`].

use serde::{Deserialize, Serialize};

use crate::web::page::Text;

/// Who authenticated: the dimension that strength never crosses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Citizen,
    Officer,
    /// An enterprise or organisation, logged in through its national e-ID account by a person
    /// acting for it.
    Organisation,
}

impl Party {
    /// Whether a request that demands nothing accepts this party.
    fn served_without_demand(self) -> bool {
        self != Party::Organisation
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub party: Party,
    /// Higher is stronger, compared only within one party.
    pub strength: u8,
}

impl Level {
    pub const fn new(party: Party, strength: u8) -> Self {
        Self { party, strength }
    }

    /// `self` is at least as strong as `demanded`, for the same party.
    pub fn meets(self, demanded: Level) -> bool {
        self.party == demanded.party && self.strength >= demanded.strength
    }
}

/// One `acr` value with the level it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Class {
    pub acr: &'static str,
    pub level: Level,
    pub name: Text,
}

/// Every `acr` value the provider knows, registered in `app.rs`.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    classes: Vec<Class>,
}

/// What an authorization request demands: any one of these levels will do. Empty means no
/// demand at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub any_of: Vec<Level>,
}

/// How the request asked for `acr` (OIDC Core §5.5.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// `acr_values`, or the `acr` claim requested without `essential`.
    Voluntary,
    /// The `acr` claim requested with `"essential": true`.
    Essential,
}

impl Requirement {
    pub fn met_by(&self, reached: Level) -> bool {
        if self.any_of.is_empty() {
            return reached.party.served_without_demand();
        }
        self.any_of.iter().any(|d| reached.meets(*d))
    }

    /// Whether a method producing `levels` can meet this demand with one of them.
    pub fn met_by_any(&self, levels: &[Level]) -> bool {
        levels.iter().any(|l| self.met_by(*l))
    }

    /// The weakest strength of `party` that meets the demand; `None` if that party cannot.
    pub fn min_strength(&self, party: Party) -> Option<u8> {
        if self.any_of.is_empty() {
            return party.served_without_demand().then_some(0);
        }
        self.any_of.iter().filter(|l| l.party == party).map(|l| l.strength).min()
    }
}

impl Catalog {
    pub fn register(&mut self, classes: &[Class]) {
        for c in classes {
            if !self.classes.iter().any(|k| k.acr == c.acr) {
                self.classes.push(*c);
            }
        }
    }

    pub fn values(&self) -> Vec<&'static str> {
        self.classes.iter().map(|c| c.acr).collect()
    }

    pub fn level(&self, acr: &str) -> Option<Level> {
        self.classes.iter().find(|c| c.acr == acr).map(|c| c.level)
    }

    /// The `acr` value of a level, for the ID token.
    pub fn acr_of(&self, level: Level) -> Option<&'static str> {
        self.classes.iter().find(|c| c.level == level).map(|c| c.acr)
    }

    /// The demand of a request.
    ///
    /// - Values we do not know are ignored (OIDC Core §5.5.1.1). If none is left, a voluntary
    ///   request is served without a demand; an essential one cannot be met and fails.
    /// - Known values are demands: the user reaches one of them or the login fails, never a
    ///   weaker login.
    /// - The client's registered default (one value, or several separated by spaces, like
    ///   `default_acr_values` in OIDC Dynamic Registration) is a floor per party that the
    ///   (browser-controlled) request may raise but never lower, nor move to another party.
    ///   Several values let a service accept several parties, citizens and organisations.
    pub fn requirement(
        &self,
        requested: &[String],
        ask: Ask,
        default_acr: Option<&str>,
    ) -> Result<Requirement, String> {
        let mut floors: Vec<Level> = Vec::new();
        for d in default_acr.unwrap_or("").split_ascii_whitespace() {
            floors.push(self.level(d).ok_or_else(|| format!("the client's default acr {d} is not supported"))?);
        }
        let mut any_of: Vec<Level> = requested.iter().filter_map(|a| self.level(a)).collect();
        if !floors.is_empty() {
            let floor_of = |p: Party| floors.iter().filter(|f| f.party == p).map(|f| f.strength).min();
            any_of.retain(|l| floor_of(l.party).is_some());
            for l in &mut any_of {
                l.strength = l.strength.max(floor_of(l.party).unwrap_or(0));
            }
        }
        if any_of.is_empty() {
            if ask == Ask::Essential {
                return Err(format!(
                    "none of the essential acr values can be met; supported: {}",
                    self.values().join(" ")
                ));
            }
            any_of.extend(floors);
        }
        Ok(Requirement { any_of })
    }
}
