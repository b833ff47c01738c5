//! The [`LogReader`]: which files to read, opening them (compressed or not), and the block loop
//! that hands candidate lines to the hunter with their 1-based line numbers and byte offsets.
//!
//! Files are read in large blocks. The [`Prefilter`] runs over each block; only around its hits
//! are line boundaries found and lines counted up to the hit, and the rest of the block's
//! newlines are counted in bulk. A line longer than the block is handed over in block-sized
//! segments that share its line number (a payload straddling a segment boundary is missed).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use quell_io::{CappedReader, Compression, SNIFF_LEN, decompress, read_up_to};

use crate::prefilter::{Hit, HitKind, Prefilter};

/// Default block size (bytes), which is also the longest line segment evaluated at once. 1 MiB:
/// blocks that stay in the CPU cache between the copy from the kernel and the search are faster
/// than larger ones.
pub const DEFAULT_BLOCK_BYTES: usize = 1 << 20;
/// Default cap on the decompressed size of one file (bytes): the guard against bombs.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 1 << 40;

/// A log source: a file, or standard input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    File(PathBuf),
    Stdin,
}

impl Source {
    /// The name used in reports (`-` for standard input).
    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".to_owned(),
        }
    }
}

/// A path that could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct WalkError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// Reads log sources.
#[derive(Debug, Clone, Copy)]
pub struct LogReader {
    /// Block size in bytes.
    pub block_bytes: usize,
    /// Cap on the decompressed bytes of one source.
    pub max_decompressed_bytes: u64,
}

impl Default for LogReader {
    fn default() -> Self {
        LogReader { block_bytes: DEFAULT_BLOCK_BYTES, max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES }
    }
}

/// Totals of one source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Lines (a final line without a newline counts).
    pub lines: u64,
}

/// Needles that change while a stream is read (see [`LogReader::scan_with`]).
pub trait ExtraNeedles {
    /// Changes whenever the needles change.
    fn generation(&self) -> u64;
    /// The next occurrence at or after `from`.
    fn find(&self, hay: &[u8], from: usize) -> Option<usize>;
}

/// A candidate line (or segment of a long line).
#[derive(Debug, Clone, Copy)]
pub struct CandidateLine<'b> {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line (segment) start in the decompressed stream.
    pub offset: u64,
    /// The line without its end-of-line characters.
    pub bytes: &'b [u8],
    /// The first prefilter hit in the line.
    pub hit: Hit,
}

impl LogReader {
    /// Expands paths into sources: files as given, directories recursively (sorted, symbolic
    /// links not followed inside directories), `-` as standard input.
    pub fn sources(paths: &[PathBuf]) -> (Vec<Source>, Vec<WalkError>) {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for p in paths {
            if p.as_os_str() == "-" {
                out.push(Source::Stdin);
                continue;
            }
            walk(p, &mut out, &mut errors, true);
        }
        (out, errors)
    }

    /// Opens a source, recognising compression by its magic bytes.
    pub fn open(&self, source: &Source) -> io::Result<Box<dyn Read>> {
        let raw: Box<dyn Read> = match source {
            Source::File(p) => Box::new(File::open(p)?),
            Source::Stdin => Box::new(io::stdin()),
        };
        self.wrap(raw)
    }

    /// Sniffs the compression of `raw` and wraps it in the decoder and the size cap.
    pub fn wrap(&self, mut raw: Box<dyn Read>) -> io::Result<Box<dyn Read>> {
        let mut head = [0u8; SNIFF_LEN];
        let n = read_up_to(&mut raw, &mut head)?;
        let compression = Compression::sniff(&head[..n]);
        let chained: Box<dyn Read> = Box::new(io::Cursor::new(head[..n].to_vec()).chain(raw));
        if compression == Compression::None {
            return utf16_aware(chained);
        }
        let decoded = decompress(compression, chained)?;
        utf16_aware(Box::new(CappedReader::new(decoded, self.max_decompressed_bytes, "decompressed log")))
    }

    /// Reads `reader` to its end, calling `on_line` for every line holding a prefilter hit.
    /// On a read error the totals so far are returned with the error.
    pub fn scan<R: Read + ?Sized>(
        &self,
        reader: &mut R,
        prefilter: &Prefilter,
        on_line: impl FnMut(CandidateLine<'_>),
    ) -> Result<ReadStats, (ReadStats, io::Error)> {
        self.scan_with(reader, prefilter, None, on_line)
    }

    /// [`LogReader::scan`], with `extra` needles that change while the stream is read (the file
    /// names a Spring4Shell write dropped): a line holding one is a candidate too, with a
    /// [`HitKind::Dropped`] hit. Each search's next position is remembered, so every byte is
    /// searched once per searcher (and again only after `extra` changes).
    pub fn scan_with<R: Read + ?Sized>(
        &self,
        reader: &mut R,
        prefilter: &Prefilter,
        extra: Option<&dyn ExtraNeedles>,
        mut on_line: impl FnMut(CandidateLine<'_>),
    ) -> Result<ReadStats, (ReadStats, io::Error)> {
        let cap = self.block_bytes.max(4096);
        let mut buf = vec![0u8; cap];
        let mut len = 0usize;
        let mut base: u64 = 0;
        // Line number of the line holding buf[0].
        let mut line_at_start: u64 = 1;
        let mut stats = ReadStats::default();
        let mut last_byte_newline = true;
        loop {
            let n = match read_up_to(reader, &mut buf[len..]) {
                Ok(n) => n,
                Err(e) => {
                    stats.lines = line_at_start - u64::from(last_byte_newline || len == 0) + u64::from(len > 0);
                    return Err((stats, e));
                }
            };
            len += n;
            stats.bytes += n as u64;
            let eof = len < cap;
            let end = if eof {
                len
            } else {
                match memchr::memrchr(b'\n', &buf[..len]) {
                    Some(i) => i + 1,
                    None => len,
                }
            };
            let block = &buf[..end];
            let mut counted = 0usize;
            let mut line = line_at_start;
            let mut from = 0usize;
            // The next hit of each searcher (`None` inside: none in the rest of the block),
            // valid while it is at or after `from`.
            let mut main_next: Option<Option<Hit>> = None;
            let mut extra_next: Option<(u64, Option<usize>)> = None;
            while from < end {
                let main = match main_next {
                    Some(h) if h.is_none_or(|h| h.pos >= from) => h,
                    _ => {
                        let h = prefilter.find(block, from);
                        main_next = Some(h);
                        h
                    }
                };
                let dropped = match extra {
                    None => None,
                    Some(x) => match extra_next {
                        Some((g, p)) if g == x.generation() && p.is_none_or(|p| p >= from) => p,
                        _ => {
                            let p = x.find(block, from);
                            extra_next = Some((x.generation(), p));
                            p
                        }
                    },
                };
                let mut best = main;
                if let Some(pos) = dropped
                    && best.is_none_or(|b| pos < b.pos)
                {
                    best = Some(Hit { pos, kind: HitKind::Dropped });
                }
                let Some(hit) = best else { break };
                let ls = memchr::memrchr(b'\n', &block[..hit.pos]).map_or(0, |i| i + 1);
                let le = memchr::memchr(b'\n', &block[hit.pos..]).map_or(end, |i| hit.pos + i);
                line += count_newlines(&block[counted.min(ls)..ls]);
                counted = ls;
                let mut bytes = &block[ls..le];
                if bytes.last() == Some(&b'\r') {
                    bytes = &bytes[..bytes.len() - 1];
                }
                on_line(CandidateLine { line, offset: base + ls as u64, bytes, hit });
                from = le + 1;
            }
            line += count_newlines(&block[counted..end]);
            if end > 0 {
                last_byte_newline = block[end - 1] == b'\n';
            }
            line_at_start = line;
            if eof {
                break;
            }
            buf.copy_within(end..len, 0);
            len -= end;
            base += end as u64;
        }
        // `line_at_start` is the number of the line after the last newline; it exists only if
        // bytes follow that newline.
        stats.lines = if stats.bytes == 0 {
            0
        } else if last_byte_newline {
            line_at_start - 1
        } else {
            line_at_start
        };
        Ok(stats)
    }
}

/// A UTF-16 text (recognised by its byte-order mark) is transcoded to UTF-8, so that Windows
/// exports are read like any other log (byte offsets then count UTF-8 bytes); anything else passes
/// through untouched.
fn utf16_aware(mut r: Box<dyn Read>) -> io::Result<Box<dyn Read>> {
    let mut bom = [0u8; 2];
    let n = read_up_to(&mut r, &mut bom)?;
    let big_endian = match &bom[..n] {
        [0xFF, 0xFE] => false,
        [0xFE, 0xFF] => true,
        _ => return Ok(Box::new(io::Cursor::new(bom[..n].to_vec()).chain(r))),
    };
    Ok(Box::new(Utf16Reader { inner: r, big_endian, pending: Vec::new(), at: 0, carry: None, eof: false }))
}

/// Transcodes UTF-16 to UTF-8 (unpaired surrogates become U+FFFD).
struct Utf16Reader {
    inner: Box<dyn Read>,
    big_endian: bool,
    pending: Vec<u8>,
    at: usize,
    /// An odd byte or a high surrogate waiting for its partner.
    carry: Option<Vec<u8>>,
    eof: bool,
}

impl Read for Utf16Reader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.pending.len() {
            if self.eof {
                return Ok(0);
            }
            let mut raw = self.carry.take().unwrap_or_default();
            let start = raw.len();
            raw.resize(start + 64 * 1024, 0);
            let n = read_up_to(&mut self.inner, &mut raw[start..])?;
            raw.truncate(start + n);
            if n == 0 {
                self.eof = true;
            }
            let mut units: Vec<u16> =
                raw.chunks_exact(2)
                    .map(|c| {
                        if self.big_endian {
                            u16::from_be_bytes([c[0], c[1]])
                        } else {
                            u16::from_le_bytes([c[0], c[1]])
                        }
                    })
                    .collect();
            let mut keep = raw.len() % 2;
            if !self.eof && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                units.pop();
                keep += 2;
            }
            if keep > 0 && !self.eof {
                self.carry = Some(raw[raw.len() - keep..].to_vec());
            }
            self.pending = char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect::<String>()
                .into_bytes();
            self.at = 0;
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn count_newlines(b: &[u8]) -> u64 {
    bytecount::count(b, b'\n') as u64
}

fn walk(p: &Path, out: &mut Vec<Source>, errors: &mut Vec<WalkError>, top: bool) {
    let meta = if top { std::fs::metadata(p) } else { std::fs::symlink_metadata(p) };
    match meta {
        Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
            Ok(rd) => {
                let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                entries.sort();
                for e in entries {
                    walk(&e, out, errors, false);
                }
            }
            Err(e) => errors.push(WalkError { path: p.display().to_string(), source: e }),
        },
        Ok(m) if m.is_file() => out.push(Source::File(p.to_path_buf())),
        Ok(_) => {}
        Err(e) => errors.push(WalkError { path: p.display().to_string(), source: e }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(data: &[u8], block: usize) -> (ReadStats, Vec<(u64, u64)>) {
        let r = LogReader { block_bytes: block, ..LogReader::default() };
        let mut got = Vec::new();
        let stats = r
            .scan(&mut io::Cursor::new(data.to_vec()), &Prefilter::new(), |c| got.push((c.line, c.offset)))
            .expect("reads");
        (stats, got)
    }

    #[test]
    fn line_numbers_and_offsets() {
        let mut data = Vec::new();
        for i in 0..5000 {
            if i % 700 == 3 {
                data.extend_from_slice(b"x ${y}\n");
            } else {
                data.extend_from_slice(b"plain line of text\n");
            }
        }
        for block in [4096, 5000, 1 << 20] {
            let (stats, got) = lines_of(&data, block);
            assert_eq!(stats.lines, 5000);
            let expect: Vec<u64> = (0..5000).filter(|i| i % 700 == 3).map(|i| i + 1).collect();
            assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), expect, "block {block}");
            for (line, off) in got {
                assert_eq!(&data[off as usize..off as usize + 6], b"x ${y}");
                let _ = line;
            }
        }
        let (stats, _) = lines_of(b"a\nb", 4096);
        assert_eq!(stats.lines, 2);
        let (stats, _) = lines_of(b"", 4096);
        assert_eq!(stats.lines, 0);
    }

    #[test]
    fn utf16_logs_are_transcoded() {
        for big_endian in [false, true] {
            let text = "a\nb ${x} é\nc\n".repeat(20_000);
            let mut data = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
            for u in text.encode_utf16() {
                data.extend_from_slice(&if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
            }
            let mut r = LogReader::default().wrap(Box::new(io::Cursor::new(data))).expect("wrap");
            let mut out = String::new();
            r.read_to_string(&mut out).expect("utf-8");
            assert_eq!(out, text);
        }
    }
}
