//! The archive reader: opens one top-level file and every archive nested inside it, hands the
//! interesting entries of each container to the classifier, and reports what it finds.
//!
//! Invariants:
//! - Only what classification needs is read: the central directory of a zip, the few evidence
//!   entries named by [`quell_packs::Rules::interest`], and nested archives. Unrelated entries are
//!   never inflated (tar streams are read past, as the format requires).
//! - Every byte inflated counts against one budget per top-level file, and nesting depth, entry
//!   counts and wall-clock time are bounded ([`crate::Limits`]). Hitting a limit is an error record.
//! - Nested archives larger than [`crate::Limits::in_memory_archive_bytes`] are spilled to an
//!   anonymous temporary file, so memory use does not grow with the input.
//! - One bad entry or archive is reported and the scan of the rest goes on.

use crate::seekbuf::SeekBufReader;
use std::cell::Cell;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::time::Instant;

use quell_io::{Compression, read_up_to};

use crate::classify::{EvidenceEntry, Interest};
use crate::{Limits, Reporter};
use quell_packs::Rules;

/// Bytes read from the start of a file or entry to recognise its format.
const HEAD_LEN: usize = 512;

/// File name extensions of the zip family (checked case-insensitively). A file with one of these
/// that is not a readable zip is reported as corrupt; other files are recognised by content only.
pub const ZIP_EXTENSIONS: &[&str] =
    &["jar", "war", "ear", "zip", "aar", "jmod", "sar", "par", "rar", "nar", "kar", "hpi", "jpi", "apk"];
/// Extensions of nested entries that are opened as possible archives (besides the zip family).
const STREAM_EXTENSIONS: &[&str] = &["tar", "tgz", "gz", "tbz", "tbz2", "bz2", "txz", "xz", "zst", "tzst"];
/// Extensions of nested entries known not to be archives: these are never inflated to be sniffed.
const NOT_ARCHIVE_EXTENSIONS: &[&str] = &[
    "class",
    "esclazz",
    "classdata",
    "java",
    "kt",
    "scala",
    "groovy",
    "properties",
    "xml",
    "xsd",
    "dtd",
    "xsl",
    "xslt",
    "html",
    "htm",
    "txt",
    "md",
    "mf",
    "sf",
    "rsa",
    "dsa",
    "ec",
    "png",
    "gif",
    "jpg",
    "jpeg",
    "svg",
    "ico",
    "bmp",
    "css",
    "js",
    "map",
    "json",
    "yml",
    "yaml",
    "toml",
    "ini",
    "kotlin_module",
    "tld",
    "jsp",
    "vm",
    "ftl",
    "sql",
    "csv",
    "list",
    "idx",
    "so",
    "dll",
    "dylib",
    "jnilib",
    "ttf",
    "woff",
    "woff2",
    "eot",
    "pom",
    "conf",
    "cfg",
    "sh",
    "bat",
    "cmd",
    "py",
    "rb",
    "proto",
    "handlers",
    "schemas",
    "factories",
    "imports",
    "license",
    "notice",
    "mp3",
    "wav",
];

/// How a file or entry will be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Starts with a zip signature.
    Zip,
    /// May be a zip behind prepended data (launcher script, jmod header) or renamed: try the end
    /// of central directory record; `expected` says whether failure is worth an error record.
    MaybeZip {
        expected: bool,
    },
    Compressed(Compression),
    Tar,
    Other,
}

/// The extension of the last path segment, as written (compare with [`in_list`]). Allocates
/// nothing: it runs for every entry of every archive.
fn extension(name: &str) -> Option<&str> {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rsplit_once('.').map(|(_, ext)| ext).filter(|e| !e.is_empty())
}

/// Whether `ext` is in `list` (lower-case), ignoring ASCII case.
fn in_list(ext: &str, list: &[&str]) -> bool {
    list.iter().any(|known| known.eq_ignore_ascii_case(ext))
}

fn has_zip_extension(name: &str) -> bool {
    extension(name).is_some_and(|ext| in_list(ext, ZIP_EXTENSIONS))
}

fn is_tar_header(head: &[u8]) -> bool {
    head.len() >= 263 && &head[257..262] == b"ustar"
}

fn detect(head: &[u8], name: &str) -> Format {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") || head.starts_with(b"PK\x07\x08") {
        return Format::Zip;
    }
    let compression = Compression::sniff(head);
    if compression != Compression::None {
        return Format::Compressed(compression);
    }
    if is_tar_header(head) {
        return Format::Tar;
    }
    let expected = has_zip_extension(name);
    // Prepended data we know of: launcher scripts, jmod's "JM\1\0" header, Windows executables.
    if expected || head.starts_with(b"#!") || head.starts_with(b"JM\x01\x00") || head.starts_with(b"MZ") {
        return Format::MaybeZip { expected };
    }
    Format::Other
}

/// What a nested entry's name says about opening it as an archive. The scanner and the fixer
/// (`quell-fix`) judge names by this one rule, so the fixer looks inside every nested archive the
/// scanner reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedHint {
    /// A zip-family extension (`jar`, `war`, ... [`ZIP_EXTENSIONS`]): open it as a zip.
    Zip,
    /// A tar or compressed-stream extension (`tar`, `tgz`, `gz`, `xz`, `zst`, ...).
    Stream,
    /// Unknown or no extension: read its first bytes to decide.
    Sniff,
    /// Known not to be an archive (classes, text, images, ...): never inflated to be sniffed.
    No,
}

impl NestedHint {
    /// Whether the name promises an archive of some kind (zip family or stream).
    pub fn expects_archive(self) -> bool {
        matches!(self, Self::Zip | Self::Stream)
    }
}

/// Judges a nested entry by its name's extension, ignoring ASCII case.
pub fn nested_hint(name: &str) -> NestedHint {
    match extension(name) {
        Some(ext) if in_list(ext, ZIP_EXTENSIONS) => NestedHint::Zip,
        Some(ext) if in_list(ext, STREAM_EXTENSIONS) => NestedHint::Stream,
        Some(ext) if in_list(ext, NOT_ARCHIVE_EXTENSIONS) => NestedHint::No,
        // A dotted class-like name (`a.b.C`) is usually a resource, but the bytes decide.
        _ => NestedHint::Sniff,
    }
}

/// Bytes read at a time when hashing an archive for the inventory.
const HASH_BUFFER_BYTES: usize = 256 * 1024;

/// Why the scan of a top-level file stopped early.
#[derive(Debug)]
pub(crate) struct Abort(pub String);

/// A nested archive's bytes: in memory when small, in an anonymous temporary file when large.
enum Blob<'a> {
    Memory(Vec<u8>, MemoryReservation<'a>),
    Spilled(File),
}

/// A share of [`Limits::max_memory_bytes`] held while a nested archive is in memory; released on drop.
struct MemoryReservation<'a> {
    in_use: &'a std::sync::atomic::AtomicU64,
    bytes: u64,
}

impl<'a> MemoryReservation<'a> {
    /// Reserves `bytes` if the total stays within `limit`.
    fn try_new(in_use: &'a std::sync::atomic::AtomicU64, bytes: u64, limit: u64) -> Option<Self> {
        use std::sync::atomic::Ordering;
        let mut current = in_use.load(Ordering::Relaxed);
        loop {
            let next = current.checked_add(bytes).filter(|n| *n <= limit)?;
            match in_use.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(MemoryReservation { in_use, bytes }),
                Err(actual) => current = actual,
            }
        }
    }
}

impl MemoryReservation<'_> {
    /// Gives back what is not needed once the real size is known.
    fn shrink_to(&mut self, bytes: u64) {
        if bytes < self.bytes {
            self.in_use.fetch_sub(self.bytes - bytes, std::sync::atomic::Ordering::AcqRel);
            self.bytes = bytes;
        }
    }
}

impl Drop for MemoryReservation<'_> {
    fn drop(&mut self) {
        self.in_use.fetch_sub(self.bytes, std::sync::atomic::Ordering::AcqRel);
    }
}

/// `Read + Seek` as one object-safe trait, so nested in-place readers can be type-erased: without
/// it each nesting level would instantiate the scanner for a new window-on-window type, forever.
trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Whether entry `index` is STORED (not compressed, not encrypted), so it can be read in place.
fn stored_at<R: Read + Seek>(zip: &zip::ZipArchive<R>, index: usize) -> bool {
    zip.by_index_data(index)
        .is_ok_and(|entry| entry.compression() == zip::CompressionMethod::Stored && !entry.encrypted())
}

/// Detects entries whose data overlap, the trick of overlapping-entry zip bombs (one compressed
/// kernel referenced by thousands of entries). Judged from the central directory alone, without
/// reading local headers: an entry may not start before the previous one's header (30 bytes) and
/// data end. Returns the error message when the archive is such a bomb.
fn overlapping_entries<R: Read + Seek>(zip: &zip::ZipArchive<R>) -> Option<String> {
    const LOCAL_HEADER_MIN: u64 = 30;
    let mut spans: Vec<(u64, u64)> = (0..zip.len())
        .filter_map(|i| zip.by_index_data(i).ok())
        .filter(|entry| !entry.is_dir())
        .map(|entry| (entry.header_start(), entry.compressed_size()))
        .collect();
    spans.sort_unstable();
    let overlaps = spans
        .windows(2)
        .filter(|w| w[1].0 < w[0].0.saturating_add(LOCAL_HEADER_MIN).saturating_add(w[0].1) && w[0].1 > 0)
        .count();
    (overlaps > 0)
        .then(|| format!("not opened: {overlaps} entries overlap other entries' data (an overlapping-entry zip bomb)"))
}

/// The number of entries an end-of-central-directory record declares (zip64 aware), read from
/// the tail of the archive before the zip reader parses (and allocates for) the directory.
/// `None` when no record is found; the zip reader then reports the archive as corrupt.
fn declared_entry_count<R: Read + Seek>(source: &mut R) -> Option<u64> {
    const EOCD_LEN: u64 = 22;
    const MAX_COMMENT: u64 = 65_535;
    let len = source.seek(SeekFrom::End(0)).ok()?;
    let tail_len = len.min(EOCD_LEN + MAX_COMMENT + 20);
    source.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; usize::try_from(tail_len).ok()?];
    source.read_exact(&mut tail).ok()?;
    let pos = memchr::memmem::rfind(&tail, b"PK\x05\x06")?;
    let record = tail.get(pos..pos + 22)?;
    let count = u64::from(u16::from_le_bytes([record[10], record[11]]));
    if count != 0xffff {
        return Some(count);
    }
    // zip64: the locator sits just before the record and points at the zip64 record.
    let locator = tail.get(pos.checked_sub(20)?..pos)?;
    if &locator[..4] != b"PK\x06\x07" {
        return Some(count);
    }
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&locator[8..16]);
    let zip64_at = u64::from_le_bytes(offset);
    let mut zip64 = [0u8; 40];
    // Prepended data shifts the record; fall back to the 16-bit count if it is not where declared.
    if source.seek(SeekFrom::Start(zip64_at)).is_ok()
        && source.read_exact(&mut zip64).is_ok()
        && &zip64[..4] == b"PK\x06\x06"
    {
        let mut total = [0u8; 8];
        total.copy_from_slice(&zip64[32..40]);
        return Some(u64::from_le_bytes(total));
    }
    Some(count)
}

/// Counts inflated bytes against the per-file budget and fails once it is spent.
struct BudgetReader<'a, R> {
    inner: R,
    scan: &'a FileScan<'a>,
}

impl<R: Read> Read for BudgetReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.scan.budget.get();
        if remaining == 0 && !buf.is_empty() {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.scan.budget_spent.set(true);
            return Err(io::Error::other(format!(
                "inflated more than {} bytes (limit --max-inflated-bytes)",
                self.scan.limits.max_inflated_bytes
            )));
        }
        let max = buf.len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.scan.budget.set(remaining - n as u64);
        Ok(n)
    }
}

/// The state of the scan of one top-level file.
pub(crate) struct FileScan<'a> {
    limits: &'a Limits,
    rules: &'a Rules,
    /// Report every Java archive as an inventory component (`--inventory`).
    inventory: bool,
    reporter: &'a Reporter<'a>,
    /// Hashes of this file's archives from an earlier scan (`--hash-cache`).
    hashes: Option<crate::hash_cache::FileHashes<'a>>,
    budget: Cell<u64>,
    budget_spent: Cell<bool>,
    deadline: Instant,
}

type Flow = Result<(), Abort>;

impl<'a> FileScan<'a> {
    pub(crate) fn new(limits: &'a Limits, rules: &'a Rules, inventory: bool, reporter: &'a Reporter<'a>) -> Self {
        FileScan {
            limits,
            rules,
            inventory,
            reporter,
            hashes: None,
            budget: Cell::new(limits.max_inflated_bytes),
            budget_spent: Cell::new(false),
            deadline: Instant::now() + limits.max_time_per_file,
        }
    }

    /// Reuses and records archive hashes through the hash cache's view of this file.
    pub(crate) fn with_hash_cache(mut self, hashes: crate::hash_cache::FileHashes<'a>) -> Self {
        self.hashes = Some(hashes);
        self
    }

    /// Hands what the hash cache learnt of this file back to it; `after` is the file's stamp
    /// once read.
    pub(crate) fn commit_hashes(self, after: Option<crate::hash_cache::FileStamp>) {
        if let Some(hashes) = self.hashes {
            hashes.commit(after);
        }
    }

    fn check(&self) -> Flow {
        if self.budget_spent.get() {
            return Err(Abort(format!(
                "stopped: inflated more than {} bytes from this file (limit --max-inflated-bytes)",
                self.limits.max_inflated_bytes
            )));
        }
        if Instant::now() > self.deadline {
            return Err(Abort(format!(
                "stopped: scanning this file took longer than {} s (limit --max-time-per-file)",
                self.limits.max_time_per_file.as_secs()
            )));
        }
        Ok(())
    }

    fn error(&self, chain: &[String], message: impl Into<String>) {
        self.reporter.error(chain.to_vec(), message.into());
    }

    /// Scans a top-level file. Returns the abort reason if a limit stopped it early.
    pub(crate) fn scan_top<R: Read + Seek>(&self, source: R, display: &str) -> Option<Abort> {
        let mut chain = vec![display.to_string()];
        let result = self.scan_seekable(source, &mut chain, 0, display).err();
        self.reporter.inflated(self.limits.max_inflated_bytes.saturating_sub(self.budget.get()));
        result
    }

    /// Scans bytes with random access: a file on disk, a nested archive in memory or spilled.
    fn scan_seekable<R: Read + Seek>(&self, mut source: R, chain: &mut Vec<String>, depth: usize, name: &str) -> Flow {
        let mut head = [0u8; HEAD_LEN];
        let n = match source.seek(SeekFrom::Start(0)).and_then(|_| read_up_to(&mut source, &mut head)) {
            Ok(n) => n,
            Err(e) => {
                self.error(chain, format!("cannot read: {e}"));
                return Ok(());
            }
        };
        let format = detect(&head[..n], name);
        if format == Format::Other {
            return Ok(());
        }
        if depth > self.limits.max_depth {
            self.error(
                chain,
                format!("not opened: nested deeper than {} archives (limit --max-depth)", self.limits.max_depth),
            );
            return Ok(());
        }
        if let Err(e) = source.seek(SeekFrom::Start(0)) {
            self.error(chain, format!("cannot read: {e}"));
            return Ok(());
        }
        match format {
            Format::Zip => self.scan_zip(source, chain, depth, true),
            Format::MaybeZip { expected } => self.scan_zip(source, chain, depth, expected),
            Format::Tar => self.scan_tar(source, chain, depth),
            Format::Compressed(c) => match quell_io::decompress(c, source) {
                Ok(stream) => self.scan_stream(stream, chain, depth, c),
                Err(e) => {
                    self.error(chain, format!("cannot open {} stream: {e}", c.name()));
                    Ok(())
                }
            },
            Format::Other => Ok(()),
        }
    }

    /// Scans a decompressed stream: a tar inside it is read as a stream, anything else that is an
    /// archive is materialised first.
    fn scan_stream(&self, stream: Box<dyn Read + '_>, chain: &mut Vec<String>, depth: usize, c: Compression) -> Flow {
        let mut stream = BudgetReader { inner: stream, scan: self };
        let mut head = vec![0u8; HEAD_LEN];
        let n = match read_up_to(&mut stream, &mut head) {
            Ok(n) => n,
            Err(e) => {
                self.check()?;
                self.error(chain, format!("corrupt {} stream: {e}", c.name()));
                return Ok(());
            }
        };
        head.truncate(n);
        if is_tar_header(&head) {
            self.reporter.archive();
            return self.scan_tar_stream(Cursor::new(head).chain(stream), chain, depth);
        }
        let format = detect(&head, "");
        if matches!(format, Format::Other) {
            return Ok(());
        }
        let blob = match self.materialize(head, &mut stream) {
            Ok(blob) => blob,
            Err(e) => {
                self.check()?;
                self.error(chain, format!("corrupt {} stream: {e}", c.name()));
                return Ok(());
            }
        };
        self.scan_blob(blob, chain, depth, "")
    }

    fn scan_blob(&self, blob: Blob, chain: &mut Vec<String>, depth: usize, name: &str) -> Flow {
        match blob {
            Blob::Memory(bytes, _reservation) => self.scan_seekable(Cursor::new(bytes), chain, depth, name),
            Blob::Spilled(file) => match SeekBufReader::new(file) {
                Ok(file) => self.scan_seekable(file, chain, depth, name),
                Err(e) => {
                    self.error(chain, format!("cannot read the temporary copy: {e}"));
                    Ok(())
                }
            },
        }
    }

    /// Reads a nested archive (its first bytes already read into `head`) into memory, or into an
    /// anonymous temporary file once it grows past the in-memory threshold.
    fn materialize(&self, head: Vec<u8>, rest: &mut dyn Read) -> io::Result<Blob<'_>> {
        let threshold = self.limits.in_memory_archive_bytes;
        let reservation =
            MemoryReservation::try_new(&self.reporter.memory_in_use, threshold, self.limits.max_memory_bytes);
        let mut bytes = head;
        if let Some(reservation) = reservation {
            let already = bytes.len() as u64;
            rest.take(threshold.saturating_sub(already) + 1).read_to_end(&mut bytes)?;
            if (bytes.len() as u64) <= threshold {
                bytes.shrink_to_fit();
                let mut reservation = reservation;
                reservation.shrink_to(bytes.len() as u64);
                return Ok(Blob::Memory(bytes, reservation));
            }
        }
        let mut file = tempfile::tempfile()?;
        file.write_all(&bytes)?;
        drop(bytes);
        io::copy(rest, &mut file)?;
        file.flush()?;
        Ok(Blob::Spilled(file))
    }

    fn read_evidence(&self, reader: &mut dyn Read) -> io::Result<Option<Vec<u8>>> {
        let mut bytes = Vec::new();
        reader.take(self.limits.max_evidence_bytes + 1).read_to_end(&mut bytes)?;
        Ok(((bytes.len() as u64) <= self.limits.max_evidence_bytes).then_some(bytes))
    }

    /// Classifies a container's entries and reports its copies; returns them when the inventory
    /// needs them (empty otherwise: no copy is cloned on a findings-only scan).
    /// `load` reads an entry again by name, for the classes handed over without bytes.
    fn emit(
        &self,
        chain: &[String],
        entries: &[EvidenceEntry],
        load: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    ) -> Vec<crate::classify::ClassifiedCopy> {
        if entries.is_empty() {
            return Vec::new();
        }
        let copies = self.rules.classify_with(entries, load);
        if !self.inventory {
            for copy in copies {
                self.reporter.finding(chain.to_vec(), copy);
            }
            return Vec::new();
        }
        for copy in &copies {
            self.reporter.finding(chain.to_vec(), copy.clone());
        }
        copies
    }

    /// The SHA-1 and SHA-256 of a whole archive, read from its start.
    fn hash_archive<R: Read + Seek>(&self, source: &mut R) -> io::Result<quell_model::Hashes> {
        use sha1::Digest as _;
        source.seek(SeekFrom::Start(0))?;
        let mut sha1 = sha1::Sha1::new();
        let mut sha256 = sha2::Sha256::new();
        let mut buf = vec![0u8; HASH_BUFFER_BYTES];
        loop {
            self.check().map_err(|abort| io::Error::other(abort.0))?;
            let n = source.read(&mut buf)?;
            if n == 0 {
                break;
            }
            sha1.update(&buf[..n]);
            sha256.update(&buf[..n]);
        }
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        Ok(quell_model::Hashes { sha1: hex(&sha1.finalize()), sha256: hex(&sha256.finalize()) })
    }

    fn scan_zip<R: Read + Seek>(&self, mut source: R, chain: &mut Vec<String>, depth: usize, expected: bool) -> Flow {
        if let Some(count) = declared_entry_count(&mut source)
            && count > self.limits.max_entries as u64
        {
            self.reporter.archive();
            self.error(
                chain,
                format!("not opened: {count} entries, more than {} (limit --max-entries)", self.limits.max_entries),
            );
            return Ok(());
        }
        if let Err(e) = source.seek(SeekFrom::Start(0)) {
            self.error(chain, format!("cannot read: {e}"));
            return Ok(());
        }
        let mut zip = match zip::ZipArchive::new(source) {
            Ok(zip) => zip,
            Err(e) => {
                if expected {
                    self.error(chain, format!("corrupt zip archive: {e}"));
                }
                return Ok(());
            }
        };
        self.reporter.archive();
        if zip.len() > self.limits.max_entries {
            self.error(
                chain,
                format!(
                    "not opened: {} entries, more than {} (limit --max-entries)",
                    zip.len(),
                    self.limits.max_entries
                ),
            );
            return Ok(());
        }
        if let Some(message) = overlapping_entries(&zip) {
            self.error(chain, message);
            return Ok(());
        }
        if zip.has_duplicate_names() {
            self.error(chain, "duplicate entry names in the central directory: only the last of each name was read");
        }
        let mut evidence = Vec::new();
        let mut is_java =
            self.inventory && chain.last().is_some_and(|name| crate::inventory::is_java_archive_name(name));
        for index in 0..zip.len() {
            self.check()?;
            // Names are judged borrowed; only the few entries that matter are copied out.
            let (name, interest, hint, encrypted) = match zip.by_index_data(index) {
                Ok(entry) => {
                    if entry.is_dir() {
                        continue;
                    }
                    let raw = entry.name_raw();
                    let name = match std::str::from_utf8(raw) {
                        Ok(name) => std::borrow::Cow::Borrowed(name),
                        Err(_) => String::from_utf8_lossy(raw),
                    };
                    if self.inventory && !is_java {
                        is_java = crate::classify::class_stem(&name).is_some() || name == "META-INF/MANIFEST.MF";
                    }
                    let interest = self.rules.interest(&name);
                    let hint = nested_hint(&name);
                    if interest.is_none() && hint == NestedHint::No {
                        continue;
                    }
                    (name.into_owned(), interest, hint, entry.encrypted())
                }
                Err(e) => {
                    self.error(chain, format!("corrupt central directory entry #{index}: {e}"));
                    continue;
                }
            };
            if encrypted {
                chain.push(name);
                self.error(chain, "encrypted entry: not read");
                chain.pop();
                continue;
            }
            // A STORED nested archive is read in place, through a window on the outer archive:
            // no copy, no spill, no CRC pass (the common case for Spring Boot and WEB-INF/lib).
            if interest.is_none()
                && stored_at(&zip, index)
                && let Ok(mut window) = zip.by_index_seek(index)
            {
                chain.push(name);
                let result = self.scan_nested_in_place(&mut window, chain, depth, hint.expects_archive());
                chain.pop();
                result?;
                continue;
            }
            let mut entry = match zip.by_index(index) {
                Ok(entry) => BudgetReader { inner: entry, scan: self },
                Err(e) => {
                    chain.push(name);
                    self.error(chain, format!("cannot read entry: {e}"));
                    chain.pop();
                    continue;
                }
            };
            if let Some(interest) = interest {
                // Fingerprint-only classes are read later, by name, if the classifier asks.
                let bytes = if interest.needs_bytes_now() {
                    match self.read_evidence(&mut entry) {
                        Ok(bytes) => bytes,
                        Err(e) => {
                            self.check()?;
                            chain.push(name.clone());
                            self.error(chain, format!("corrupt entry: {e}"));
                            chain.pop();
                            None
                        }
                    }
                } else {
                    None
                };
                evidence.push(EvidenceEntry { name, bytes });
                continue;
            }
            chain.push(name);
            let result = self.scan_nested(&mut entry, chain, depth, hint.expects_archive());
            chain.pop();
            result?;
        }
        let copies = self.emit(chain, &evidence, &mut |name| {
            let mut entry = zip.by_name(name).ok()?;
            self.read_evidence(&mut entry).ok().flatten()
        });
        if is_java {
            let below = &chain[1..];
            let hashed = match self.hashes.as_ref().and_then(|cache| cache.get(below)) {
                Some(hashes) => Ok(hashes),
                None => self.hash_archive(&mut zip.into_inner()),
            };
            match hashed {
                Ok(hashes) => {
                    if let Some(cache) = &self.hashes {
                        cache.put(below, &hashes);
                    }
                    let component = crate::inventory::component(chain.clone(), &evidence, &copies, hashes);
                    self.reporter.component(component);
                }
                Err(e) => {
                    self.check()?;
                    self.error(chain, format!("cannot read the archive to hash it: {e}"));
                }
            }
        }
        Ok(())
    }

    /// Decides from its first bytes whether a nested entry is opened as an archive, and as which;
    /// `None` for other data, for zip-like bytes under a name that is not an archive's, and past
    /// the depth limit (reported).
    fn nested_format(&self, head: &[u8], chain: &[String], depth: usize, named_archive: bool) -> Option<Format> {
        let name = chain.last().map(String::as_str).unwrap_or_default();
        let format = detect(head, name);
        if format == Format::Other || (matches!(format, Format::MaybeZip { expected: false }) && !named_archive) {
            return None;
        }
        if depth + 1 > self.limits.max_depth {
            self.error(
                chain,
                format!("not opened: nested deeper than {} archives (limit --max-depth)", self.limits.max_depth),
            );
            return None;
        }
        Some(format)
    }

    /// Reads a nested entry's first bytes and, if it is an archive, the rest, then scans it.
    /// `chain` already ends with the entry's name.
    fn scan_nested(&self, entry: &mut dyn Read, chain: &mut Vec<String>, depth: usize, named_archive: bool) -> Flow {
        let mut head = vec![0u8; HEAD_LEN];
        let n = match read_up_to(entry, &mut head) {
            Ok(n) => n,
            Err(e) => {
                self.check()?;
                self.error(chain, format!("corrupt entry: {e}"));
                return Ok(());
            }
        };
        head.truncate(n);
        let name = chain.last().cloned().unwrap_or_default();
        let Some(format) = self.nested_format(&head, chain, depth, named_archive) else { return Ok(()) };
        // A tar (plain or compressed) is read as a stream; everything else needs random access.
        if format == Format::Tar {
            self.reporter.archive();
            return self.scan_tar_stream(Cursor::new(head).chain(entry), chain, depth + 1);
        }
        if let Format::Compressed(c) = format {
            return match quell_io::decompress(c, Cursor::new(head).chain(entry)) {
                Ok(stream) => self.scan_stream(stream, chain, depth + 1, c),
                Err(e) => {
                    self.error(chain, format!("cannot open {} stream: {e}", c.name()));
                    Ok(())
                }
            };
        }
        match self.materialize(head, entry) {
            Ok(blob) => self.scan_blob(blob, chain, depth + 1, &name),
            Err(e) => {
                self.check()?;
                self.error(chain, format!("corrupt entry: {e}"));
                Ok(())
            }
        }
    }

    /// Like [`Self::scan_nested`] for an entry that can be read in place with random access.
    fn scan_nested_in_place<R: Read + Seek>(
        &self,
        entry: &mut R,
        chain: &mut Vec<String>,
        depth: usize,
        named_archive: bool,
    ) -> Flow {
        let mut head = [0u8; HEAD_LEN];
        let n = match read_up_to(entry, &mut head) {
            Ok(n) => n,
            Err(e) => {
                self.error(chain, format!("corrupt entry: {e}"));
                return Ok(());
            }
        };
        let name = chain.last().cloned().unwrap_or_default();
        if self.nested_format(&head[..n], chain, depth, named_archive).is_none() {
            return Ok(());
        }
        let erased: &mut dyn ReadSeek = entry;
        self.scan_seekable(erased, chain, depth + 1, &name)
    }

    fn scan_tar<R: Read>(&self, source: R, chain: &mut Vec<String>, depth: usize) -> Flow {
        self.reporter.archive();
        self.scan_tar_stream(source, chain, depth)
    }

    fn scan_tar_stream<R: Read>(&self, source: R, chain: &mut Vec<String>, depth: usize) -> Flow {
        let mut archive = tar::Archive::new(source);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => {
                self.check()?;
                self.error(chain, format!("corrupt tar archive: {e}"));
                return Ok(());
            }
        };
        let mut evidence = Vec::new();
        for (count, entry) in entries.enumerate() {
            self.check()?;
            if count >= self.limits.max_entries {
                self.error(
                    chain,
                    format!("stopped: more than {} entries (limit --max-entries)", self.limits.max_entries),
                );
                break;
            }
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.check()?;
                    self.error(chain, format!("corrupt tar archive: {e}"));
                    break;
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = name.strip_prefix("./").unwrap_or(&name).to_string();
            let interest = self.rules.interest(&name);
            let hint = nested_hint(&name);
            if let Some(interest) = interest {
                let bytes = if interest.needs_bytes() {
                    match self.read_evidence(&mut entry) {
                        Ok(bytes) => bytes,
                        Err(e) => {
                            self.check()?;
                            self.error(chain, format!("corrupt tar archive: {e}"));
                            break;
                        }
                    }
                } else {
                    None
                };
                evidence.push(EvidenceEntry { name, bytes });
                continue;
            }
            if hint == NestedHint::No {
                continue;
            }
            chain.push(name);
            let result = self.scan_nested(&mut entry, chain, depth, hint.expects_archive());
            chain.pop();
            result?;
        }
        // A tar stream cannot be read again: its evidence was read in full (`needs_bytes`).
        self.emit(chain, &evidence, &mut |_| None);
        Ok(())
    }
}

/// Whether a file found on disk is evidence of an exploded copy, and whether its bytes are needed.
pub(crate) fn exploded_interest(rules: &Rules, path: &str) -> Option<Interest> {
    rules.interest(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content_not_name() {
        assert_eq!(detect(b"PK\x03\x04rest", "notes.txt"), Format::Zip);
        assert_eq!(detect(b"#!/bin/sh\nexec java -jar $0\n", "app"), Format::MaybeZip { expected: false });
        assert_eq!(detect(b"hello", "app.war"), Format::MaybeZip { expected: true });
        assert_eq!(detect(&[0x1f, 0x8b, 8, 0], "x"), Format::Compressed(Compression::Gzip));
        assert_eq!(detect(b"plain text", "readme"), Format::Other);
        let mut tar = vec![0u8; 512];
        tar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(detect(&tar, "x.bin"), Format::Tar);
    }

    #[test]
    fn nested_hints() {
        assert_eq!(nested_hint("BOOT-INF/lib/log4j-core-2.14.1.jar"), NestedHint::Zip);
        assert_eq!(nested_hint("lib/bundle.TGZ"), NestedHint::Stream);
        assert_eq!(nested_hint("org/x/Y.class"), NestedHint::No);
        assert_eq!(nested_hint("lib/renamed"), NestedHint::Sniff);
    }
}
