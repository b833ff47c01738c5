//! Hunt report records: one JSON object per line, tagged by `kind`
//! (`attempt`, `trace`, `error`, `indicator`, `summary`).
//!
//! The field names are the output contract of `quell hunt --format json`; fields may be added,
//! never renamed or removed.

use serde::{Deserialize, Serialize};

/// One line of a hunt report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HuntRecord {
    Attempt(Attempt),
    Trace(Trace),
    Error(HuntError),
    Indicator(IndicatorCount),
    Summary(HuntSummary),
}

/// The vulnerability of a Log4Shell attempt (`${jndi:...}`).
pub const LOG4SHELL: &str = "CVE-2021-44228";
/// The vulnerability of Log4j's infinite-recursion denial of service.
pub const LOG4J_RECURSION: &str = "CVE-2021-45105";
/// The vulnerability of a Text4Shell attempt (Apache Commons Text `script`/`dns`/`url` lookups).
pub const TEXT4SHELL: &str = "CVE-2022-42889";
/// The vulnerability of a Spring4Shell attempt (data binding to `class.module.classLoader`).
pub const SPRING4SHELL: &str = "CVE-2022-22965";

/// One exploitation attempt: a payload that makes Log4j call its JNDI lookup (or would, were it
/// decoded, or is a recursion denial of service), that makes Commons Text run a script, resolve a
/// name, fetch a URL or read a file, or that binds Spring request parameters to the class loader.
/// `vulnerability` says which; the Log4j fields (`jndi`, `could_work`, ...) are empty or "no" for
/// the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The file (`-` for standard input).
    pub file: String,
    /// 1-based line number in the decompressed text.
    pub line: u64,
    /// Byte offset in the decompressed text of the field (or line) holding the payload.
    pub offset: u64,
    /// The log field when the format is recognised (`uri`, `referer`, `user_agent`, a JSON key).
    pub field: Option<String>,
    pub source_ip: Option<String>,
    /// RFC 3339 UTC when the line's time could be converted, otherwise as written.
    pub time: Option<String>,
    /// The payload span after transport decoding.
    pub raw: String,
    /// Transport decoders applied before evaluation (`url`, `json_unicode`, `html_entities`, ...).
    pub decode_chain: Vec<String>,
    /// Obfuscation techniques used.
    pub techniques: Vec<String>,
    /// Every name passed to the JNDI lookup, in order, each once.
    pub jndi: Vec<String>,
    /// All names were seen only in 2.14.1's message-converter rescan.
    pub rescan_only: bool,
    pub targets: Vec<Target>,
    /// Data lookups whose values would leave the host (`${env:AWS_SECRET_ACCESS_KEY}`).
    pub exfiltration: Vec<String>,
    /// Commands decoded from exploit-kit paths.
    pub commands: Vec<Command>,
    pub callback_class: CallbackClass,
    /// Each name normalised as `${jndi:NAME}`.
    #[serde(default)]
    pub normalized: Vec<String>,
    /// False when the payload works on no 2.x release as logged (a `${base64:...}` lookup, a
    /// throwing lookup, an unterminated lookup): evidence of intent only.
    #[serde(default = "yes")]
    pub functional: bool,
    /// The payload is the infinite-recursion denial of service (CVE-2021-45105).
    #[serde(default)]
    pub dos: bool,
    /// Whether it could have worked, per release line.
    pub could_work: CouldWork,
    /// The field as logged, when it had to be decoded first (truncated to a few KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded: Option<String>,
    /// A callback host found right after the lookup when a stray `}` cut the JNDI name short
    /// (`${jndi:ldap://{{Hostname}}.x.example.com}` looks up `ldap://{{Hostname`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail_host: Option<String>,
    /// The CVE the attempt exploits: [`LOG4SHELL`], [`LOG4J_RECURSION`] (`dos`), [`TEXT4SHELL`]
    /// or [`SPRING4SHELL`]. Records written before this field existed are Log4Shell.
    #[serde(default = "log4shell")]
    pub vulnerability: String,
    /// Text4Shell: what an Apache Commons Text 1.5–1.9 interpolator would have done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text4shell: Option<Box<Text4Shell>>,
    /// Spring4Shell: the class-loader properties bound, and the web shell they write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spring4shell: Option<Box<Spring4Shell>>,
}

fn yes() -> bool {
    true
}

fn log4shell() -> String {
    LOG4SHELL.to_owned()
}

/// What `StringSubstitutor.createInterpolator().replace(...)` of Commons Text would have done with
/// the payload (CVE-2022-42889), in call order, each once.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Text4Shell {
    /// `${script:ENGINE:CODE}`: the script engine asked for and the code it evaluates.
    pub scripts: Vec<ScriptRun>,
    /// `${dns:...}`: the host names (or addresses) resolved.
    pub dns: Vec<String>,
    /// `${url:CHARSET:URL}`: the URLs fetched.
    pub urls: Vec<String>,
    /// `${file:CHARSET:PATH}` (and the documents `xml`/`properties` open): the files read.
    pub files: Vec<String>,
    /// Whether it works per release line.
    pub could_work: Text4ShellWork,
}

/// One script a Commons Text `script` lookup evaluates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptRun {
    /// The `ScriptEngineManager` name (`javascript`, `js`, `nashorn`, `groovy`, ...).
    pub engine: String,
    pub code: String,
}

/// Could a Text4Shell attempt work, per Commons Text release line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text4ShellWork {
    /// 1.5 through 1.9: `script`, `dns` and `url` are default lookups.
    #[serde(rename = "1.9")]
    pub commons_text_1_9: Workable,
    /// 1.10.0 and later: they are not (only `file`, `xml` and `properties` still read files).
    #[serde(rename = "1.10.0")]
    pub commons_text_1_10_0: Workable,
}

impl Default for Text4ShellWork {
    fn default() -> Self {
        Text4ShellWork { commons_text_1_9: Workable::No, commons_text_1_10_0: Workable::No }
    }
}

/// The Spring4Shell evidence of one request (CVE-2022-22965).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Spring4Shell {
    /// `probe` (class-loader binding without a log-valve write), `write` (Tomcat `AccessLogValve`
    /// properties that drop a file) or `webshell` (a later request to a dropped file from the
    /// same address).
    pub stage: String,
    /// The bound parameters (`class.module.classLoader.resources.context.parent.pipeline.first.
    /// pattern`), decoded, each with its decoded value (truncated to a few KiB).
    pub parameters: Vec<BoundParameter>,
    /// The `AccessLogValve` properties written, by their last name (`pattern`, `suffix`,
    /// `directory`, `prefix`, `fileDateFormat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_date_format: Option<String>,
    /// The file the valve writes (`prefix` + `fileDateFormat` as given + `suffix`), when a prefix
    /// or suffix was set: the name to look for on disk and in later requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_file: Option<String>,
    /// For `webshell`: the request path, and where the write that dropped it was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_at: Option<Sighting>,
    /// For `webshell`: whether the request came from the address that wrote the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_source: Option<bool>,
}

/// One request parameter bound into the class loader's object graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundParameter {
    pub name: String,
    pub value: String,
}

/// A JNDI URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub scheme: String,
    pub host: String,
    /// Explicit or the scheme's default.
    pub port: Option<u16>,
    pub path: String,
    /// The host after `#` in `127.0.0.1#evil.com` (what some resolvers actually query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_host: Option<String>,
}

/// A command decoded from an exploit-kit path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// `base64`, `command`, `reverse_shell` or `dnslog`.
    pub kind: String,
    pub command: String,
    /// Hosts (and `ip:port`) inside the command.
    pub hosts: Vec<String>,
}

/// What the callback host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackClass {
    /// A known vulnerability or research scanner (Nessus, Qualys, ...): real, but a scan.
    Scanner,
    /// An out-of-band testing service (interact.sh, dnslog.cn, Burp Collaborator, canarytokens).
    Oast,
    /// Loopback or private address.
    Local,
    /// Anything else.
    Unknown,
}

/// Could an attempt have worked against a release line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouldWork {
    /// 2.0-beta9 through 2.14.1.
    #[serde(rename = "2.14.1")]
    pub log4j_2_14_1: Workable,
    #[serde(rename = "2.15.0")]
    pub log4j_2_15_0: Workable,
    #[serde(rename = "2.16.0")]
    pub log4j_2_16_0: Workable,
    /// 2.17.0 and later.
    #[serde(rename = "2.17.0")]
    pub log4j_2_17_0: Workable,
}

/// A per-release verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workable {
    Yes,
    /// Only under conditions (a context lookup in the pattern, a resolver that honours `#`).
    Possible,
    /// Denial of service only.
    DenialOfService,
    No,
}

/// Evidence in an application log that a lookup actually happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub file: String,
    pub line: u64,
    pub offset: u64,
    /// The line (truncated to a few KiB).
    pub raw: String,
    /// JNDI URLs named by the trace (`Error looking up JNDI resource [<url>]`).
    pub jndi: Vec<String>,
    /// Which trace matched.
    pub indicator: String,
}

/// A file that could not be read (fully).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntError {
    pub file: String,
    pub message: String,
}

/// Where an indicator was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    pub file: String,
    pub line: u64,
    pub time: Option<String>,
}

/// A deduplicated indicator (`--summary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorCount {
    /// `jndi`, `host`, `source_ip`, `command_host`, `exfiltration`; for Text4Shell also
    /// `script`, `dns`, `url`, `file`; for Spring4Shell `written_file`, `valve_pattern`,
    /// `valve_suffix`.
    pub indicator: String,
    pub value: String,
    pub count: u64,
    pub first_seen: Sighting,
    pub last_seen: Sighting,
    /// For hosts: the callback class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_class: Option<CallbackClass>,
    /// The vulnerabilities of the attempts that carried it (CVE ids, sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<String>,
}

/// The totals of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntSummary {
    pub files: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    pub lines: u64,
    pub attempts: u64,
    pub traces: u64,
    pub errors: u64,
    pub elapsed_ms: u64,
    /// Attempts per vulnerability (`{"CVE-2021-44228": 3, "CVE-2022-42889": 1}`).
    #[serde(default)]
    pub by_vulnerability: std::collections::BTreeMap<String, u64>,
}
