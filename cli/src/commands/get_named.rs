//! `get -d DIR --by-name`, `get --skip-existing` and `get --dry-run`: files saved under their
//! own (made safe, made unique) names inside DIR, targets that already hold the file left
//! out, and the downloads printed instead of made.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use openrouter_files::{FileMetadata, FilesClient};

use super::dry_run;
use crate::failure::{Exit, Failure};
use crate::job_args::GetByName;
use crate::output::Out;
use crate::report::Report;

/// The longest name saved (bytes); the library's temporary file adds about 30 to it, and most
/// file systems allow 255.
const MAX_NAME: usize = 200;

/// The metadata of `id`: from the listing when it was selected there, else retrieved.
fn metadata(
    client: &FilesClient,
    known: &HashMap<String, FileMetadata>,
    id: &str,
) -> Result<FileMetadata, Failure> {
    match known.get(id) {
        Some(meta) => Ok(meta.clone()),
        None => client.retrieve(id).map_err(|e| Failure::from(e).about(id)),
    }
}

/// A stored name as one safe file name: `/`, `\` and control characters become `_`, a name
/// that is empty, `.` or `..` becomes the id, and a long one is cut (on a character boundary).
pub fn safe_name(name: &str, id: &str) -> String {
    let mut safe: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if safe.is_empty() || safe == "." || safe == ".." {
        safe = id.replace(['/', '\\', '.'], "_");
    }
    cut(&mut safe, MAX_NAME);
    safe
}

/// The longest id kept in a made-unique name (bytes), so the suffix always fits.
const MAX_ID: usize = 64;

/// The longest extension kept after a made-unique name's suffix (bytes, dot included).
const MAX_EXT: usize = 17;

/// `name` with `(id)` before its extension, for a second file of the same name (`(id N)` for
/// the `N`th try, when that name is taken too), cut to [`MAX_NAME`] in its stem so the
/// suffix that makes it unique is never cut off.
fn unique_name(name: &str, id: &str, attempt: usize) -> String {
    let mut id = safe_name(id, "file");
    cut(&mut id, MAX_ID);
    let suffix = if attempt <= 1 {
        format!(" ({id})")
    } else {
        format!(" ({id} {attempt})")
    };
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() < MAX_EXT => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    let mut stem = stem.to_string();
    cut(&mut stem, MAX_NAME.saturating_sub(suffix.len() + ext.len()));
    format!("{stem}{suffix}{ext}")
}

/// Cuts `text` to at most `max` bytes, on a character boundary.
fn cut(text: &mut String, max: usize) {
    while text.len() > max {
        text.pop();
    }
}

/// The targets `DIR/<name>` of `ids`, creating DIR when missing (unless `preview`). Names are made safe and
/// unique (ignoring case, for file systems that do): nothing is written outside DIR, and no
/// file of this run overwrites another.
pub fn by_name(
    client: &FilesClient,
    dir: &Path,
    ids: &[String],
    known: &HashMap<String, FileMetadata>,
    preview: bool,
) -> Result<Vec<(String, PathBuf)>, Failure> {
    if !preview {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::new(
                Exit::Usage,
                "local",
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
    }
    let mut used = HashSet::new();
    let mut targets = Vec::new();
    for id in ids {
        let meta = metadata(client, known, id)?;
        let safe = safe_name(&meta.filename, id);
        let mut name = safe.clone();
        let mut attempt = 0;
        // Each try has a suffix no other has, never cut off: this ends.
        while !used.insert(name.to_lowercase()) {
            attempt += 1;
            name = unique_name(&safe, id, attempt);
        }
        targets.push((id.clone(), dir.join(name)));
    }
    Ok(targets)
}

/// `targets` less those already holding the file (with `--skip-existing`: a regular file of
/// the stored size); with `--dry-run`, prints each download and returns None.
pub fn prepare(
    client: &FilesClient,
    targets: Vec<(String, PathBuf)>,
    args: &GetByName,
    known: &HashMap<String, FileMetadata>,
    report: &Report,
    out: &mut Out,
) -> Result<Option<Vec<(String, PathBuf)>>, Failure> {
    let mut kept = Vec::new();
    for (id, target) in targets {
        if args.skip_existing {
            let on_disk = std::fs::metadata(&target).ok().filter(|m| m.is_file());
            if let Some(on_disk) = on_disk {
                let meta = metadata(client, known, &id)?;
                if on_disk.len() == meta.size_bytes {
                    let note = format!("skipped: {} exists with the file's size", target.display());
                    report.notice(&id, &note);
                    continue;
                }
            }
        }
        kept.push((id, target));
    }
    if !args.dry_run.dry_run {
        return Ok(Some(kept));
    }
    for (id, target) in &kept {
        let to = target.display().to_string();
        dry_run::transfer(out, report.json(), "download", id, &to, None)?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_leave_the_folder_are_made_safe() {
        assert_eq!(safe_name("report.pdf", "id1"), "report.pdf");
        assert_eq!(safe_name("../../etc/passwd", "id1"), ".._.._etc_passwd");
        assert_eq!(safe_name("..", "or_file_1"), "or_file_1");
        assert_eq!(safe_name("", "or_file_1"), "or_file_1");
        assert_eq!(safe_name("a\\b\nc", "x"), "a_b_c");
        assert!(safe_name(&"é".repeat(300), "x").len() <= MAX_NAME);
        assert_eq!(unique_name("a.txt", "or_2", 1), "a (or_2).txt");
        assert_eq!(unique_name("a.txt", "or_2", 2), "a (or_2 2).txt");
        assert_eq!(unique_name(".env", "or_2", 1), ".env (or_2)");
        let long = unique_name(&format!("{}.txt", "é".repeat(150)), &"i".repeat(500), 9);
        assert!(
            long.len() <= MAX_NAME && long.ends_with(" 9).txt"),
            "{long}"
        );
    }

    /// Seeded names built from hostile pieces (separators, dots, case variants, long runs,
    /// control characters, another file's made-unique name): every target is a plain file
    /// name in DIR, at most [`MAX_NAME`] bytes, and no two are the same, ignoring case.
    #[test]
    fn seeded_hostile_names_give_distinct_targets_inside_the_folder() {
        let seed: u64 = std::env::var("GET_BY_NAME_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x6e61_6d65);
        let mut state = seed;
        let mut below = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        // No request is sent: every id's metadata is known.
        let client = FilesClient::builder()
            .api_key("sk-or-unused")
            .base_url("http://127.0.0.1:9/api/v1")
            .build()
            .unwrap();
        let dir = Path::new("/nonexistent/out");
        let pieces = [
            "a", "A", ".txt", ".", "..", "/", "\\", "\n", "é", " ", "(", ")",
        ];
        for round in 0..200 {
            let n = 1 + below(12);
            let ids: Vec<String> = (0..n).map(|i| format!("or_file_{round}_{i}")).collect();
            let mut known = HashMap::new();
            for (i, id) in ids.iter().enumerate() {
                let mut name: String = (0..below(6)).map(|_| pieces[below(pieces.len())]).collect();
                match below(4) {
                    0 => name.push_str(&"x".repeat(190 + below(80))),
                    1 if i > 0 => name = format!("{name} ({}).txt", ids[below(i)]),
                    _ => {}
                }
                let meta = FileMetadata::new(id.clone(), name, 1, "2026-01-01T00:00:00Z");
                known.insert(id.clone(), meta);
            }
            let targets = by_name(&client, dir, &ids, &known, true).unwrap();
            let mut seen = HashSet::new();
            for (id, target) in &targets {
                let name = target.file_name().unwrap().to_str().unwrap();
                assert_eq!(
                    target.parent(),
                    Some(dir),
                    "seed {seed} round {round}: {id}"
                );
                assert!(name != "." && name != ".." && !name.contains(['/', '\\']));
                assert!(name.len() <= MAX_NAME, "seed {seed} round {round}: {name}");
                assert!(
                    seen.insert(name.to_lowercase()),
                    "seed {seed} round {round}: {name} twice in {targets:?}"
                );
            }
        }
    }
}
