//! Our own small streaming `multipart/form-data` encoder for uploads: one `file` part, an
//! exact `Content-Length`, names escaped the way browsers do (WHATWG), and a random boundary.

use std::io::{self, Cursor, Read};

/// The body of a one-file form: `preamble ++ file ++ epilogue`.
pub(crate) struct FilePart {
    boundary: String,
    preamble: Vec<u8>,
    epilogue: Vec<u8>,
}

impl FilePart {
    /// The framing around a file part named `file` with this filename and part content type.
    pub(crate) fn new(filename: &str, content_type: &str) -> FilePart {
        let boundary = format!("openrouter-files-{}", random_hex());
        let preamble = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename={}\r\nContent-Type: {}\r\n\r\n",
            crate::codec::content_disposition::quote(filename),
            escape(content_type),
        )
        .into_bytes();
        let epilogue = format!("\r\n--{boundary}--\r\n").into_bytes();
        FilePart {
            boundary,
            preamble,
            epilogue,
        }
    }

    /// The request's `Content-Type`.
    pub(crate) fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The exact body length for a file of `file_len` bytes.
    pub(crate) fn body_len(&self, file_len: u64) -> u64 {
        self.preamble.len() as u64 + file_len + self.epilogue.len() as u64
    }

    /// The whole body for a file of `file_len` bytes: streamed between the framing, or, for a
    /// small file, gathered with its framing into one buffer on the first read, so that the
    /// body leaves in one write instead of three.
    pub(crate) fn body<'a>(&self, file: impl Read + 'a, file_len: u64) -> Box<dyn Read + 'a> {
        let body_len = self.body_len(file_len);
        if body_len <= GATHER_LIMIT {
            return Box::new(Gathered::Pending {
                head: self.preamble.clone(),
                file: Box::new(file),
                tail: self.epilogue.clone(),
                len: body_len as usize,
            });
        }
        Box::new(
            Cursor::new(self.preamble.clone())
                .chain(file)
                .chain(Cursor::new(self.epilogue.clone())),
        )
    }
}

/// The largest body gathered into one buffer: well under ureq's 128 KiB output buffer, which
/// is what one read of the body (and so one write to the socket) can fill.
const GATHER_LIMIT: u64 = 64 * 1024;

/// A small body: the framing and the file, read into one buffer when first asked for.
enum Gathered<'a> {
    Pending {
        head: Vec<u8>,
        file: Box<dyn Read + 'a>,
        tail: Vec<u8>,
        len: usize,
    },
    Ready(Cursor<Vec<u8>>),
}

impl Read for Gathered<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Gathered::Pending {
            head,
            file,
            tail,
            len,
        } = self
        {
            let mut body = Vec::with_capacity(*len);
            body.append(head);
            file.read_to_end(&mut body)?;
            body.append(tail);
            *self = Gathered::Ready(Cursor::new(body));
        }
        match self {
            Gathered::Ready(body) => body.read(buf),
            Gathered::Pending { .. } => unreachable!("gathered above"),
        }
    }
}

/// Escapes a part header value as browsers do: `"` → `%22`, CR → `%0D`, LF → `%0A`, so no
/// header can be split; other characters, UTF-8 included, stay as they are. (File names are
/// written by [`crate::codec::content_disposition::quote`], which also escapes `\`.)
pub(crate) fn escape(text: &str) -> String {
    text.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// 32 hex digits; a boundary needs to be unlikely in the content, not secret.
fn random_hex() -> String {
    use crate::rand::random_u64;
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

/// The part content type for a file name: a few common types by extension, else
/// `application/octet-stream`. The server detects the real type from the content.
pub(crate) fn guess_content_type(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "ogg" | "oga" => "audio/ogg",
        "json" => "application/json",
        "jsonl" | "ndjson" => "application/x-ndjson",
        "csv" => "text/csv",
        "md" | "markdown" => "text/markdown",
        "txt" | "text" | "log" => "text/plain",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_framed_exactly() {
        let part = FilePart::new("a\"b\r\nX-Injected: 1.txt", "text/plain");
        let mut body = Vec::new();
        part.body(&b"hello"[..], 5).read_to_end(&mut body).unwrap();
        assert_eq!(body.len() as u64, part.body_len(5));
        let text = String::from_utf8(body).unwrap();
        let boundary = part
            .content_type()
            .split_once("boundary=")
            .unwrap()
            .1
            .to_string();
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("filename=\"a%22b%0D%0AX-Injected: 1.txt\""));
        assert!(!text.contains("\r\nX-Injected"));
        assert!(
            text.ends_with(&format!("\r\nhello\r\n--{boundary}--\r\n").replacen(
                "\r\nhello",
                "hello",
                1
            ))
        );
    }

    #[test]
    fn small_bodies_come_in_one_read_and_large_ones_stream() {
        let part = FilePart::new("a.txt", "text/plain");
        let small = vec![b'x'; 4096];
        let mut body = part.body(&small[..], 4096);
        let mut buf = vec![0u8; 128 * 1024];
        assert_eq!(body.read(&mut buf).unwrap() as u64, part.body_len(4096));
        assert_eq!(body.read(&mut buf).unwrap(), 0);

        let large = vec![b'x'; 100_000];
        let mut body = part.body(&large[..], 100_000);
        assert!((body.read(&mut buf).unwrap() as u64) < part.body_len(100_000));
        let mut rest = Vec::new();
        body.read_to_end(&mut rest).unwrap();
    }

    #[test]
    fn a_small_source_that_ends_early_is_an_error_not_a_short_body() {
        let part = FilePart::new("a.txt", "text/plain");
        let short = crate::progress::ExactLen::new(&b"abc"[..], 10);
        let err = part.body(short, 10).read(&mut [0u8; 1024]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    /// Reads `body` to its end with reads of at most `chunk` bytes.
    fn read_in(mut body: impl Read, chunk: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match body.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn bodies_around_the_gathering_limit_are_exact_and_lying_sources_are_caught() {
        let part = FilePart::new("a.txt", "text/plain");
        let framing = part.body_len(0);
        let limit = GATHER_LIMIT;
        let mut file_lens = vec![0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1];
        file_lens.extend([limit - 1, limit, limit + 1].map(|body| body - framing));
        for len in file_lens {
            let file: Vec<u8> = (0..len + 1).map(|i| (i % 251) as u8).collect();
            let expected = [
                &part.preamble[..],
                &file[..len as usize],
                &part.epilogue[..],
            ]
            .concat();
            for chunk in [7, 128 * 1024] {
                let seen = std::cell::RefCell::new(Vec::new());
                let source = crate::progress::Progress::new(
                    crate::progress::ExactLen::new(&file[..len as usize], len),
                    Some(len),
                    Some(|done, _| seen.borrow_mut().push(done)),
                );
                let body = read_in(part.body(source, len), chunk).unwrap();
                assert!(body == expected, "file of {len} bytes, reads of {chunk}");
                let seen = seen.into_inner();
                assert_eq!(
                    seen.last().copied(),
                    Some(len),
                    "progress ends at the length"
                );
                assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.iter().all(|d| *d <= len));

                // A source with one byte more is cut at the length; one byte less is an error.
                let longer = crate::progress::ExactLen::new(&file[..], len);
                assert!(read_in(part.body(longer, len), chunk).unwrap() == expected);
                if len > 0 {
                    let shorter = crate::progress::ExactLen::new(&file[..len as usize - 1], len);
                    let err = read_in(part.body(shorter, len), chunk).unwrap_err();
                    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
                }
            }
        }
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(
            FilePart::new("a", "b").boundary,
            FilePart::new("a", "b").boundary
        );
    }

    #[test]
    fn content_type_by_extension() {
        assert_eq!(guess_content_type("Report.PDF"), "application/pdf");
        assert_eq!(guess_content_type("data.jsonl"), "application/x-ndjson");
        assert_eq!(guess_content_type("noext"), "application/octet-stream");
    }
}
