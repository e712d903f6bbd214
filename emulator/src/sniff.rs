//! File-type detection from content, as the API describes it: the type comes from the bytes,
//! never from the name or the declared content type. Memory stays bounded: whole-file checks
//! stream, and the structure of text is judged on its first [`TEXT_WINDOW`] bytes.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek};

use memchr::memmem;

const HEAD_BYTES: usize = 8 * 1024;
const SCAN_CHUNK: usize = 64 * 1024;
/// How much of a text file its lines are read from to tell CSV, NDJSON and Markdown apart.
pub(crate) const TEXT_WINDOW: usize = 1024 * 1024;

/// The MIME type the API would report for `file` (read from its start, as often as needed),
/// or None when the API would
/// refuse it.
pub(crate) fn detect(file: &File) -> io::Result<Option<&'static str>> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    rewind(file)?
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)?;
    if let Some(mime) = binary_type(&head) {
        return Ok(Some(mime));
    }
    if head.starts_with(b"PK\x03\x04") {
        return office_type(file);
    }
    text_type(file)
}

/// `file` positioned at its start, to read once more.
fn rewind(mut file: &File) -> io::Result<&File> {
    file.seek(io::SeekFrom::Start(0))?;
    Ok(file)
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

/// DOCX, XLSX and PPTX are ZIP archives told apart by the folder their main part lives in;
/// the names are searched for in a stream, so any size of archive takes constant memory.
fn office_type(file: &File) -> io::Result<Option<&'static str>> {
    const PARTS: [(&[u8], &str); 3] = [
        (
            b"word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            b"xl/workbook.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            b"ppt/presentation.xml",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
    ];
    let overlap = PARTS.iter().map(|(n, _)| n.len()).max().unwrap_or(0) - 1;
    let mut found = [false; 3];
    let mut file = rewind(file)?;
    let mut buf = vec![0u8; SCAN_CHUNK + overlap];
    let mut kept = 0;
    loop {
        let n = file.read(&mut buf[kept..])?;
        if n == 0 {
            break;
        }
        let filled = kept + n;
        for (slot, (needle, _)) in found.iter_mut().zip(PARTS) {
            *slot |= memmem::find(&buf[..filled], needle).is_some();
        }
        kept = overlap.min(filled);
        buf.copy_within(filled - kept..filled, 0);
    }
    Ok(found
        .iter()
        .zip(PARTS)
        .find(|(hit, _)| **hit)
        .map(|(_, (_, mime))| mime))
}

/// UTF-8 text, reported by its structure. Validity and whole-document JSON stream over the
/// file; lines are judged within the first [`TEXT_WINDOW`] bytes (a line cut by the window's
/// end is left out, unless it is the only one).
fn text_type(file: &File) -> io::Result<Option<&'static str>> {
    if !is_utf8_text(file)? {
        return Ok(None);
    }
    let whole_json =
        serde_json::from_reader::<_, serde::de::IgnoredAny>(BufReader::new(rewind(file)?)).is_ok();
    if whole_json {
        return Ok(Some("application/json"));
    }
    let mut window = Vec::with_capacity(SCAN_CHUNK);
    rewind(file)?
        .take(TEXT_WINDOW as u64 + 1)
        .read_to_end(&mut window)?;
    let cut = window.len() > TEXT_WINDOW;
    window.truncate(TEXT_WINDOW);
    let text = String::from_utf8_lossy(&window);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if cut && lines.len() > 1 {
        lines.pop();
    }
    let mut count = 0usize;
    let mut json_lines = true;
    let mut comma_counts = Vec::new();
    let mut markdown = false;
    for line in lines {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        count += 1;
        json_lines &= serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok();
        if comma_counts.len() < 1000 {
            comma_counts.push(trimmed.matches(',').count());
        }
        markdown |= looks_like_markdown(trimmed);
    }
    let csv = comma_counts.len() >= 2
        && comma_counts[0] > 0
        && comma_counts.iter().all(|c| *c == comma_counts[0]);
    Ok(Some(if count >= 2 && json_lines {
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
fn is_utf8_text(file: &File) -> io::Result<bool> {
    let mut file = rewind(file)?;
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
        let got = detect(&File::open(&path).unwrap()).unwrap();
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
        let mut long = b"a,b\n1,2\n".to_vec();
        long.resize(TEXT_WINDOW + 10, b'x');
        assert_eq!(detect_bytes(&long), Some("text/csv"));
    }

    #[test]
    fn office_documents_by_main_part() {
        assert_eq!(
            detect_bytes(b"PK\x03\x04....word/document.xml...."),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert_eq!(detect_bytes(b"PK\x03\x04....random.bin"), None);
        let mut far = b"PK\x03\x04".to_vec();
        far.resize(3 * SCAN_CHUNK - 5, b'.');
        far.extend_from_slice(b"xl/workbook.xml");
        assert_eq!(
            detect_bytes(&far),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
    }
}
