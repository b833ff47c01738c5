//! A zip reader and rewriter that works on the raw records of the format.
//!
//! Why not the `zip` crate: its writer re-encodes entries and its reader keys entries by name, so
//! duplicate names collapse into one and a rewrite would silently drop or merge entries. Fixing a
//! production jar needs the opposite: every kept entry's local header, compressed data and data
//! descriptor are copied byte for byte, in the original order, and only the central directory
//! offsets change. So this module reads the central directory itself and copies raw spans.
//!
//! Invariants:
//! - Bytes before the first local header (a launcher script, a jmod header) are kept verbatim, and
//!   offsets keep the convention the original used (relative to the zip or to the file).
//! - A kept entry's span (local header, data, data descriptor, up to the next local header) is
//!   copied unchanged; its central directory record changes only in the offset field.
//! - A replaced entry keeps its name, extra fields, timestamps, attributes and method; only its
//!   CRC and sizes change, and its data is written without a data descriptor.
//! - Zip64 records are kept (and written) where the original had them.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::{FixError, MAX_CENTRAL_DIRECTORY_BYTES, MAX_ENTRIES};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const EOCD_LEN: usize = 22;
const ZIP64_EOCD_LEN: usize = 56;
const ZIP64_LOCATOR_LEN: usize = 20;
const LOCAL_LEN: usize = 30;
const CENTRAL_LEN: usize = 46;
/// How far from the end the end-of-central-directory record can start: its size plus the
/// largest comment.
const EOCD_SEARCH: u64 = EOCD_LEN as u64 + 0xFFFF;
const ZIP64_EXTRA_ID: u16 = 0x0001;
const FLAG_ENCRYPTED: u16 = 0x0001;
const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;
/// Compression methods this module can decode and encode.
pub const METHOD_STORED: u16 = 0;
pub const METHOD_DEFLATED: u16 = 8;

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    if let Some(s) = b.get_mut(at..at + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn corrupt(message: impl Into<String>) -> FixError {
    FixError::CorruptZip(message.into())
}

/// Where the zip64 values of the 32-bit fields marked `wanted` sit inside an extra-field block,
/// as offsets into `extra`. The zip64 field stores only the values whose 32-bit field is
/// saturated, in a fixed order.
fn zip64_offsets<const N: usize>(extra: &[u8], wanted: [bool; N], widths: [usize; N]) -> [Option<usize>; N] {
    let mut out = [None; N];
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at);
        let size = usize::from(u16_at(extra, at + 2));
        let data = at + 4;
        if id == ZIP64_EXTRA_ID {
            let mut pos = data;
            for i in 0..N {
                if wanted[i] {
                    if pos + widths[i] <= (data + size).min(extra.len()) {
                        out[i] = Some(pos);
                    }
                    pos += widths[i];
                }
            }
            return out;
        }
        at = data + size;
    }
    out
}

/// One central directory record.
#[derive(Debug, Clone)]
pub struct CdEntry {
    /// The whole record as read: fixed part, name, extra field and comment.
    raw: Vec<u8>,
    /// The raw name bytes.
    pub name: Vec<u8>,
    pub flags: u16,
    pub method: u16,
    pub crc: u32,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// Position of the local header in the file (prepended data included).
    pub offset: u64,
}

impl CdEntry {
    /// The name as the scanner prints it.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    pub fn is_dir(&self) -> bool {
        self.name.ends_with(b"/")
    }

    pub fn encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0
    }

    fn name_len(&self) -> usize {
        usize::from(u16_at(&self.raw, 28))
    }

    fn extra_range(&self) -> std::ops::Range<usize> {
        let start = CENTRAL_LEN + self.name_len();
        start..start + usize::from(u16_at(&self.raw, 30))
    }
}

/// The layout of one zip archive: what the rewriter needs to copy it.
#[derive(Debug, Clone)]
pub struct ZipLayout {
    pub entries: Vec<CdEntry>,
    /// File position that the archive's offsets count from (non-zero when data was prepended
    /// without adjusting the offsets).
    base: u64,
    /// Start of the first local header (or of the central directory when there is none): the
    /// bytes before it are kept verbatim.
    prefix_end: u64,
    cd_start: u64,
    /// The original's zip64 end record (version made by, version needed), if it had one.
    zip64_versions: Option<(u16, u16)>,
    /// Which of the classic end record's fields (entries on disk, entries, size, offset) were
    /// saturated in the original.
    eocd_saturated: [bool; 4],
    comment: Vec<u8>,
}

fn read_exact_at<R: Read + Seek>(r: &mut R, at: u64, buf: &mut [u8]) -> Result<(), FixError> {
    r.seek(SeekFrom::Start(at))?;
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => corrupt(format!("truncated at offset {at}")),
        _ => FixError::Io(e),
    })
}

impl ZipLayout {
    /// Reads the end records and the central directory. Fails on anything it could not rewrite
    /// faithfully (multi-disk archives, inconsistent offsets).
    pub fn read<R: Read + Seek>(r: &mut R) -> Result<ZipLayout, FixError> {
        let len = r.seek(SeekFrom::End(0))?;
        if len < EOCD_LEN as u64 {
            return Err(corrupt("too short to be a zip archive"));
        }
        let tail_len = len.min(EOCD_SEARCH);
        let tail_start = len - tail_len;
        let mut tail = vec![0u8; usize::try_from(tail_len).map_err(|_| corrupt("tail too large"))?];
        read_exact_at(r, tail_start, &mut tail)?;
        // The last signature whose comment reaches exactly the end; else the last that fits.
        let mut exact = None;
        let mut fits = None;
        for i in (0..=tail.len() - EOCD_LEN).rev() {
            if u32_at(&tail, i) != EOCD_SIG {
                continue;
            }
            let end = i + EOCD_LEN + usize::from(u16_at(&tail, i + 20));
            if end == tail.len() {
                exact = Some(i);
                break;
            }
            if end <= tail.len() && fits.is_none() {
                fits = Some(i);
            }
        }
        let at = exact.or(fits).ok_or_else(|| corrupt("no end of central directory record"))?;
        let eocd = &tail[at..];
        let eocd_pos = tail_start + at as u64;
        if u16_at(eocd, 4) != 0 || u16_at(eocd, 6) != 0 {
            return Err(FixError::Unsupported("multi-disk zip archive".into()));
        }
        let comment = eocd[EOCD_LEN..EOCD_LEN + usize::from(u16_at(eocd, 20))].to_vec();
        let eocd_saturated = [
            u16_at(eocd, 8) == 0xFFFF,
            u16_at(eocd, 10) == 0xFFFF,
            u32_at(eocd, 12) == u32::MAX,
            u32_at(eocd, 16) == u32::MAX,
        ];
        let mut entries_total = u64::from(u16_at(eocd, 10));
        let mut cd_size = u64::from(u32_at(eocd, 12));
        let mut cd_offset = u64::from(u32_at(eocd, 16));
        let mut zip64_versions = None;
        // Where the central directory ends in the file: the zip64 end record or the classic one.
        let mut cd_end = eocd_pos;
        if eocd_pos >= ZIP64_LOCATOR_LEN as u64 {
            let mut loc = [0u8; ZIP64_LOCATOR_LEN];
            read_exact_at(r, eocd_pos - ZIP64_LOCATOR_LEN as u64, &mut loc)?;
            if u32_at(&loc, 0) == ZIP64_LOCATOR_SIG {
                let declared = u64_at(&loc, 8);
                let mut rec = [0u8; ZIP64_EOCD_LEN];
                // The record usually sits right before the locator; its declared offset may not
                // count prepended data.
                let guess = (eocd_pos - ZIP64_LOCATOR_LEN as u64).checked_sub(ZIP64_EOCD_LEN as u64);
                let mut found = None;
                for pos in [guess, Some(declared)].into_iter().flatten() {
                    if pos + ZIP64_EOCD_LEN as u64 <= len {
                        read_exact_at(r, pos, &mut rec)?;
                        if u32_at(&rec, 0) == ZIP64_EOCD_SIG {
                            found = Some(pos);
                            break;
                        }
                    }
                }
                let pos = found.ok_or_else(|| corrupt("zip64 locator without a zip64 end record"))?;
                if u32_at(&rec, 16) != 0 || u32_at(&rec, 20) != 0 {
                    return Err(FixError::Unsupported("multi-disk zip archive".into()));
                }
                zip64_versions = Some((u16_at(&rec, 12), u16_at(&rec, 14)));
                entries_total = u64_at(&rec, 32);
                cd_size = u64_at(&rec, 40);
                cd_offset = u64_at(&rec, 48);
                cd_end = pos;
            }
        }
        let cd_start = cd_end.checked_sub(cd_size).ok_or_else(|| corrupt("central directory larger than the file"))?;
        let base = cd_start
            .checked_sub(cd_offset)
            .ok_or_else(|| corrupt("central directory offset points past its real position"))?;
        if cd_size > MAX_CENTRAL_DIRECTORY_BYTES {
            return Err(FixError::Limit(format!("central directory of {cd_size} bytes")));
        }
        if entries_total > MAX_ENTRIES as u64 {
            return Err(FixError::Limit(format!("{entries_total} entries")));
        }
        let mut cd = vec![0u8; usize::try_from(cd_size).map_err(|_| corrupt("central directory too large"))?];
        read_exact_at(r, cd_start, &mut cd)?;
        let mut entries = Vec::new();
        let mut at = 0usize;
        while at < cd.len() {
            if at + CENTRAL_LEN > cd.len() || u32_at(&cd, at) != CENTRAL_SIG {
                return Err(corrupt(format!("bad central directory record #{}", entries.len())));
            }
            let n = usize::from(u16_at(&cd, at + 28));
            let e = usize::from(u16_at(&cd, at + 30));
            let c = usize::from(u16_at(&cd, at + 32));
            let end = at + CENTRAL_LEN + n + e + c;
            if end > cd.len() {
                return Err(corrupt(format!("central directory record #{} overruns", entries.len())));
            }
            let raw = cd[at..end].to_vec();
            let mut entry = CdEntry {
                name: raw[CENTRAL_LEN..CENTRAL_LEN + n].to_vec(),
                flags: u16_at(&raw, 8),
                method: u16_at(&raw, 10),
                crc: u32_at(&raw, 16),
                compressed_size: u64::from(u32_at(&raw, 20)),
                uncompressed_size: u64::from(u32_at(&raw, 24)),
                offset: u64::from(u32_at(&raw, 42)),
                raw,
            };
            let extra = entry.raw[entry.extra_range()].to_vec();
            let wanted = [
                entry.uncompressed_size == u64::from(u32::MAX),
                entry.compressed_size == u64::from(u32::MAX),
                entry.offset == u64::from(u32::MAX),
            ];
            let offs = zip64_offsets(&extra, wanted, [8, 8, 8]);
            if let Some(p) = offs[0] {
                entry.uncompressed_size = u64_at(&extra, p);
            }
            if let Some(p) = offs[1] {
                entry.compressed_size = u64_at(&extra, p);
            }
            if let Some(p) = offs[2] {
                entry.offset = u64_at(&extra, p);
            }
            if u16_at(&entry.raw, 34) != 0 && u16_at(&entry.raw, 34) != 0xFFFF {
                return Err(FixError::Unsupported("multi-disk zip archive".into()));
            }
            entry.offset = entry
                .offset
                .checked_add(base)
                .filter(|o| *o < cd_start)
                .ok_or_else(|| corrupt(format!("entry {} points outside the archive", entry.name_lossy())))?;
            entries.push(entry);
            if entries.len() > MAX_ENTRIES {
                return Err(FixError::Limit(format!("more than {MAX_ENTRIES} entries")));
            }
            at = end;
        }
        let prefix_end = entries.iter().map(|e| e.offset).min().unwrap_or(cd_start);
        Ok(ZipLayout { entries, base, prefix_end, cd_start, zip64_versions, eocd_saturated, comment })
    }

    /// Whether bytes precede the first entry (a launcher script, for instance).
    pub fn prefix_len(&self) -> u64 {
        self.prefix_end
    }
}

/// Reads a local header; returns it whole (fixed part, name, extra).
fn local_header<R: Read + Seek>(r: &mut R, entry: &CdEntry) -> Result<Vec<u8>, FixError> {
    let mut fixed = [0u8; LOCAL_LEN];
    read_exact_at(r, entry.offset, &mut fixed)?;
    if u32_at(&fixed, 0) != LOCAL_SIG {
        return Err(corrupt(format!("no local header for {}", entry.name_lossy())));
    }
    let rest = usize::from(u16_at(&fixed, 26)) + usize::from(u16_at(&fixed, 28));
    let mut header = fixed.to_vec();
    header.resize(LOCAL_LEN + rest, 0);
    r.read_exact(&mut header[LOCAL_LEN..])
        .map_err(|_| corrupt(format!("truncated header of {}", entry.name_lossy())))?;
    Ok(header)
}

/// Reads and decodes one entry, up to `limit` bytes; checks the CRC.
pub fn read_entry<R: Read + Seek>(r: &mut R, entry: &CdEntry, limit: u64) -> Result<Vec<u8>, FixError> {
    let name = entry.name_lossy();
    if entry.encrypted() {
        return Err(FixError::Unsupported(format!("{name} is encrypted")));
    }
    if entry.uncompressed_size > limit {
        return Err(FixError::Limit(format!("{name} holds {} bytes", entry.uncompressed_size)));
    }
    let header = local_header(r, entry)?;
    r.seek(SeekFrom::Start(entry.offset + header.len() as u64))?;
    let raw = r.by_ref().take(entry.compressed_size);
    let mut out = Vec::new();
    match entry.method {
        METHOD_STORED => {
            raw.take(limit + 1).read_to_end(&mut out)?;
        }
        METHOD_DEFLATED => {
            flate2::read::DeflateDecoder::new(raw)
                .take(limit + 1)
                .read_to_end(&mut out)
                .map_err(|e| corrupt(format!("{name}: {e}")))?;
        }
        m => return Err(FixError::Unsupported(format!("{name} uses compression method {m}"))),
    }
    if out.len() as u64 > limit {
        return Err(FixError::Limit(format!("{name} inflates past {limit} bytes")));
    }
    if crc32fast::hash(&out) != entry.crc || out.len() as u64 != entry.uncompressed_size {
        return Err(corrupt(format!("{name}: CRC or size mismatch")));
    }
    Ok(out)
}

/// Reads the first bytes of an entry's decoded data (for sniffing), without checking the CRC.
pub fn read_head<R: Read + Seek>(r: &mut R, entry: &CdEntry, n: usize) -> Result<Vec<u8>, FixError> {
    if entry.encrypted() {
        return Ok(Vec::new());
    }
    let header = local_header(r, entry)?;
    r.seek(SeekFrom::Start(entry.offset + header.len() as u64))?;
    let raw = r.by_ref().take(entry.compressed_size);
    let mut out = Vec::new();
    let limit = n as u64;
    match entry.method {
        METHOD_STORED => raw.take(limit).read_to_end(&mut out)?,
        METHOD_DEFLATED => flate2::read::DeflateDecoder::new(raw).take(limit).read_to_end(&mut out).unwrap_or(0),
        _ => 0,
    };
    Ok(out)
}

/// What to do with one entry (by index into [`ZipLayout::entries`]).
#[derive(Debug)]
pub enum Edit {
    Remove,
    /// New decoded content; stored with the entry's original method.
    Replace(Vec<u8>),
}

/// A writer that counts the bytes written.
struct Counting<'a, W: Write> {
    inner: &'a mut W,
    pos: u64,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn copy_range<R: Read + Seek, W: Write>(r: &mut R, from: u64, len: u64, out: &mut W) -> Result<(), FixError> {
    r.seek(SeekFrom::Start(from))?;
    let copied = io::copy(&mut r.by_ref().take(len), out)?;
    if copied != len {
        return Err(corrupt(format!("truncated at offset {}", from + copied)));
    }
    Ok(())
}

/// Stores a 64-bit value in a 32-bit field, or in the zip64 extra when the field is saturated.
fn store_size(
    record: &mut [u8],
    field: usize,
    zip64_pos: Option<usize>,
    value: u64,
    what: &str,
) -> Result<(), FixError> {
    if u32_at(record, field) == u32::MAX {
        let pos = zip64_pos.ok_or_else(|| corrupt(format!("saturated {what} without a zip64 value")))?;
        put_u64(record, pos, value);
        Ok(())
    } else {
        let v = u32::try_from(value).ok().filter(|v| *v != u32::MAX);
        let v = v.ok_or_else(|| FixError::Unsupported(format!("{what} would need a zip64 field")))?;
        put_u32(record, field, v);
        Ok(())
    }
}

fn encode(method: u16, data: &[u8], name: &str) -> Result<Vec<u8>, FixError> {
    match method {
        METHOD_STORED => Ok(data.to_vec()),
        METHOD_DEFLATED => {
            let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(data)?;
            Ok(enc.finish()?)
        }
        m => Err(FixError::Unsupported(format!("{name} uses compression method {m}"))),
    }
}

/// Writes the archive with the edits applied. Returns the number of bytes written.
pub fn rewrite<R: Read + Seek, W: Write>(
    r: &mut R,
    layout: &ZipLayout,
    edits: &BTreeMap<usize, Edit>,
    out: &mut W,
) -> Result<u64, FixError> {
    let mut out = Counting { inner: out, pos: 0 };
    // Entries grouped by local header position, in file order.
    let mut spans: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, e) in layout.entries.iter().enumerate() {
        spans.entry(e.offset).or_default().push(i);
    }
    copy_range(r, 0, layout.prefix_end, &mut out)?;
    let offsets: Vec<u64> = spans.keys().copied().collect();
    // New local header position (as written in the central directory) per entry.
    let mut new_offset: BTreeMap<usize, u64> = BTreeMap::new();
    // New crc / sizes for replaced entries.
    let mut replaced: BTreeMap<usize, (u32, u64, u64)> = BTreeMap::new();
    for (k, (&start, indexes)) in spans.iter().enumerate() {
        let end = offsets.get(k + 1).copied().unwrap_or(layout.cd_start);
        let first = &layout.entries[indexes[0]];
        let header = local_header(r, first)?;
        let min_end = start + header.len() as u64 + first.compressed_size;
        if min_end > end {
            return Err(corrupt(format!("entry {} overlaps the next entry", first.name_lossy())));
        }
        let kept: Vec<usize> =
            indexes.iter().copied().filter(|i| !matches!(edits.get(i), Some(Edit::Remove))).collect();
        if kept.is_empty() {
            continue;
        }
        let declared = out.pos.checked_sub(layout.base).ok_or_else(|| corrupt("offset underflow"))?;
        for &i in &kept {
            new_offset.insert(i, declared);
        }
        let replacement = kept.iter().find_map(|i| match edits.get(i) {
            Some(Edit::Replace(data)) => Some((*i, data)),
            _ => None,
        });
        let Some((index, data)) = replacement else {
            copy_range(r, start, end - start, &mut out)?;
            continue;
        };
        if kept.len() > 1 {
            return Err(FixError::Unsupported(format!(
                "{} shares its data with another entry",
                layout.entries[index].name_lossy()
            )));
        }
        let entry = &layout.entries[index];
        let name = entry.name_lossy();
        let encoded = encode(entry.method, data, &name)?;
        let crc = crc32fast::hash(data);
        let mut header = header;
        let extra_start = LOCAL_LEN + usize::from(u16_at(&header, 26));
        let extra = header[extra_start..].to_vec();
        let offs = zip64_offsets(&extra, [u32_at(&header, 22) == u32::MAX, u32_at(&header, 18) == u32::MAX], [8, 8]);
        let flags = u16_at(&header, 6) & !FLAG_DATA_DESCRIPTOR;
        put_u16(&mut header, 6, flags);
        put_u32(&mut header, 14, crc);
        store_size(&mut header, 22, offs[0].map(|p| p + extra_start), data.len() as u64, "size")?;
        store_size(&mut header, 18, offs[1].map(|p| p + extra_start), encoded.len() as u64, "compressed size")?;
        out.write_all(&header)?;
        out.write_all(&encoded)?;
        replaced.insert(index, (crc, encoded.len() as u64, data.len() as u64));
    }
    let cd_start = out.pos;
    let mut count = 0u64;
    for (i, entry) in layout.entries.iter().enumerate() {
        let Some(&offset) = new_offset.get(&i) else { continue };
        let mut record = entry.raw.clone();
        let range = entry.extra_range();
        let extra = record[range.clone()].to_vec();
        let saturated =
            [u32_at(&record, 24) == u32::MAX, u32_at(&record, 20) == u32::MAX, u32_at(&record, 42) == u32::MAX];
        let offs = zip64_offsets(&extra, saturated, [8, 8, 8]);
        let abs = |p: Option<usize>| p.map(|p| p + range.start);
        store_size(&mut record, 42, abs(offs[2]), offset, "offset")?;
        if let Some(&(crc, compressed, size)) = replaced.get(&i) {
            let flags = u16_at(&record, 8) & !FLAG_DATA_DESCRIPTOR;
            put_u16(&mut record, 8, flags);
            put_u32(&mut record, 16, crc);
            store_size(&mut record, 24, abs(offs[0]), size, "size")?;
            store_size(&mut record, 20, abs(offs[1]), compressed, "compressed size")?;
        }
        out.write_all(&record)?;
        count += 1;
    }
    let cd_size = out.pos - cd_start;
    let cd_offset = cd_start - layout.base;
    let fits16 = |v: u64| u16::try_from(v).ok().filter(|v| *v != u16::MAX);
    let fits32 = |v: u64| u32::try_from(v).ok().filter(|v| *v != u32::MAX);
    let needs_zip64 = layout.zip64_versions.is_some()
        || fits16(count).is_none()
        || fits32(cd_size).is_none()
        || fits32(cd_offset).is_none();
    if needs_zip64 {
        let (made_by, needed) = layout.zip64_versions.unwrap_or((45, 45));
        let record_pos = out.pos - layout.base;
        let mut rec = [0u8; ZIP64_EOCD_LEN];
        put_u32(&mut rec, 0, ZIP64_EOCD_SIG);
        put_u64(&mut rec, 4, (ZIP64_EOCD_LEN - 12) as u64);
        put_u16(&mut rec, 12, made_by);
        put_u16(&mut rec, 14, needed);
        put_u64(&mut rec, 24, count);
        put_u64(&mut rec, 32, count);
        put_u64(&mut rec, 40, cd_size);
        put_u64(&mut rec, 48, cd_offset);
        out.write_all(&rec)?;
        let mut loc = [0u8; ZIP64_LOCATOR_LEN];
        put_u32(&mut loc, 0, ZIP64_LOCATOR_SIG);
        put_u64(&mut loc, 8, record_pos);
        put_u32(&mut loc, 16, 1);
        out.write_all(&loc)?;
    }
    let sat = |i: usize| needs_zip64 && layout.eocd_saturated[i];
    let c16 = |i: usize| if sat(i) { u16::MAX } else { fits16(count).unwrap_or(u16::MAX) };
    let v32 = |i: usize, v: u64| if sat(i) { u32::MAX } else { fits32(v).unwrap_or(u32::MAX) };
    let mut eocd = vec![0u8; EOCD_LEN];
    put_u32(&mut eocd, 0, EOCD_SIG);
    put_u16(&mut eocd, 8, c16(0));
    put_u16(&mut eocd, 10, c16(1));
    put_u32(&mut eocd, 12, v32(2, cd_size));
    put_u32(&mut eocd, 16, v32(3, cd_offset));
    put_u16(&mut eocd, 20, u16::try_from(layout.comment.len()).unwrap_or(0));
    eocd.extend_from_slice(&layout.comment);
    out.write_all(&eocd)?;
    out.flush()?;
    Ok(out.pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn zip64_offsets_follow_the_saturated_fields() {
        // id 1, size 16: usize, offset
        let mut extra = vec![0xAA, 0xBB, 2, 0, 9, 9];
        extra.extend_from_slice(&[1, 0, 16, 0]);
        extra.extend_from_slice(&7u64.to_le_bytes());
        extra.extend_from_slice(&9u64.to_le_bytes());
        let offs = zip64_offsets(&extra, [true, false, true], [8, 8, 8]);
        assert_eq!(offs, [Some(10), None, Some(18)]);
        assert_eq!(u64_at(&extra, 18), 9);
    }

    #[test]
    fn garbage_is_a_corrupt_zip_not_a_panic() {
        for bytes in [vec![], b"PK\x05\x06".to_vec(), vec![0u8; 100], b"hello world, this is not a zip file".to_vec()] {
            assert!(ZipLayout::read(&mut Cursor::new(bytes)).is_err());
        }
    }
}
