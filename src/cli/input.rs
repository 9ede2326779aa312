//! Reading requests at a bounded cost: a whole file (or stdin) and each
//! batch line is read up to the size limit and no further, so an endless
//! or huge input (`/dev/zero`, a 10 GB line) ends in an error record, not
//! in an unbounded read. A request that cannot be read becomes the error
//! object it would have been had it been read and found wrong.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::rc::Rc;

use super::compress::Codec;
use crate::load::{io_reason, show_size};
use crate::request::RequestError;
use crate::source::bad_utf8;

/// The default size limit of one request (a file, stdin, or a batch line).
pub const DEFAULT_MAX_REQUEST: &str = "1MiB";

/// The most of an oversized batch line that is read past the limit to
/// find where the next line starts. An input whose line has not ended by
/// then (`/dev/zero`) is not a batch of requests: reading stops there.
const SKIP_LIMIT: u64 = 1 << 30;

/// A size on the command line: bytes, or with a binary unit: `4096`,
/// `512K`, `512KiB`, `1M`, `1MiB`, `1G`, `1GiB` (1K = 1024 bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => {
            return Err(format!(
                "unknown unit `{other}`: use K, M or G (binary: 1K = 1024)"
            ));
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| "expected a number of bytes, such as `1048576` or `1MiB`".to_owned())?;
    match n.checked_mul(1 << shift) {
        Some(0) | None => Err("the size must be at least 1 byte and fit in 64 bits".to_owned()),
        Some(size) => Ok(size),
    }
}

/// A whole request read from `path` (`-` is stdin), and whether it is
/// TOML (by extension; stdin is JSON unless it does not start with `{`
/// or `[`).
pub fn read_request(path: &Path, limit: u64) -> Result<(String, bool), RequestError> {
    let shown = path.display().to_string();
    let stdin = path.as_os_str() == "-";
    let read = if stdin {
        read_bounded(io::stdin().lock(), limit)
    } else {
        std::fs::File::open(path).and_then(|f| read_bounded(f, limit))
    };
    let bytes = match read {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err(too_large("the request file", shown, limit)),
        Err(e) => {
            return Err(RequestError::Io {
                message: format!("cannot read the request file: {}", io_reason(&e)),
                help: Some("check that the path names a readable request file".to_owned()),
                path: shown,
            });
        }
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let (at, byte) = bad_utf8(e.as_bytes(), e.utf8_error());
        RequestError::Syntax {
            message: format!("the request file is not UTF-8 (byte 0x{byte:02x} at offset {at})"),
            help: Some(
                "save the request as UTF-8 (a file saved as GBK is the common case)".to_owned(),
            ),
            path: shown.clone(),
        }
    })?;
    // A request is an object: JSON starts with `{`, and TOML may well start
    // with a table (`[order]`).
    let toml = if stdin {
        let start = text.trim_start_matches(['\u{FEFF}', ' ', '\t', '\r', '\n']);
        !start.is_empty() && !start.starts_with('{')
    } else {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    };
    Ok((text, toml))
}

/// At most `limit` bytes of `reader`; `None` when there is more.
pub(super) fn read_bounded(reader: impl Read, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// `what` (`line 7`, `the request file`) is over the limit; `path` is the
/// file's, or empty for a batch line.
pub(super) fn too_large(what: &str, path: String, limit: u64) -> RequestError {
    RequestError::TooLarge {
        message: format!(
            "{what} is larger than the request size limit of {}",
            show_size(limit)
        ),
        help: Some(
            "a request is a few kilobytes; if this one is genuine, raise the limit with `--max-request-size`"
                .to_owned(),
        ),
        path,
    }
}

/// A batch opened for its lines: decompressed as its name says (stdin is
/// read as it comes), and how far into the file reading has got.
pub struct BatchInput {
    pub reader: Box<dyn BufRead>,
    /// The file's size, when it is a regular file: where `read` ends.
    pub size: Option<u64>,
    /// Bytes read from the file so far: compressed bytes, for a
    /// compressed file, so that they can be set against its size.
    pub read: Rc<Cell<u64>>,
}

/// Opens the batch `path` (`-` is stdin).
pub fn open_batch(path: &Path) -> io::Result<BatchInput> {
    let read = Rc::new(Cell::new(0));
    if path.as_os_str() == "-" {
        return Ok(BatchInput {
            reader: Box::new(io::stdin().lock()),
            size: None,
            read,
        });
    }
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let size = (meta.is_file() && meta.len() > 0).then_some(meta.len());
    let counted = Counted {
        inner: file,
        count: Rc::clone(&read),
    };
    Ok(BatchInput {
        reader: Codec::of(path).decoder(io::BufReader::with_capacity(1 << 16, counted)),
        size,
        read,
    })
}

/// A reader that adds up the bytes it has read.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// One line of a batch: its number (from 1) and its bytes without the line
/// break, or the error of a line over the limit.
pub type Line<'a> = (u64, Result<&'a [u8], RequestError>);

/// The lines of a batch, each read up to the size limit: memory stays
/// bounded by the limit whatever the input.
pub struct Lines<R> {
    reader: R,
    limit: usize,
    buf: Vec<u8>,
    number: u64,
    /// The line before was over the limit and its rest is still unread.
    skipping: bool,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, limit: u64) -> Lines<R> {
        Lines {
            reader,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            buf: Vec::new(),
            number: 0,
            skipping: false,
        }
    }

    /// The next line; `None` at the end of the input. An error is an I/O
    /// error, or a line that does not end within the skip limit.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        if self.skipping {
            self.skip_rest()?;
        }
        self.buf.clear();
        loop {
            let available = fill(&mut self.reader)?;
            if available.is_empty() {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                break;
            }
            let (take, consumed, ended) = match memchr::memchr(b'\n', available) {
                Some(i) => (i, i + 1, true),
                None => (available.len(), available.len(), false),
            };
            // The `\r` of a `\r\n` is part of the line break, not the line.
            let cr = ended
                && match take.checked_sub(1) {
                    Some(j) => available.get(j) == Some(&b'\r'),
                    None => self.buf.last() == Some(&b'\r'),
                };
            if self.buf.len() + take - usize::from(cr) > self.limit {
                self.reader.consume(consumed);
                self.skipping = !ended;
                self.number += 1;
                let what = format!("line {}", self.number);
                let e = too_large(&what, String::new(), self.limit as u64);
                return Ok(Some((self.number, Err(e))));
            }
            self.buf
                .extend_from_slice(available.get(..take).unwrap_or_default());
            self.reader.consume(consumed);
            if ended {
                break;
            }
        }
        self.number += 1;
        let line = self.buf.strip_suffix(b"\r").unwrap_or(&self.buf);
        Ok(Some((self.number, Ok(line))))
    }

    /// Reads and drops the rest of an oversized line.
    fn skip_rest(&mut self) -> io::Result<()> {
        let mut skipped: u64 = 0;
        loop {
            let available = fill(&mut self.reader)?;
            if available.is_empty() {
                break;
            }
            if let Some(i) = memchr::memchr(b'\n', available) {
                self.reader.consume(i + 1);
                break;
            }
            let n = available.len();
            self.reader.consume(n);
            skipped += n as u64;
            if skipped > SKIP_LIMIT {
                return Err(io::Error::other(format!(
                    "line {} has not ended after {}: this is not a batch of requests",
                    self.number,
                    show_size(SKIP_LIMIT)
                )));
            }
        }
        self.skipping = false;
        Ok(())
    }
}

/// The reader's buffer, refilled if empty; a read interrupted by a signal
/// is tried again.
fn fill<R: BufRead>(reader: &mut R) -> io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
            // Asked again only to hand the buffer out: it is filled.
            Ok(_) => return reader.fill_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("2 GiB"), Ok(2 << 30));
        assert_eq!(parse_size("4m"), Ok(4 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1.5M").is_err());
        assert!(parse_size("1T").is_err());
        assert!(parse_size("99999999999G").is_err());
        assert_eq!(show_size(1 << 20), "1 MiB (1048576 bytes)");
        assert_eq!(show_size(1000), "1000 bytes");
    }

    fn lines(input: &[u8], limit: u64) -> Vec<(u64, Result<String, &'static str>)> {
        let mut out = Vec::new();
        let mut lines = Lines::new(io::BufReader::with_capacity(4, input), limit);
        while let Some((n, line)) = lines.next_line().unwrap() {
            let line = line
                .map(|l| String::from_utf8(l.to_vec()).unwrap())
                .map_err(|e| e.code());
            out.push((n, line));
        }
        out
    }

    #[test]
    fn every_line_is_one_item_and_long_ones_are_errors() {
        let got = lines(b"ab\r\n\nabcdefgh\nxyz\nabcdefghijk", 5);
        let too_large = Err("rpl::request::too_large");
        assert_eq!(
            got,
            vec![
                (1, Ok("ab".to_owned())),
                (2, Ok(String::new())),
                (3, too_large.clone()),
                (4, Ok("xyz".to_owned())),
                (5, too_large),
            ]
        );
        // Exactly at the limit is fine, with either line break; no item
        // after a final line break.
        assert_eq!(lines(b"abcde\n", 5), vec![(1, Ok("abcde".to_owned()))]);
        assert_eq!(
            lines(b"abcde\r\nx", 5),
            vec![(1, Ok("abcde".to_owned())), (2, Ok("x".to_owned()))]
        );
        assert!(lines(b"", 5).is_empty());
    }

    /// `/dev/zero` as a batch: one endless line. Its record comes at once,
    /// and reading stops with an error after the skip limit, in bounded
    /// memory.
    #[test]
    fn an_endless_line_ends_with_an_error() {
        let zeros = io::repeat(0).take(SKIP_LIMIT + (1 << 20));
        let mut lines = Lines::new(io::BufReader::new(zeros), 1024);
        let (n, first) = lines.next_line().unwrap().unwrap();
        assert_eq!(
            (n, first.unwrap_err().code()),
            (1, "rpl::request::too_large")
        );
        let e = lines.next_line().unwrap_err();
        assert!(e.to_string().contains("line 1 has not ended"), "{e}");
        assert!(lines.buf.capacity() <= 1 << 20);
    }

    #[test]
    fn a_request_file_is_read_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; 2000]).unwrap();
        assert_eq!(
            read_request(&big, 1999).unwrap_err().code(),
            "rpl::request::too_large"
        );
        assert!(read_request(&big, 2000).is_ok());
        let gbk = dir.path().join("gbk.json");
        std::fs::write(&gbk, b"{\"message\": \"\xcd\xcb\xbb\xf5\"}").unwrap();
        let e = read_request(&gbk, 100).unwrap_err();
        assert_eq!(e.code(), "rpl::request::syntax");
        assert!(e.message().ends_with("(byte 0xcd at offset 13)"), "{e}");
        assert_eq!(e.path(), gbk.display().to_string());
        let e = read_request(dir.path(), 100).unwrap_err();
        assert_eq!(e.code(), "rpl::request::io");
        assert!(e.message().ends_with("is a directory"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_as_a_request_file_is_too_large() {
        let e = read_request(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(e.code(), "rpl::request::too_large");
    }
}
