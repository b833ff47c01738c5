//! A buffered reader that keeps its buffer across seeks.
//!
//! The zip reader parses a central directory with many small reads and moves between entries
//! with absolute seeks. On a bare `File` every one of those is a system call (profiling the scan
//! benchmark showed half the time in `read`); `std::io::BufReader` buffers the reads but throws
//! its buffer away on every `seek`, even one that lands inside it. No well-kept crate offers a
//! position-aware buffered `Read + Seek` (the `buffered-reader` family is read-only), so this is
//! written here: it tracks the absolute position and turns absolute seeks into
//! `BufReader::seek_relative`, which keeps the buffer when the target lies inside it.
//!
//! Invariant: the position seen by callers is always the true position of the next byte returned,
//! exactly as with the unbuffered reader.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// Buffer size: large enough for a typical central directory block, small enough for many threads.
pub const SEEK_BUFFER_BYTES: usize = 64 * 1024;

pub struct SeekBufReader<R> {
    inner: BufReader<R>,
    /// Absolute position of the next byte `read` returns.
    position: u64,
}

impl<R: Read + Seek> SeekBufReader<R> {
    /// Wraps `inner`, whose current position is taken as the starting point.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let position = inner.stream_position()?;
        Ok(SeekBufReader { inner: BufReader::with_capacity(SEEK_BUFFER_BYTES, inner), position })
    }
}

impl<R: Read> Read for SeekBufReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: Read> BufRead for SeekBufReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.position += amount as u64;
    }
}

impl<R: Read + Seek> Seek for SeekBufReader<R> {
    fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        let absolute = match target {
            SeekFrom::Start(at) => at,
            SeekFrom::Current(delta) => self
                .position
                .checked_add_signed(delta)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?,
            SeekFrom::End(_) => {
                self.position = self.inner.seek(target)?;
                return Ok(self.position);
            }
        };
        let delta = i64::try_from(i128::from(absolute) - i128::from(self.position))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "seek offset out of range"))?;
        self.inner.seek_relative(delta)?;
        self.position = absolute;
        Ok(absolute)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn reads_and_seeks_like_the_unbuffered_reader() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut plain = Cursor::new(data.clone());
        let mut buffered = SeekBufReader::new(Cursor::new(data)).expect("wrap");
        let steps = [
            SeekFrom::Start(10),
            SeekFrom::Current(100),
            SeekFrom::Start(5),
            SeekFrom::Start(200_000),
            SeekFrom::End(-30),
            SeekFrom::Current(-70_000),
            SeekFrom::Start(299_990),
            SeekFrom::End(10),
        ];
        for step in steps {
            assert_eq!(buffered.seek(step).expect("seek"), plain.seek(step).expect("seek"), "{step:?}");
            let mut a = [0u8; 37];
            let mut b = [0u8; 37];
            let n = plain.read(&mut a).expect("read");
            let m = read_up_to(&mut buffered, &mut b);
            assert_eq!(&a[..n], &b[..m], "{step:?}");
            assert_eq!(buffered.stream_position().expect("pos"), plain.stream_position().expect("pos"));
        }
        assert!(buffered.seek(SeekFrom::Current(-1_000_000)).is_err());
    }

    fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> usize {
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]).expect("read") {
                0 => break,
                n => filled += n,
            }
        }
        filled
    }
}
