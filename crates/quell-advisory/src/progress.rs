//! Affected systems of an advisory over time: their states, deadlines, counts and progress.
//! Pure: the rows come from the store (`quell_store::advisories::systems`), the time as an
//! argument.
//!
//! - A **system** is a host whose scan reports ever showed a copy affected by one of the
//!   advisory's CVEs, or a product an organisation registered that matches one of the
//!   advisory's products (counted as affected from publication until a decision resolves it).
//! - At a time `t` a known system is **resolved** when its latest decision at `t` is patched,
//!   mitigated, switched off, not affected, or risk accepted and not yet expired; or, failing a
//!   decision, when its latest report at `t` shows no affected copy any more. Otherwise it is
//!   **open**.
//! - **Deadline**: first publication + the days of the newest published version's deadline
//!   class ([`crate::rating::Severity`]; High/High seven days). An open system past its deadline
//!   is **overdue**.
//! - Decisions are append-only; the newest counts, the history is kept.

use serde::Serialize;

/// Days a progress series covers at most.
pub const MAX_PROGRESS_DAYS: i64 = 366;

/// The decisions one may record.
pub const DECISIONS: [&str; 5] = ["patched", "mitigated", "switched_off", "not_affected", "risk_accepted"];

/// Not-affected justifications: CycloneDX's analysis justifications and CSAF's flag labels.
pub const JUSTIFICATIONS: [&str; 14] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "inline_mitigations_already_exist",
];
/// A recorded decision.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: i64,
    pub host_id: Option<i64>,
    pub org_product_id: Option<i64>,
    pub decision: String,
    pub measure: Option<String>,
    pub justification: Option<String>,
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub by: String,
    pub at: i64,
}

impl Decision {
    fn resolves_at(&self, t: i64) -> bool {
        match self.decision.as_str() {
            "risk_accepted" => self.expires_at.is_some_and(|e| e > t),
            _ => true,
        }
    }
}

/// One host's history as far as the advisory is concerned.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub org_id: i64,
    pub system: SystemRef,
    /// Host name, or `supplier product version` of a registered product.
    pub name: String,
    /// For a registered product: whether a fix is known (the registry's status for the
    /// advisory's CVEs; `None`: the registry says nothing, the advisory decides).
    pub registry_fix: Option<bool>,
    /// (scanned_at, affected copies), oldest first.
    pub reports: Vec<(i64, i64)>,
    /// Oldest first.
    pub decisions: Vec<Decision>,
}

/// What a system is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum SystemRef {
    /// A host of the scanned inventory.
    Host(i64),
    /// A registered product (`org_products.id`).
    Product(i64),
}

/// A system's state at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Unknown,
    Open,
    Resolved,
}

impl Timeline {
    pub fn state_at(&self, t: i64) -> State {
        if !self.reports.iter().any(|(at, affected)| *at <= t && *affected > 0) {
            return State::Unknown;
        }
        if let Some(d) = self.decisions.iter().rev().find(|d| d.at <= t)
            && d.resolves_at(t)
        {
            return State::Resolved;
        }
        match self.reports.iter().rev().find(|(at, _)| *at <= t) {
            Some((_, 0)) => State::Resolved,
            _ => State::Open,
        }
    }
    fn latest_affected(&self) -> bool {
        self.reports.last().is_some_and(|(_, a)| *a > 0)
    }
}
/// One system as an organisation sees it.
#[derive(Debug, Clone, Serialize)]
pub struct System {
    /// `host` or `product` (a registered product).
    pub kind: &'static str,
    pub host_id: Option<i64>,
    pub host: Option<String>,
    pub product_id: Option<i64>,
    /// Host name or `supplier product version`.
    pub name: String,
    /// Whether the host's latest report still shows an affected copy (a registered product:
    /// true until resolved by a decision).
    pub affected_in_latest_report: bool,
    pub state: &'static str,
    pub deadline: i64,
    pub overdue: bool,
    pub decision: Option<Decision>,
    /// The municipal rule: open and no fix known (the advisory says none, or the registry's
    /// status of the registered product is not `fix`) → consider switching it off temporarily.
    pub suggest_switch_off: bool,
}

/// Systems of one organisation for an advisory.
pub fn systems(timelines: &[Timeline], deadline: i64, fix_available: bool, at: i64) -> Vec<System> {
    timelines
        .iter()
        .filter_map(|t| {
            let state = t.state_at(at);
            if state == State::Unknown {
                return None;
            }
            let open = state == State::Open;
            let (kind, host_id, product_id) = match t.system {
                SystemRef::Host(h) => ("host", Some(h), None),
                SystemRef::Product(p) => ("product", None, Some(p)),
            };
            let fix_known = fix_available && t.registry_fix.unwrap_or(true);
            Some(System {
                kind,
                host_id,
                host: host_id.map(|_| t.name.clone()),
                product_id,
                name: t.name.clone(),
                affected_in_latest_report: (open || kind != "product") && t.latest_affected(),
                state: if open { "open" } else { "resolved" },
                deadline,
                overdue: open && at > deadline,
                decision: t.decisions.last().cloned(),
                suggest_switch_off: open && !fix_known,
            })
        })
        .collect()
}

/// Counts at a time.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub affected: i64,
    pub resolved: i64,
    pub open: i64,
    pub overdue: i64,
}

pub fn counts<'a>(timelines: impl IntoIterator<Item = &'a Timeline>, deadline: i64, at: i64) -> Counts {
    let mut c = Counts::default();
    for t in timelines {
        match t.state_at(at) {
            State::Unknown => {}
            State::Resolved => {
                c.affected += 1;
                c.resolved += 1;
            }
            State::Open => {
                c.affected += 1;
                c.open += 1;
                if at > deadline {
                    c.overdue += 1;
                }
            }
        }
    }
    c
}

/// One day of a progress series.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    /// The moment counted (Unix seconds) and its day.
    pub at: i64,
    pub day: String,
    pub affected: i64,
    pub resolved: i64,
}

/// Affected → resolved over time: the moment of first publication, then the end of each day
/// since (the last point is `at`), at most [`MAX_PROGRESS_DAYS`] days.
pub fn series<'a>(timelines: &'a [&'a Timeline], published: i64, at: i64) -> Vec<Day> {
    let first = published.div_euclid(86_400);
    let last = at.div_euclid(86_400);
    let first = first.max(last - MAX_PROGRESS_DAYS + 1);
    let point = |t: i64| {
        let c = counts(timelines.iter().copied(), i64::MAX, t);
        Day {
            at: t,
            day: quell_model::time::day_string(t.div_euclid(86_400)),
            affected: c.affected,
            resolved: c.resolved,
        }
    };
    let mut out = vec![point(published.min(at))];
    out.extend((first..=last).map(|day| point(((day + 1) * 86_400 - 1).min(at))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(decision: &str, at: i64, expires_at: Option<i64>) -> Decision {
        Decision {
            id: at,
            host_id: Some(1),
            org_product_id: None,
            decision: decision.into(),
            measure: None,
            justification: None,
            reason: None,
            expires_at,
            by: "u".into(),
            at,
        }
    }

    #[test]
    fn states_over_time() {
        let mut t = Timeline {
            org_id: 1,
            system: SystemRef::Host(1),
            name: "h".into(),
            registry_fix: None,
            reports: vec![(100, 2)],
            decisions: vec![],
        };
        assert_eq!(t.state_at(50), State::Unknown);
        assert_eq!(t.state_at(100), State::Open);
        t.decisions.push(d("risk_accepted", 200, Some(300)));
        assert_eq!(t.state_at(250), State::Resolved);
        assert_eq!(t.state_at(300), State::Open, "expired risk acceptance");
        t.reports.push((400, 0));
        assert_eq!(t.state_at(400), State::Resolved, "a clean scan resolves, whatever was decided");
        t.decisions.push(d("patched", 500, None));
        assert_eq!(counts([&t], 450, 600), Counts { affected: 1, resolved: 1, open: 0, overdue: 0 });
        let open = Timeline {
            org_id: 1,
            system: SystemRef::Host(2),
            name: "g".into(),
            registry_fix: None,
            reports: vec![(100, 1)],
            decisions: vec![],
        };
        assert_eq!(counts([&t, &open], 450, 600), Counts { affected: 2, resolved: 1, open: 1, overdue: 1 });
        assert_eq!(counts([&t, &open], 700, 600).overdue, 0);
        let refs = [&t, &open];
        let days = series(&refs, 86_400 + 100, 2 * 86_400 + 50);
        assert_eq!(days.len(), 3, "publication, end of its day, now");
        assert_eq!(days[0].day, "1970-01-02");
        assert_eq!(days[2].day, "1970-01-03");
    }
}
