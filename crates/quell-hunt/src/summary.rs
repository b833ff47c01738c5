//! [`IndicatorSummary`]: deduplicated indicators with counts and first/last sightings
//! (`quell hunt --summary`).

use std::collections::HashMap;

use quell_model::hunt::{Attempt, CallbackClass, IndicatorCount, Sighting};

use crate::indicators::classify_host;

/// Accumulates indicators over attempts.
#[derive(Debug, Default, Clone)]
pub struct IndicatorSummary {
    order: Vec<(String, String)>,
    counts: HashMap<(String, String), IndicatorCount>,
    /// The vulnerability of the attempt being added.
    vulnerability: String,
}

impl IndicatorSummary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every indicator of `attempt`: JNDI names, callback hosts, hosts inside commands,
    /// exfiltration lookups and the source IP; Text4Shell scripts, DNS names, URLs and files;
    /// Spring4Shell written files, valve patterns and suffixes.
    pub fn add(&mut self, a: &Attempt) {
        let seen = Sighting { file: a.file.clone(), line: a.line, time: a.time.clone() };
        self.vulnerability = a.vulnerability.clone();
        for n in &a.jndi {
            self.bump("jndi", n, &seen, None);
        }
        if let Some(t) = &a.text4shell {
            for s in &t.scripts {
                self.bump("script", &format!("{}:{}", s.engine, s.code), &seen, None);
            }
            for d in &t.dns {
                self.bump("dns", d, &seen, None);
            }
            for u in &t.urls {
                self.bump("url", u, &seen, None);
            }
            for f in &t.files {
                self.bump("file", f, &seen, None);
            }
        }
        if let Some(s) = &a.spring4shell
            && s.stage != crate::spring4shell::stage::WEBSHELL
        {
            if let Some(f) = &s.written_file {
                self.bump("written_file", f, &seen, None);
            }
            if let Some(p) = &s.pattern {
                self.bump("valve_pattern", p, &seen, None);
            }
            if let Some(x) = &s.suffix {
                self.bump("valve_suffix", x, &seen, None);
            }
        }
        for t in &a.targets {
            for h in std::iter::once(&t.host).chain(t.alt_host.as_ref()) {
                self.bump("host", h, &seen, Some(classify_host(h)));
            }
        }
        if let Some(h) = &a.tail_host {
            self.bump("host", h, &seen, Some(classify_host(h)));
        }
        for c in &a.commands {
            for h in &c.hosts {
                self.bump("command_host", h, &seen, None);
            }
        }
        for e in &a.exfiltration {
            self.bump("exfiltration", e, &seen, None);
        }
        if let Some(ip) = &a.source_ip {
            self.bump("source_ip", ip, &seen, None);
        }
    }

    fn bump(&mut self, kind: &str, value: &str, seen: &Sighting, class: Option<CallbackClass>) {
        let key = (kind.to_owned(), value.to_owned());
        match self.counts.get_mut(&key) {
            Some(c) => {
                c.count += 1;
                c.last_seen = seen.clone();
                if !c.vulnerabilities.contains(&self.vulnerability) {
                    c.vulnerabilities.push(self.vulnerability.clone());
                    c.vulnerabilities.sort();
                }
            }
            None => {
                self.order.push(key.clone());
                self.counts.insert(
                    key,
                    IndicatorCount {
                        indicator: kind.to_owned(),
                        value: value.to_owned(),
                        count: 1,
                        first_seen: seen.clone(),
                        last_seen: seen.clone(),
                        callback_class: class,
                        vulnerabilities: vec![self.vulnerability.clone()],
                    },
                );
            }
        }
    }

    /// The indicators, by kind, then by descending count, then first seen.
    pub fn indicators(&self) -> Vec<IndicatorCount> {
        const KINDS: [&str; 12] = [
            "jndi",
            "script",
            "url",
            "dns",
            "file",
            "written_file",
            "valve_pattern",
            "valve_suffix",
            "host",
            "command_host",
            "exfiltration",
            "source_ip",
        ];
        let mut out: Vec<(usize, usize, IndicatorCount)> = self
            .order
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                let c = self.counts.get(k)?.clone();
                let kind = KINDS.iter().position(|x| *x == c.indicator).unwrap_or(KINDS.len());
                Some((kind, i, c))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0).then(b.2.count.cmp(&a.2.count)).then(a.1.cmp(&b.1)));
        out.into_iter().map(|x| x.2).collect()
    }
}
