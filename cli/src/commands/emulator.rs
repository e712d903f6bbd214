//! `emulator`: the library's local Files API server, run until killed, printing what a test
//! or script needs to reach it (`base_url …`, `api_key …`, one `seeded …` line per seed).

use std::io::{self, Read};

use openrouter_files::emulator::{ApiVersion, DEFAULT_WORKSPACE, Emulator};

use crate::args;
use crate::failure::{Exit, Failure};
use crate::output::Out;
use crate::text::clean;

pub fn emulator(args: &args::Emulator, out: &mut Out) -> Result<(), Failure> {
    let mut builder = Emulator::builder()
        .port(args.port)
        .accept_any_content(args.accept_any_content);
    if let Some(key) = &args.api_key {
        builder = builder.api_key(key);
    }
    if let Some(limit) = args.upload_limit {
        builder = builder.upload_limit(limit);
    }
    if let Some(version) = &args.api_version {
        builder = builder.api_version(match version.as_str() {
            "2026-07-19" => ApiVersion::V2026_07_19,
            _ => ApiVersion::V2026_08_22,
        });
    }
    let failed = |what: String| {
        move |e: io::Error| Failure::new(Exit::Other, "local", format!("{what}: {e}"))
    };
    let emulator = builder
        .start()
        .map_err(failed("cannot start the emulator".into()))?;
    for (name, size) in &args.seed_downloadable {
        let id = emulator
            .seed_reader_in(DEFAULT_WORKSPACE, name, Generated::new(*size))
            .map_err(failed(format!("cannot seed {name}")))?;
        out.line(&format!("seeded {id} {} {size}", clean(name)))?;
    }
    for i in 0..args.seed_files {
        let name = format!("seed-{i:05}.txt");
        let text = format!("seed file {i}\n");
        emulator
            .seed_file_in(DEFAULT_WORKSPACE, &name, text.as_bytes())
            .map_err(failed(format!("cannot seed {name}")))?;
    }
    if args.seed_files > 0 {
        out.line(&format!("seeded {} small files", args.seed_files))?;
    }
    out.line(&format!("base_url {}", emulator.base_url()))?;
    out.line(&format!("api_key {}", emulator.api_key()))?;
    loop {
        std::thread::park();
    }
}

/// `left` bytes that look like binary data, the same for every run (SplitMix64 output).
struct Generated {
    next: u64,
    left: u64,
}

impl Generated {
    fn new(len: u64) -> Generated {
        Generated { next: 0, left: len }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for chunk in buf[..n].chunks_mut(8) {
            self.next = self.next.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.next;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}
