//! The reader's language over HTTP: `?lang=` (and its cookie), the account's setting,
//! `Accept-Language`, the server's `--default-language`, in that order; error pages and API
//! messages in that language, codes unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use quell_server::Limits;
use quell_server::i18n::Lang;

/// A GET with a cookie and headers: (status, body, cookies set).
fn get_with(server: &Server, path: &str, cookie: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<String>) {
    let mut request = ureq::http::Request::builder().method("GET").uri(format!("{}{path}", server.base));
    if !cookie.is_empty() {
        request = request.header("Cookie", cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = browser().run(request.body(Vec::new()).unwrap()).unwrap();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap(), cookies)
}

fn server_with_default(lang: Lang) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = quell_server::ServeConfig { default_language: lang, ..test_config(fresh_location(dir.path())) };
    start_config(config, dir)
}

#[test]
fn the_language_comes_from_the_switch_the_account_the_browser_and_the_server() {
    let server = start(Limits::default());

    // The server's default (English here), then Accept-Language.
    let (_, body, _) = get_with(&server, "/login", "", &[]);
    assert!(body.contains("<html lang=\"en\">") && body.contains("Password"), "{body}");
    let (_, body, _) = get_with(&server, "/login", "", &[("Accept-Language", "de-DE, nl;q=0.8, en;q=0.5")]);
    assert!(body.contains("<html lang=\"nl\">") && body.contains("Wachtwoord"), "{body}");
    assert!(!body.contains("Password"), "{body}");

    // The switch: `?lang=` sets the cookie, and the cookie beats Accept-Language.
    let (_, body, cookies) = get_with(&server, "/login?lang=nl", "", &[]);
    assert!(body.contains("Wachtwoord"));
    assert!(cookies.contains(&"quell_lang=nl".to_string()), "{cookies:?}");
    let (_, body, _) = get_with(&server, "/login", "quell_lang=en", &[("Accept-Language", "nl")]);
    assert!(body.contains("Password"), "{body}");
    // The switch on every page links to both languages.
    assert!(body.contains("href=\"?lang=nl\"") && body.contains("Nederlands"), "{body}");
    // Unknown languages are ignored.
    let (_, body, cookies) = get_with(&server, "/login?lang=xx", "quell_lang=<b>", &[("Accept-Language", "fr")]);
    assert!(body.contains("Password") && !cookies.iter().any(|c| c.starts_with("quell_lang")), "{cookies:?}");

    // The account's setting: stored, and in force without the cookie; the cookie still wins.
    let a = org(&server, "alpha");
    let cookie = session(&server, &a.admin_email);
    let tokens = fetch(&server, "GET", "/tokens", &cookie, None);
    assert!(tokens.body.contains("action=\"/account/language\""), "{}", tokens.body);
    let refused = fetch(&server, "POST", "/account/language", &cookie, Some(&[("language", "nl"), ("csrf", "wrong")]));
    assert_eq!(refused.status, 403);
    let token = csrf(&tokens.body);
    let bad = fetch(&server, "POST", "/account/language", &cookie, Some(&[("language", "xx"), ("csrf", &token)]));
    assert_eq!(bad.status, 400);
    let saved = fetch(&server, "POST", "/account/language", &cookie, Some(&[("language", "nl"), ("csrf", &token)]));
    assert_eq!(saved.status, 303);
    assert!(saved.cookies.contains(&"quell_lang=nl".to_string()));
    let (_, body, _) = get_with(&server, "/", &cookie, &[("Accept-Language", "en")]);
    assert!(body.contains("getroffen hosts") && body.contains("Uitloggen"), "{body}");
    let (_, body, _) = get_with(&server, "/", &format!("{cookie}; quell_lang=en"), &[]);
    assert!(body.contains("affected hosts"), "{body}");

    // Error pages in the reader's language, same status.
    let (status, body, _) = get_with(&server, "/hosts/999999", &cookie, &[]);
    assert_eq!(status, 404);
    assert!(body.contains("Niet gevonden"), "{body}");

    // Dutch numbers and dates on the pages.
    upload(&server, &a.upload, &report("alpha-web", &days_ago(0), 2, 1, "p"));
    let (_, body, _) = get_with(&server, "/hosts", &cookie, &[]);
    let months = [
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
    assert!(months.iter().any(|m| body.contains(&format!(" {m} 20"))), "a Dutch date: {body}");

    // The API: codes stay English, the human message follows Accept-Language.
    let mut response =
        agent().get(&format!("{}/api/v1/hosts", server.base)).header("Accept-Language", "nl").call().unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let json: serde_json::Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(json["error"], "unauthorized");
    assert!(json["message"].as_str().unwrap().ends_with("stuur Authorization: Bearer <token>"), "{json}");
    let mut response = agent().get(&format!("{}/api/v1/hosts", server.base)).call().unwrap();
    let json: serde_json::Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert!(json["message"].as_str().unwrap().ends_with("send Authorization: Bearer <token>"), "{json}");
}

#[test]
fn the_server_default_applies_when_nobody_chose() {
    let server = server_with_default(Lang::Nl);
    let (_, body, _) = get_with(&server, "/login", "", &[]);
    assert!(body.contains("<html lang=\"nl\">") && body.contains("Inloggen"), "{body}");
    let (_, body, _) = get_with(&server, "/login", "", &[("Accept-Language", "en-GB")]);
    assert!(body.contains("Log in"), "{body}");
    let (_, body, _) = get_with(&server, "/registry", "", &[]);
    assert!(body.contains("Productregister") && body.contains("Nederlands"), "{body}");
}

/// The message ids of a language's files.
fn message_ids(lang: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang);
    let mut ids = Vec::new();
    for file in std::fs::read_dir(dir).unwrap() {
        for line in std::fs::read_to_string(file.unwrap().path()).unwrap().lines() {
            if let Some((id, _)) = line.split_once(" = ")
                && id.contains('-')
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

/// Every page an organisation user reaches, in both languages: 200, the right `lang`, and no
/// message id rendered in place of a text (what a missing message shows).
#[test]
fn every_page_renders_in_both_languages_without_message_ids() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    upload(&server, &a.upload, &report("alpha-web", &days_ago(0), 2, 1, "p"));
    let cookie = session(&server, &a.admin_email);
    let hosts = fetch(&server, "GET", "/hosts", &cookie, None);
    let host = hosts.body.split("href=\"/hosts/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let ids = message_ids("en");
    assert!(ids.len() > 300, "{} ids", ids.len());
    let pages = [
        "/".to_string(),
        "/hosts".into(),
        format!("/hosts/{host}"),
        "/search?component=log4j-core&version=2.14.1".into(),
        "/components?purl=pkg:maven/org.apache.logging.log4j/log4j-core".into(),
        "/tokens".into(),
        "/indicators".into(),
        "/advisories".into(),
        "/registry?q=x".into(),
        "/registry/my-products".into(),
        "/registry/proposals".into(),
        "/registry/confirmations".into(),
        "/hosts/999999".into(),
    ];
    for lang in ["nl", "en"] {
        for path in &pages {
            let (status, body, _) = get_with(&server, path, &format!("{cookie}; quell_lang={lang}"), &[]);
            assert!(status == 200 || path == "/hosts/999999", "{path}: {status}");
            assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{path}");
            for id in &ids {
                assert!(
                    !body.contains(&format!(">{id}<")) && !body.contains(&format!("\"{id}\"")),
                    "{lang} {path}: {id}"
                );
            }
        }
    }
    // The coordinator's pages too.
    let coordinator_cookie = {
        coordinator(&server);
        session(&server, "cert@ncsc.example")
    };
    for lang in ["nl", "en"] {
        for path in ["/", "/advisories", "/advisories/new", "/registry/proposals", "/components"] {
            let (status, body, _) = get_with(&server, path, &format!("{coordinator_cookie}; quell_lang={lang}"), &[]);
            assert_eq!(status, 200, "{path}");
            for id in &ids {
                assert!(!body.contains(&format!(">{id}<")), "{lang} {path}: {id}");
            }
        }
    }
}

/// `PUT /api/v1/me` sets the account's language, as the Tokens page's form does.
#[test]
fn the_api_sets_the_account_language() {
    let server = start(Limits::default());
    let a = org(&server, "alpha");
    let put = |token: &str, body: &str| send(&server, "PUT", token, "/api/v1/me", body.as_bytes(), &[]);
    let (status, body) = put(&a.full, r#"{"language":"xx"}"#);
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid")), "{body}");
    assert_eq!(put(&a.upload, r#"{"language":"nl"}"#).0, 403, "upload-only tokens change nothing");
    let (status, body) = put(&a.full, r#"{"language":"nl-NL"}"#);
    assert_eq!((status, body["language"].as_str()), (200, Some("nl")), "{body}");
    assert_eq!(get(&server, &a.full, "/api/v1/me").1["language"], "nl");
    let cookie = session(&server, &a.admin_email);
    let (_, page, _) = get_with(&server, "/", &cookie, &[("Accept-Language", "en")]);
    assert!(page.contains("getroffen hosts"), "{page}");
    let (status, body) = put(&a.full, r#"{"language":null}"#);
    assert_eq!((status, body["language"].clone()), (200, serde_json::Value::Null), "{body}");
    let (_, page, _) = get_with(&server, "/", &cookie, &[("Accept-Language", "en")]);
    assert!(page.contains("affected hosts"), "{page}");
}

#[test]
fn advisories_are_read_in_the_readers_language_with_the_other_a_click_away() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let rating = log4shell_rating();
    let content = |translation_lang: &str| {
        serde_json::json!({
            "content": {
                "title": "Kwetsbaarheid in Apache Log4j", "summary": "Een aanvaller kan code uitvoeren.",
                "cves": ["CVE-2021-44228"],
                "products": [{"supplier": "Apache", "product": "Log4j", "versions": "2.0-beta9 tot 2.14.1"}],
                "consequences": "Volledige overname van de server.", "solution": "Werk bij naar 2.17.1.",
                "references": [], "rating": rating, "tlp": "CLEAR", "lang": "nl",
                "translation": {"lang": translation_lang, "title": "Vulnerability in Apache Log4j",
                    "summary": "An attacker can run code.", "solution": "Update to 2.17.1."}
            },
            "recipients": {"orgs": [], "users": [], "match_inventory": false}
        })
    };
    let json_header = [("Content-Type", "application/json")];
    // A translation must be in the other language.
    let (status, body) =
        send(&server, "POST", &coord, "/api/v1/advisories", content("nl").to_string().as_bytes(), &json_header);
    assert_eq!(status, 400, "{body}");
    let (status, created) =
        send(&server, "POST", &coord, "/api/v1/advisories", content("en").to_string().as_bytes(), &json_header);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, body) =
        send(&server, "POST", &coord, &format!("/api/v1/advisories/{id}/publish"), b"{}", &json_header);
    assert_eq!(status, 200, "{body}");

    // The page: a Dutch reader gets the Dutch texts, an English reader the English ones, each
    // with a link to the other language.
    let path = format!("/advisories/{id}");
    let (_, dutch, _) = get_with(&server, &path, "", &[("Accept-Language", "nl")]);
    assert!(dutch.contains("Kwetsbaarheid in Apache Log4j") && dutch.contains("Werk bij naar 2.17.1."), "{dutch}");
    assert!(
        dutch.contains("href=\"?text=en\"") && dutch.contains("Lees dit beveiligingsadvies in het Engels"),
        "{dutch}"
    );
    let (_, english, _) = get_with(&server, &path, "", &[("Accept-Language", "en")]);
    assert!(english.contains("Vulnerability in Apache Log4j") && english.contains("Update to 2.17.1."), "{english}");
    assert!(!english.contains("Een aanvaller"), "{english}");
    assert!(english.contains("href=\"?text=nl\""), "{english}");
    let (_, chosen, _) = get_with(&server, &format!("{path}?text=nl"), "", &[("Accept-Language", "en")]);
    assert!(chosen.contains("Een aanvaller kan code uitvoeren.") && chosen.contains("<html lang=\"en\">"), "{chosen}");

    // The Atom feed: each entry in the reader's language.
    let (_, feed, _) = get_with(&server, "/advisories.atom", "", &[("Accept-Language", "en")]);
    assert!(feed.contains("Vulnerability in Apache Log4j") && feed.contains("xml:lang=\"en\""), "{feed}");
    let (_, feed, _) = get_with(&server, "/advisories.atom", "", &[("Accept-Language", "nl")]);
    assert!(feed.contains("Kwetsbaarheid in Apache Log4j") && feed.contains("xml:lang=\"nl\""), "{feed}");

    // CSAF: the original with its language; the translation as its own document with
    // source_lang.
    let (status, original) = get(&server, &coord, &format!("/api/v1/advisories/{id}/csaf"));
    assert_eq!(status, 200);
    assert_eq!(
        (original["document"]["lang"].as_str(), original["document"]["title"].as_str()),
        (Some("nl"), Some("Kwetsbaarheid in Apache Log4j"))
    );
    assert!(original["document"].get("source_lang").is_none(), "{original}");
    let (_, translated) = get(&server, &coord, &format!("/api/v1/advisories/{id}/csaf?lang=en"));
    assert_eq!(translated["document"]["lang"], "en");
    assert_eq!(translated["document"]["source_lang"], "nl");
    assert_eq!(translated["document"]["title"], "Vulnerability in Apache Log4j");
    // The document's own texts (note titles, levels, defaults) follow its language too.
    let note_titles = |doc: &serde_json::Value| -> Vec<String> {
        doc["document"]["notes"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(note_titles(&original), ["Samenvatting", "Gevolgen", "Kans/schade"], "{original}");
    assert_eq!(original["document"]["aggregate_severity"]["text"], "HOOG/HOOG");
    assert_eq!(original["document"]["tracking"]["revision_history"][0]["summary"], "Initiële versie");
    assert_eq!(original["vulnerabilities"][0]["notes"][0]["title"], "Samenvatting");
    assert_eq!(note_titles(&translated)[0], "Summary", "{translated}");
    assert_eq!(translated["document"]["aggregate_severity"]["text"], "HIGH/HIGH");
    // Both documents pass the BSI validator (when scripts/test provides it).
    check_csaf(&[("quell-nl.json", &original), ("quell-en.json", &translated)]);
}

/// Refusals of the pure crates and the store (validation, conflicts) in the reader's language:
/// the API's `message` follows `Accept-Language` while `error` and field names stay English;
/// the pages say them in the page's language.
#[test]
fn refusals_are_said_in_the_readers_language() {
    let server = start(Limits::default());
    let coord = coordinator(&server);
    let draft = |title: &str| {
        serde_json::json!({
            "content": {
                "title": title, "summary": "Een aanvaller kan code uitvoeren.", "cves": ["CVE-2021-44228"],
                "products": [{"supplier": "Apache", "product": "Log4j", "versions": "2.0-beta9 tot 2.14.1"}],
                "references": [], "rating": log4shell_rating(), "tlp": "CLEAR", "lang": "nl"
            },
            "recipients": {"orgs": [], "users": [], "match_inventory": false}
        })
        .to_string()
    };
    let json_header = ("Content-Type", "application/json");
    let post = |path: &str, body: &str, lang: Option<&str>| {
        let mut headers = vec![json_header];
        if let Some(lang) = lang {
            headers.push(("Accept-Language", lang));
        }
        send(&server, "POST", &coord, path, body.as_bytes(), &headers)
    };

    // Validation by quell-advisory, through the store.
    let (status, dutch) = post("/api/v1/advisories", &draft("  "), Some("nl-NL,nl;q=0.9"));
    assert_eq!((status, dutch["error"].as_str()), (400, Some("invalid")), "{dutch}");
    assert_eq!(dutch["message"], "de titel is verplicht", "{dutch}");
    assert_eq!(dutch["reason"], "required", "the machine code stays English: {dutch}");
    let (status, english) = post("/api/v1/advisories", &draft("  "), None);
    assert_eq!((status, english["error"].as_str()), (400, Some("invalid")));
    assert_eq!(english["message"], "title is required", "English as before: {english}");
    let (_, lang) = post("/api/v1/advisories?lang=nl", &draft("  "), Some("en"));
    assert_eq!(lang["message"], "de titel is verplicht", "?lang= wins: {lang}");

    // A conflict of the store: the kind and the reason in Dutch, the code English.
    let (status, created) = post("/api/v1/advisories", &draft("Kwetsbaarheid in Log4j"), None);
    assert_eq!(status, 201, "{created}");
    let publish = format!("/api/v1/advisories/{}/publish", created["id"]);
    assert_eq!(post(&publish, "{}", None).0, 200);
    let (status, dutch) = post(&publish, "{}", Some("nl"));
    assert_eq!((status, dutch["error"].as_str()), (409, Some("conflict")), "{dutch}");
    assert_eq!(dutch["reason"], "nothing_to_publish", "{dutch}");
    assert_eq!(
        dutch["message"], "conflict: er is niets te publiceren: de nieuwste versie is al gepubliceerd",
        "{dutch}"
    );
    let (_, english) = post(&publish, "{}", Some("en"));
    assert_eq!(english["message"], "conflict: nothing to publish: the newest version is already published");

    // What is not there: the kind of thing in the reader's language, the code English.
    let get = |path: &str, lang: &str| send(&server, "GET", &coord, path, b"", &[("Accept-Language", lang)]);
    let (status, dutch) = get("/api/v1/registry/entries/987654", "nl");
    assert_eq!((status, dutch["error"].as_str()), (404, Some("not_found")), "{dutch}");
    assert_eq!(dutch["message"], "niet gevonden: registervermelding 987654", "{dutch}");
    let (_, english) = get("/api/v1/registry/entries/987654", "en");
    assert_eq!(english["message"], "not found: registry entry 987654", "English as before: {english}");
    let (status, dutch) = get(&format!("/api/v1/advisories/{}/versions/9.00", created["id"]), "nl");
    assert_eq!(status, 404, "{dutch}");
    assert!(dutch["message"].as_str().unwrap().starts_with("niet gevonden: beveiligingsadvies "), "{dutch}");

    // A package URL or version range that does not parse: the parser's explanation translated.
    let (status, dutch) = get("/api/v1/components?purl=pkg:maven/log4j&range=%5B1.0", "nl");
    assert_eq!((status, dutch["error"].as_str()), (400, Some("invalid")), "{dutch}");
    assert!(dutch["message"].as_str().unwrap().contains("een Maven-purl is pkg:maven/GROEP/ARTEFACT"), "{dutch}");
    let (_, dutch) = get("/api/v1/components?purl=pkg:maven/org.apache.logging.log4j/log4j-core&range=%5B1.0", "nl");
    assert!(dutch["message"].as_str().unwrap().contains("een Maven-bereik is niet afgesloten met ] of )"), "{dutch}");
    let (_, english) = get("/api/v1/components?purl=pkg:maven/org.apache.logging.log4j/log4j-core&range=%5B1.0", "en");
    assert!(english["message"].as_str().unwrap().contains("a Maven range is not closed with ] or )"), "{english}");

    // The server's own refusals, also those made off the async threads (decoding an upload).
    let a = org(&server, "alpha");
    let headers = [("Content-Type", "application/x-ndjson"), ("Accept-Language", "nl")];
    let (status, dutch) = send(&server, "POST", &a.upload, "/api/v1/reports", b"\n", &headers);
    assert_eq!((status, dutch["error"].as_str()), (400, Some("invalid")), "{dutch}");
    assert!(dutch["message"].as_str().unwrap().starts_with("het rapport heeft geen samenvatting"), "{dutch}");
    let (_, english) = upload(&server, &a.upload, "\n");
    assert!(english["message"].as_str().unwrap().starts_with("the report has no summary record"), "{english}");

    let (status, dutch) =
        send(&server, "GET", &a.full, "/api/v1/indicators/pool?kind=banaan", b"", &[("Accept-Language", "nl")]);
    assert_eq!((status, dutch["error"].as_str()), (400, Some("invalid")), "{dutch}");
    assert!(dutch["message"].as_str().unwrap().starts_with("soort (kind) \"banaan\""), "{dutch}");

    // A refusal of the store on a page: the registry's search with a bad CVE and a bad status.
    let (status, body, _) = get_with(&server, "/registry?cve=CVE-21", "quell_lang=nl", &[]);
    assert_eq!(status, 400);
    assert!(body.contains("is geen CVE-nummer (CVE-JJJJ-NNNN)"), "{body}");
    let (_, body, _) = get_with(&server, "/registry?cve=CVE-21", "", &[("Accept-Language", "en")]);
    assert!(body.contains("is not a CVE id (CVE-YYYY-NNNN)"), "{body}");
    let (status, body, _) = get_with(&server, "/registry?status=kapot", "", &[("Accept-Language", "nl")]);
    assert_eq!(status, 400);
    assert!(body.contains("onbekende status"), "{body}");
}
