//! Vietnamese identity primitives shared by xacthuc and its mocks.
//!
//! - [`PersonalId`]: the 12-digit personal ID number (`SoDinhDanh` on the wire), parsed and
//!   validated once at the edge so the rest of the code can trust it.
//! - [`province`]: the 63 province codes of birth registration (Circular 07/2016), which stay
//!   valid after the July 2025 merger, and the 34-province structure they merged into.
//! - [`names`]: name normalisation, as the population database and e-ID matching need it.

pub mod names;
pub mod personal_id;
pub mod province;

pub use names::{fold_name, match_key, names_match, normalize_name};
pub use personal_id::{Gender, PersonalId, PersonalIdError};
pub use province::{NewProvince, Province};
