//! quell in Dutch and in English, in headless Chromium: the login page, the dashboard, an
//! advisory, the registry and the indicators page in each language, chosen with the switch in
//! the frame (`?lang=`, kept in a cookie, no JavaScript), and back. Each page is checked for its
//! own language's words, for none of the other language's, and for no message id shown instead
//! of a text. Screenshots go to `target/tmp/browser/i18n-{nl,en}-*.png`. Skipped when Chromium
//! is missing, unless `QUELL_REQUIRE_BROWSER` is set (scripts/test sets it).
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[allow(unused_imports)]
use common::*;

use std::path::Path;

use serde_json::json;

/// The message ids of the English files (`id = text` lines): none may show on a page.
fn message_ids() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../quell-server/locales/en");
    let mut ids = Vec::new();
    for file in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for line in text.lines() {
            if let Some((id, _)) = line.split_once(" = ")
                && id.contains('-')
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                ids.push(id.to_string());
            }
        }
    }
    assert!(ids.len() > 200, "{} ids", ids.len());
    ids
}

/// A page's words: `want` present, `unwanted` (the other language) and message ids absent.
fn check(text: &str, want: &[&str], unwanted: &[&str], ids: &[String]) {
    for w in want {
        assert!(text.contains(w), "missing {w:?}:\n{text}");
    }
    for u in unwanted {
        assert!(!text.contains(u), "other language {u:?}:\n{text}");
    }
    for id in ids {
        assert!(!text.split(|c: char| c.is_whitespace() || c == '(' || c == ')').any(|w| w == id), "id {id}:\n{text}");
    }
}

struct Words {
    lang: &'static str,
    login: &'static [&'static str],
    dashboard: &'static [&'static str],
    advisory: &'static [&'static str],
    registry: &'static [&'static str],
    indicators: &'static [&'static str],
}

const NL: Words = Words {
    lang: "nl",
    login: &["Inloggen", "Wachtwoord", "E-mailadres"],
    dashboard: &["getroffen hosts", "Log4j-kopieën", "Versies", "Uitloggen", "Beveiligingsadviezen"],
    advisory: &[
        "Kans/schade:",
        "HOOG/MIDDEL",
        "Samenvatting",
        "Uw getroffen systemen",
        "Termijn voor maatregelen",
        "Voortgang",
    ],
    registry: &["Productregister", "1 vermelding", "Leverancier", "Status per CVE"],
    indicators: &["Indicatoren", "Pogingen per dag", "Gedeelde indicatoren", "Waarnemingen van uw organisatie"],
};

const EN: Words = Words {
    lang: "en",
    login: &["Log in", "Password", "E-mail"],
    dashboard: &["affected hosts", "Log4j copies", "Versions", "Log out", "Advisories"],
    advisory: &["Rating:", "HIGH/MEDIUM", "Summary", "Your affected systems", "Deadline for measures", "Progress"],
    registry: &["Product registry", "1 entries", "Supplier", "Status per CVE"],
    indicators: &["Indicators", "Attempts per day", "Pooled indicators", "Your organisation's sightings"],
};

#[test]
fn pages_in_dutch_and_in_english() {
    let Some(chromium) = chromium() else { return };
    let ids = message_ids();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_coordinator(&data);
    let alpha = create_org_admin(&data, "alpha");
    let upload = create_token(&data, &alpha, "agent", "upload");
    let cert = create_token(&data, COORDINATOR, "import", "full");
    // English by default (the flag's default), so every Dutch page below is the switch's doing.
    let (mut server, base) = serve(&data, &["--advisory-prefix", "NCSC", "--default-language", "en"]);

    // A host with an affected copy, the Dutch list's "A" file in the registry.
    let tree = corpus_tree(dir.path(), "tree", &["log4j-core-2.14.1.jar"]);
    let out = quell()
        .args(["scan", "--quiet", "--host-name", "web-01", "--upload", &base, "--token", &upload])
        .arg(&tree)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/registry/ncsc-nl/software_list_a.md");
    let mut response = agent()
        .post(&format!("{base}/api/v1/registry/import?format=ncsc-md&name=software_list_a.md"))
        .header("Authorization", &format!("Bearer {cert}"))
        .send(std::fs::read(list).unwrap())
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{}", response.body_mut().read_to_string().unwrap());

    let profile = dir.path().join("chromium");
    let (mut browser, mut cdp) = browser(chromium, &profile);
    cdp.viewport(1280, 900, false);
    let artifacts = artifacts();

    // The coordinator writes and publishes an advisory through the Dutch form.
    cdp.login(&base, "cert@ncsc.example");
    let form = cdp.open(&format!("{base}/advisories/new?lang=nl"), "Kans en schade");
    assert!(form.contains("Kwetsbaar in standaardconfiguratie?") && form.contains("Concept opslaan"), "{form}");
    cdp.eval(
        "const f = document.querySelector('#advisory-form'); \
         f.title.value = 'Kwetsbaarheid in Log4j'; \
         f.summary.value = 'JNDI-lookups in logberichten voeren code van een aanvaller uit.'; \
         f.cves.value = 'CVE-2021-44228'; \
         f.products.value = 'Apache | Log4j | 2.0-beta9 to 2.14.1'; \
         f.solution.value = 'Werk bij naar 2.17.1.'; \
         f.fix_available.checked = false; \
         f.tlp.value = 'AMBER'; \
         f.q_remote_access.value = 'none'; f.q_code_execution.value = 'user'; f.q_denial_of_service.value = 'none'; \
         f.q_information_leak.value = 'none'; f.q_privilege_escalation.value = 'no'; \
         f.submit(); true",
    );
    let draft = cdp.wait_text("Versie 1.00 publiceren");
    let identifier = draft.split_whitespace().find(|w| w.starts_with("NCSC-")).unwrap().to_string();
    cdp.screenshot(&artifacts.join("i18n-nl-advisory-draft.png"));
    cdp.eval("document.querySelector('#publish').click(); true");
    cdp.wait_text("gepubliceerd,");
    let advisory = cdp.eval("location.pathname").as_str().unwrap().to_string();

    for words in [NL, EN] {
        let (lang, other) = if words.lang == "nl" { (&NL, &EN) } else { (&EN, &NL) };
        let name = |page: &str| artifacts.join(format!("i18n-{}-{page}.png", words.lang));

        cdp.call("Network.clearBrowserCookies", json!({}));
        let text = cdp.open(&format!("{base}/login?lang={}", words.lang), lang.login[1]);
        check(&text, lang.login, &other.login[1..2], &ids);
        cdp.screenshot(&name("login"));

        // Logging in clears the cookies: the dashboard is in the default language until the
        // switch in the frame (a plain link) is followed.
        cdp.login(&base, "it@alpha.example");
        let switch = format!("document.querySelector('header nav.lang a[lang={}]').click(); true", words.lang);
        if words.lang != "en" {
            cdp.eval(&switch);
        }
        let text = cdp.wait_text(lang.dashboard[0]);
        assert_eq!(cdp.eval("document.documentElement.lang"), json!(words.lang));
        check(&text, lang.dashboard, &other.dashboard[..4], &ids);
        cdp.screenshot(&name("dashboard"));

        let text = cdp.open(&format!("{base}{advisory}"), &identifier);
        check(&text, lang.advisory, &other.advisory[..4], &ids);
        cdp.screenshot(&name("advisory"));

        let text = cdp.open(&format!("{base}/registry?q=apache+flink"), lang.registry[0]);
        check(&text, lang.registry, &other.registry[..2], &ids);
        cdp.screenshot(&name("registry"));

        let text = cdp.open(&format!("{base}/indicators"), lang.indicators[2]);
        check(&text, lang.indicators, &other.indicators[1..], &ids);
        cdp.screenshot(&name("indicators"));
    }

    // Back from English to Dutch with the switch on any page, without JavaScript's help: it is a
    // link, and the cookie it sets keeps the choice on the next page.
    cdp.eval("document.querySelector('header nav.lang a[lang=nl]').click(); true");
    cdp.wait_text("Gedeelde indicatoren");
    let text = cdp.open(&format!("{base}/registry"), "Productregister");
    assert!(!text.contains("Product registry"), "{text}");

    browser.kill().unwrap();
    browser.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}
