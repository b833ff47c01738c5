//! Chance × damage: the national CERT's questionnaire (`shared/design/platform.md`).
//!
//! - **Chance** is the sum of ten answers' points (range 10–38): below 19 low, 19–27 medium,
//!   28 and above high ([`chance_level`]).
//! - **Damage** is the *highest* of five answers, each 0, 1 or 2: 0 low, 1 medium, 2 high.
//! - Either result may be overridden by an analyst, only with a written reason
//!   ([`Override::reason`] must say something).
//! - Labels: `HIGH/HIGH` (chance first), the title tag `[H/H]`, and the simpler public label
//!   [`Urgency`]: **Urgent** exactly when both axes are high (the case the government baseline
//!   gives one week), **Normal** otherwise.
//! - Deadline class ([`Severity`]): rank low 0 / medium 1 / high 2 on each axis and add them:
//!   4 → critical (both high), 3 → high, 2 → medium, 0–1 → low. The server maps each class to a
//!   number of days (critical is the baseline's seven days).

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// Longest override reason accepted.
pub const MAX_REASON_BYTES: usize = 4000;

/// Low, medium or high: the value of each axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
    pub fn upper(self) -> &'static str {
        match self {
            Level::Low => "LOW",
            Level::Medium => "MEDIUM",
            Level::High => "HIGH",
        }
    }
    pub fn letter(self) -> char {
        match self {
            Level::Low => 'L',
            Level::Medium => 'M',
            Level::High => 'H',
        }
    }
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "low" => Some(Level::Low),
            "medium" => Some(Level::Medium),
            "high" => Some(Level::High),
            _ => None,
        }
    }
    fn rank(self) -> u8 {
        self as u8
    }
}

macro_rules! answer {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $points:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
        impl $name {
            /// The points (chance) or damage value of this answer.
            pub fn points(self) -> u8 {
                match self { $($name::$variant => $points),+ }
            }
        }
    };
}

answer!(/// Vulnerable in the default configuration? (`unclear` scores as `yes`.)
    DefaultConfiguration { No = 1, Unclear = 3, Yes = 3 });
answer!(/// Exploit code available?
    ExploitCode { None = 1, ProofOfConcept = 4, WorkingExploit = 6 });
answer!(/// Details public?
    DetailsPublic { None = 1, Some = 2, Full = 3 });
answer!(/// Access needed?
    Access { Physical = 1, LocalNetwork = 4, Internet = 6 });
answer!(/// Credentials needed?
    Credentials { Admin = 1, User = 2, None = 4 });
answer!(/// Exploit complexity?
    Complexity { Complex = 1, Average = 2, Easy = 3 });
answer!(/// User interaction needed?
    UserInteraction { Complex = 1, Easy = 3, None = 4 });
answer!(/// Actively exploited?
    ActivelyExploited { No = 1, Limited = 2, LargeScale = 3 });
answer!(/// Exploitation expected?
    ExploitationExpected { No = 1, Yes = 3 });
answer!(/// Solution available?
    Solution { MoreThanTwoMonths = 1, LessThanTwoMonths = 2, None = 3 });

answer!(/// Denial of service.
    DenialOfService { None = 0, Client = 1, Infrastructure = 2 });
answer!(/// Code execution.
    CodeExecution { None = 0, User = 1, Root = 2 });
answer!(/// Remote access.
    RemoteAccess { None = 0, Shell = 1, RootShell = 2 });
answer!(/// Privilege escalation.
    PrivilegeEscalation { No = 0, Yes = 1 });
answer!(/// Information leak.
    InformationLeak { None = 0, SystemInfo = 1, Data = 2 });

/// The ten chance questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChanceAnswers {
    pub default_configuration: DefaultConfiguration,
    pub exploit_code: ExploitCode,
    pub details_public: DetailsPublic,
    pub access: Access,
    pub credentials: Credentials,
    pub complexity: Complexity,
    pub user_interaction: UserInteraction,
    pub actively_exploited: ActivelyExploited,
    pub exploitation_expected: ExploitationExpected,
    pub solution: Solution,
}

impl ChanceAnswers {
    /// The sum of the ten answers' points (10–38).
    pub fn points(&self) -> u8 {
        self.default_configuration.points()
            + self.exploit_code.points()
            + self.details_public.points()
            + self.access.points()
            + self.credentials.points()
            + self.complexity.points()
            + self.user_interaction.points()
            + self.actively_exploited.points()
            + self.exploitation_expected.points()
            + self.solution.points()
    }
}

/// The five damage questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Damage {
    pub denial_of_service: DenialOfService,
    pub code_execution: CodeExecution,
    pub remote_access: RemoteAccess,
    pub privilege_escalation: PrivilegeEscalation,
    pub information_leak: InformationLeak,
}

impl Damage {
    /// The highest of the five answers (0–2).
    pub fn value(&self) -> u8 {
        [
            self.denial_of_service.points(),
            self.code_execution.points(),
            self.remote_access.points(),
            self.privilege_escalation.points(),
            self.information_leak.points(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

/// An analyst's override of one axis: the level and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub level: Level,
    pub reason: String,
}

/// The questionnaire as filled in, with optional overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub chance: ChanceAnswers,
    pub damage: Damage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chance_override: Option<Override>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage_override: Option<Override>,
}

/// The chance level of a points total: < 19 low, 19–27 medium, ≥ 28 high.
pub fn chance_level(points: u8) -> Level {
    match points {
        0..=18 => Level::Low,
        19..=27 => Level::Medium,
        _ => Level::High,
    }
}

/// The damage level of the highest answer: 0 low, 1 medium, 2 high.
pub fn damage_level(value: u8) -> Level {
    match value {
        0 => Level::Low,
        1 => Level::Medium,
        _ => Level::High,
    }
}

/// The simpler public label derived from the two axes (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Urgent,
    Normal,
}

/// Deadline class derived from the two axes (see the module docs). Its names (`low`, `medium`,
/// `high`, `critical`) are what the JSON, the CSV and the database carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The class of its name (`None` for anything else).
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// The deadline class by its other name: [`Severity`].
pub type DeadlineClass = Severity;

/// The computed rating of an advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// Sum of the chance answers.
    pub chance_points: u8,
    /// Highest damage answer.
    pub damage_value: u8,
    /// The level the questionnaire gives (before any override).
    pub chance_computed: Level,
    pub damage_computed: Level,
    /// The level in force (the override when there is one).
    pub chance: Level,
    pub damage: Level,
    pub chance_override_reason: Option<String>,
    pub damage_override_reason: Option<String>,
    /// `HIGH/HIGH`.
    pub label: String,
    /// `[H/H]`.
    pub tag: String,
    pub urgency: Urgency,
    pub severity: Severity,
}

fn check_override(what: &'static str, o: &Option<Override>) -> Result<Option<String>, Invalid> {
    match o {
        None => Ok(None),
        Some(o) => {
            let reason = o.reason.trim();
            if reason.is_empty() {
                return Err(Invalid::OverrideReason { which: what });
            }
            if reason.len() > MAX_REASON_BYTES {
                return Err(Invalid::OverrideReasonTooLong { which: what, max: MAX_REASON_BYTES });
            }
            Ok(Some(reason.to_string()))
        }
    }
}

impl Answers {
    /// Computes the rating; refuses an override without a reason.
    pub fn rate(&self) -> Result<Rating, Invalid> {
        let chance_points = self.chance.points();
        let damage_value = self.damage.value();
        let chance_computed = chance_level(chance_points);
        let damage_computed = damage_level(damage_value);
        let chance_override_reason = check_override("chance", &self.chance_override)?;
        let damage_override_reason = check_override("damage", &self.damage_override)?;
        let chance = self.chance_override.as_ref().map_or(chance_computed, |o| o.level);
        let damage = self.damage_override.as_ref().map_or(damage_computed, |o| o.level);
        Ok(Rating {
            chance_points,
            damage_value,
            chance_computed,
            damage_computed,
            chance,
            damage,
            chance_override_reason,
            damage_override_reason,
            label: format!("{}/{}", chance.upper(), damage.upper()),
            tag: format!("[{}/{}]", chance.letter(), damage.letter()),
            urgency: urgency(chance, damage),
            severity: severity(chance, damage),
        })
    }
}

/// Urgent exactly when both axes are high.
pub fn urgency(chance: Level, damage: Level) -> Urgency {
    if chance == Level::High && damage == Level::High { Urgency::Urgent } else { Urgency::Normal }
}

/// The deadline class: the sum of the axes' ranks (see the module docs).
pub fn severity(chance: Level, damage: Level) -> Severity {
    match chance.rank() + damage.rank() {
        4 => Severity::Critical,
        3 => Severity::High,
        2 => Severity::Medium,
        _ => Severity::Low,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Log4Shell as rated on 10 December 2021: a fix (2.15.0) existed for less than two months.
    pub fn log4shell() -> Answers {
        Answers {
            chance: ChanceAnswers {
                default_configuration: DefaultConfiguration::Yes,
                exploit_code: ExploitCode::WorkingExploit,
                details_public: DetailsPublic::Full,
                access: Access::Internet,
                credentials: Credentials::None,
                complexity: Complexity::Easy,
                user_interaction: UserInteraction::None,
                actively_exploited: ActivelyExploited::LargeScale,
                exploitation_expected: ExploitationExpected::Yes,
                solution: Solution::LessThanTwoMonths,
            },
            damage: Damage {
                denial_of_service: DenialOfService::Infrastructure,
                code_execution: CodeExecution::Root,
                remote_access: RemoteAccess::RootShell,
                privilege_escalation: PrivilegeEscalation::Yes,
                information_leak: InformationLeak::Data,
            },
            chance_override: None,
            damage_override: None,
        }
    }

    fn lowest() -> Answers {
        Answers {
            chance: ChanceAnswers {
                default_configuration: DefaultConfiguration::No,
                exploit_code: ExploitCode::None,
                details_public: DetailsPublic::None,
                access: Access::Physical,
                credentials: Credentials::Admin,
                complexity: Complexity::Complex,
                user_interaction: UserInteraction::Complex,
                actively_exploited: ActivelyExploited::No,
                exploitation_expected: ExploitationExpected::No,
                solution: Solution::MoreThanTwoMonths,
            },
            damage: Damage {
                denial_of_service: DenialOfService::None,
                code_execution: CodeExecution::None,
                remote_access: RemoteAccess::None,
                privilege_escalation: PrivilegeEscalation::No,
                information_leak: InformationLeak::None,
            },
            chance_override: None,
            damage_override: None,
        }
    }

    #[test]
    fn log4shell_is_high_high() {
        let rating = log4shell().rate().unwrap();
        assert_eq!(rating.chance_points, 37);
        assert_eq!(rating.damage_value, 2);
        assert_eq!((rating.chance, rating.damage), (Level::High, Level::High));
        assert_eq!(rating.label, "HIGH/HIGH");
        assert_eq!(rating.tag, "[H/H]");
        assert_eq!(rating.urgency, Urgency::Urgent);
        assert_eq!(rating.severity, Severity::Critical);
    }

    #[test]
    fn range_is_10_to_38() {
        assert_eq!(lowest().rate().unwrap().chance_points, 10);
        let mut max = log4shell();
        max.chance.solution = Solution::None;
        assert_eq!(max.rate().unwrap().chance_points, 38);
        let rating = lowest().rate().unwrap();
        assert_eq!((rating.chance, rating.damage, rating.tag.as_str()), (Level::Low, Level::Low, "[L/L]"));
        assert_eq!(rating.urgency, Urgency::Normal);
    }

    /// Answers adding up to exactly `points`, built up from the lowest answers.
    fn with_points(points: u8) -> Answers {
        let mut a = lowest();
        let steps: [&dyn Fn(&mut Answers); 9] = [
            &|a| a.chance.access = Access::Internet,                          // +5
            &|a| a.chance.exploit_code = ExploitCode::WorkingExploit,         // +5
            &|a| a.chance.credentials = Credentials::None,                    // +3
            &|a| a.chance.user_interaction = UserInteraction::None,           // +3
            &|a| a.chance.default_configuration = DefaultConfiguration::Yes,  // +2
            &|a| a.chance.details_public = DetailsPublic::Full,               // +2
            &|a| a.chance.complexity = Complexity::Easy,                      // +2
            &|a| a.chance.actively_exploited = ActivelyExploited::LargeScale, // +2
            &|a| a.chance.exploitation_expected = ExploitationExpected::Yes,  // +2
        ];
        for step in steps {
            if a.chance.points() >= points {
                break;
            }
            let mut next = a.clone();
            step(&mut next);
            if next.chance.points() <= points {
                a = next;
            }
        }
        // Fine steps of one point: solution 1 → 2 → 3.
        while a.chance.points() < points && a.chance.solution != Solution::None {
            a.chance.solution = if a.chance.solution == Solution::MoreThanTwoMonths {
                Solution::LessThanTwoMonths
            } else {
                Solution::None
            };
        }
        assert_eq!(a.chance.points(), points, "could not build {points} points");
        a
    }

    #[test]
    fn chance_boundaries_are_exact() {
        assert_eq!(with_points(18).rate().unwrap().chance, Level::Low);
        assert_eq!(with_points(19).rate().unwrap().chance, Level::Medium);
        assert_eq!(with_points(27).rate().unwrap().chance, Level::Medium);
        assert_eq!(with_points(28).rate().unwrap().chance, Level::High);
        for p in 10..=38 {
            let expected = if p < 19 {
                Level::Low
            } else if p <= 27 {
                Level::Medium
            } else {
                Level::High
            };
            assert_eq!(chance_level(p), expected, "{p} points");
        }
    }

    #[test]
    fn damage_is_the_maximum() {
        let mut a = lowest();
        assert_eq!(a.rate().unwrap().damage, Level::Low);
        a.damage.privilege_escalation = PrivilegeEscalation::Yes;
        assert_eq!(a.rate().unwrap().damage, Level::Medium);
        a.damage.information_leak = InformationLeak::SystemInfo;
        assert_eq!(a.rate().unwrap().damage, Level::Medium);
        a.damage.denial_of_service = DenialOfService::Infrastructure;
        assert_eq!(a.rate().unwrap().damage, Level::High);
        assert_eq!(a.rate().unwrap().damage_value, 2);
    }

    #[test]
    fn overrides_need_a_reason() {
        let mut a = log4shell();
        a.damage_override = Some(Override { level: Level::Medium, reason: "  ".into() });
        assert!(a.rate().unwrap_err().to_string().contains("reason"));
        a.damage_override = Some(Override { level: Level::Medium, reason: "only in a lab build".into() });
        let rating = a.rate().unwrap();
        assert_eq!(rating.damage_computed, Level::High);
        assert_eq!(rating.damage, Level::Medium);
        assert_eq!(rating.label, "HIGH/MEDIUM");
        assert_eq!(rating.tag, "[H/M]");
        assert_eq!(rating.urgency, Urgency::Normal);
        assert_eq!(rating.severity, Severity::High);
        assert_eq!(rating.damage_override_reason.as_deref(), Some("only in a lab build"));
    }

    #[test]
    fn severity_names_round_trip() {
        for s in [Severity::Low, Severity::Medium, Severity::High, Severity::Critical] {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(Severity::parse("urgent"), None);
    }

    #[test]
    fn severity_mapping() {
        use Level::*;
        assert_eq!(severity(High, High), Severity::Critical);
        assert_eq!(severity(High, Medium), Severity::High);
        assert_eq!(severity(Medium, High), Severity::High);
        assert_eq!(severity(Medium, Medium), Severity::Medium);
        assert_eq!(severity(High, Low), Severity::Medium);
        assert_eq!(severity(Low, High), Severity::Medium);
        assert_eq!(severity(Medium, Low), Severity::Low);
        assert_eq!(severity(Low, Low), Severity::Low);
    }

    #[test]
    fn answers_are_snake_case_json() {
        let json = serde_json::to_value(log4shell()).unwrap();
        assert_eq!(json["chance"]["exploit_code"], "working_exploit");
        assert_eq!(json["damage"]["remote_access"], "root_shell");
        let back: Answers = serde_json::from_value(json).unwrap();
        assert_eq!(back, log4shell());
        assert!(serde_json::from_str::<Answers>(r#"{"chance":{},"damage":{}}"#).is_err());
    }
}
