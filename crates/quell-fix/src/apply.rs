//! Running a fix: scan, plan, and (with `apply`) write safely, verify, back up, rename; and the
//! restore that undoes it.
//!
//! The write sequence for one file, each step of which may fail and leave the original untouched:
//! 1. create a temporary file in the same directory (so the final rename never crosses a file
//!    system), write the rewritten archive into it;
//! 2. give it the original's owner, mode and timestamps; fsync it;
//! 3. re-scan it with `quell_scan`: the fixed copies must read `mitigated`, everything else as
//!    before;
//! 4. copy the original into the backup directory (fsynced, hash verified) and append a manifest
//!    line (fsynced);
//! 5. check the original did not change meanwhile, rename the temporary file over it, fsync the
//!    directory.

use std::collections::BTreeMap;
use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quell_model::{CveStatus, Finding, ScanRecord};
use quell_scan::{ReportSink, ScanOptions};
use sha2::{Digest, Sha256};

use crate::FixError;
use crate::plan::{self, Plan, PlannedCopy, needing_upgrade, removal_helps, upgrade_target};
use crate::record::*;

/// Default backup directory for root; see [`default_backup_dir`].
pub const ROOT_BACKUP_DIR: &str = "/var/backups/quell";
/// The manifest file in the backup directory: one JSON [`ManifestEntry`] per line.
pub const MANIFEST_FILE: &str = "manifest.jsonl";
/// The directory under the backup directory that holds the original files.
pub const BACKUP_OBJECTS_DIR: &str = "objects";

/// A step at which a test can make the write fail, to show that the original survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// After the temporary file is created, before anything is written to it.
    BeforeWrite,
    /// Half-way through writing the temporary file.
    MidWrite,
    /// After writing, verifying and backing up, just before the rename.
    BeforeRename,
}

/// What a fix does and where it keeps its backups.
#[derive(Debug, Clone)]
pub struct FixOptions {
    /// Write the changes; without it, only plan and report.
    pub apply: bool,
    /// Remove the signature files of signed archives that would change, instead of refusing them.
    pub strip_signatures: bool,
    /// Where originals and the manifest are kept.
    pub backup_dir: PathBuf,
    /// How the paths are walked and scanned (before planning and for the re-scan).
    pub scan: ScanOptions,
    /// Test hook: fail at this step of every write.
    #[doc(hidden)]
    pub fault: Option<FaultPoint>,
}

impl Default for FixOptions {
    fn default() -> Self {
        FixOptions {
            apply: false,
            strip_signatures: false,
            backup_dir: default_backup_dir(),
            scan: ScanOptions::default(),
            fault: None,
        }
    }
}

/// `/var/backups/quell` for root; otherwise `$XDG_STATE_HOME/quell/backups`, falling back to
/// `~/.local/state/quell/backups`.
pub fn default_backup_dir() -> PathBuf {
    let is_root = fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
    if is_root {
        return PathBuf::from(ROOT_BACKUP_DIR);
    }
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return PathBuf::from(state).join("quell/backups");
    }
    match std::env::var_os("HOME").filter(|s| !s.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/state/quell/backups"),
        None => PathBuf::from(ROOT_BACKUP_DIR),
    }
}

#[derive(Default)]
struct Collect(Mutex<Vec<ScanRecord>>);

impl ReportSink for Collect {
    fn record(&self, record: ScanRecord) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(record);
    }
}

fn scan(paths: &[PathBuf], options: &ScanOptions) -> (Vec<Finding>, Vec<(Vec<String>, String)>) {
    let sink = Collect::default();
    quell_scan::scan(paths, options, &sink);
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for record in sink.0.into_inner().unwrap_or_else(|p| p.into_inner()) {
        match record {
            ScanRecord::Finding(f) => findings.push(f),
            ScanRecord::Error(e) => errors.push((e.path, e.message)),
            ScanRecord::Summary(_) | ScanRecord::Component(_) => {}
        }
    }
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    (findings, errors)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file, hex.
pub(crate) fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn needs_upgrade(f: &Finding) -> bool {
    !needing_upgrade(&f.component, &f.cves).is_empty()
}

fn is_target(f: &Finding) -> bool {
    removal_helps(&f.component, &f.cves)
}

fn copy_of_finding(f: &Finding) -> CopyAction {
    let needs_upgrade = needing_upgrade(&f.component, &f.cves);
    CopyAction {
        path: f.path.clone(),
        version: f.version.clone(),
        version_range: f.version_range.clone(),
        removed: Vec::new(),
        mitigates: Vec::new(),
        upgrade_to: upgrade_target(&f.component, &needs_upgrade),
        needs_upgrade,
        verified: None,
    }
}

fn copy_of_plan(p: &PlannedCopy) -> CopyAction {
    CopyAction {
        path: p.chain.clone(),
        version: p.version.clone(),
        version_range: p.version_range.clone(),
        removed: p.removed.clone(),
        mitigates: p.mitigates.clone(),
        needs_upgrade: p.needs_upgrade.clone(),
        upgrade_to: upgrade_target(&p.component, &p.needs_upgrade),
        verified: None,
    }
}

fn action(path: &str, status: ActionStatus, copies: Vec<CopyAction>, reason: Option<String>) -> FileAction {
    FileAction {
        path: path.to_string(),
        status,
        copies,
        signature_files_removed: Vec::new(),
        reason,
        sha256_before: None,
        sha256_after: None,
        backup: None,
    }
}

/// Finds, plans and (with [`FixOptions::apply`]) fixes every affected copy under `paths`. Each
/// record is handed to `emit` as it is produced; the summary is returned and emitted last.
pub fn fix(paths: &[PathBuf], options: &FixOptions, emit: &mut dyn FnMut(FixRecord)) -> FixSummary {
    let mut summary = FixSummary { applied: options.apply, ..FixSummary::default() };
    // The backups are the vulnerable originals: never plan (or count) them as copies to fix.
    let mut scan_options = options.scan.clone();
    let backups = options.backup_dir.display().to_string();
    if !backups.contains(['*', '?', '[', ']', '{', '}']) {
        scan_options.walk.excludes.push(format!("{}/**", backups.trim_end_matches('/')));
    }
    let (findings, errors) = scan(paths, &scan_options);
    for (path, message) in &errors {
        summary.errors += 1;
        emit(FixRecord::Error { path: path.clone(), message: message.clone() });
    }
    summary.copies_needing_upgrade = findings.iter().filter(|f| needs_upgrade(f)).count() as u64;
    let mut by_file: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for f in &findings {
        if let Some(top) = f.path.first() {
            by_file.entry(top.clone()).or_default().push(f.clone());
        }
    }
    for (display, file_findings) in by_file {
        let targets: Vec<&Finding> = file_findings.iter().filter(|f| is_target(f)).collect();
        if targets.is_empty() {
            continue;
        }
        let path = PathBuf::from(&display);
        if path.is_dir() {
            let copies = targets.iter().map(|f| copy_of_finding(f)).collect();
            summary.files_unfixable += 1;
            summary.copies_still_affected += targets.len() as u64;
            let reason = "exploded class directory: delete the copy's lookup/JndiLookup.class by hand, or upgrade";
            emit(FixRecord::Action(action(&display, ActionStatus::Unfixable, copies, Some(reason.to_string()))));
            continue;
        }
        let plan = match File::open(&path) {
            Ok(file) => plan::plan_file(&mut BufReader::new(file), &display, options.strip_signatures),
            Err(e) => Plan { problems: vec![(vec![display.clone()], format!("cannot open: {e}"))], ..Plan::default() },
        };
        // Every affected copy the scanner found must be one the plan fixes; the rest are reported.
        let mut unmatched = Vec::new();
        let mut used = vec![false; plan.copies.len()];
        for f in &targets {
            let hit = plan.copies.iter().enumerate().position(|(i, p)| {
                !used[i] && p.chain == f.path && p.version == f.version && p.version_range == f.version_range
            });
            match hit {
                Some(i) => used[i] = true,
                None => unmatched.push(*f),
            }
        }
        if !unmatched.is_empty() {
            let reasons: Vec<String> = plan
                .problems
                .iter()
                .filter(|(chain, _)| unmatched.iter().any(|f| f.path.starts_with(chain)))
                .map(|(chain, m)| format!("{}: {m}", chain.join("!/")))
                .collect();
            let reason = if reasons.is_empty() {
                "not inside a zip archive quell can rewrite (tar or compressed stream, or a copy known from metadata \
                 only): upgrade, or remove JndiLookup.class by hand"
                    .to_string()
            } else {
                reasons.join("; ")
            };
            summary.files_unfixable += 1;
            summary.copies_still_affected += unmatched.len() as u64;
            let copies = unmatched.iter().map(|f| copy_of_finding(f)).collect();
            emit(FixRecord::Action(action(&display, ActionStatus::Unfixable, copies, Some(reason))));
        }
        if plan.root.is_none() {
            continue;
        }
        let mut copies: Vec<CopyAction> = plan.copies.iter().map(copy_of_plan).collect();
        let planned = plan.copies.len() as u64;
        if !plan.signed.is_empty() {
            let which: Vec<String> =
                plan.signed.iter().map(|(chain, sf)| format!("{}!/{sf}", chain.join("!/"))).collect();
            let reason = format!(
                "signed archive ({}): removing a class invalidates the signature and the JVM would reject the \
                 jar; upgrade, re-sign after fixing, or pass --strip-signatures to drop the signature files \
                 (the jar then loads as unsigned)",
                which.join(", ")
            );
            summary.files_refused += 1;
            summary.copies_still_affected += planned;
            emit(FixRecord::Action(action(&display, ActionStatus::Refused, copies, Some(reason))));
            continue;
        }
        let mut record = action(&display, ActionStatus::Planned, Vec::new(), None);
        record.signature_files_removed = plan.stripped.clone();
        if !options.apply {
            summary.files_changed += 1;
            summary.copies_fixed += planned;
            summary.copies_still_affected += planned;
            record.copies = copies;
            emit(FixRecord::Action(record));
            continue;
        }
        let file_errors: Vec<(Vec<String>, String)> =
            errors.iter().filter(|(p, _)| p.first() == Some(&display)).cloned().collect();
        match apply_file(&path, &display, &plan, &file_findings, &file_errors, options) {
            Ok(done) => {
                summary.files_changed += 1;
                summary.copies_fixed += planned;
                for copy in &mut copies {
                    copy.verified = Some(true);
                }
                record.status = ActionStatus::Fixed;
                record.sha256_before = Some(done.sha256_before);
                record.sha256_after = Some(done.sha256_after);
                record.backup = Some(done.backup.display().to_string());
            }
            Err(e) => {
                summary.files_failed += 1;
                summary.copies_still_affected += planned;
                record.status = ActionStatus::Failed;
                record.reason = Some(format!("{e}; the original is untouched"));
            }
        }
        record.copies = copies;
        emit(FixRecord::Action(record));
    }
    emit(FixRecord::Summary(summary.clone()));
    summary
}

struct Done {
    sha256_before: String,
    sha256_after: String,
    backup: PathBuf,
}

fn fault(options: &FixOptions, at: FaultPoint) -> Result<(), FixError> {
    if options.fault == Some(at) { Err(FixError::Injected(at)) } else { Ok(()) }
}

/// A writer that fails once `remaining` bytes have been written (the mid-write test hook).
struct FailAfter<W> {
    inner: W,
    remaining: u64,
}

impl<W: Write> Write for FailAfter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Err(io::Error::other("injected failure at MidWrite (test hook)"));
        }
        let n = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.write(&buf[..n])?;
        self.remaining -= n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn times_of(meta: &fs::Metadata) -> io::Result<FileTimes> {
    Ok(FileTimes::new().set_accessed(meta.accessed()?).set_modified(meta.modified()?))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn temp_in(dir: &Path, name: &str) -> io::Result<tempfile::NamedTempFile> {
    // Keep the file name (and so its extension) at the end: the re-scan recognises it as before.
    tempfile::Builder::new().prefix(".quell-").suffix(&format!(".{name}")).tempfile_in(dir)
}

fn apply_file(
    path: &Path,
    display: &str,
    plan: &Plan,
    originals: &[Finding],
    original_errors: &[(Vec<String>, String)],
    options: &FixOptions,
) -> Result<Done, FixError> {
    let (layout, node) = plan.root.as_ref().ok_or_else(|| FixError::Refused("nothing to change".into()))?;
    let real = fs::canonicalize(path)?;
    let meta = fs::metadata(&real)?;
    if !meta.is_file() {
        return Err(FixError::Refused(format!("{} is not a regular file", real.display())));
    }
    if meta.nlink() > 1 {
        // The rename replaces one name only: the other hard links would keep the vulnerable bytes.
        return Err(FixError::Refused(format!(
            "{} has {} hard links; the fix would replace only this one: break the links (cp) and run again",
            real.display(),
            meta.nlink()
        )));
    }
    let dir = real.parent().ok_or_else(|| FixError::Refused("no parent directory".into()))?;
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let sha256_before = sha256_file(&real)?;
    let mut temp = temp_in(dir, &name)?;
    fault(options, FaultPoint::BeforeWrite)?;
    {
        let mut source = BufReader::new(File::open(&real)?);
        let remaining = if options.fault == Some(FaultPoint::MidWrite) { meta.len() / 2 } else { u64::MAX };
        let mut out = FailAfter { inner: BufWriter::new(temp.as_file_mut()), remaining };
        plan::write_node(&mut source, layout, node, &mut out)?;
        out.flush()?;
    }
    let file = temp.as_file();
    std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))?;
    file.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    file.set_times(times_of(&meta)?)?;
    file.sync_all()?;
    let sha256_after = sha256_file(temp.path())?;
    verify(temp.path(), display, originals, original_errors, plan, &options.scan)?;
    let backup = back_up(&options.backup_dir, &real, &meta, &sha256_before, &sha256_after, plan)?;
    let now = fs::metadata(&real)?;
    if now.len() != meta.len()
        || now.mtime() != meta.mtime()
        || now.mtime_nsec() != meta.mtime_nsec()
        || now.ino() != meta.ino()
    {
        return Err(FixError::Verification(format!("{} changed while it was being fixed", real.display())));
    }
    fault(options, FaultPoint::BeforeRename)?;
    temp.persist(&real).map_err(|e| FixError::Io(e.error))?;
    sync_dir(dir)?;
    Ok(Done { sha256_before, sha256_after, backup })
}

/// Re-scans the written file and compares with the scan of the original: the planned copies must
/// now be mitigated, and nothing else may differ.
fn verify(
    temp: &Path,
    display: &str,
    originals: &[Finding],
    original_errors: &[(Vec<String>, String)],
    plan: &Plan,
    scan_options: &ScanOptions,
) -> Result<(), FixError> {
    let (mut findings, errors) = scan(&[temp.to_path_buf()], scan_options);
    for f in &mut findings {
        if let Some(top) = f.path.first_mut() {
            *top = display.to_string();
        }
    }
    let group = |list: &[Finding]| {
        let mut map: BTreeMap<Vec<String>, Vec<Finding>> = BTreeMap::new();
        for f in list {
            map.entry(f.path.clone()).or_default().push(f.clone());
        }
        map
    };
    let before = group(originals);
    let after = group(&findings);
    let keys: std::collections::BTreeSet<&Vec<String>> = before.keys().chain(after.keys()).collect();
    let affected = |list: &[Finding]| list.iter().filter(|f| is_target(f)).count();
    for chain in keys {
        let at = chain.join("!/");
        let old = before.get(chain).map(Vec::as_slice).unwrap_or_default();
        let new = after.get(chain).map(Vec::as_slice).unwrap_or_default();
        if old.len() != new.len() {
            return Err(FixError::Verification(format!(
                "re-scan found {} copies at {at}, the original had {}",
                new.len(),
                old.len()
            )));
        }
        let fixed = plan.copies.iter().filter(|p| &p.chain == chain).count();
        if fixed == 0 {
            if old != new {
                return Err(FixError::Verification(format!("a copy that was not to be touched changed at {at}")));
            }
            continue;
        }
        // Copies with a CVE that a removable class neutralises reading `mitigated`.
        let mitigated = |list: &[Finding]| {
            list.iter()
                .filter(|f| {
                    plan::removable_cves(&f.component).iter().any(|cve| f.status(cve) == Some(CveStatus::Mitigated))
                })
                .count()
        };
        if affected(new) + fixed != affected(old) || mitigated(new) < mitigated(old) + fixed {
            return Err(FixError::Verification(format!("the copy at {at} does not read as mitigated after the fix")));
        }
    }
    // Errors the original scan did not report (the original's own, such as duplicate names,
    // come back on every scan).
    let tail = |p: &[String]| p.get(1..).unwrap_or_default().to_vec();
    let unexpected: Vec<String> = errors
        .iter()
        .filter(|(p, m)| !original_errors.iter().any(|(op, om)| tail(op) == tail(p) && om == m))
        .map(|(p, m)| format!("{}: {m}", tail(p).join("!/")))
        .collect();
    if !unexpected.is_empty() {
        return Err(FixError::Verification(format!("re-scan reported new errors: {unexpected:?}")));
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

/// Copies the original into the backup directory (unless an identical backup is there) and
/// appends a manifest line. Everything is fsynced before the original may be replaced.
fn back_up(
    backup_dir: &Path,
    real: &Path,
    meta: &fs::Metadata,
    sha256: &str,
    fixed_sha256: &str,
    plan: &Plan,
) -> Result<PathBuf, FixError> {
    let objects = backup_dir.join(BACKUP_OBJECTS_DIR);
    create_private_dir(&objects)?;
    let base = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let relative = format!("{BACKUP_OBJECTS_DIR}/{sha256}-{base}");
    let target = backup_dir.join(&relative);
    if sha256_file(&target).ok().as_deref() != Some(sha256) {
        let mut temp = temp_in(&objects, &base)?;
        io::copy(&mut File::open(real)?, temp.as_file_mut())?;
        temp.as_file().sync_all()?;
        if sha256_file(temp.path())? != sha256 {
            return Err(FixError::Verification(format!("{} changed while it was being backed up", real.display())));
        }
        temp.persist(&target).map_err(|e| FixError::Io(e.error))?;
        sync_dir(&objects)?;
    }
    let entry = ManifestEntry {
        original_path: real.display().to_string(),
        sha256: sha256.to_string(),
        backup: relative,
        fixed_sha256: fixed_sha256.to_string(),
        size: meta.len(),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        mtime: meta.mtime(),
        mtime_nsec: meta.mtime_nsec(),
        fixed_at: now_secs(),
        copies: plan.copies.iter().map(|c| c.chain.clone()).collect(),
    };
    let line = serde_json::to_string(&entry).map_err(|e| FixError::Io(io::Error::other(e)))? + "\n";
    let mut manifest = OpenOptions::new().create(true).append(true).mode(0o600).open(backup_dir.join(MANIFEST_FILE))?;
    manifest.write_all(line.as_bytes())?;
    manifest.sync_all()?;
    sync_dir(backup_dir)?;
    Ok(target)
}

/// Reads the manifest of a backup directory.
pub(crate) fn read_manifest(backup_dir: &Path) -> Result<Vec<ManifestEntry>, FixError> {
    let text = fs::read_to_string(backup_dir.join(MANIFEST_FILE))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| FixError::CorruptZip(format!("manifest line is not valid: {e}"))))
        .collect()
}

/// Puts back the originals recorded in the manifest of `backup_dir`, newest record first, one
/// per file. A file that changed since the fix (not the bytes the fix wrote) is left alone. Each
/// restored file's hash is verified. Returns an error only when the manifest cannot be read.
pub fn restore(backup_dir: &Path, emit: &mut dyn FnMut(RestoreRecord)) -> Result<Vec<RestoreRecord>, FixError> {
    let entries = read_manifest(backup_dir)?;
    let mut seen = std::collections::HashSet::new();
    let mut records = Vec::new();
    for entry in entries.iter().rev() {
        if !seen.insert(entry.original_path.clone()) {
            continue;
        }
        let (status, message) = match restore_one(backup_dir, entry) {
            Ok(status) => (status, None),
            Err(e) => (RestoreStatus::Failed, Some(e.to_string())),
        };
        let message = message.or_else(|| {
            (status == RestoreStatus::ChangedSinceFix)
                .then(|| "the file changed after the fix (upgraded?); not overwritten".to_string())
        });
        let record = RestoreRecord {
            kind: "restore".into(),
            path: entry.original_path.clone(),
            status,
            sha256: entry.sha256.clone(),
            message,
        };
        emit(record.clone());
        records.push(record);
    }
    Ok(records)
}

fn restore_one(backup_dir: &Path, entry: &ManifestEntry) -> Result<RestoreStatus, FixError> {
    let backup = backup_dir.join(&entry.backup);
    if sha256_file(&backup)? != entry.sha256 {
        return Err(FixError::Verification(format!("backup {} does not match its recorded hash", backup.display())));
    }
    let target = PathBuf::from(&entry.original_path);
    if let Ok(current) = sha256_file(&target) {
        if current == entry.sha256 {
            return Ok(RestoreStatus::AlreadyOriginal);
        }
        if current != entry.fixed_sha256 {
            return Ok(RestoreStatus::ChangedSinceFix);
        }
    }
    let dir = target.parent().ok_or_else(|| FixError::Refused("no parent directory".into()))?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut temp = temp_in(dir, &name)?;
    io::copy(&mut File::open(&backup)?, temp.as_file_mut())?;
    let file = temp.as_file();
    std::os::unix::fs::fchown(file, Some(entry.uid), Some(entry.gid))?;
    file.set_permissions(fs::Permissions::from_mode(entry.mode))?;
    let mtime = UNIX_EPOCH
        + Duration::from_secs(u64::try_from(entry.mtime).unwrap_or(0))
        + Duration::from_nanos(u64::try_from(entry.mtime_nsec).unwrap_or(0));
    file.set_times(FileTimes::new().set_modified(mtime))?;
    file.sync_all()?;
    temp.persist(&target).map_err(|e| FixError::Io(e.error))?;
    sync_dir(dir)?;
    if sha256_file(&target)? != entry.sha256 {
        return Err(FixError::Verification(format!(
            "{} does not match the original hash after restore",
            target.display()
        )));
    }
    Ok(RestoreStatus::Restored)
}
