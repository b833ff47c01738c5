//! TLP 2.0 markings and the one access rule ([`may_see`]) that every channel applies: pages,
//! the API, the Atom feed, the CSAF directories, webhooks and e-mail.
//!
//! | marking | who may see a published advisory |
//! |---|---|
//! | CLEAR | anyone, anonymous included |
//! | GREEN | any logged-in platform user; any organisation's endpoint |
//! | AMBER | members of the recipient organisations, named individuals, coordinators |
//! | AMBER+STRICT | members of the recipient organisations, named individuals, the author |
//! | RED | named individuals and the author only; no organisation endpoint |
//!
//! Under the server's `sensitive` two-factor policy a credential without a second factor asks as
//! a [`Viewer::User`] with `strict: false`: it sees AMBER+STRICT and RED nowhere.
//!
//! The author (the coordinator who wrote the advisory) is the source of the information and
//! always sees it. Drafts are not covered here: they are for coordinators only (the server
//! checks that before it asks this function). Public channels ask with [`Viewer::Anonymous`], so
//! only CLEAR ever appears there.

/// The one marking type, shared with hunt indicators (see `quell_model::tlp`).
pub use quell_model::tlp::Tlp;

/// Who (or what channel) asks to see an advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// No login: public pages, the Atom feed, the public CSAF directory.
    Anonymous,
    /// A logged-in user (page session or API token), or the addressee of an e-mail. `strict`:
    /// the credential may read AMBER+STRICT and RED at all (`false` when the two-factor policy
    /// withholds them from a credential without a second factor; the table below applies only
    /// when it is `true`).
    User { user_id: i64, org_id: Option<i64>, coordinator: bool, strict: bool },
    /// An organisation as a whole: its webhook endpoint.
    Organisation { org_id: i64 },
}

/// Who an advisory version was addressed to, as resolved at publication.
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    /// The coordinator who wrote it.
    pub author: i64,
    /// Recipient organisations (explicit, through target groups, by product match).
    pub orgs: &'a [i64],
    /// Named individuals (user ids).
    pub named: &'a [i64],
}

/// The access rule (see the module docs).
pub fn may_see(tlp: Tlp, viewer: &Viewer, audience: &Audience<'_>) -> bool {
    match (tlp, *viewer) {
        (Tlp::Clear, _) => true,
        (_, Viewer::Anonymous) => false,
        (Tlp::Green, _) => true,
        (Tlp::Amber | Tlp::AmberStrict, Viewer::Organisation { org_id }) => audience.orgs.contains(&org_id),
        (Tlp::Red, Viewer::Organisation { .. }) => false,
        (_, Viewer::User { user_id, org_id, coordinator, strict }) => {
            let named = audience.named.contains(&user_id) || audience.author == user_id;
            let member = org_id.is_some_and(|o| audience.orgs.contains(&o));
            match tlp {
                Tlp::Amber => named || member || coordinator,
                Tlp::AmberStrict => strict && (named || member),
                _ => strict && named,
            }
        }
    }
}

/// Whether a viewer is a coordinator (may see and edit drafts).
pub fn is_coordinator(viewer: &Viewer) -> bool {
    matches!(viewer, Viewer::User { coordinator: true, .. })
}

/// THE access decision for one version and one viewer: drafts for coordinators; published
/// versions by [`may_see`] over the audience stored at publication.
pub fn can_view(published: bool, tlp: Tlp, audience: &Audience<'_>, viewer: &Viewer) -> bool {
    if !published {
        return is_coordinator(viewer);
    }
    may_see(tlp, viewer, audience)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        let audience = Audience { author: 1, orgs: &[10], named: &[5] };
        let anonymous = Viewer::Anonymous;
        let recipient = Viewer::User { user_id: 2, org_id: Some(10), coordinator: false, strict: true };
        let outsider = Viewer::User { user_id: 3, org_id: Some(11), coordinator: false, strict: true };
        let named = Viewer::User { user_id: 5, org_id: Some(11), coordinator: false, strict: true };
        let author = Viewer::User { user_id: 1, org_id: None, coordinator: true, strict: true };
        let other_coordinator = Viewer::User { user_id: 4, org_id: None, coordinator: true, strict: true };
        let endpoint = Viewer::Organisation { org_id: 10 };
        let other_endpoint = Viewer::Organisation { org_id: 11 };
        let viewers = [anonymous, recipient, outsider, named, author, other_coordinator, endpoint, other_endpoint];
        let expect: [(Tlp, [bool; 8]); 5] = [
            (Tlp::Clear, [true, true, true, true, true, true, true, true]),
            (Tlp::Green, [false, true, true, true, true, true, true, true]),
            (Tlp::Amber, [false, true, false, true, true, true, true, false]),
            (Tlp::AmberStrict, [false, true, false, true, true, false, true, false]),
            (Tlp::Red, [false, false, false, true, true, false, false, false]),
        ];
        for (tlp, row) in expect {
            for (viewer, allowed) in viewers.iter().zip(row) {
                assert_eq!(may_see(tlp, viewer, &audience), allowed, "{tlp:?} {viewer:?}");
            }
        }
    }

    #[test]
    fn a_credential_without_the_second_factor_the_policy_asks_for_reads_up_to_amber() {
        let audience = Audience { author: 1, orgs: &[10], named: &[5] };
        let withheld = [
            Viewer::User { user_id: 2, org_id: Some(10), coordinator: false, strict: false },
            Viewer::User { user_id: 5, org_id: Some(11), coordinator: false, strict: false },
            Viewer::User { user_id: 1, org_id: None, coordinator: true, strict: false },
        ];
        for viewer in withheld {
            assert!(may_see(Tlp::Amber, &viewer, &audience), "{viewer:?}");
            assert!(!may_see(Tlp::AmberStrict, &viewer, &audience), "{viewer:?}");
            assert!(!may_see(Tlp::Red, &viewer, &audience), "{viewer:?}");
        }
    }

    #[test]
    fn names() {
        for tlp in Tlp::ALL {
            assert_eq!(Tlp::parse(tlp.as_str()), Some(tlp));
            assert_eq!(serde_json::to_value(tlp).ok(), Some(serde_json::Value::String(tlp.as_str().into())));
        }
        assert_eq!(Tlp::parse("tlp:white"), Some(Tlp::Clear));
        assert_eq!(Tlp::parse("amber strict"), None);
        assert_eq!(Tlp::AmberStrict.csaf_label(), "AMBER");
    }
}
