//! The configuration file as a user writes it: values become the flags' defaults, the QUELL_*
//! environment overrides the file, flags override both, unknown tables and keys are errors with
//! their line, and `quell config check` shows every setting with its source.

use std::path::Path;
use std::process::Command;

fn quell() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quell"));
    cmd.env_remove("QUELL_CONFIG").env_remove("QUELL_RULES").env_remove("QUELL_TOKEN");
    cmd
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/jars").join(name)).expect("jar")
}

#[test]
fn file_then_environment_then_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("skip")).expect("mkdir");
    std::fs::write(tree.join("log4j-core-2.14.1.jar"), corpus("log4j-core-2.14.1.jar")).expect("write");
    std::fs::write(tree.join("skip/log4j-core-2.17.1.jar"), corpus("log4j-core-2.17.1.jar")).expect("write");
    let config = dir.path().join("quell.toml");
    std::fs::write(
        &config,
        format!(
            "# the agent's settings\n[scan]\nformat = \"json\"\nexclude = [\"*/skip\"]\nmax-depth = 4\npaths = [{:?}]\nrules = [\"/nonexistent/pack.toml\"]\n",
            tree.display()
        ),
    )
    .expect("config");
    // The file names a pack that does not exist: the scan refuses to run.
    let out = quell().arg("--config").arg(&config).arg("scan").output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/pack.toml"));
    // QUELL_RULES (the environment) overrides the file: no extra pack, and the file's other
    // settings hold: JSON, the exclude, the paths.
    let pack_dir = dir.path().join("packs");
    std::fs::create_dir_all(&pack_dir).expect("mkdir");
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../quell-packs/packs/commons-text.toml");
    std::fs::copy(builtin, pack_dir.join("commons-text.toml")).expect("copy");
    let out = quell().arg("--config").arg(&config).arg("scan").env("QUELL_RULES", &pack_dir).output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("{\"kind\":\"finding\""), "JSON from the file: {text}");
    assert!(!text.contains("skip/"), "the file's exclude applies: {text}");
    // A flag overrides both.
    let out = quell()
        .arg("--config")
        .arg(&config)
        .args(["scan", "--format", "text", "--rules"])
        .arg(&pack_dir)
        .env("QUELL_RULES", "/also/missing")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("AFFECTED"));
    // QUELL_CONFIG names the file too.
    let out = quell().arg("scan").env("QUELL_CONFIG", &config).env("QUELL_RULES", &pack_dir).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    // `config check` lists the settings and their lines, and the environment's.
    let out = quell()
        .arg("--config")
        .arg(&config)
        .args(["config", "check"])
        .env("QUELL_TOKEN", "qt_secret")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&format!("scan.format = json    ({}:3)", config.display())), "{shown}");
    assert!(shown.contains(&format!("scan.max-depth = 4    ({}:5)", config.display())), "{shown}");
    assert!(shown.contains("scan.token = (set, hidden)    (environment QUELL_TOKEN"), "{shown}");
    assert!(!shown.contains("qt_secret"), "secrets are never printed");
}

#[test]
fn unknown_tables_and_keys_are_refused_with_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("quell.toml");
    std::fs::write(
        &config,
        "[scan]\nmax-dept = 4\n\n[scann]\nformat = \"json\"\n\n[hunt]\nformat = [\"json\", \"text\"]\n",
    )
    .expect("write");
    let out = quell().arg("--config").arg(&config).args(["config", "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let shown = config.display().to_string();
    assert!(text.contains(&format!("{shown}:2: unknown key `max-dept` in [scan]")), "{text}");
    assert!(text.contains(&format!("{shown}:4: unknown table [scann]")), "{text}");
    assert!(text.contains(&format!("{shown}:8: `format` takes one value, not a list")), "{text}");
    // Any other command refuses to run on a broken file (exit 2), rather than ignoring it.
    let out = quell().arg("--config").arg(&config).args(["scan", "."]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(&config, "[scan\n").expect("write");
    let out = quell().arg("--config").arg(&config).args(["config", "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{shown}:1:")));
}

#[test]
fn the_shipped_example_configuration_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/quell.toml.example");
    let out = quell().arg("--config").arg(&example).args(["config", "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("scan.inventory = true"));
}

#[test]
fn a_file_cannot_turn_a_dry_run_into_changes_and_never_shows_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("quell.toml");
    std::fs::write(&config, "[fix]\napply = true\n").expect("write");
    let out = quell().arg("--config").arg(&config).args(["config", "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(":2: `apply` cannot be set in a configuration file"));
    std::fs::write(&config, "[scan]\ntoken = \"qt_from_file\"\n").expect("write");
    let out = quell().arg("--config").arg(&config).args(["config", "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("scan.token = (set, hidden)"), "{text}");
    assert!(!text.contains("qt_from_file"), "{text}");
}
