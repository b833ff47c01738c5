//! Which hosts run an agent older than the oldest supported release (`--oldest-agent-version`):
//! the release in the `tool_version` of a host's latest report, compared in Maven version order.
//! A report that names no release is not called outdated (it cannot be judged), only shown as
//! unknown.

use quell_model::maven::MavenVersion;
use quell_model::scan::tool_release;

use crate::inventory::{HostRow, Inventory};

/// Whether an agent's `tool_version` names a release older than `oldest`.
pub fn is_outdated(tool_version: Option<&str>, oldest: &MavenVersion) -> bool {
    tool_version.and_then(tool_release).is_some_and(|release| &release < oldest)
}

/// Marks the hosts whose agent is outdated.
pub fn mark_hosts(hosts: &mut [HostRow], oldest: &MavenVersion) {
    for host in hosts {
        host.agent_outdated = is_outdated(host.tool_version.as_deref(), oldest);
    }
}

/// Marks the outdated agent versions of an inventory; returns how many hosts run one.
pub fn mark_inventory(inventory: &mut Inventory, oldest: &MavenVersion) -> i64 {
    let mut outdated_hosts = 0;
    for agent in &mut inventory.agents {
        agent.outdated = is_outdated(agent.tool_version.as_deref(), oldest);
        if agent.outdated {
            outdated_hosts += agent.hosts;
        }
    }
    outdated_hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_releases_are_outdated_and_unknown_ones_are_not() {
        let oldest = MavenVersion::new("0.2.0");
        assert!(is_outdated(Some("quell 0.1.0 (commit abc, built 2026-12-01)"), &oldest));
        assert!(is_outdated(Some("0.2.0-rc1"), &oldest));
        assert!(!is_outdated(Some("quell 0.2.0"), &oldest));
        assert!(!is_outdated(Some("quell 0.10.0"), &oldest));
        assert!(!is_outdated(None, &oldest));
        assert!(!is_outdated(Some("something else"), &oldest));
    }
}
