//! Walking: which files a scan visits.
//!
//! Policy (from the design notes): symlinks are not followed unless asked (and then loops are
//! detected by the walker); every file is scanned at most once, hard links included; pseudo file
//! systems (proc, sysfs, ...) are always skipped and network file systems unless asked;
//! `.git`, `.hg`, `.svn` and `node_modules` are skipped by default; `--exclude` globs skip the
//! rest; unreadable files and directories are reported and counted, never fatal.

use crate::hash_cache::FileStamp;
use crate::seekbuf::SeekBufReader;
use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};
use quell_model::{ScanRecord, ScanSummary};

use crate::archive::{FileScan, exploded_interest};
use crate::classify::EvidenceEntry;
use crate::{ReportSink, Reporter, ScanOptions};

/// Directory names skipped unless `--no-default-excludes` is given.
pub const DEFAULT_EXCLUDED_DIRS: &[&str] = &[".git", ".hg", ".svn", "node_modules"];

/// Pseudo file systems: never hold real files, and reading some of them hangs or has effects.
pub const PSEUDO_FILESYSTEMS: &[&str] = &[
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "debugfs",
    "tracefs",
    "securityfs",
    "bpf",
    "devpts",
    "devtmpfs",
    "mqueue",
    "pstore",
    "configfs",
    "fusectl",
    "hugetlbfs",
    "autofs",
    "binfmt_misc",
    "efivarfs",
    "rpc_pipefs",
    "nsfs",
];

/// Network file systems: skipped unless `--network` is given, since scanning them from every
/// client multiplies the load on the server.
pub const NETWORK_FILESYSTEMS: &[&str] =
    &["nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "ceph", "glusterfs", "9p", "fuse.sshfs", "fuse.rclone"];

/// How the file tree is walked.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Worker threads; 0 means one per CPU core.
    pub threads: usize,
    pub follow_symlinks: bool,
    pub one_file_system: bool,
    /// Scan network file systems too.
    pub network: bool,
    /// Glob patterns; a path matching one (as a whole or by its file name) is skipped.
    pub excludes: Vec<String>,
    /// Skip [`DEFAULT_EXCLUDED_DIRS`].
    pub default_excludes: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            threads: 0,
            follow_symlinks: false,
            one_file_system: false,
            network: false,
            excludes: Vec::new(),
            default_excludes: true,
        }
    }
}

/// Reads the mount table and returns the mount points to skip.
fn skipped_mounts(network: bool) -> HashSet<PathBuf> {
    let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return HashSet::new();
    };
    table
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split(' ').nth(4)?;
            let fs_type = right.split(' ').next()?;
            let skip = PSEUDO_FILESYSTEMS.contains(&fs_type) || (!network && NETWORK_FILESYSTEMS.contains(&fs_type));
            skip.then(|| PathBuf::from(unescape_mount(mount_point)))
        })
        .filter(|p| p != Path::new("/"))
        .collect()
}

/// Mount points in mountinfo escape space, tab, newline and backslash as `\ooo`.
fn unescape_mount(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            let value =
                (bytes[i + 1] - b'0') as u32 * 64 + (bytes[i + 2] - b'0') as u32 * 8 + (bytes[i + 3] - b'0') as u32;
            out.push(u8::try_from(value).unwrap_or(b'?'));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An error in the scan options (a bad glob); the scan cannot start.
#[derive(Debug, thiserror::Error)]
#[error("invalid --exclude pattern {pattern:?}: {source}")]
pub struct OptionsError {
    pub pattern: String,
    #[source]
    pub source: globset::Error,
}

/// Compiles the exclude globs.
pub fn compile_excludes(patterns: &[String]) -> Result<GlobSet, OptionsError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|source| OptionsError { pattern: pattern.clone(), source })?;
        builder.add(glob);
    }
    builder.build().map_err(|source| OptionsError { pattern: patterns.join(" "), source })
}

/// Scans `paths` and sends every record to `sink`, the summary last. Returns the summary.
///
/// Invalid exclude patterns are reported as an error record; use [`compile_excludes`] first to
/// reject them up front.
pub fn scan(paths: &[PathBuf], options: &ScanOptions, sink: &dyn ReportSink) -> ScanSummary {
    let started = Instant::now();
    let reporter = Reporter::new(sink);
    let excludes = match compile_excludes(&options.walk.excludes) {
        Ok(set) => set,
        Err(e) => {
            reporter.error(Vec::new(), e.to_string());
            GlobSet::empty()
        }
    };
    let skip_mounts = skipped_mounts(options.walk.network);
    let seen: Mutex<HashSet<(u64, u64)>> = Mutex::new(HashSet::new());
    let exploded: Mutex<Vec<EvidenceEntry>> = Mutex::new(Vec::new());

    let mut existing = Vec::new();
    for path in paths {
        match std::fs::symlink_metadata(path) {
            Ok(_) => existing.push(path.clone()),
            Err(e) => reporter.error(vec![path.display().to_string()], format!("cannot read: {e}")),
        }
    }
    if let Some((first, rest)) = existing.split_first() {
        let mut builder = WalkBuilder::new(first);
        for path in rest {
            builder.add(path);
        }
        let default_excludes = options.walk.default_excludes;
        let filter_excludes = excludes.clone();
        builder
            .standard_filters(false)
            .hidden(false)
            .follow_links(options.walk.follow_symlinks)
            .same_file_system(options.walk.one_file_system)
            .threads(options.walk.threads)
            .filter_entry(move |entry| {
                let path = entry.path();
                if entry.depth() > 0
                    && let Some(name) = path.file_name().and_then(|n| n.to_str())
                {
                    {
                        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                        if default_excludes && is_dir && DEFAULT_EXCLUDED_DIRS.contains(&name) {
                            return false;
                        }
                        if filter_excludes.is_match(name) {
                            return false;
                        }
                    }
                }
                !filter_excludes.is_match(path) && !skip_mounts.contains(path)
            });
        let reporter = &reporter;
        let seen = &seen;
        let exploded = &exploded;
        builder.build_parallel().run(|| {
            Box::new(move |result| {
                match result {
                    Ok(entry) => {
                        if entry.file_type().is_some_and(|t| t.is_file()) {
                            visit_file(entry.path(), options, reporter, seen, exploded);
                        }
                    }
                    Err(err) => report_walk_error(reporter, &err),
                }
                WalkState::Continue
            })
        });
    }

    let exploded = exploded.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    for copy in options.rules.classify(&exploded) {
        let root = copy.root.trim_end_matches('/').to_string();
        reporter.finding(vec![root], copy);
    }
    let summary = reporter.summary(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    sink.record(ScanRecord::Summary(summary.clone()));
    summary
}

fn report_walk_error(reporter: &Reporter, err: &ignore::Error) {
    fn path_of(err: &ignore::Error) -> Option<String> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path.display().to_string()),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => path_of(err),
            ignore::Error::Loop { child, .. } => Some(child.display().to_string()),
            _ => None,
        }
    }
    let path = path_of(err).map(|p| vec![p]).unwrap_or_default();
    reporter.error(path, err.to_string());
}

fn visit_file(
    path: &Path,
    options: &ScanOptions,
    reporter: &Reporter,
    seen: &Mutex<HashSet<(u64, u64)>>,
    exploded: &Mutex<Vec<EvidenceEntry>>,
) {
    let display = path.display().to_string();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            reporter.error(vec![display], format!("cannot open: {e}"));
            return;
        }
    };
    let metadata = match file.metadata() {
        Ok(m) => m,
        Err(e) => {
            reporter.error(vec![display], format!("cannot read metadata: {e}"));
            return;
        }
    };
    {
        let mut seen = seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !seen.insert((metadata.dev(), metadata.ino())) {
            return;
        }
    }
    reporter.files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    reporter.bytes.fetch_add(metadata.len(), std::sync::atomic::Ordering::Relaxed);

    if let Some(interest) = exploded_interest(&options.rules, &display) {
        let bytes = if interest.needs_bytes() {
            use std::io::Read;
            let mut bytes = Vec::new();
            match (&file).take(options.limits.max_evidence_bytes + 1).read_to_end(&mut bytes) {
                Ok(_) if bytes.len() as u64 <= options.limits.max_evidence_bytes => Some(bytes),
                Ok(_) => None,
                Err(e) => {
                    reporter.error(vec![display.clone()], format!("cannot read: {e}"));
                    None
                }
            }
        } else {
            None
        };
        exploded.lock().unwrap_or_else(|p| p.into_inner()).push(EvidenceEntry { name: display, bytes });
        return;
    }
    if metadata.len() < 22 {
        return; // smaller than the smallest zip or compressed archive
    }
    let mut scan = FileScan::new(&options.limits, &options.rules, options.inventory, reporter);
    if let Some(cache) = options.hash_cache.as_deref().filter(|_| options.inventory) {
        scan = scan.with_hash_cache(cache.for_file(&display, FileStamp::of(&metadata)));
    }
    let file = match SeekBufReader::new(file) {
        Ok(file) => file,
        Err(e) => {
            reporter.error(vec![display], format!("cannot read: {e}"));
            return;
        }
    };
    match scan.scan_top(file, &display) {
        Some(abort) => reporter.error(vec![display], abort.0),
        // Kept for the next scan only if the file did not change while it was read.
        None => scan.commit_hashes(std::fs::metadata(path).ok().map(|m| FileStamp::of(&m))),
    }
    reporter.sink.file_scanned(path, metadata.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape_mount("/mnt/my\\040share"), "/mnt/my share");
        assert_eq!(unescape_mount("/plain"), "/plain");
    }

    #[test]
    fn bad_globs_are_rejected() {
        assert!(compile_excludes(&["[".to_string()]).is_err());
        assert!(compile_excludes(&["*.bak".to_string()]).is_ok());
    }
}
