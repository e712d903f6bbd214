//! The crate's main job, end to end: upload, list, retrieve, download, delete.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With `OPENROUTER_API_KEY` set it talks to OpenRouter (or `OPENROUTER_BASE_URL`); without
//! it, it starts the embedded emulator on 127.0.0.1 and says so.

use std::io::Read;

use openrouter_files::{FilesClient, Upload};
use openrouter_files_emulator::Emulator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _emulator;
    let have_key = std::env::var("OPENROUTER_API_KEY").is_ok_and(|k| !k.trim().is_empty());
    let client = if have_key {
        let client = FilesClient::from_env()?;
        println!(
            "Using the Files API at {} (OPENROUTER_API_KEY is set)",
            client.base_url()
        );
        client
    } else {
        let emulator = Emulator::builder()
            .seed_file("server-report.csv", b"region,files\neu,3\nus,5\n".to_vec())
            .start()?;
        println!(
            "OPENROUTER_API_KEY is not set: using the embedded emulator at {}",
            emulator.base_url()
        );
        let client = FilesClient::builder()
            .api_key(emulator.api_key())
            .base_url(emulator.base_url())
            .build()?;
        _emulator = emulator;
        client
    };

    let uploaded = client.upload(Upload::bytes(
        "quickstart-notes.md",
        "# Quickstart\n\nUploaded by openrouter-files.\n",
    ))?;
    println!(
        "1. uploaded  {} ({} bytes, {})",
        uploaded.id,
        uploaded.size_bytes,
        uploaded.mime_type.as_deref().unwrap_or("?")
    );

    println!("2. listing");
    let mut downloadable = None;
    for file in client.list().page_size(100) {
        let file = file?;
        println!(
            "   {}\t{}\t{}\t{}",
            file.id, file.size_bytes, file.filename, file.created_at
        );
        if file.downloadable && downloadable.is_none() {
            downloadable = Some(file.id);
        }
    }

    let meta = client.retrieve(&uploaded.id)?;
    println!("3. retrieved {} -> {:?}", meta.id, meta.filename);

    match downloadable {
        Some(id) => {
            let mut body = client.download(&id)?;
            let mut text = String::new();
            body.read_to_string(&mut text)?;
            println!("4. downloaded {id} ({} bytes):", text.len());
            for line in text.lines() {
                println!("   | {line}");
            }
        }
        None => println!("4. no server-created (downloadable) file in this workspace; skipped"),
    }

    let gone = client.delete(&uploaded.id)?;
    println!("5. deleted   {}", gone.id);
    Ok(())
}
