//! `emulator`: the library's local Files API server, run until a signal stops it, printing
//! what a test or script needs to reach it (one `seeded …` line per seed, then `base_url …`
//! and `api_key …`, or with `--print-env` `export` lines for a shell's `eval`). Stopped by
//! SIGINT, SIGTERM or SIGHUP, it removes the bytes it stored, through the storage directory's
//! handle ([`Emulator::remove_storage`]).

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use openrouter_files_emulator::{ApiVersion, DEFAULT_WORKSPACE, Emulator, EmulatorBuilder};

use crate::args;
use crate::failure::{Exit, Failure};
use crate::output::Out;
use crate::text::clean;

pub fn emulator(args: &args::Emulator, out: &mut Out) -> Result<(), Failure> {
    // Ctrl-C, SIGTERM (a script's `kill`) and SIGHUP remove the stored bytes, seeds being
    // written included, then end the process as the signal would. Only SIGKILL (or a signal in
    // the instant between the start and the registration) leaves them in the storage directory.
    crate::interrupt::watch();
    let emulator = Arc::new(
        configured(args)
            .start()
            .map_err(failed("cannot start the emulator".into()))?,
    );
    // Through the directory handle the emulator holds, so a storage directory swapped for a
    // symlink meanwhile is emptied all the same, and no link is followed.
    let on_signal = Arc::clone(&emulator);
    crate::interrupt::on_interrupt(move || on_signal.remove_storage());
    seed(&emulator, args, out)?;
    announce(&emulator, args.print_env, out)?;
    loop {
        std::thread::park();
    }
}

/// The emulator the options describe; what they leave out keeps the emulator's default.
fn configured(args: &args::Emulator) -> EmulatorBuilder {
    let mut builder = Emulator::builder()
        .port(args.port)
        .accept_any_content(args.accept_any_content)
        .range_requests(args.range_requests);
    if let Some(key) = &args.api_key {
        builder = builder.api_key(key);
    }
    if let Some(limit) = args.upload_limit {
        builder = builder.upload_limit(limit);
    }
    if let Some(n) = args.max_connections {
        builder = builder.max_connections(n as usize);
    }
    if let Some(ms) = args.read_timeout_ms {
        let timeout = Duration::from_millis(ms);
        builder = builder.read_timeout(timeout).write_timeout(timeout);
    }
    if args.min_body_rate.is_some() || args.rate_grace_ms.is_some() {
        let rate = args
            .min_body_rate
            .unwrap_or(openrouter_files_emulator::DEFAULT_MIN_RATE);
        let grace = args.rate_grace_ms.map_or(
            openrouter_files_emulator::DEFAULT_RATE_GRACE,
            Duration::from_millis,
        );
        builder = builder.min_rate(rate, grace);
    }
    if let Some(ms) = args.request_timeout_ms {
        builder = builder.request_timeout(Some(Duration::from_millis(ms)));
    }
    if args.latency_ms > 0 {
        builder = builder.latency(Duration::from_millis(args.latency_ms));
    }
    if let Some(n) = args.request_log_limit {
        builder = builder.request_log_limit(n as usize);
    }
    if let Some(dir) = &args.storage_dir {
        builder = builder.storage_dir(dir);
    }
    if let Some(version) = &args.api_version {
        builder = builder.api_version(match version.as_str() {
            "2026-07-19" => ApiVersion::V2026_07_19,
            _ => ApiVersion::V2026_08_22,
        });
    }
    builder
}

/// Stores the seeds the options ask for (`--seed-downloadable` first, then `--seed-files`),
/// printing one `seeded ID NAME BYTES` line for each: a comment under `--print-env`.
fn seed(emulator: &Emulator, args: &args::Emulator, out: &mut Out) -> Result<(), Failure> {
    // `# ` makes the lines comments for a shell that evaluates the output.
    let comment = if args.print_env { "# " } else { "" };
    for (name, size) in &args.seed_downloadable {
        let id = emulator
            .seed_reader_in(DEFAULT_WORKSPACE, name, Generated::new(*size))
            .map_err(failed(format!("cannot seed {name}")))?;
        out.line(&format!("{comment}seeded {id} {} {size}", clean(name)))?;
    }
    for i in 0..args.seed_files {
        let name = format!("seed-{i:05}.txt");
        let text = format!("seed file {i}\n");
        let id = emulator
            .seed_file_in(DEFAULT_WORKSPACE, &name, text.as_bytes())
            .map_err(failed(format!("cannot seed {name}")))?;
        out.line(&format!("{comment}seeded {id} {name} {}", text.len()))?;
    }
    Ok(())
}

/// Prints how to reach the emulator: `base_url …` and `api_key …` lines, or with
/// `--print-env` the `export` lines, after which the output is let go so that a shell's
/// `eval "$(… &)"` returns while the emulator runs on.
fn announce(emulator: &Emulator, print_env: bool, out: &mut Out) -> Result<(), Failure> {
    if print_env {
        for line in exports(emulator.base_url(), emulator.api_key(), std::process::id()) {
            out.line(&line)?;
        }
        out.detach()?;
    } else {
        out.line(&format!("base_url {}", emulator.base_url()))?;
        out.line(&format!("api_key {}", emulator.api_key()))?;
    }
    Ok(())
}

/// The failure for a local I/O error while `what`.
fn failed(what: String) -> impl FnOnce(io::Error) -> Failure {
    move |e: io::Error| Failure::new(Exit::Other, "local", format!("{what}: {e}"))
}

/// The `export` lines of `--print-env`, each value quoted for a POSIX shell.
fn exports(base_url: &str, api_key: &str, pid: u32) -> [String; 3] {
    [
        format!("export OPENROUTER_BASE_URL={}", quoted(base_url)),
        format!("export OPENROUTER_API_KEY={}", quoted(api_key)),
        format!("export OPENROUTER_EMULATOR_PID={pid}"),
    ]
}

/// `text` in single quotes, each `'` in it written `'\''`: a POSIX shell reads it back
/// exactly, expanding nothing.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `left` bytes that look like binary data, the same for every run: the low byte of each
/// step of a xorshift64 generator from a fixed seed (the bytes `examples/emulator.rs` seeded,
/// which this command replaces), so a test elsewhere can compute what it should download.
struct Generated {
    state: u64,
    left: u64,
}

impl Generated {
    fn new(len: u64) -> Generated {
        Generated {
            state: 0x2545_F491_4F6C_DD1D,
            left: len,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for byte in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *byte = self.state as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_values_are_quoted_for_a_shell() {
        let [url, key, pid] = exports("http://127.0.0.1:1/api/v1", "k'; rm -rf ~ #$(x)", 42);
        assert_eq!(
            url,
            "export OPENROUTER_BASE_URL='http://127.0.0.1:1/api/v1'"
        );
        assert_eq!(key, r"export OPENROUTER_API_KEY='k'\''; rm -rf ~ #$(x)'");
        assert_eq!(pid, "export OPENROUTER_EMULATOR_PID=42");
    }

    #[test]
    fn a_shell_reads_back_every_exported_value_exactly() {
        for key in [
            "sk-or-plain",
            "it's",
            "a b\tc\nd",
            "$(echo pwned)`echo x`$HOME\\'\"",
            "'",
        ] {
            let [url, key_line, pid] = exports("http://127.0.0.1:1/api/v1", key, 7);
            let script = format!(
                "{url}\n{key_line}\n{pid}\n\
                 printf '%s|%s|%s' \"$OPENROUTER_BASE_URL\" \"$OPENROUTER_API_KEY\" \"$OPENROUTER_EMULATOR_PID\""
            );
            let out = std::process::Command::new("sh")
                .args(["-c", "eval \"$1\"", "sh", &script])
                .output()
                .expect("this test needs a POSIX sh");
            assert!(out.status.success(), "{key:?}: {out:?}");
            let read = String::from_utf8(out.stdout).unwrap();
            assert_eq!(
                read,
                format!("http://127.0.0.1:1/api/v1|{key}|7"),
                "{key:?}"
            );
        }
    }

    #[test]
    fn seeded_bytes_are_the_same_on_every_run() {
        // xorshift64 from 0x2545_F491_4F6C_DD1D, low byte of each step.
        let mut bytes = Vec::new();
        Generated::new(6).read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes, [231, 224, 183, 54, 142, 193]);
    }
}
