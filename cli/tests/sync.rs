//! `sync` as a user runs it: killed with SIGKILL at seeded random moments and run again, it
//! ends with exactly one stored file per local file; a re-run of an unchanged folder and a
//! `--dry-run` send no write; changed, added and removed files with `--delete`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::{KEY, emulator, json_lines, run, writes};
use openrouter_files_emulator::Emulator;

/// The stored files by name; fails on a name stored twice.
fn stored(emulator: &Emulator) -> BTreeMap<String, u64> {
    let client = openrouter_files::FilesClient::builder()
        .api_key(KEY)
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let mut map = BTreeMap::new();
    for f in client.list().files() {
        let f = f.unwrap();
        assert!(
            map.insert(f.filename.clone(), f.size_bytes).is_none(),
            "{} stored twice",
            f.filename
        );
    }
    map
}

/// A small deterministic generator (xorshift), so a failing seed can be run again.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `n` files under `dir`, in a few subfolders, of seeded sizes; name → size.
fn folder(dir: &Path, n: usize, rng: &mut Rng) -> BTreeMap<String, u64> {
    (0..n)
        .map(|i| {
            let name = format!("d{}/f {i}.txt", i % 7);
            let size = 1 + rng.below(3000);
            let path = dir.join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, common_text(size as usize, i)).unwrap();
            (name, size)
        })
        .collect()
}

fn common_text(n: usize, salt: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + ((i + salt) % 26) as u8).collect()
}

fn sync_args<'a>(dir: &'a str, manifest: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["sync", dir, "--manifest", manifest];
    args.extend_from_slice(extra);
    args
}

#[cfg(unix)]
#[test]
fn a_sync_killed_at_random_moments_and_rerun_stores_each_file_exactly_once() {
    let seed = std::env::var("SYNC_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026_u64);
    let mut rng = Rng(seed);
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let manifest = scratch.path().join("m.jsonl");
    let local = folder(dir.path(), 300, &mut rng);
    let (d, m) = (dir.path().to_str().unwrap(), manifest.to_str().unwrap());
    let mut kills = 0;
    for round in 0..8 {
        let mut child = common::process(emulator.base_url())
            .args(["-q", "sync", d, "--manifest", m, "-j", "4"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // A random moment: once the manifest has a random number of records (intents and
        // results), plus a random few milliseconds.
        let records = rng.below(150) as usize;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline
            && child.try_wait().unwrap().is_none()
            && std::fs::read_to_string(&manifest).map_or(0, |t| t.lines().count()) < records
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_micros(rng.below(3000)));
        let status = common::send_signal(&mut child, libc::SIGKILL);
        if status.code().is_none() {
            kills += 1;
        }
        // Between some rounds, the server holds a lost answer too.
        if round % 2 == 1 {
            emulator.inject(
                openrouter_files_emulator::Fault::DropAfterRunning
                    .on(openrouter_files_emulator::Route::Upload),
                1,
            );
        }
    }
    assert!(
        kills >= 3,
        "only {kills} runs were killed mid-way (seed {seed})"
    );
    let out = run(&emulator, &sync_args(d, m, &["-q"]));
    assert_eq!(out.code, Some(0), "seed {seed}: {}", out.stderr);
    assert_eq!(stored(&emulator), local, "seed {seed}");
    emulator.clear_requests();
    let again = run(&emulator, &sync_args(d, m, &[]));
    assert_eq!(again.code, Some(0), "{again:?}");
    assert!(
        writes(&emulator).is_empty(),
        "seed {seed}: {:?}",
        writes(&emulator)
    );
}

#[test]
fn an_unchanged_folder_sends_nothing_and_dry_run_sends_no_write() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let manifest = scratch.path().join("m.jsonl");
    let local = folder(dir.path(), 12, &mut Rng(7));
    let (d, m) = (dir.path().to_str().unwrap(), manifest.to_str().unwrap());
    let preview = run(&emulator, &sync_args(d, m, &["--dry-run", "--json"]));
    assert_eq!(preview.code, Some(0), "{preview:?}");
    let actions = json_lines(&preview.stdout);
    assert_eq!(actions.len(), 12);
    assert!(
        actions
            .iter()
            .all(|a| a["action"] == "upload" && a["dry_run"] == true)
    );
    assert!(writes(&emulator).is_empty());
    assert!(!manifest.exists(), "a dry run writes no manifest");
    let first = run(&emulator, &sync_args(d, m, &["--json"]));
    assert_eq!(first.code, Some(0), "{first:?}");
    assert_eq!(json_lines(&first.stdout).len(), 12);
    assert_eq!(stored(&emulator), local);
    emulator.clear_requests();
    let again = run(&emulator, &sync_args(d, m, &[]));
    assert_eq!((again.code, again.stdout.as_str()), (Some(0), ""));
    assert!(emulator.requests().is_empty(), "no request at all");
}

#[test]
fn changed_added_and_removed_files_with_delete() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let manifest = scratch.path().join("m.jsonl");
    let (d, m) = (dir.path().to_str().unwrap(), manifest.to_str().unwrap());
    for (name, text) in [("a.txt", "one"), ("b.txt", "two"), ("c.txt", "three")] {
        common::file(dir.path(), name, text);
    }
    assert_eq!(run(&emulator, &sync_args(d, m, &[])).code, Some(0));
    let foreign = common::put(&emulator, "b.txt", "not owned");
    std::thread::sleep(Duration::from_millis(20));
    common::file(dir.path(), "a.txt", "ONE, longer");
    common::file(dir.path(), "new.txt", "four");
    std::fs::remove_file(dir.path().join("b.txt")).unwrap();
    let preview = run(&emulator, &sync_args(d, m, &["--delete", "--dry-run"]));
    let mut lines: Vec<&str> = preview.stdout.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 3, "{preview:?}");
    assert!(lines[0].starts_with("delete\tb.txt\t"), "{lines:?}");
    assert!(lines[1].starts_with("upload\ta.txt\t"), "{lines:?}");
    assert!(lines[2].starts_with("upload\tnew.txt\t"), "{lines:?}");
    let out = run(&emulator, &sync_args(d, m, &["--delete"]));
    assert_eq!(out.code, Some(0), "{out:?}");
    let mut expected = BTreeMap::new();
    expected.insert("a.txt".to_string(), 11);
    expected.insert("b.txt".to_string(), 9); // the foreign one, untouched
    expected.insert("c.txt".to_string(), 5);
    expected.insert("new.txt".to_string(), 4);
    assert_eq!(stored(&emulator), expected);
    let ids = common::listed_ids(&emulator);
    assert!(ids.contains(&foreign["id"].as_str().unwrap().to_string()));
}

#[test]
fn a_missing_folder_is_a_usage_error_and_sends_nothing() {
    let emulator = emulator();
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("nope");
    let manifest = scratch.path().join("m.jsonl");
    let out = run(
        &emulator,
        &sync_args(missing.to_str().unwrap(), manifest.to_str().unwrap(), &[]),
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("not a folder"), "{}", out.stderr);
    assert!(emulator.requests().is_empty());
    assert!(!manifest.exists());
}
