//! The inventory's hash cache: the SHA-1 and SHA-256 of archives from an earlier scan, reused
//! while the file on disk is unchanged (`quell scan --inventory --hash-cache FILE`).
//!
//! Why: hashing every Java archive's bytes, nested ones included, is nearly all that
//! `--inventory` costs (docs/performance.md), and a host scanned every day holds mostly the same
//! jars as the day before. As git's index does, a file counts as unchanged when its device, inode,
//! size, modification time and status-change time all equal the recorded ones; the status-change
//! time (ctime) is set by the kernel on every write or `utime` and no unprivileged process can set
//! it back. A nested archive is keyed by its entry chain below the top-level file and is valid
//! only together with that file's stamp.
//!
//! Invariants:
//! - An entry is kept only when the file's stamp was the same before and after the file was read,
//!   so a file written while it was scanned is hashed again next time.
//! - The cache file is written whole to a temporary file beside it (mode 0600) and renamed over
//!   it: a scan killed mid-write leaves the old cache or the new one, never a torn one.
//! - A cache file that is unreadable, malformed, larger than [`MAX_HASH_CACHE_BYTES`], not owned
//!   by the user running the scan, or writable by others is not used; the warning says why, and
//!   every hash is computed.
//! - Only the files seen by this scan are written back, so the cache never outgrows the tree.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use quell_model::Hashes;
use serde::{Deserialize, Serialize};

/// Largest cache file read (bytes). About 200 bytes an archive: a million archives fit.
pub const MAX_HASH_CACHE_BYTES: u64 = 512 << 20;

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

impl FileStamp {
    pub fn of(metadata: &std::fs::Metadata) -> FileStamp {
        let ns = |secs: i64, nsec: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsec);
        FileStamp {
            dev: metadata.dev(),
            ino: metadata.ino(),
            size: metadata.len(),
            mtime_ns: ns(metadata.mtime(), metadata.mtime_nsec()),
            ctime_ns: ns(metadata.ctime(), metadata.ctime_nsec()),
        }
    }
}

/// One archive's hashes: `chain` is the entry path below the top-level file (empty for the file
/// itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedArchive {
    chain: Vec<String>,
    sha1: String,
    sha256: String,
}

/// A line of the cache file: one top-level file.
#[derive(Debug, Serialize, Deserialize)]
struct CachedFile {
    path: String,
    stamp: FileStamp,
    archives: Vec<CachedArchive>,
}

/// The cache of one scan: what the file held when the scan began, and what this scan found.
#[derive(Debug)]
pub struct HashCache {
    file: PathBuf,
    previous: HashMap<String, (FileStamp, HashMap<Vec<String>, Hashes>)>,
    next: Mutex<Vec<CachedFile>>,
    hits: AtomicU64,
}

impl HashCache {
    /// Opens the cache at `file`. A missing file is an empty cache; one that cannot be used is an
    /// empty cache and a warning (see the module's invariants).
    pub fn open(file: &Path) -> (HashCache, Option<String>) {
        let mut cache = HashCache {
            file: file.to_path_buf(),
            previous: HashMap::new(),
            next: Mutex::new(Vec::new()),
            hits: AtomicU64::new(0),
        };
        let warning = match cache.load() {
            Ok(()) => None,
            Err(reason) => {
                cache.previous.clear();
                Some(format!("hash cache {}: {reason}; every archive is hashed again", file.display()))
            }
        };
        (cache, warning)
    }

    fn load(&mut self) -> Result<(), String> {
        let opened = match std::fs::File::open(&self.file) {
            Ok(opened) => opened,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        let metadata = opened.metadata().map_err(|e| e.to_string())?;
        if metadata.uid() != rustix::process::geteuid().as_raw() {
            return Err(format!("owned by user {}, not by the user running the scan", metadata.uid()));
        }
        if metadata.permissions().mode() & 0o022 != 0 {
            return Err("writable by other users".into());
        }
        if metadata.len() > MAX_HASH_CACHE_BYTES {
            return Err(format!("larger than {MAX_HASH_CACHE_BYTES} bytes"));
        }
        let reader = io::BufReader::new(opened);
        for (number, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| format!("line {}: {e}", number + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let file: CachedFile = serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", number + 1))?;
            let archives =
                file.archives.into_iter().map(|a| (a.chain, Hashes { sha1: a.sha1, sha256: a.sha256 })).collect();
            self.previous.insert(file.path, (file.stamp, archives));
        }
        Ok(())
    }

    /// The cache's view of one top-level file, `stamp` taken before it is read.
    pub(crate) fn for_file(&self, path: &str, stamp: FileStamp) -> FileHashes<'_> {
        let previous = self.previous.get(path).filter(|(recorded, _)| *recorded == stamp).map(|(_, archives)| archives);
        FileHashes { cache: self, path: path.to_string(), stamp, previous, found: Mutex::new(Vec::new()) }
    }

    /// How many archives' hashes came from the cache in this scan.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Writes what this scan found: whole, to a temporary file beside the cache, renamed over it.
    pub fn save(&self) -> io::Result<()> {
        let dir = match self.file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut files = std::mem::take(&mut *self.next.lock().unwrap_or_else(|p| p.into_inner()));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut temporary = tempfile::Builder::new()
            .prefix(".quell-hash-cache")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(&dir)?;
        {
            let mut out = io::BufWriter::new(temporary.as_file_mut());
            for file in &files {
                serde_json::to_writer(&mut out, file)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        temporary.as_file().sync_all()?;
        temporary.persist(&self.file).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The hashes of the archives in one top-level file: those recorded for it when its stamp is
/// unchanged, and those this scan computes.
pub(crate) struct FileHashes<'a> {
    cache: &'a HashCache,
    path: String,
    stamp: FileStamp,
    previous: Option<&'a HashMap<Vec<String>, Hashes>>,
    found: Mutex<Vec<CachedArchive>>,
}

impl FileHashes<'_> {
    /// The recorded hashes of the archive at `chain` below the file, if the file is unchanged.
    pub(crate) fn get(&self, chain: &[String]) -> Option<Hashes> {
        let hashes = self.previous?.get(chain)?.clone();
        self.cache.hits.fetch_add(1, Ordering::Relaxed);
        Some(hashes)
    }

    /// Records the hashes of the archive at `chain` (found in the cache or computed).
    pub(crate) fn put(&self, chain: &[String], hashes: &Hashes) {
        self.found.lock().unwrap_or_else(|p| p.into_inner()).push(CachedArchive {
            chain: chain.to_vec(),
            sha1: hashes.sha1.clone(),
            sha256: hashes.sha256.clone(),
        });
    }

    /// Keeps what was found for the next scan, if the file's stamp after reading it (`after`) is
    /// the one taken before.
    pub(crate) fn commit(self, after: Option<FileStamp>) {
        if after != Some(self.stamp) {
            return;
        }
        let archives = self.found.into_inner().unwrap_or_else(|p| p.into_inner());
        if archives.is_empty() {
            return;
        }
        let file = CachedFile { path: self.path, stamp: self.stamp, archives };
        self.cache.next.lock().unwrap_or_else(|p| p.into_inner()).push(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(tag: &str) -> Hashes {
        Hashes { sha1: format!("{tag}-1"), sha256: format!("{tag}-256") }
    }

    fn stamp(size: u64) -> FileStamp {
        FileStamp { dev: 1, ino: 2, size, mtime_ns: 3, ctime_ns: 4 }
    }

    #[test]
    fn round_trips_and_uses_only_unchanged_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("hashes.jsonl");
        let (cache, warning) = HashCache::open(&file);
        assert!(warning.is_none());
        let view = cache.for_file("/srv/app.war", stamp(10));
        assert!(view.get(&[]).is_none());
        view.put(&[], &hashes("war"));
        view.put(&["WEB-INF/lib/a.jar".to_string()], &hashes("a"));
        view.commit(Some(stamp(10)));
        // Changed while it was read: not kept.
        let view = cache.for_file("/srv/other.jar", stamp(5));
        view.put(&[], &hashes("other"));
        view.commit(Some(stamp(6)));
        cache.save().expect("save");
        assert_eq!(std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777, 0o600);

        let (cache, warning) = HashCache::open(&file);
        assert!(warning.is_none());
        let view = cache.for_file("/srv/app.war", stamp(10));
        assert_eq!(view.get(&["WEB-INF/lib/a.jar".to_string()]), Some(hashes("a")));
        assert_eq!(view.get(&[]), Some(hashes("war")));
        assert_eq!(cache.hits(), 2);
        assert!(cache.for_file("/srv/app.war", stamp(11)).get(&[]).is_none(), "another stamp");
        assert!(cache.for_file("/srv/other.jar", stamp(5)).get(&[]).is_none(), "changed while read");
    }

    #[test]
    fn an_unusable_cache_is_a_warning_and_an_empty_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("hashes.jsonl");
        std::fs::write(&file, "{\"path\":\"/x\"}\n").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let (cache, warning) = HashCache::open(&file);
        assert!(warning.expect("warning").contains("line 1"));
        assert!(cache.previous.is_empty());
        std::fs::write(&file, "").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let (_, warning) = HashCache::open(&file);
        assert!(warning.expect("warning").contains("writable by other users"));
    }
}
