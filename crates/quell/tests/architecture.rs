//! The rules of ARCHITECTURE.md, checked: the crate graph drawn there is the one `cargo metadata`
//! reports; SQL only in `quell-store`, HTTP and HTML only in `quell-server`, the pure crates free
//! of both (each crate's Cargo.toml is what makes the compiler enforce it); no circular imports
//! between the server's modules; no positional column reads; handlers stay short.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Every workspace crate and the workspace crates it depends on (normal dependencies, optional
/// ones included), from `cargo metadata`.
fn metadata() -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, BTreeSet<String>>) {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let names: BTreeSet<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
    let mut internal = BTreeMap::new();
    let mut external = BTreeMap::new();
    for package in packages {
        let name = package["name"].as_str().unwrap().to_string();
        let (mut inside, mut outside) = (BTreeSet::new(), BTreeSet::new());
        for dep in package["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap().to_string();
            let kind = dep["kind"].as_str();
            if names.contains(&dep_name) {
                if kind.is_none() {
                    inside.insert(dep_name);
                }
            } else {
                // Dev-dependencies count too: a test must not bring SQL into the server either.
                if kind != Some("build") {
                    outside.insert(dep_name);
                }
            }
        }
        internal.insert(name.clone(), inside);
        external.insert(name, outside);
    }
    (internal, external)
}

/// The graph drawn in ARCHITECTURE.md between the `crate-graph` markers: `crate -> a, b`.
fn drawn_graph() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let start = text.find("<!-- crate-graph -->").expect("ARCHITECTURE.md has a <!-- crate-graph --> block");
    let end = text.find("<!-- /crate-graph -->").expect("the crate graph block ends");
    let mut graph = BTreeMap::new();
    for line in text[start..end].lines().filter(|l| l.contains(" -> ")) {
        let (name, deps) = line.split_once(" -> ").unwrap();
        let deps = deps
            .split(',')
            .map(|d| d.trim().trim_matches('`').to_string())
            .filter(|d| !d.is_empty() && d != "(none)")
            .collect();
        graph.insert(name.trim().trim_matches('`').to_string(), deps);
    }
    graph
}

#[test]
fn the_crate_graph_in_architecture_md_is_the_real_one() {
    let (internal, _) = metadata();
    let drawn = drawn_graph();
    assert_eq!(drawn, internal, "ARCHITECTURE.md's crate graph (left) differs from cargo metadata (right)");
}

#[test]
fn each_layer_has_only_its_own_dependencies() {
    let (internal, external) = metadata();
    let sql = ["sqlx", "libsqlite3-sys", "tokio-postgres", "postgres"];
    let http = ["axum", "hyper", "tower", "tower-http", "maud", "askama"];
    for (name, deps) in &external {
        let has = |list: &[&'static str]| -> Vec<&'static str> {
            list.iter().filter(|d| deps.contains(**d)).copied().collect()
        };
        match name.as_str() {
            "quell-store" => assert!(has(&http).is_empty(), "quell-store depends on HTTP/HTML crates {:?}", has(&http)),
            "quell-server" => assert!(has(&sql).is_empty(), "quell-server depends on SQL crates {:?}", has(&sql)),
            "quell" => {}
            _ => {
                let forbidden: Vec<_> = has(&sql).into_iter().chain(has(&http)).collect();
                assert!(forbidden.is_empty(), "{name} is a pure crate but depends on {forbidden:?}");
            }
        }
    }
    // The store is below the server: it knows nothing of it.
    assert!(!internal["quell-store"].contains("quell-server"));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn sql_is_written_only_in_the_store_and_read_by_name() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    let mut positional = Vec::new();
    let mut sql_outside = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let relative = file.strip_prefix(root()).unwrap().display().to_string();
        let bytes = text.as_bytes();
        for (at, _) in text.match_indices("try_get(") {
            if bytes.get(at + 8).is_some_and(u8::is_ascii_digit) {
                positional.push(relative.clone());
            }
        }
        let in_store = relative.starts_with("crates/quell-store/");
        if !in_store
            && (text.contains("sqlx::") || text.contains("use sqlx"))
            && !relative.contains("/tests/")
            && !relative.contains("/examples/")
        {
            sql_outside.push(relative.clone());
        }
    }
    positional.dedup();
    assert!(positional.is_empty(), "positional column reads (try_get(N)) in {positional:?}");
    assert!(sql_outside.is_empty(), "sqlx used outside quell-store in {sql_outside:?}");
}

/// The `crate::a::b` modules a server file's code (not its comments) names, as module paths.
fn imports(text: &str) -> BTreeSet<String> {
    let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let text = code.as_str();
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let path: String =
            text[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
        let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        // Keep module names (lower case); stop at the first item (types, functions, constants).
        while parts.last().is_some_and(|p| p.chars().next().is_some_and(|c| c.is_ascii_uppercase())) {
            parts.pop();
        }
        if !parts.is_empty() {
            out.insert(parts.join("::"));
        }
    }
    out
}

#[test]
fn server_modules_import_no_module_that_imports_them_back() {
    let src = root().join("crates/quell-server/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // Module path of each file: api/mod.rs -> api, pages/accounts.rs -> pages::accounts.
    let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        let module = parts.join("::");
        let text = std::fs::read_to_string(file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        modules.insert(module, imports(text));
    }
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    // An import names the deepest known module on its path (crate::html::page -> html).
    let resolve = |path: &str| -> Option<String> {
        let mut parts: Vec<&str> = path.split("::").collect();
        while !parts.is_empty() {
            let candidate = parts.join("::");
            if known.contains(&candidate) {
                return Some(candidate);
            }
            parts.pop();
        }
        None
    };
    let mut cycles = Vec::new();
    for (module, used) in &modules {
        for target in used.iter().filter_map(|u| resolve(u)) {
            if &target == module || target.is_empty() || module.starts_with(&format!("{target}::")) {
                continue;
            }
            let back = modules[&target].iter().filter_map(|u| resolve(u)).any(|m| &m == module);
            if back && module < &target {
                cycles.push(format!("{module} <-> {target}"));
            }
        }
    }
    assert!(cycles.is_empty(), "server modules that import each other: {cycles:?}");
}

#[test]
fn handlers_are_short() {
    let src = root().join("crates/quell-server/src");
    let mut files = Vec::new();
    for dir in ["api", "pages"] {
        rust_files(&src.join(dir), &mut files);
    }
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) = line.strip_prefix("pub(crate) async fn ").or_else(|| line.strip_prefix("pub async fn "))
            else {
                continue;
            };
            let end = lines[i..].iter().position(|l| *l == "}").map_or(lines.len(), |p| i + p);
            let length = end - i + 1;
            if length > 60 {
                let name: String = rest.chars().take_while(|c| *c != '(' && *c != '<').collect();
                long.push(format!("{}: {name} ({length} lines)", file.strip_prefix(&src).unwrap().display()));
            }
        }
    }
    assert!(long.is_empty(), "handlers over 60 lines: {long:?}");
}
