//! # quell-io — recognising and opening compressed streams
//!
//! Both the scanner (tar.gz, single-file .gz, tar.zst, ...) and the hunter (rotated, compressed
//! logs) read data that may be compressed. This crate recognises the compression by its magic
//! bytes, never by file name, and wraps a reader in the matching decoder.
//!
//! Brief overview:
//! - [`Compression::sniff`] — which compression a stream starts with.
//! - [`decompress`] — a boxed reader that yields the decompressed bytes (multi-member gzip, bzip2,
//!   xz and zstd streams are read to their end).
//! - [`CappedReader`] — a reader that fails with a clear error once more than a given number of
//!   bytes has been read: the guard against decompression bombs.
//!
//! Invariant: nothing here allocates in proportion to the input; every reader streams.

use std::io::{self, Read};

/// A compression format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// Whether the bytes start a real gzip member header (RFC 1952 §2.3): the magic `1f 8b`, the
/// compression method 8 (deflate, the only one defined) and no reserved flag bit set. Two magic
/// bytes alone are not enough: one file in 65,536 of random data starts with them.
pub fn is_gzip_header(head: &[u8]) -> bool {
    const RESERVED_FLAGS: u8 = 0xe0;
    head.len() >= 4 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8 && head[3] & RESERVED_FLAGS == 0
}

/// Bytes needed at the start of a stream to recognise every [`Compression`].
pub const SNIFF_LEN: usize = 6;

impl Compression {
    /// Recognises a compression format from the first bytes of a stream (at least
    /// [`SNIFF_LEN`] bytes for a reliable answer; fewer bytes give `None`).
    pub fn sniff(head: &[u8]) -> Compression {
        if is_gzip_header(head) {
            Compression::Gzip
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Compression::Bzip2
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// A short lower-case name (`gzip`, `bzip2`, `xz`, `zstd`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }
}

/// Wraps `reader` in the decoder for `compression`. `Compression::None` returns the reader as is.
pub fn decompress<'a, R: Read + 'a>(compression: Compression, reader: R) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(reader)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(reader)?),
    })
}

/// Reads up to `buf.len()` bytes, stopping early only at end of stream. Returns the count read.
pub fn read_up_to<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The error a [`CappedReader`] returns once its limit is passed.
#[derive(Debug, thiserror::Error)]
#[error("{what} exceeds the limit of {limit} bytes")]
pub struct LimitExceeded {
    pub what: &'static str,
    pub limit: u64,
}

/// A reader that fails with [`LimitExceeded`] (as an `io::Error` of kind `Other`) when more than
/// `limit` bytes would be read. Used on every decompressed stream so that a bomb ends in an error.
pub struct CappedReader<R> {
    inner: R,
    remaining: u64,
    limit: u64,
    what: &'static str,
}

impl<R: Read> CappedReader<R> {
    pub fn new(inner: R, limit: u64, what: &'static str) -> Self {
        CappedReader { inner, remaining: limit, limit, what }
    }

    /// The limit it was made with.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes read so far.
    pub fn consumed(&self) -> u64 {
        self.limit - self.remaining
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            // Probe one byte: a stream that ends exactly at the limit is fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(LimitExceeded { what: self.what, limit: self.limit })),
            };
        }
        let max = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sniffs_and_round_trips_every_format() {
        let text = b"hello, quell\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).expect("gz");
        let gz = gz.finish().expect("gz");
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&text).expect("bz");
        let bz = bz.finish().expect("bz");
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(&text).expect("xz");
        let xz = xz.finish().expect("xz");
        let zst = zstd::encode_all(&text[..], 3).expect("zstd");
        for (data, expected) in [
            (&gz, Compression::Gzip),
            (&bz, Compression::Bzip2),
            (&xz, Compression::Xz),
            (&zst, Compression::Zstd),
            (&text, Compression::None),
        ] {
            assert_eq!(Compression::sniff(data), expected);
            let mut out = Vec::new();
            decompress(expected, &data[..]).expect("open").read_to_end(&mut out).expect("read");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn gzip_needs_method_8_and_sane_flags_not_just_the_magic() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0, 0, 0]), Compression::Gzip);
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0x1f, 0, 0]), Compression::Gzip, "FTEXT..FCOMMENT");
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 7, 0, 0, 0]), Compression::None, "reserved method");
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0x20, 0, 0]), Compression::None, "reserved flag bit");
        assert_eq!(Compression::sniff(&[0x1f, 0x8b]), Compression::None, "magic alone");
    }

    #[test]
    fn capped_reader_stops_a_bomb() {
        let zeros = vec![0u8; 10_000];
        let mut ok = Vec::new();
        CappedReader::new(&zeros[..], 10_000, "test").read_to_end(&mut ok).expect("at limit is fine");
        let mut over = Vec::new();
        let err = CappedReader::new(&zeros[..], 9_999, "test").read_to_end(&mut over).expect_err("over");
        assert!(err.to_string().contains("exceeds the limit of 9999 bytes"), "{err}");
    }
}
