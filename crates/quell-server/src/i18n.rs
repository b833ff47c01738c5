//! The reader's language: Project Fluent message files for Dutch and English, compiled in, and
//! the one lookup every page, error page and API message goes through.
//!
//! Crates: `fluent-bundle` (0.16, the reference Rust implementation of Project Fluent, kept by
//! the Fluent project itself) with `unic-langid` (0.9, its language identifiers). Not
//! `fluent-templates`: its static loader is a proc macro that reads a directory at build time
//! and pulls in a file walker; two languages with a fixed list of files need neither, and
//! `include_str!` keeps the files in the binary with the compiler checking that each exists.
//!
//! How a request gets its language ([`resolve`], called once per request by the middleware in
//! [`crate::html::html_errors`] and [`api_language`]): `?lang=` on the URL (which also sets the
//! [`LANG_COOKIE`], so the switch in the frame works without JavaScript), else the cookie, else
//! the user's stored setting (`users.language`, migration 0010), else `Accept-Language`, else
//! `quell serve --default-language`. The middleware runs the handler inside [`scope`], so
//! rendering code asks [`current`] (through the [`t!`] macro) instead of threading a value
//! through every helper.
//!
//! Invariants:
//! - Every message id used in the server's code exists in both languages, and both languages
//!   have the same ids (`tests::every_id_used_exists_in_both_languages`, `tests::same_ids`).
//! - Page code holds no user-facing English: `tests/i18n_lint.rs` scans `pages/*.rs` and
//!   `html.rs`.
//! - The typed refusals of the pure crates and the store (`quell_advisory::Invalid`,
//!   `quell_registry::RuleBroken`, `quell_store::Refusal`) are said in the reader's language by
//!   [`crate::refusals`], never by the crates themselves.
//! - Numbers and dates are shown through [`number`] and [`date`]/[`date_time`], so Dutch readers
//!   see `1.234` and `2 december 2026`.

use std::future::Future;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The cookie that keeps the language chosen with the switch in the frame.
pub const LANG_COOKIE: &str = "quell_lang";

/// A language quell speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Nl,
}

impl Lang {
    /// Every language, in the order of the switch.
    pub const ALL: [Lang; 2] = [Lang::Nl, Lang::En];

    /// The BCP 47 code (`nl`, `en`): HTML `lang`, the cookie, the database, CSAF `lang`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Nl => "Nederlands",
        }
    }

    /// A language tag (`nl`, `nl-BE`, `EN-gb`) to the language quell speaks, if it speaks it.
    pub fn parse(tag: &str) -> Option<Lang> {
        let id: LanguageIdentifier = tag.trim().parse().ok()?;
        match id.language.as_str() {
            "en" => Some(Lang::En),
            "nl" => Some(Lang::Nl),
            _ => None,
        }
    }

    /// The preferred language quell speaks of an `Accept-Language` header (highest `q` first;
    /// among equal weights, the first listed).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            if let Some(lang) = Lang::parse(tag)
                && best.is_none_or(|(b, _)| q > b)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::parse(s).ok_or_else(|| format!("unknown language {s:?}: quell speaks nl and en"))
    }
}

/// The message files of one language, compiled in.
macro_rules! locale {
    ($lang:literal) => {
        [
            include_str!(concat!("../locales/", $lang, "/frame.ftl")),
            include_str!(concat!("../locales/", $lang, "/inventory.ftl")),
            include_str!(concat!("../locales/", $lang, "/accounts.ftl")),
            include_str!(concat!("../locales/", $lang, "/advisories.ftl")),
            include_str!(concat!("../locales/", $lang, "/registry.ftl")),
            include_str!(concat!("../locales/", $lang, "/indicators.ftl")),
            include_str!(concat!("../locales/", $lang, "/users.ftl")),
            include_str!(concat!("../locales/", $lang, "/two_factor.ftl")),
            include_str!(concat!("../locales/", $lang, "/errors.ftl")),
            include_str!(concat!("../locales/", $lang, "/refusals.ftl")),
        ]
    };
}

/// The message files: (language, file texts).
pub const SOURCES: [(Lang, [&str; 10]); 2] = [(Lang::En, locale!("en")), (Lang::Nl, locale!("nl"))];

struct Bundles {
    en: FluentBundle<FluentResource>,
    nl: FluentBundle<FluentResource>,
}

/// Whole numbers with the reader's thousands separator (Fluent's own formatting has none).
fn format_en<M>(value: &FluentValue, _: &M) -> Option<String> {
    whole(value).map(|n| group(n, ','))
}

fn format_nl<M>(value: &FluentValue, _: &M) -> Option<String> {
    whole(value).map(|n| group(n, '.'))
}

fn whole(value: &FluentValue) -> Option<i64> {
    match value {
        FluentValue::Number(n) if n.value.fract() == 0.0 && n.value.abs() < 1e15 => Some(n.value as i64),
        _ => None,
    }
}

fn group(n: i64, separator: char) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id: LanguageIdentifier = match lang {
        Lang::En => unic_langid::langid!("en"),
        Lang::Nl => unic_langid::langid!("nl"),
    };
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the pages are left-to-right only.
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(match lang {
        Lang::En => format_en as fn(&FluentValue, &_) -> Option<String>,
        Lang::Nl => format_nl,
    }));
    for (source_lang, files) in SOURCES {
        if source_lang != lang {
            continue;
        }
        for text in files {
            let resource = FluentResource::try_new(text.to_string()).unwrap_or_else(|(resource, errors)| {
                tracing::error!(?errors, lang = lang.code(), "message file does not parse");
                resource
            });
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(?errors, lang = lang.code(), "message file defines an id twice");
            }
        }
    }
    bundle
}

static BUNDLES: LazyLock<Bundles> = LazyLock::new(|| Bundles { en: bundle(Lang::En), nl: bundle(Lang::Nl) });

tokio::task_local! {
    static CURRENT: Lang;
}

/// The language of the request being handled (English outside a request, e.g. in tests).
pub fn current() -> Lang {
    CURRENT.try_with(|lang| *lang).unwrap_or(Lang::En)
}

/// Runs `future` (a request's handler) with `lang` as the [`current`] language.
pub async fn scope<F: Future>(lang: Lang, future: F) -> F::Output {
    CURRENT.scope(lang, future).await
}

/// Runs `f` (e.g. rendering an e-mail for one recipient) with `lang` as the current language.
pub fn with<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(lang, f)
}

/// The message `id` in `lang`; a missing id shows as the id itself (and is logged), which the
/// tests forbid.
pub fn message(lang: Lang, id: &str, args: Option<&FluentArgs>) -> String {
    let bundle = match lang {
        Lang::En => &BUNDLES.en,
        Lang::Nl => &BUNDLES.nl,
    };
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        tracing::error!(id, lang = lang.code(), "missing message");
        return id.to_string();
    };
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        tracing::error!(id, lang = lang.code(), ?errors, "message did not format");
    }
    text.into_owned()
}

/// Whether `lang` has the message `id` (for ids made at run time, like `field-<name>`).
pub fn has_message(lang: Lang, id: &str) -> bool {
    match lang {
        Lang::En => BUNDLES.en.has_message(id),
        Lang::Nl => BUNDLES.nl.has_message(id),
    }
}

/// A machine-readable value shown to a reader (`patched`, `open`, `no_answer`): its
/// `code-<value>` message when there is one, else the value itself.
pub fn code(value: &str) -> String {
    let lang = current();
    let bundle = match lang {
        Lang::En => &BUNDLES.en,
        Lang::Nl => &BUNDLES.nl,
    };
    let id = format!("code-{value}");
    if bundle.has_message(&id) { message(lang, &id, None) } else { value.to_string() }
}

/// The message `id` in the current language. Prefer the [`t!`] macro.
pub fn text(id: &str, args: Option<&FluentArgs>) -> String {
    message(current(), id, args)
}

/// A message in the current language: `t!("nav-hosts")`, `t!("count-hosts", n = hosts)`.
/// Numbers passed as arguments are formatted in the reader's language and select plurals.
#[macro_export]
macro_rules! t {
    ($id:literal) => {
        $crate::i18n::text($id, None)
    };
    ($id:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = ::fluent_bundle::FluentArgs::new();
        $( args.set(stringify!($name), ::fluent_bundle::FluentValue::from($value)); )+
        $crate::i18n::text($id, Some(&args))
    }};
}

/// A whole number (of any integer type) in the current language: `1,234` or `1.234`.
pub fn number(n: impl std::fmt::Display) -> String {
    let text = n.to_string();
    let Ok(n) = text.parse::<i64>() else { return text };
    group(
        n,
        match current() {
            Lang::En => ',',
            Lang::Nl => '.',
        },
    )
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// A day number (days since 1970-01-01) as `2 december 2026` / `2 December 2026`.
pub fn day(days: i64) -> String {
    let (y, m, d) = crate::time::civil_from_days(days);
    let index = usize::try_from(m.saturating_sub(1)).unwrap_or(0).min(11);
    let month = match current() {
        Lang::En => MONTHS_EN[index],
        Lang::Nl => MONTHS_NL[index],
    };
    format!("{d} {month} {y}")
}

/// Unix seconds as a date: `2 december 2026`.
pub fn date(unix: i64) -> String {
    day(unix.div_euclid(86_400))
}

/// Unix seconds as a date and time (UTC): `2 december 2026 14:03 UTC`.
pub fn date_time(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!("{} {:02}:{:02} UTC", date(unix), secs / 3600, secs / 60 % 60)
}

/// A stored RFC 3339 time or `YYYY-MM-DD` day shown in the reader's language; anything else
/// as it is.
pub fn date_text(text: &str) -> String {
    if let Some(unix) = crate::time::parse_rfc3339(text) {
        date_time(unix)
    } else if let Some(days) = crate::time::parse_day(text) {
        day(days)
    } else {
        text.to_string()
    }
}

/// What a TLP marking allows, in the reader's language (the marking itself stays `TLP:AMBER`).
pub fn tlp_meaning(tlp: quell_advisory::Tlp) -> String {
    match tlp {
        quell_advisory::Tlp::Clear => t!("tlp-clear"),
        quell_advisory::Tlp::Green => t!("tlp-green"),
        quell_advisory::Tlp::Amber => t!("tlp-amber"),
        quell_advisory::Tlp::AmberStrict => t!("tlp-amber-strict"),
        quell_advisory::Tlp::Red => t!("tlp-red"),
    }
}

/// A chance or damage level in the reader's language (`HOOG`, `HIGH`).
pub fn level_name(level: quell_advisory::rating::Level) -> String {
    match level {
        quell_advisory::rating::Level::Low => t!("level-low"),
        quell_advisory::rating::Level::Medium => t!("level-medium"),
        quell_advisory::rating::Level::High => t!("level-high"),
    }
}

/// The chance × damage label (`HIGH/HIGH`, `HOOG/HOOG`).
pub fn rating_label(rating: &quell_advisory::rating::Rating) -> String {
    format!("{}/{}", level_name(rating.chance).to_uppercase(), level_name(rating.damage).to_uppercase())
}

/// How the language of a request is found; see the module documentation.
pub struct Request<'a> {
    /// `?lang=` of the URL.
    pub query: Option<&'a str>,
    /// The [`LANG_COOKIE`].
    pub cookie: Option<&'a str>,
    /// The logged-in user's setting.
    pub user: Option<&'a str>,
    /// `Accept-Language`.
    pub accept: Option<&'a str>,
}

/// The language of a request: `?lang=`, the cookie, the user's setting, `Accept-Language`,
/// the server's default, in that order.
pub fn resolve(request: &Request<'_>, default: Lang) -> Lang {
    request
        .query
        .and_then(Lang::parse)
        .or_else(|| request.cookie.and_then(Lang::parse))
        .or_else(|| request.user.and_then(Lang::parse))
        .or_else(|| request.accept.and_then(Lang::from_accept_language))
        .unwrap_or(default)
}

/// The `?lang=` value of a query string, if any.
pub fn query_lang(query: Option<&str>) -> Option<&str> {
    query?.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == "lang").map(|(_, v)| v)
}

/// Middleware of the API routes: the JSON `message` in the caller's language (`?lang=`, else
/// `Accept-Language`, else the server's default); field names and codes stay English.
pub async fn api_language(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let headers = request.headers();
    let lang = resolve(
        &Request {
            query: query_lang(request.uri().query()),
            cookie: None,
            user: None,
            accept: headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
        },
        state.default_language,
    );
    scope(lang, next.run(request)).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn ids(lang: Lang) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (source_lang, files) in SOURCES {
            if source_lang != lang {
                continue;
            }
            for text in files {
                let resource = FluentResource::try_new(text.to_string())
                    .unwrap_or_else(|(_, errors)| panic!("{lang:?}: message file does not parse: {errors:?}"));
                for entry in resource.entries() {
                    if let fluent_syntax::ast::Entry::Message(m) = entry {
                        assert!(out.insert(m.id.name.to_string()), "{lang:?}: {} defined twice", m.id.name);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn same_ids() {
        let (en, nl) = (ids(Lang::En), ids(Lang::Nl));
        let only_en: Vec<_> = en.difference(&nl).collect();
        let only_nl: Vec<_> = nl.difference(&en).collect();
        assert!(only_en.is_empty() && only_nl.is_empty(), "only in en: {only_en:?}\nonly in nl: {only_nl:?}");
        assert!(en.len() > 100, "{} messages", en.len());
    }

    /// Every `t!("id"` in the server's source names a message of both languages.
    #[test]
    fn every_id_used_exists_in_both_languages() {
        let (en, nl) = (ids(Lang::En), ids(Lang::Nl));
        let mut used = BTreeSet::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for marker in ["t!(\"", "message(lang, \"", "message(*lang, \""] {
                for (at, _) in source.match_indices(marker) {
                    // Only a whole `t!` macro, not the end of `format!`.
                    if source[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &source[at + marker.len()..];
                    let id = &rest[..rest.find('"').unwrap()];
                    let is_id = id.starts_with(|c: char| c.is_ascii_lowercase())
                        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                    assert!(is_id, "{}: not a message id: {id:?}", path.display());
                    if id != "id" {
                        used.insert((path.display().to_string(), id.to_string()));
                    }
                }
            }
        }
        assert!(used.len() > 100, "found only {} uses", used.len());
        let missing: Vec<String> = used
            .iter()
            .flat_map(|(file, id)| {
                [(Lang::En, &en), (Lang::Nl, &nl)]
                    .into_iter()
                    .filter(|(_, ids)| !ids.contains(id))
                    .map(move |(lang, _)| format!("{file}: {id} missing in {}", lang.code()))
            })
            .collect();
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn every_message_formats_without_errors_in_both_languages() {
        for lang in Lang::ALL {
            for id in ids(lang) {
                let bundle = if lang == Lang::En { &BUNDLES.en } else { &BUNDLES.nl };
                let message = bundle.get_message(&id).unwrap();
                assert!(message.value().is_some(), "{id} has no value");
            }
        }
    }

    #[test]
    fn languages_from_tags_and_headers() {
        assert_eq!(Lang::parse("nl-BE"), Some(Lang::Nl));
        assert_eq!(Lang::parse("EN-gb"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::parse("<script>"), None);
        assert_eq!(Lang::from_accept_language("de-DE,de;q=0.9,nl;q=0.8,en;q=0.7"), Some(Lang::Nl));
        assert_eq!(Lang::from_accept_language("en;q=0.5, nl-NL"), Some(Lang::Nl));
        assert_eq!(Lang::from_accept_language("nl;q=0, en"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr"), None);
        let request = Request { query: None, cookie: Some("en"), user: Some("nl"), accept: Some("nl") };
        assert_eq!(resolve(&request, Lang::Nl), Lang::En);
        let request = Request { query: Some("nl"), ..request };
        assert_eq!(resolve(&request, Lang::En), Lang::Nl);
        let request = Request { query: None, cookie: None, user: None, accept: Some("nl-NL,en;q=0.5") };
        assert_eq!(resolve(&request, Lang::En), Lang::Nl);
        let request = Request { query: Some("xx"), cookie: None, user: None, accept: None };
        assert_eq!(resolve(&request, Lang::Nl), Lang::Nl);
        assert_eq!(query_lang(Some("q=a&lang=nl")), Some("nl"));
    }

    #[test]
    fn numbers_dates_and_plurals_in_each_language() {
        with(Lang::Nl, || {
            assert_eq!(number(1234567), "1.234.567");
            assert_eq!(number(-1234), "-1.234");
            assert_eq!(date(crate::time::parse_day("2026-12-02").unwrap() * 86_400), "2 december 2026");
            assert_eq!(t!("count-hosts", n = 1234), "1.234 hosts");
            assert_eq!(t!("count-hosts", n = 1), "1 host");
        });
        with(Lang::En, || {
            assert_eq!(number(1234), "1,234");
            assert_eq!(number(12), "12");
            assert_eq!(date_text("2026-12-02T14:03:09Z"), "2 December 2026 14:03 UTC");
            assert_eq!(t!("count-hosts", n = 1), "1 host");
            assert_eq!(t!("count-hosts", n = 2), "2 hosts");
        });
    }
}
