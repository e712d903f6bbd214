//! A streaming `multipart/form-data` reader for the emulator's upload endpoint: it hands each
//! part's bytes to a sink as they arrive, so a 100 MB upload never sits in memory.

use std::io::{self, Read, Write};

use memchr::memmem::Finder;

use crate::wire::FormDisposition;

const READ_CHUNK: usize = 64 * 1024;
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Why a body could not be read as multipart.
#[derive(Debug)]
pub(crate) enum MultipartError {
    /// The body does not follow RFC 7578 framing.
    Malformed(&'static str),
    /// Reading the request or writing a part failed (including a sink's own limit).
    Io(io::Error),
}

impl From<io::Error> for MultipartError {
    fn from(e: io::Error) -> Self {
        MultipartError::Io(e)
    }
}

/// The headers of one part that the emulator cares about.
#[derive(Debug, Default)]
pub(crate) struct PartHeaders {
    pub(crate) name: Option<String>,
    pub(crate) filename: Option<String>,
}

/// Reads parts from a body whose boundary is known.
pub(crate) struct MultipartReader<R> {
    source: R,
    buf: Vec<u8>,
    start: usize,
    eof: bool,
    delimiter: Vec<u8>,
}

/// The boundary parameter of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

impl<R: Read> MultipartReader<R> {
    /// A reader for parts separated by `--boundary`.
    pub(crate) fn new(source: R, boundary: &str) -> Self {
        MultipartReader {
            source,
            buf: Vec::with_capacity(2 * READ_CHUNK),
            start: 0,
            eof: false,
            delimiter: format!("\r\n--{boundary}").into_bytes(),
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Reads more of the body; false at its end.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + READ_CHUNK, 0);
        let n = loop {
            match self.source.read(&mut self.buf[old..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = n.inspect_err(|_| self.buf.truncate(old))?;
        self.buf.truncate(old + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// Skips the preamble up to the first boundary line, writing it to `sink` (which may
    /// set a limit: a chunked body's preamble could otherwise go on for ever). The first
    /// delimiter may come without the leading CRLF, so one is assumed in front of the body.
    pub(crate) fn skip_preamble(&mut self, sink: &mut dyn Write) -> Result<(), MultipartError> {
        self.buf.extend_from_slice(b"\r\n");
        self.copy_part(sink).map(|_| ())
    }

    /// Reads the next part's headers; None after the closing boundary.
    pub(crate) fn next_part(&mut self) -> Result<Option<PartHeaders>, MultipartError> {
        // Positioned right after a delimiter: "--" ends the body, CRLF starts a part.
        while self.pending().len() < 2 {
            if !self.fill()? {
                return Err(MultipartError::Malformed(
                    "body ends inside a boundary line",
                ));
            }
        }
        if self.pending().starts_with(b"--") {
            return Ok(None);
        }
        let finder = Finder::new(b"\r\n\r\n");
        let end = loop {
            if let Some(i) = finder.find(self.pending()) {
                break i;
            }
            if self.pending().len() > MAX_HEADER_BYTES {
                return Err(MultipartError::Malformed("part headers too long"));
            }
            if !self.fill()? {
                return Err(MultipartError::Malformed("body ends inside part headers"));
            }
        };
        let head = String::from_utf8_lossy(&self.pending()[..end]).into_owned();
        self.start += end + 4;
        Ok(Some(parse_part_headers(&head)))
    }

    /// Streams the current part's bytes to `sink`; returns how many were written.
    pub(crate) fn copy_part(&mut self, sink: &mut dyn Write) -> Result<u64, MultipartError> {
        let finder = Finder::new(&self.delimiter).into_owned();
        let keep = self.delimiter.len() - 1;
        let mut written = 0u64;
        loop {
            if let Some(i) = finder.find(self.pending()) {
                // A delimiter counts only when "--" or CRLF follows it (RFC 2046).
                let after = i + self.delimiter.len();
                if self.pending().len() < after + 2 {
                    if self.fill()? {
                        continue;
                    }
                    return Err(MultipartError::Malformed(
                        "body ends inside a boundary line",
                    ));
                }
                let tail = &self.pending()[after..after + 2];
                if tail == b"--" || tail == b"\r\n" {
                    sink.write_all(&self.pending()[..i])?;
                    written += i as u64;
                    self.start += after;
                    return Ok(written);
                }
                sink.write_all(&self.pending()[..=i])?;
                written += i as u64 + 1;
                self.start += i + 1;
                continue;
            }
            let safe = self.pending().len().saturating_sub(keep);
            if safe > 0 {
                sink.write_all(&self.pending()[..safe])?;
                written += safe as u64;
                self.start += safe;
            }
            if !self.fill()? {
                return Err(MultipartError::Malformed(
                    "body ends before the closing boundary",
                ));
            }
        }
    }
}

/// Pulls `name` and `filename` out of a part's `Content-Disposition` (RFC 7578), with
/// quoted-string and browser escapes undone.
fn parse_part_headers(head: &str) -> PartHeaders {
    let mut headers = PartHeaders::default();
    for line in head.split("\r\n") {
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        if !field.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        let disposition = FormDisposition::read(value);
        headers.name = disposition.name;
        headers.filename = disposition.filename;
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(body: &[u8], boundary: &str) -> Result<Vec<(PartHeaders, Vec<u8>)>, MultipartError> {
        let mut reader = MultipartReader::new(body, boundary);
        reader.skip_preamble(&mut io::sink())?;
        let mut out = Vec::new();
        while let Some(headers) = reader.next_part()? {
            let mut bytes = Vec::new();
            reader.copy_part(&mut bytes)?;
            out.push((headers, bytes));
        }
        Ok(out)
    }

    #[test]
    fn reads_fields_and_files_with_escaped_names() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nuser_data\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a%22b.txt\"\r\nContent-Type: text/plain\r\n\r\nline1\r\n--XyZnot\r\n--XyZ--\r\n";
        let got = parts(body, "XyZ").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.name.as_deref(), Some("purpose"));
        assert_eq!(got[0].1, b"user_data");
        assert_eq!(got[1].0.filename.as_deref(), Some("a\"b.txt"));
        assert_eq!(got[1].1, b"line1\r\n--XyZnot");
    }

    #[test]
    fn finds_boundaries_split_across_reads() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n0123456789\r\n--b--";
        let mut reader = MultipartReader::new(Trickle(body), "b");
        reader.skip_preamble(&mut io::sink()).unwrap();
        reader.next_part().unwrap().unwrap();
        let mut bytes = Vec::new();
        reader.copy_part(&mut bytes).unwrap();
        assert_eq!(bytes, b"0123456789");
        assert!(reader.next_part().unwrap().is_none());
    }

    #[test]
    fn rejects_a_body_without_closing_boundary() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc";
        assert!(matches!(
            parts(body, "b"),
            Err(MultipartError::Malformed(_))
        ));
    }

    #[test]
    fn boundary_comes_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("multipart/form-data; charset=x; boundary=\"q\"").as_deref(),
            Some("q")
        );
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }
}
