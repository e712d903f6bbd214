//! The command line: every command and option, parsed by clap (help, `--version`, flags
//! anywhere, `--flag=value`).

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = r#"Examples:
  openrouter-files put report.pdf data.csv       # upload two files
  openrouter-files ls --limit 3                  # the first three files
  openrouter-files get ID -o out.bin             # download one file
  openrouter-files ls | cut -f1 | openrouter-files rm -    # delete every file
  openrouter-files sync ./docs --manifest docs.jsonl --delete   # mirror a folder, exactly
  eval "$(openrouter-files emulator --print-env &)"   # a local Files API, for this shell"#;

/// A command-line tool for the OpenRouter Files API, and a local emulator of the API.
///
/// The API key is read from OPENROUTER_API_KEY and never printed.
///
/// Exit status: 0 success; 1 other errors (server, network, bad response); 2 usage or local
/// validation errors, any download to a terminal (nothing was sent); 3 authentication (HTTP 401
/// or 403); 4 not found (HTTP 404); 5 some items of a command given several failed.
#[derive(Debug, Parser)]
#[command(name = "openrouter-files", version, max_term_width = 100, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command line of this process. The options given after the command take precedence
    /// over the same options given before it.
    pub fn parse_args() -> Result<Cli, clap::Error> {
        let matches = Cli::command().try_get_matches()?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        cli.settle();
        Ok(cli)
    }

    /// Folds the options given after the command into `global`, which the commands read.
    fn settle(&mut self) {
        let (api, bars) = match &self.command {
            Command::Ls(ls) => (&ls.api, None),
            Command::Put(put) => (&put.api, Some(&put.bars)),
            Command::Get(get) => (&get.api, Some(&get.bars)),
            Command::Info(info) => (&info.api, None),
            Command::Rm(rm) => (&rm.api, None),
            Command::Sync(sync) => (&sync.api, Some(&sync.bars)),
            _ => return,
        };
        let global = &mut self.global;
        let given = &mut global.api;
        if api.base_url.is_some() {
            given.base_url.clone_from(&api.base_url);
        }
        if api.workspace.is_some() {
            given.workspace.clone_from(&api.workspace);
        }
        if api.ca_cert.is_some() {
            given.ca_cert.clone_from(&api.ca_cert);
        }
        if api.proxy.is_some() || api.no_proxy {
            given.proxy.clone_from(&api.proxy);
            given.no_proxy = api.no_proxy;
        }
        // `--no-proxy` is `--noproxy '*'`: a later list replaces it.
        if api.bypass.is_some() {
            given.bypass.clone_from(&api.bypass);
            given.no_proxy = false;
        }
        given.verbose |= api.verbose;
        given.json |= api.json;
        global.bars.quiet |= bars.is_some_and(|bars| bars.quiet);
    }
}

/// The options of every API command, accepted before the command too.
#[derive(Debug, Args)]
#[command(next_help_heading = "Options of the API commands (before or after the command)")]
pub struct Global {
    #[command(flatten)]
    pub api: Api,
    #[command(flatten)]
    pub bars: Bars,
}

/// The options of the commands that call the API.
///
/// The environment variables are read when the client is built (an empty or blank value
/// counts as unset), not by clap: clap's usage line would show a variable's option as if it
/// had been typed.
#[derive(Debug, Args)]
pub struct Api {
    /// The API's base URL [env: OPENROUTER_BASE_URL] [default: https://openrouter.ai/api/v1]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The workspace to use instead of the key's default one [env: OPENROUTER_WORKSPACE]
    #[arg(long, value_name = "UUID")]
    pub workspace: Option<String>,
    /// Also trust the CA certificates in FILE (PEM), besides the system's store (which
    /// honours SSL_CERT_FILE and SSL_CERT_DIR) [env: OPENROUTER_CA_CERT]
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Send every request through this proxy (http://, https://, socks5://, socks5h://;
    /// credentials as http://user:pass@host:port, never printed) instead of the one the
    /// environment names (https_proxy, http_proxy or all_proxy, as curl reads them), except to
    /// the hosts in no_proxy or NO_PROXY (or --noproxy), as curl's -x does
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,
    /// Reach these hosts without a proxy, instead of no_proxy or NO_PROXY (curl's --noproxy):
    /// names (with their subdomains), addresses and networks (10.0.0.0/8), separated by commas;
    /// '' for none, '*' for every host
    #[arg(long = "noproxy", value_name = "LIST")]
    pub bypass: Option<String>,
    /// Use no proxy, whatever the environment says (the same as --noproxy '*')
    #[arg(long, conflicts_with = "bypass")]
    pub no_proxy: bool,
    /// Print each request on standard error: method, path, status, try, time, bytes, request
    /// id, proxy, retries (JSON objects with --json); no progress bars
    #[arg(short, long)]
    pub verbose: bool,
    /// JSON output: one object per line; errors too, on standard error
    #[arg(long)]
    pub json: bool,
}

/// The option of the commands that draw progress bars (on a terminal).
#[derive(Debug, Args)]
pub struct Bars {
    /// No progress bars
    #[arg(short, long)]
    pub quiet: bool,
}

/// `-q` after a command that draws no progress bars: accepted and ignored until 0.4, as 0.2
/// accepted it there.
#[derive(Debug, Args)]
pub struct NoBars {
    #[arg(short, long, hide = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List files, one line each: id, size_bytes, mime_type, created_at, filename (TAB-separated;
    /// `\`, TAB, LF and CR in a field are written as `\\`, `\t`, `\n`, `\r`)
    Ls(Ls),
    /// Upload files; prints each file's metadata as one JSON line
    Put(Put),
    /// Download files: to standard output (not a terminal), to a file, or into a directory
    Get(Get),
    /// Print each file's metadata as one JSON line
    Info(crate::job_args::Info),
    /// Delete files; prints each deleted id
    Rm(crate::job_args::Rm),
    /// Print the JSON content part that names each file in a completion request (nothing is
    /// sent); send that request with the header `x-openrouter-file-ids: openrouter`, or
    /// OpenRouter passes the id to the upstream provider
    #[command(after_help = REF_EXAMPLES)]
    Ref(Ref),
    /// Sync a local folder to the workspace, one way, recorded in a manifest
    Sync(crate::job_args::Sync),
    /// Run the local emulator of the Files API until stopped; prints its base URL and key
    #[cfg(feature = "emulator")]
    #[command(after_help = EMULATOR_EXAMPLES)]
    Emulator(Emulator),
    /// Print a shell completion script
    #[command(after_help = COMPLETIONS_INSTALL)]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

const REF_EXAMPLES: &str = "Examples:
  openrouter-files ref ID --for chat             # the part for a chat completion's content
  openrouter-files ls | cut -f1 | openrouter-files ref - --for messages";

#[cfg(feature = "emulator")]
const EMULATOR_EXAMPLES: &str =
    "Output: `seeded ID NAME BYTES` for each seeded file, then `base_url URL` and `api_key KEY`
once it listens. With --print-env: `export OPENROUTER_BASE_URL=…` and `export
OPENROUTER_API_KEY=…` lines for a shell's `eval` (seeded files as `# seeded …` comments), then
standard output is closed while the emulator goes on serving.

Examples:
  openrouter-files emulator --seed-files 3       # serve three small files; Ctrl-C stops it
  eval \"$(openrouter-files emulator --print-env &)\"   # serve in the background, and point
  openrouter-files ls                            #   this shell's commands at it
  kill \"$OPENROUTER_EMULATOR_PID\"                # stop it, removing what it stored";

const COMPLETIONS_INSTALL: &str = "Install (then start a new shell):
  bash:  dir=~/.local/share/bash-completion/completions
         mkdir -p $dir && openrouter-files completions bash > $dir/openrouter-files
  zsh:   mkdir -p ~/.zfunc && openrouter-files completions zsh > ~/.zfunc/_openrouter-files
         # and in ~/.zshrc, before `compinit`: fpath=(~/.zfunc $fpath)
  fish:  openrouter-files completions fish > ~/.config/fish/completions/openrouter-files.fish
  elvish, powershell: load the script from your shell's startup file";

#[derive(Debug, Args)]
#[command(after_help = crate::job_args::LS_EXAMPLES)]
pub struct Ls {
    /// List at most N files [default: every file]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Files per request (1-1000) [default: the server's; at most --limit]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: Option<u32>,
    /// List a provider's storage (openai, anthropic, ...) instead of OpenRouter's
    #[arg(long, value_name = "P")]
    pub provider: Option<String>,
    /// Sort order (desc: provider storage only)
    #[arg(long, value_enum)]
    pub order: Option<Order>,
    #[command(flatten)]
    pub summary: crate::job_args::LsSummary,
    #[command(flatten)]
    pub api: Api,
    #[command(flatten)]
    pub no_bars: NoBars,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Args)]
#[command(after_help = crate::job_args::PUT_EXAMPLES)]
pub struct Put {
    /// Files to upload; `-` reads standard input (give it a name with --name)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The name to store the file under (one file only)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub transfer: Transfer,
    #[command(flatten)]
    pub folders: crate::job_args::PutFolders,
    #[command(flatten)]
    pub api: Api,
    #[command(flatten)]
    pub bars: Bars,
}

#[derive(Debug, Args)]
#[command(after_help = crate::job_args::GET_EXAMPLES)]
pub struct Get {
    /// Files to download; `-` reads ids from standard input, one per line (or select them
    /// with the filters below)
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// Save the file to PATH (one file), atomically
    #[arg(short, long, value_name = "PATH", conflicts_with = "dir")]
    pub output: Option<PathBuf>,
    /// Save each file into DIR (created if missing), named by its id, atomically
    #[arg(short, long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub transfer: Transfer,
    #[command(flatten)]
    pub named: crate::job_args::GetByName,
    #[command(flatten)]
    pub api: Api,
    #[command(flatten)]
    pub bars: Bars,
}

/// Options of the commands that move file contents.
#[derive(Debug, Args)]
pub struct Transfer {
    /// Transfers to run at once
    #[arg(short, long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Go on with the other files after one fails, then exit 5 with a summary
    #[arg(long)]
    pub continue_on_error: bool,
}

#[derive(Debug, Args)]
pub struct Ref {
    /// File ids; `-` reads ids from standard input, one per line
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// The request shape: chat (completions, a `file` part), responses (`input_file`) or
    /// messages (`document`)
    #[arg(long = "for", value_enum, value_name = "API")]
    pub api: RefFor,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RefFor {
    Chat,
    Responses,
    Messages,
}

#[cfg(feature = "emulator")]
#[derive(Debug, Args)]
pub struct Emulator {
    /// The port on 127.0.0.1 (0: any free port; the base URL printed says which)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Add a downloadable file of BYTES generated bytes named NAME (repeatable)
    #[arg(long, value_name = "NAME:BYTES", value_parser = parse_seed)]
    pub seed_downloadable: Vec<(String, u64)>,
    /// Add N small downloadable text files (seed-00000.txt, ...)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed_files: u32,
    /// Print `export` lines for a shell's `eval` instead of `base_url`/`api_key`, then close
    /// standard output and go on serving (see below)
    #[arg(long)]
    pub print_env: bool,
    /// The only API key the emulator accepts [default: sk-or-emulator-key]
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// The API version to speak [default: 2026-08-22]
    #[arg(long, value_name = "VERSION", value_parser = ["2026-07-19", "2026-08-22"])]
    pub api_version: Option<String>,
    /// The largest upload accepted, in bytes [default: 100000000]
    #[arg(long, value_name = "BYTES")]
    pub upload_limit: Option<u64>,
    /// Accept uploads of any content type, as application/octet-stream
    #[arg(long)]
    pub accept_any_content: bool,
    /// Answer byte-range requests (206), with Accept-Ranges, ETag and Last-Modified
    #[arg(long)]
    pub range_requests: bool,
    /// Connections served at once, each on its own thread; one more takes the place of an idle
    /// or too slow one, or is answered 503 [default: 256]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// How long a socket may wait for the client, reading or writing, in milliseconds
    /// [default: 30000]
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub read_timeout_ms: Option<u64>,
    /// The least average rate a request (head and body) must keep after the grace, in bytes
    /// per second; slower is answered 408 (0: no rate rule) [default: 500]
    #[arg(long, value_name = "BYTES_PER_SEC")]
    pub min_body_rate: Option<u64>,
    /// How long a request may take before the rate rule applies, in milliseconds
    /// [default: 20000]
    #[arg(long, value_name = "MS")]
    pub rate_grace_ms: Option<u64>,
    /// The longest a whole request may take to arrive, in milliseconds; longer is answered
    /// 408 [default: none]
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: Option<u64>,
    /// Wait this long before every answer, in milliseconds (a network's round trip)
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// How many of the newest requests the emulator keeps in its log, which bounds its memory
    /// [default: 1000]
    #[arg(long, value_name = "N")]
    pub request_log_limit: Option<u32>,
    /// An existing directory under which uploaded bytes are kept, in a new subdirectory of the
    /// emulator's own that it removes when it stops [default: the system temp dir]
    #[arg(long, value_name = "DIR")]
    pub storage_dir: Option<std::path::PathBuf>,
}

#[cfg(feature = "emulator")]
fn parse_seed(spec: &str) -> Result<(String, u64), String> {
    let (name, size) = spec
        .rsplit_once(':')
        .ok_or_else(|| "expected NAME:BYTES".to_string())?;
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    let size = size
        .parse()
        .map_err(|e| format!("BYTES must be a number: {e}"))?;
    Ok((name.to_string(), size))
}
