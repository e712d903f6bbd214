//! The options of whole-folder jobs (issue 20), kept apart from `args.rs` and flattened into
//! its commands: selection filters, `--dry-run`, folder uploads, downloads by name, listing
//! summaries, and the `sync` command.

use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;
use openrouter_files::{FileFilter, parse_size, parse_time};

/// `ls --help`'s examples.
pub const LS_EXAMPLES: &str = "Examples:
  openrouter-files ls --limit 10                    # the first ten files
  openrouter-files ls --name '*.csv' --before 30d -H --summarize   # old CSVs, and their total
  openrouter-files ls --mime image/ --min-size 1M                   # images of 1 MiB or more";

/// `put --help`'s examples.
pub const PUT_EXAMPLES: &str = "Examples:
  openrouter-files put report.pdf data.csv
  openrouter-files put -r ./docs --skip-existing     # every file under ./docs not yet stored
  openrouter-files put -r ./docs --dry-run           # what would be uploaded";

/// `get --help`'s examples.
pub const GET_EXAMPLES: &str = "Examples:
  openrouter-files get ID -o out.bin
  openrouter-files get ID1 ID2 -d downloads     # into a directory (created if missing)
  openrouter-files get --name '*.pdf' -d ./pdfs --by-name --skip-existing   # by name, once";

/// Filters on the listing, combined with AND.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Selection (combined with AND)")]
pub struct Selection {
    /// Only files whose whole name matches GLOB: `*`, `?`, `[abc]`, `{a,b}`; `\` escapes one
    #[arg(long = "name", value_name = "GLOB")]
    pub name_glob: Option<String>,
    /// Only files whose MIME type starts with PREFIX (`text/`, `application/pdf`)
    #[arg(long, value_name = "PREFIX")]
    pub mime: Option<String>,
    /// Only files created at or after WHEN: an RFC 3339 date or time, or an age (30d, 12h)
    #[arg(long, value_name = "WHEN", value_parser = time)]
    pub since: Option<SystemTime>,
    /// Only files created before WHEN: an RFC 3339 date or time, or an age (30d, 12h)
    #[arg(long, value_name = "WHEN", value_parser = time)]
    pub before: Option<SystemTime>,
    /// Only files of at least SIZE bytes (512, 10K, 5M, 1G: binary units)
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub min_size: Option<u64>,
    /// Only files of at most SIZE bytes (512, 10K, 5M, 1G: binary units)
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_size: Option<u64>,
    /// Only files that can be downloaded (created server-side)
    #[arg(long)]
    pub downloadable: bool,
}

impl Selection {
    /// The filter, or None when no option was given.
    pub fn filter(&self) -> Result<Option<FileFilter>, openrouter_files::Error> {
        let mut filter = FileFilter::new();
        if let Some(glob) = &self.name_glob {
            filter = filter.name(glob)?;
        }
        if let Some(prefix) = &self.mime {
            filter = filter.mime_prefix(prefix);
        }
        if let Some(time) = self.since {
            filter = filter.since(time);
        }
        if let Some(time) = self.before {
            filter = filter.before(time);
        }
        if let Some(n) = self.min_size {
            filter = filter.min_size(n);
        }
        if let Some(n) = self.max_size {
            filter = filter.max_size(n);
        }
        if self.downloadable {
            filter = filter.downloadable(true);
        }
        Ok((!filter.is_empty()).then_some(filter))
    }
}

fn size(text: &str) -> Result<u64, String> {
    parse_size(text).map_err(|e| e.to_string())
}

fn time(text: &str) -> Result<SystemTime, String> {
    parse_time(text, SystemTime::now()).map_err(|e| e.to_string())
}

/// `--dry-run`: print what would be done, send no write.
#[derive(Debug, Args, Default)]
pub struct DryRun {
    /// Print what would be done and send no write (listings and lookups still run)
    #[arg(long)]
    pub dry_run: bool,
}

/// `put`'s folder options.
#[derive(Debug, Args, Default)]
pub struct PutFolders {
    /// Upload every regular file under each DIR given (each under its own file name; the
    /// output's `path` says where it came from)
    #[arg(short, long)]
    pub recursive: bool,
    /// With -r, follow symbolic links to files and folders (default: leave them out)
    #[arg(long, requires = "recursive")]
    pub follow_symlinks: bool,
    /// Leave out files the workspace already holds with the same name and size (one listing)
    #[arg(long)]
    pub skip_existing: bool,
    #[command(flatten)]
    pub dry_run: DryRun,
}

/// `get`'s selection and naming options.
#[derive(Debug, Args, Default)]
pub struct GetByName {
    /// With -d: save each file as DIR/<its file name> instead of DIR/<id> (`/` and `\` in a
    /// name become `_`; a name used twice gets the id added; nothing is written outside DIR)
    #[arg(long, requires = "dir")]
    pub by_name: bool,
    /// Leave out a file whose target already exists with the file's size
    #[arg(long)]
    pub skip_existing: bool,
    #[command(flatten)]
    pub dry_run: DryRun,
    #[command(flatten)]
    pub select: Selection,
}

/// `ls`'s extra output.
#[derive(Debug, Args, Default)]
pub struct LsSummary {
    /// End with a line counting the files and their bytes
    #[arg(long)]
    pub summarize: bool,
    /// Sizes as 1.5K, 12M, 3.1G (binary units)
    #[arg(short = 'H', long)]
    pub human_readable: bool,
    #[command(flatten)]
    pub select: Selection,
}

/// `info`: ids, or a selection from the listing.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  openrouter-files info or_file_1 or_file_2
  openrouter-files info --name '*.pdf' --since 7d     # metadata of last week's PDFs")]
pub struct Info {
    /// File ids; `-` reads ids from standard input, one per line
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub select: Selection,
    #[command(flatten)]
    pub api: crate::args::Api,
    #[command(flatten)]
    pub no_bars: crate::args::NoBars,
}

/// `rm`: ids, a selection from the listing, or `--all`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  openrouter-files rm or_file_1
  openrouter-files rm --name '*.csv' --before 30d --dry-run   # preview, then drop --dry-run
  openrouter-files rm --all                                   # every file of the workspace")]
pub struct Rm {
    /// File ids; `-` reads ids from standard input, one per line
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// With neither ids nor filters: delete every file of the workspace
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub dry_run: DryRun,
    #[command(flatten)]
    pub select: Selection,
    #[command(flatten)]
    pub api: crate::args::Api,
    #[command(flatten)]
    pub no_bars: crate::args::NoBars,
}

/// `sync`: a one-way sync of a folder to the workspace.
#[derive(Debug, Args)]
#[command(
    after_help = "Each file is sent under its path relative to DIR (sub/a.txt). The manifest
(JSON lines) records what the sync owns: files it does not own are never touched, and a sync
that was interrupted (even by SIGKILL) is finished exactly by the next one.

Examples:
  openrouter-files sync ./reports --manifest reports.jsonl --dry-run   # the plan
  openrouter-files sync ./reports --manifest reports.jsonl --delete -j 8"
)]
pub struct Sync {
    /// The local folder
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The manifest file (created on the first run; keep it with the folder's owner)
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    /// Delete the files the manifest owns whose local path is gone
    #[arg(long)]
    pub delete: bool,
    /// Follow symbolic links (default: leave them out)
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Uploads and deletes to run at once
    #[arg(short, long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    #[command(flatten)]
    pub dry_run: DryRun,
    #[command(flatten)]
    pub api: crate::args::Api,
    #[command(flatten)]
    pub bars: crate::args::Bars,
}
