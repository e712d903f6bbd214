//! The commands, and the client they share.

mod dry_run;
#[cfg(feature = "emulator")]
mod emulator;
mod get;
mod get_named;
mod items;
mod ls;
mod put;
mod put_folder;
mod reference;
mod select;
mod sync;
mod transfer;

use openrouter_files::FilesClient;

use crate::args::{Api, Cli, Command};
use crate::failure::Failure;
use crate::output::Out;
use crate::report::Report;

/// Runs the command `cli` names.
pub fn run(cli: Cli, report: &Report) -> Result<(), Failure> {
    let global = &cli.global.api;
    // The emulator prints its own key, on purpose.
    #[cfg(feature = "emulator")]
    let emulator = matches!(cli.command, Command::Emulator(_));
    #[cfg(not(feature = "emulator"))]
    let emulator = false;
    let mut out = Out::new().hiding(api_key().filter(|_| !emulator));
    match &cli.command {
        Command::Ls(args) => ls::ls(&client(global)?, args, global.json, &mut out),
        Command::Put(args) => put::put(&client(global)?, args, report, &mut out),
        Command::Get(args) => get::get(&client(global)?, args, report, &mut out),
        Command::Info(args) => items::info(&client(global)?, args, report, &mut out),
        Command::Rm(args) => items::rm(&client(global)?, args, global.json, report, &mut out),
        Command::Ref(args) => reference::reference(args, &mut out),
        Command::Sync(args) => sync::sync(&client(global)?, args, global.json, report, &mut out),
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => emulator::emulator(args, &mut out),
        Command::Completions { shell } => out.line(crate::completions::script(*shell).trim_end()),
    }
}

/// The API key from `OPENROUTER_API_KEY`, trimmed; `None` when unset or blank.
pub fn api_key() -> Option<String> {
    Some(env("OPENROUTER_API_KEY")?.trim().to_string())
}

/// The environment variable `name`, `None` when unset or blank (as in the library's
/// `FilesClient::from_env`). A value that is not UTF-8 is kept, lossily, for the library to
/// refuse.
fn env(name: &str) -> Option<String> {
    let value = std::env::var_os(name)?;
    Some(value.to_string_lossy().into_owned()).filter(|v| !v.trim().is_empty())
}

/// The client for the API commands: the key from `OPENROUTER_API_KEY`, the base URL and the
/// workspace from the options or else their environment variables.
fn client(options: &Api) -> Result<FilesClient, Failure> {
    let Some(key) = api_key() else {
        return Err(Failure::usage(
            "OPENROUTER_API_KEY is not set: export your OpenRouter API key in it",
        ));
    };
    let mut builder = FilesClient::builder()
        .api_key(&key)
        .user_agent(concat!("openrouter-files-cli/", env!("CARGO_PKG_VERSION")));
    let given = |option: &Option<String>, name| option.clone().or_else(|| env(name));
    if let Some(url) = given(&options.base_url, "OPENROUTER_BASE_URL") {
        builder = builder.base_url(&url);
    }
    if let Some(workspace) = given(&options.workspace, "OPENROUTER_WORKSPACE") {
        builder = builder.workspace(&workspace);
    }
    Ok(crate::network::configure(builder, options)?.build()?)
}
