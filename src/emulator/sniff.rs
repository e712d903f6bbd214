//! File-type detection from content, as the API describes it: the type comes from the bytes,
//! never from the name or the declared content type.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use memchr::memmem;

const HEAD_BYTES: usize = 8 * 1024;
const ZIP_SCAN_BYTES: u64 = 8 * 1024 * 1024;

/// The MIME type the API would report for the file at `path`, or None when the API would
/// refuse it.
pub(crate) fn detect(path: &Path) -> io::Result<Option<&'static str>> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    File::open(path)?
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)?;
    if let Some(mime) = binary_type(&head) {
        return Ok(Some(mime));
    }
    if head.starts_with(b"PK\x03\x04") {
        return office_type(path);
    }
    text_type(path)
}

fn binary_type(head: &[u8]) -> Option<&'static str> {
    let riff = |kind: &[u8]| head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == kind;
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if riff(b"WEBP") {
        Some("image/webp")
    } else if riff(b"WAVE") {
        Some("audio/wav")
    } else if head.starts_with(b"fLaC") {
        Some("audio/flac")
    } else if head.starts_with(b"OggS") {
        Some("audio/ogg")
    } else if head.starts_with(b"ID3")
        || (head.len() >= 2 && head[0] == 0xFF && matches!(head[1], 0xFB | 0xF3 | 0xF2 | 0xFA))
    {
        Some("audio/mpeg")
    } else {
        None
    }
}

/// DOCX, XLSX and PPTX are ZIP archives told apart by the folder their main part lives in.
fn office_type(path: &Path) -> io::Result<Option<&'static str>> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(ZIP_SCAN_BYTES)
        .read_to_end(&mut bytes)?;
    let has = |needle: &[u8]| memmem::find(&bytes, needle).is_some();
    Ok(if has(b"word/document.xml") {
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    } else if has(b"xl/workbook.xml") {
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    } else if has(b"ppt/presentation.xml") {
        Some("application/vnd.openxmlformats-officedocument.presentationml.presentation")
    } else {
        None
    })
}

/// UTF-8 text, reported by its structure. Every pass streams the file.
fn text_type(path: &Path) -> io::Result<Option<&'static str>> {
    if !is_utf8_text(path)? {
        return Ok(None);
    }
    let whole_json =
        serde_json::from_reader::<_, serde::de::IgnoredAny>(BufReader::new(File::open(path)?))
            .is_ok();
    if whole_json {
        return Ok(Some("application/json"));
    }
    let mut lines = 0usize;
    let mut json_lines = true;
    let mut comma_counts = Vec::new();
    let mut markdown = false;
    for line in BufReader::new(File::open(path)?).lines() {
        let line = line?;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        lines += 1;
        json_lines &= serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok();
        if comma_counts.len() < 1000 {
            comma_counts.push(trimmed.matches(',').count());
        }
        markdown |= looks_like_markdown(trimmed);
    }
    let csv = comma_counts.len() >= 2
        && comma_counts[0] > 0
        && comma_counts.iter().all(|c| *c == comma_counts[0]);
    Ok(Some(if lines >= 2 && json_lines {
        "application/x-ndjson"
    } else if csv {
        "text/csv"
    } else if markdown {
        "text/markdown"
    } else {
        "text/plain"
    }))
}

fn looks_like_markdown(line: &str) -> bool {
    let heading = line.trim_start_matches('#');
    (line.starts_with('#') && line.len() - heading.len() <= 6 && heading.starts_with(' '))
        || line.starts_with("```")
        || (line.contains("](") && line.contains('['))
}

/// True when the whole file is valid UTF-8 without NUL bytes.
fn is_utf8_text(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry = 0usize;
    loop {
        let n = file.read(&mut buf[carry..])?;
        let filled = carry + n;
        if n == 0 {
            return Ok(carry == 0);
        }
        if buf[carry..filled].contains(&0) {
            return Ok(false);
        }
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_bytes(bytes: &[u8]) -> Option<&'static str> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("sniff-{}-{n}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let got = detect(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        got
    }

    #[test]
    fn binary_formats_by_magic_number() {
        assert_eq!(detect_bytes(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(detect_bytes(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(detect_bytes(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(detect_bytes(b"fLaC\0\0"), Some("audio/flac"));
        assert_eq!(detect_bytes(b"\x00\x01\x02\xff\xfe"), None);
    }

    #[test]
    fn text_by_structure() {
        assert_eq!(detect_bytes(b"{\"a\": [1, 2]}"), Some("application/json"));
        assert_eq!(
            detect_bytes(b"{\"a\":1}\n{\"a\":2}\n"),
            Some("application/x-ndjson")
        );
        assert_eq!(detect_bytes(b"a,b,c\n1,2,3\n"), Some("text/csv"));
        assert_eq!(
            detect_bytes(b"# Title\n\nSome text.\n"),
            Some("text/markdown")
        );
        assert_eq!(detect_bytes("hello, wörld".as_bytes()), Some("text/plain"));
    }

    #[test]
    fn office_documents_by_main_part() {
        assert_eq!(
            detect_bytes(b"PK\x03\x04....word/document.xml...."),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert_eq!(detect_bytes(b"PK\x03\x04....random.bin"), None);
    }
}
