//! Adversarial review of `FolderSync`: a folder changed between plan and apply, and a
//! manifest that names files the sync did not store.

mod common;

use std::path::{Path, PathBuf};

use common::{TestDir, client_for, temp_dir};
use openrouter_files::{Error, FilesClient, Outcome, SyncAction};
use openrouter_files_emulator::Emulator;

fn write(dir: &Path, path: &str, bytes: &[u8]) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// An emulator, a client for it, a folder and a manifest path outside it.
struct Setup {
    _emulator: Emulator,
    client: FilesClient,
    dir: TestDir,
    manifest: PathBuf,
    _scratch: TestDir,
}

fn setup(name: &str) -> Setup {
    let emulator = Emulator::start().unwrap();
    let client = client_for(&emulator);
    let scratch = temp_dir(&format!("{name}-manifest"));
    Setup {
        _emulator: emulator,
        client,
        dir: temp_dir(name),
        manifest: scratch.join("m.jsonl"),
        _scratch: scratch,
    }
}

/// Every stored file's size.
fn sizes(client: &FilesClient) -> Vec<u64> {
    client
        .list()
        .files()
        .map(|f| f.unwrap().size_bytes)
        .collect()
}

#[cfg(unix)]
#[test]
fn a_file_replaced_by_a_link_between_plan_and_apply_is_not_followed() {
    let s = setup("sync-swap");
    let (client, dir, manifest) = (&s.client, &s.dir, &s.manifest);
    let outside = temp_dir("sync-swap-outside");
    write(dir, "a.txt", b"plain");
    write(dir, "b.txt", b"bee");
    // A secret of a size no synced file has, so a stored copy would show.
    write(&outside, "secret", b"a secret of 29 bytes, outside");
    let plan = client.sync(dir, manifest).plan().unwrap();
    assert_eq!(plan.actions().len(), 2);
    std::fs::remove_file(dir.join("a.txt")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), dir.join("a.txt")).unwrap();
    let report = client.sync(dir, manifest).apply(plan);
    let items = report.into_items();
    let a = items
        .iter()
        .find(|i| matches!(&i.input, SyncAction::Upload { path, .. } if path == "a.txt"))
        .unwrap();
    assert!(
        matches!(&a.outcome, Outcome::Failed(Error::InvalidInput(m)) if m.contains("link")),
        "{:?}",
        a.outcome
    );
    assert_eq!(sizes(client), [3], "only b.txt is stored");
    // The next run leaves the link out, as a plan does.
    let again = client.sync(dir, manifest).plan().unwrap();
    assert!(again.actions().is_empty(), "{:?}", again.actions());
}

#[test]
fn delete_never_removes_a_file_a_forged_manifest_line_names_under_another_name() {
    let s = setup("sync-forged");
    let (client, dir, manifest) = (&s.client, &s.dir, &s.manifest);
    write(dir, "kept.txt", b"kept");
    let theirs = client
        .upload(openrouter_files::Upload::bytes(
            "theirs.txt",
            &b"not yours"[..],
        ))
        .unwrap();
    // A line claiming that a path gone from the folder was stored as someone else's file.
    let line = serde_json::json!({
        "op": "put", "path": "gone.txt", "id": theirs.id, "size": 9, "mtime_ns": 1,
        "sha256": "00", "uploaded_at": 1,
    });
    std::fs::write(manifest, format!("{line}\n")).unwrap();
    let plan = client.sync(dir, manifest).delete(true).plan().unwrap();
    let report = client.sync(dir, manifest).apply(plan);
    let items = report.into_items();
    let delete = items
        .iter()
        .find(|i| matches!(&i.input, SyncAction::Delete { .. }))
        .unwrap();
    assert!(
        matches!(&delete.outcome, Outcome::Failed(Error::InvalidInput(m)) if m.contains("theirs.txt")),
        "{:?}",
        delete.outcome
    );
    client
        .retrieve(&theirs.id)
        .expect("their file is still stored");
    // A file the sync did store under the path is deleted as before.
    std::fs::remove_file(dir.join("kept.txt")).unwrap();
    let plan = client.sync(dir, manifest).delete(true).plan().unwrap();
    let _ = client.sync(dir, manifest).apply(plan);
    assert_eq!(sizes(client), [9], "kept.txt deleted, theirs.txt left");
}

/// Seconds since the epoch now.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn one_stored_file_is_never_adopted_for_two_interrupted_uploads() {
    // A server that keeps only base names stores `a/x.txt` as `x.txt`: two interrupted
    // uploads, `a/x.txt` and `b/x.txt` of one size, both match it. Adopting it for both would
    // leave one local file with no stored copy, and `--delete` of one path would delete the
    // other's file.
    let s = setup("sync-one-for-two");
    let (client, dir, manifest) = (&s.client, &s.dir, &s.manifest);
    write(dir, "a/x.txt", b"same");
    write(dir, "b/x.txt", b"size");
    let started = now();
    client
        .upload(openrouter_files::Upload::bytes("x.txt", &b"same"[..]))
        .unwrap();
    let intents: String = ["a/x.txt", "b/x.txt"]
        .iter()
        .map(|path| {
            let line = serde_json::json!({
                "op": "intent", "path": path, "name": path, "size": 4, "sha256": "00",
                "started": started,
            });
            format!("{line}\n")
        })
        .collect();
    std::fs::write(manifest, intents).unwrap();
    let plan = client.sync(dir, manifest).plan();
    let adopted: Vec<&str> = plan
        .as_ref()
        .map(|p| {
            p.actions()
                .iter()
                .filter_map(|a| match a {
                    SyncAction::Adopt { path, .. } => Some(path.as_str()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(adopted.len() < 2, "one file adopted for {adopted:?}");
    assert!(
        matches!(&plan, Err(Error::LostUpload { candidates, .. }) if candidates.len() == 1),
        "{plan:?}"
    );
}

/// Seeded damage to a valid manifest: a torn tail, CRLF line ends, a duplicated line, a
/// U+2028 in a path, a line of garbage, a flipped byte. Planning never panics and never
/// writes to the workspace; CRLF and duplicates plan as the intact manifest does; a torn
/// tail loses its last record only (a rewritten manifest is never torn: this is what a kill
/// during an append leaves, where the intent before it still stands); garbage in the middle
/// is `Error::InvalidInput`.
#[test]
fn seeded_damage_to_a_manifest_is_planned_or_refused_never_guessed() {
    let seed: u64 = std::env::var("MANIFEST_DAMAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xda_3a9e);
    let mut rng = common::generate::Rng(seed);
    let mut below = |n: usize| rng.below(n);
    let s = setup("sync-damage");
    let (client, dir, manifest) = (&s.client, &s.dir, &s.manifest);
    for i in 0..5 {
        write(dir, &format!("d/f{i}.txt"), format!("file {i}").as_bytes());
    }
    let plan = client.sync(dir, manifest).plan().unwrap();
    assert!(client.sync(dir, manifest).apply(plan).is_success());
    let intact = std::fs::read(manifest).unwrap();
    let lines: Vec<&[u8]> = intact.split_inclusive(|b| *b == b'\n').collect();
    let writes = || {
        s._emulator
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .count()
    };
    let before = writes();
    for round in 0..120 {
        let kind = below(6);
        let damaged: Vec<u8> = match kind {
            // Torn: cut inside the last line.
            0 => {
                let last = lines.last().unwrap().len();
                intact[..intact.len() - 1 - below(last - 1)].to_vec()
            }
            1 => String::from_utf8(intact.clone())
                .unwrap()
                .replace('\n', "\r\n")
                .into_bytes(),
            2 => {
                let at = below(lines.len());
                let mut out: Vec<u8> = lines[..=at].concat();
                out.extend_from_slice(lines[at]);
                out.extend(lines[at + 1..].concat());
                out
            }
            3 => String::from_utf8(intact.clone())
                .unwrap()
                .replacen("d/f", "d/\u{2028}f", 1)
                .into_bytes(),
            4 => {
                let at = below(lines.len());
                let mut out: Vec<u8> = lines[..at].concat();
                out.extend_from_slice(b"{\"op\":\"put\",\"path\":1}\n");
                out.extend(lines[at..].concat());
                out
            }
            _ => {
                let mut out = intact.clone();
                let at = below(out.len());
                out[at] ^= 1 << below(8);
                out
            }
        };
        std::fs::write(manifest, &damaged).unwrap();
        let result = client.sync(dir, manifest).plan();
        let context = format!("seed {seed} round {round} kind {kind}");
        match kind {
            0 => {
                let plan = result.unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(plan.unchanged(), 4, "{context}");
                assert_eq!(plan.actions().len(), 1, "{context}");
            }
            1 | 2 => {
                let plan = result.unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(plan.unchanged(), 5, "{context}");
                assert!(plan.actions().is_empty(), "{context}: {:?}", plan.actions());
            }
            3 => {
                let plan = result.unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(plan.unchanged() + plan.actions().len(), 5, "{context}");
            }
            4 => assert!(
                matches!(result, Err(Error::InvalidInput(_))),
                "{context}: {result:?}"
            ),
            _ => {} // planned or refused; neither panics
        }
        assert_eq!(writes(), before, "{context}: planning wrote");
    }
}
