//! `files`: a small command-line tool for the OpenRouter Files API, built on this crate.
//!
//! ```text
//! cargo run --example files -- [--base-url URL] [--workspace UUID] [--quiet] COMMAND
//!   ls [--limit N] [--json]     one line per file: id, size, type, created, name (TAB-separated)
//!   put PATH [--name NAME]      upload; prints the metadata as JSON
//!   info ID...                  print each file's metadata as one JSON line
//!   get ID [-o PATH]            download to stdout, or atomically to PATH
//!   rm ID...                    delete; prints each deleted id
//! ```
//!
//! The key comes from `OPENROUTER_API_KEY`. Exit codes: 0 success, 1 API or transport error,
//! 2 usage or local validation error.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use openrouter_files::{Error, FileMetadata, FilesClient, Upload};

const USAGE: &str = "usage: files [--base-url URL] [--workspace UUID] [--quiet] COMMAND
commands:
  ls [--limit N] [--json]
  put PATH [--name NAME]
  info ID...
  get ID [-o PATH]
  rm ID...
The API key is read from OPENROUTER_API_KEY.";

/// How a run failed, and so which exit code it gets.
enum Failure {
    Usage(String),
    Call(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Call(e)
    }
}

struct Options {
    base_url: Option<String>,
    workspace: Option<String>,
    quiet: bool,
    command: Vec<String>,
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("files: {message}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Call(error)) => {
            eprintln!("files: {error}");
            let local = matches!(
                error,
                Error::InvalidInput(_) | Error::Config(_) | Error::Io { .. }
            );
            ExitCode::from(if local { 2 } else { 1 })
        }
    }
}

fn parse_options(args: Vec<String>) -> Result<Options, Failure> {
    let mut options = Options {
        base_url: None,
        workspace: None,
        quiet: false,
        command: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--base-url" => options.base_url = Some(value(&mut args, &arg)?),
            "--workspace" => options.workspace = Some(value(&mut args, &arg)?),
            "--quiet" | "-q" => options.quiet = true,
            "-h" | "--help" => return Err(Failure::Usage("help".into())),
            _ => {
                options.command.push(arg);
                options.command.extend(args);
                break;
            }
        }
    }
    Ok(options)
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, Failure> {
    args.next()
        .ok_or_else(|| Failure::Usage(format!("{flag} needs a value")))
}

fn client(options: &Options) -> Result<FilesClient, Failure> {
    let key = std::env::var("OPENROUTER_API_KEY").unwrap_or_default();
    if key.trim().is_empty() {
        return Err(Failure::Usage("OPENROUTER_API_KEY is not set".into()));
    }
    let mut builder = FilesClient::builder().api_key(&key);
    let env_url = std::env::var("OPENROUTER_BASE_URL").ok();
    if let Some(url) = options.base_url.as_ref().or(env_url.as_ref()) {
        builder = builder.base_url(url);
    }
    if let Some(workspace) = &options.workspace {
        builder = builder.workspace(workspace);
    }
    Ok(builder.build()?)
}

fn run(args: Vec<String>) -> Result<(), Failure> {
    let options = parse_options(args)?;
    let Some((command, rest)) = options.command.split_first() else {
        return Err(Failure::Usage("no command given".into()));
    };
    let progress = !options.quiet && io::stderr().is_terminal();
    match command.as_str() {
        "ls" => ls(&client(&options)?, rest),
        "put" => put(&client(&options)?, rest, progress),
        "info" => {
            let client = client(&options)?;
            each_id(rest, |id| print_json(&client.retrieve(id)?))
        }
        "get" => get(&client(&options)?, rest, progress),
        "rm" => {
            let client = client(&options)?;
            each_id(rest, |id| {
                let gone = client.delete(id)?;
                write_line(&gone.id)
            })
        }
        other => Err(Failure::Usage(format!("unknown command {other:?}"))),
    }
}

fn ls(client: &FilesClient, args: &[String]) -> Result<(), Failure> {
    let mut request = client.list();
    let mut json = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--limit" => {
                let n = args
                    .next()
                    .ok_or_else(|| Failure::Usage("--limit needs a value".into()))?;
                let n = n
                    .parse()
                    .map_err(|_| Failure::Usage(format!("--limit takes a number, not {n:?}")))?;
                request = request.limit(n);
            }
            other => return Err(Failure::Usage(format!("ls: unknown argument {other:?}"))),
        }
    }
    let stdout = io::stdout();
    for page in request.pages() {
        let page = page?;
        let mut out = stdout.lock();
        for file in &page.data {
            let line = if json {
                serde_json::to_string(file).unwrap_or_default()
            } else {
                tsv(file)
            };
            if writeln!(out, "{line}").is_err() {
                return Ok(()); // the reader went away (`| head`): stop fetching
            }
        }
        if out.flush().is_err() {
            return Ok(());
        }
    }
    Ok(())
}

fn tsv(file: &FileMetadata) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        file.id,
        file.size_bytes,
        file.mime_type.as_deref().unwrap_or("-"),
        file.created_at,
        file.filename
    )
}

fn put(client: &FilesClient, args: &[String], progress: bool) -> Result<(), Failure> {
    let (path, name) = match args {
        [path] => (path, None),
        [path, flag, name] if flag == "--name" => (path, Some(name)),
        _ => return Err(Failure::Usage("put takes PATH [--name NAME]".into())),
    };
    let mut upload = Upload::path(path);
    if let Some(name) = name {
        upload = upload.filename(name);
    }
    if progress {
        let mut bar = Bar::new("put");
        upload = upload.on_progress(move |done, total| bar.draw(done, total));
    }
    let meta = client.upload(upload)?;
    print_json(&meta)
}

fn get(client: &FilesClient, args: &[String], progress: bool) -> Result<(), Failure> {
    let (id, output) = match args {
        [id] => (id, None),
        [id, flag, path] if flag == "-o" || flag == "--output" => (id, Some(path)),
        _ => return Err(Failure::Usage("get takes ID [-o PATH]".into())),
    };
    let mut download = client.download(id)?;
    if progress {
        let mut bar = Bar::new("get");
        download = download.on_progress(move |done, total| bar.draw(done, total));
    }
    match output {
        Some(path) => {
            download.save_to(path)?;
        }
        None => {
            let mut out = io::stdout().lock();
            match io::copy(&mut download, &mut out) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(Failure::Call(Error::from(e))),
            }
            let _ = out.flush();
        }
    }
    Ok(())
}

fn each_id(
    ids: &[String],
    mut each: impl FnMut(&str) -> Result<(), Failure>,
) -> Result<(), Failure> {
    if ids.is_empty() {
        return Err(Failure::Usage("give at least one file id".into()));
    }
    ids.iter().try_for_each(|id| each(id))
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    write_line(&serde_json::to_string(value).unwrap_or_default())
}

fn write_line(line: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    Ok(())
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
struct Bar {
    label: &'static str,
    started: Instant,
    last: Option<Instant>,
}

impl Bar {
    fn new(label: &'static str) -> Bar {
        Bar {
            label,
            started: Instant::now(),
            last: None,
        }
    }

    fn draw(&mut self, done: u64, total: Option<u64>) {
        let finished = total == Some(done);
        if !finished
            && self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = done as f64 / secs / 1e6;
        let line = match total {
            Some(total) if total > 0 => {
                let width = 30;
                let filled = (done * width / total) as usize;
                format!(
                    "{} [{}{}] {:>5.1}% {:.1} MB/s",
                    self.label,
                    "#".repeat(filled),
                    " ".repeat(width as usize - filled),
                    done as f64 * 100.0 / total as f64,
                    rate
                )
            }
            _ => format!("{} {} bytes {:.1} MB/s", self.label, done, rate),
        };
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r{line}");
        if finished {
            let _ = writeln!(err);
        }
    }
}
