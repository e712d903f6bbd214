//! What `info`, `rm` and `get` work on: the ids given, or the files of the listing that pass
//! the selection filters (`rm` needs `--all` to take every file).

use openrouter_files::{FileMetadata, FilesClient};

use crate::failure::Failure;
use crate::job_args::Selection;

/// The targets of a command.
pub enum Targets {
    /// Ids as given (`-` still to be read from standard input).
    Ids(Vec<String>),
    /// Files chosen from the listing, with their metadata.
    Files(Vec<FileMetadata>),
}

impl Targets {
    /// The ids to hand to a command that reads ids.
    pub fn ids(&self) -> Vec<String> {
        match self {
            Targets::Ids(ids) => ids.clone(),
            Targets::Files(files) => files.iter().map(|f| f.id.clone()).collect(),
        }
    }
}

/// Resolves `ids` and `select` for `command`. Ids and filters together are refused (say one
/// or the other); with neither, `all` takes every file, else it is a usage error.
pub fn targets(
    client: &FilesClient,
    ids: &[String],
    select: &Selection,
    all: bool,
    command: &str,
) -> Result<Targets, Failure> {
    let filter = select.filter().map_err(|e| Failure::usage(e.to_string()))?;
    match (ids.is_empty(), filter) {
        (false, Some(_)) => Err(Failure::usage(format!(
            "{command}: give ids or filters, not both"
        ))),
        (false, None) if all => Err(Failure::usage(format!(
            "{command}: --all takes every file; give no ids with it"
        ))),
        (false, None) => Ok(Targets::Ids(ids.to_vec())),
        (true, Some(filter)) => Ok(Targets::Files(
            filter.select(client.list()).collect::<Result<_, _>>()?,
        )),
        (true, None) if all => Ok(Targets::Files(
            client.list().into_iter().collect::<Result<_, _>>()?,
        )),
        (true, None) if command == "rm" => Err(Failure::usage(
            "rm: give ids, filters (--name, --since, ...), or --all for every file",
        )),
        (true, None) => Err(Failure::usage(format!(
            "{command}: give ids, or filters (--name, --since, ...) to select from the listing"
        ))),
    }
}
