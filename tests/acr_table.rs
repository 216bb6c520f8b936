//! Every (requested, reached) pair of the registered assurance levels, written out by hand: a
//! request for a citizen level is met only by an e-ID login at that level or stronger, a
//! request for an officer level only by an officer login at that level or stronger, a request
//! for an organisation only by an organisation's e-ID login; and a request that demands nothing
//! is never met by an organisation.

use xacthuc::citizens::login::{CLASSES as EID, EID1, EID2, ORG1, ORG2};
use xacthuc::officers::acr::{CLASSES as OFFICER, OFFICER_CERT, OFFICER_HWK, OFFICER_MFA};
use xacthuc::oidc::acr::{Ask, Catalog};

const REACHED: [&str; 7] = [EID1, EID2, OFFICER_MFA, OFFICER_HWK, OFFICER_CERT, ORG1, ORG2];

fn catalog() -> Catalog {
    let mut c = Catalog::default();
    c.register(EID);
    c.register(OFFICER);
    c
}

/// (requested acr_values, default acr of the client, met by [eid1, eid2, mfa, hwk, cert, org1, org2])
#[rustfmt::skip]
const TABLE: &[(&[&str], Option<&str>, [bool; 7])] = &[
    (&[],                        None,               [true,  true,  true,  true,  true,  false, false]),
    (&[EID1],                    None,               [true,  true,  false, false, false, false, false]),
    (&[EID2],                    None,               [false, true,  false, false, false, false, false]),
    (&[OFFICER_MFA],             None,               [false, false, true,  true,  true,  false, false]),
    (&[OFFICER_HWK],             None,               [false, false, false, true,  true,  false, false]),
    (&[OFFICER_CERT],            None,               [false, false, false, false, true,  false, false]),
    (&[EID2, OFFICER_MFA],       None,               [false, true,  true,  true,  true,  false, false]),
    (&[EID1, OFFICER_CERT],      None,               [true,  true,  false, false, true,  false, false]),
    (&["urn:unknown"],           None,               [true,  true,  true,  true,  true,  false, false]),
    (&["urn:unknown", EID2],     None,               [false, true,  false, false, false, false, false]),
    // The client's default is a floor of its party: the request may raise it, not lower it,
    // nor move to the other party.
    (&[],                        Some(EID2),         [false, true,  false, false, false, false, false]),
    (&[EID1],                    Some(EID2),         [false, true,  false, false, false, false, false]),
    (&[OFFICER_CERT],            Some(EID2),         [false, true,  false, false, false, false, false]),
    (&[],                        Some(OFFICER_MFA),  [false, false, true,  true,  true,  false, false]),
    (&[EID2],                    Some(OFFICER_MFA),  [false, false, true,  true,  true,  false, false]),
    (&[OFFICER_HWK],             Some(OFFICER_MFA),  [false, false, false, true,  true,  false, false]),
    (&["urn:unknown"],           Some(OFFICER_HWK),  [false, false, false, true,  true,  false, false]),
    // Organisations only where asked for, alone or beside citizens; never through a floor of
    // another party.
    (&[ORG1],                    None,               [false, false, false, false, false, true,  true ]),
    (&[ORG2],                    None,               [false, false, false, false, false, false, true ]),
    (&[EID1, ORG1],              None,               [true,  true,  false, false, false, true,  true ]),
    (&[ORG1],                    Some(EID1),         [true,  true,  false, false, false, false, false]),
    (&[],                        Some(ORG1),         [false, false, false, false, false, true,  true ]),
    (&[EID2],                    Some(ORG1),         [false, false, false, false, false, true,  true ]),
    (&[],                        Some("urn:xacthuc:acr:eid1 urn:xacthuc:acr:org-eid1"),
                                                     [true,  true,  false, false, false, true,  true ]),
    (&[ORG2],                    Some("urn:xacthuc:acr:eid1 urn:xacthuc:acr:org-eid1"),
                                                     [false, false, false, false, false, false, true ]),
    (&[EID2, ORG1],              Some("urn:xacthuc:acr:eid1 urn:xacthuc:acr:org-eid2"),
                                                     [false, true,  false, false, false, false, true ]),
];

#[test]
fn every_requested_and_reached_pair() {
    let c = catalog();
    for (requested, default, expected) in TABLE {
        let values: Vec<String> = requested.iter().map(|s| s.to_string()).collect();
        let r = c.requirement(&values, Ask::Voluntary, *default).expect("a voluntary request has a requirement");
        for (reached, want) in REACHED.iter().zip(expected) {
            let level = c.level(reached).expect("registered");
            assert_eq!(r.met_by(level), *want, "requested {requested:?} (default {default:?}), reached {reached}");
        }
    }
}

#[test]
fn essential_values_nobody_knows_cannot_be_met() {
    let c = catalog();
    assert!(c.requirement(&["urn:unknown".into()], Ask::Essential, None).is_err());
    // Known essential values of another party than the client's floor cannot be met either.
    assert!(c.requirement(&[EID2.into()], Ask::Essential, Some(OFFICER_MFA)).is_err());
    let r = c.requirement(&[EID2.into(), "urn:unknown".into()], Ask::Essential, None).unwrap();
    assert!(r.met_by(c.level(EID2).unwrap()) && !r.met_by(c.level(EID1).unwrap()));
    assert!(c.requirement(&[], Ask::Voluntary, Some("urn:unknown")).is_err(), "an unknown default fails closed");
}

#[test]
fn every_registered_value_is_in_the_table() {
    let c = catalog();
    let mut values = c.values();
    values.sort();
    let mut reached = REACHED.to_vec();
    reached.sort();
    assert_eq!(values, reached, "a new acr value needs its rows here");
}
