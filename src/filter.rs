//! Selecting files from a listing: [`FileFilter`] (name glob, MIME prefix, creation time,
//! size, downloadable, all combined with AND), usable on the lazy file iterator, and the
//! parsers the CLI uses for sizes (`10K`) and times (`30d`, RFC 3339).

use std::time::{Duration, SystemTime};

use globset::{Glob, GlobMatcher};

use crate::error::{Error, Result};
use crate::model::FileMetadata;

/// Which files to keep from a listing; every condition set must hold (AND). An empty filter
/// keeps every file.
///
/// ```
/// # use openrouter_files::FilesClient;
/// # use openrouter_files_emulator::Emulator;
/// let server = Emulator::builder()
///     .seed_file("a.csv", b"1,2\n".to_vec())
///     .seed_file("notes [draft].md", b"# hi\n".to_vec())
///     .seed_file("big.csv", vec![b'x'; 5000])
///     .start()?;
/// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
/// use openrouter_files::FileFilter;
///
/// let small_csvs = FileFilter::new().name("*.csv")?.max_size(1024);
/// let names: Vec<String> = small_csvs
///     .select(client.list().files())
///     .map(|f| f.map(|f| f.filename))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(names, ["a.csv"]);
/// // Glob metacharacters in a name are escaped with a backslash.
/// let draft = FileFilter::new().name(r"notes \[draft\].md")?;
/// assert_eq!(draft.select(client.list().files()).count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct FileFilter {
    name: Option<GlobMatcher>,
    mime_prefix: Option<String>,
    since: Option<SystemTime>,
    before: Option<SystemTime>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    downloadable: Option<bool>,
}

impl FileFilter {
    /// A filter that keeps every file.
    pub fn new() -> FileFilter {
        FileFilter::default()
    }

    /// Keeps files whose whole name matches `glob`: `*` and `?` (which match `/` too, as a
    /// stored name is not a path), `[abc]`, `{a,b}`, and `\` to escape one of these. Case
    /// matters. A glob that cannot be read is [`Error::InvalidInput`].
    pub fn name(mut self, glob: &str) -> Result<FileFilter> {
        let glob = Glob::new(glob)
            .map_err(|e| Error::InvalidInput(format!("bad name pattern {glob:?}: {e}")))?;
        self.name = Some(glob.compile_matcher());
        Ok(self)
    }

    /// Keeps files whose MIME type starts with `prefix` (`text/`, `application/pdf`),
    /// ignoring case; a file without a type is left out.
    pub fn mime_prefix(mut self, prefix: impl Into<String>) -> FileFilter {
        self.mime_prefix = Some(prefix.into().to_ascii_lowercase());
        self
    }

    /// Keeps files created at or after `time`; a file whose creation time cannot be read is
    /// left out.
    pub fn since(mut self, time: SystemTime) -> FileFilter {
        self.since = Some(time);
        self
    }

    /// Keeps files created before `time`; a file whose creation time cannot be read is left
    /// out.
    pub fn before(mut self, time: SystemTime) -> FileFilter {
        self.before = Some(time);
        self
    }

    /// Keeps files of at least `bytes` bytes.
    pub fn min_size(mut self, bytes: u64) -> FileFilter {
        self.min_size = Some(bytes);
        self
    }

    /// Keeps files of at most `bytes` bytes.
    pub fn max_size(mut self, bytes: u64) -> FileFilter {
        self.max_size = Some(bytes);
        self
    }

    /// Keeps files that can (`true`) or cannot (`false`) be downloaded.
    pub fn downloadable(mut self, downloadable: bool) -> FileFilter {
        self.downloadable = Some(downloadable);
        self
    }

    /// True when no condition is set, so every file is kept.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.mime_prefix.is_none()
            && self.since.is_none()
            && self.before.is_none()
            && self.min_size.is_none()
            && self.max_size.is_none()
            && self.downloadable.is_none()
    }

    /// Whether `file` passes every condition.
    pub fn matches(&self, file: &FileMetadata) -> bool {
        let created = || file.created();
        self.name
            .as_ref()
            .is_none_or(|g| g.is_match(&file.filename))
            && self.mime_prefix.as_ref().is_none_or(|prefix| {
                file.mime_type
                    .as_ref()
                    .is_some_and(|m| m.to_ascii_lowercase().starts_with(prefix.as_str()))
            })
            && self.since.is_none_or(|t| created().is_some_and(|c| c >= t))
            && self.before.is_none_or(|t| created().is_some_and(|c| c < t))
            && self.min_size.is_none_or(|n| file.size_bytes >= n)
            && self.max_size.is_none_or(|n| file.size_bytes <= n)
            && self.downloadable.is_none_or(|d| file.downloadable == d)
    }

    /// The files of `files` (a lazy listing such as [`ListRequest::files`](crate::ListRequest::files))
    /// that match, still lazily; errors pass through so the caller sees them.
    pub fn select<'f, I>(&'f self, files: I) -> impl Iterator<Item = Result<FileMetadata>> + 'f
    where
        I: IntoIterator<Item = Result<FileMetadata>>,
        I::IntoIter: 'f,
    {
        files
            .into_iter()
            .filter(move |f| f.as_ref().map_or(true, |f| self.matches(f)))
    }
}

/// Reads a size: a number of bytes, or one with a binary suffix `K`, `M`, `G` or `T`
/// (×1024ⁿ, optionally followed by `B` or `iB`, any case), as rclone reads them.
///
/// ```
/// use openrouter_files::parse_size;
/// assert_eq!(parse_size("10K")?, 10 * 1024);
/// assert_eq!(parse_size("5MiB")?, 5 << 20);
/// assert_eq!(parse_size("1g")?, 1 << 30);
/// assert_eq!(parse_size("512")?, 512);
/// assert!(parse_size("ten").is_err());
/// # Ok::<(), openrouter_files::Error>(())
/// ```
pub fn parse_size(text: &str) -> Result<u64> {
    let bad = || Error::InvalidInput(format!("{text:?} is not a size (such as 512, 10K, 5M, 1G)"));
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit = unit.to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(bad()),
    };
    number.checked_mul(1 << shift).ok_or_else(bad)
}

/// Reads a point in time: an RFC 3339 date-time (`2026-01-31T12:00:00Z`), a date
/// (`2026-01-31`, midnight UTC), or an age before `now`: a number with `s`, `m`, `h`, `d` or
/// `w` (`30d`, `12h`).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use openrouter_files::parse_time;
/// let now = SystemTime::now();
/// assert_eq!(parse_time("12h", now)?, now - Duration::from_secs(12 * 3600));
/// let day = parse_time("2026-01-31", now)?;
/// assert_eq!(day, parse_time("2026-01-31T00:00:00Z", now)?);
/// assert!(parse_time("yesterday", now).is_err());
/// # Ok::<(), openrouter_files::Error>(())
/// ```
pub fn parse_time(text: &str, now: SystemTime) -> Result<SystemTime> {
    let bad = || {
        Error::InvalidInput(format!(
            "{text:?} is not a time (an RFC 3339 date or date-time, or an age such as 30d, 12h)"
        ))
    };
    let t = text.trim();
    if let Some(time) = crate::codec::rfc3339::parse(t) {
        return Ok(time);
    }
    if t.len() == 10 {
        return crate::codec::rfc3339::parse(&format!("{t}T00:00:00Z")).ok_or_else(bad);
    }
    let Some(unit) = t.chars().last() else {
        return Err(bad());
    };
    let seconds = match unit.to_ascii_lowercase() {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad()),
    };
    let number: u64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
    let age = number.checked_mul(seconds).ok_or_else(bad)?;
    now.checked_sub(Duration::from_secs(age)).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, size: u64, mime: Option<&str>, created: &str) -> FileMetadata {
        let mut f = FileMetadata::new("or_file_1", name, size, created);
        f.mime_type = mime.map(str::to_string);
        f
    }

    #[test]
    fn every_condition_must_hold() {
        let f = file("a b*[1].CSV", 100, Some("Text/CSV"), "2026-01-02T00:00:00Z");
        let day = |d: &str| parse_time(d, SystemTime::now()).unwrap();
        assert!(FileFilter::new().matches(&f));
        assert!(FileFilter::new().name("*.CSV").unwrap().matches(&f));
        assert!(!FileFilter::new().name("*.csv").unwrap().matches(&f));
        assert!(
            FileFilter::new()
                .name(r"a b\*\[1\].CSV")
                .unwrap()
                .matches(&f)
        );
        assert!(FileFilter::new().mime_prefix("text/").matches(&f));
        assert!(!FileFilter::new().mime_prefix("image/").matches(&f));
        assert!(FileFilter::new().since(day("2026-01-02")).matches(&f));
        assert!(!FileFilter::new().before(day("2026-01-02")).matches(&f));
        assert!(FileFilter::new().before(day("2026-01-03")).matches(&f));
        let sized = FileFilter::new().min_size(100).max_size(100);
        assert!(sized.matches(&f));
        assert!(!sized.clone().min_size(101).matches(&f));
        assert!(!FileFilter::new().downloadable(true).matches(&f));
        assert!(
            !FileFilter::new()
                .name("*.CSV")
                .unwrap()
                .max_size(99)
                .matches(&f),
            "AND, not OR"
        );
    }

    #[test]
    fn a_file_without_a_readable_time_or_type_is_left_out_by_those_conditions() {
        let f = file("x", 1, None, "not a time");
        assert!(!FileFilter::new().since(SystemTime::UNIX_EPOCH).matches(&f));
        assert!(!FileFilter::new().mime_prefix("").matches(&f));
    }

    #[test]
    fn a_bad_glob_is_invalid_input() {
        assert!(matches!(
            FileFilter::new().name("[unclosed"),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn sizes_refuse_overflow_and_junk() {
        assert!(parse_size("99999999999999T").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("1.5M").is_err());
        assert!(parse_size("-1").is_err());
        assert_eq!(parse_size(" 2kb ").unwrap(), 2048);
    }

    #[test]
    fn times_refuse_junk_and_read_ages() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100 * 86_400);
        assert_eq!(
            parse_time("2w", now).unwrap(),
            now - Duration::from_secs(14 * 86_400)
        );
        assert_eq!(
            parse_time("90s", now).unwrap(),
            now - Duration::from_secs(90)
        );
        for junk in ["", "d", "12", "1.5h", "2026-13-01", "-3d"] {
            assert!(parse_time(junk, now).is_err(), "{junk}");
        }
    }
}
