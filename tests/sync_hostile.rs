//! Adversarial review of `FolderSync`: a folder changed between plan and apply, and a
//! manifest that names files the sync did not store.

mod common;

use std::path::Path;

use common::{client_for, temp_dir};
use openrouter_files::{Error, FilesClient, Outcome, SyncAction};
use openrouter_files_emulator::Emulator;

fn write(dir: &Path, path: &str, bytes: &[u8]) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
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
    let emulator = Emulator::start().unwrap();
    let client = client_for(&emulator);
    let dir = temp_dir("sync-swap");
    let outside = temp_dir("sync-swap-outside");
    let scratch = temp_dir("sync-swap-manifest");
    let manifest = scratch.join("m.jsonl");
    write(&dir, "a.txt", b"plain");
    write(&dir, "b.txt", b"bee");
    // A secret of a size no synced file has, so a stored copy would show.
    write(&outside, "secret", b"a secret of 29 bytes, outside");
    let plan = client.sync(&*dir, &manifest).plan().unwrap();
    assert_eq!(plan.actions().len(), 2);
    std::fs::remove_file(dir.join("a.txt")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), dir.join("a.txt")).unwrap();
    let report = client.sync(&*dir, &manifest).apply(plan);
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
    assert_eq!(sizes(&client), [3], "only b.txt is stored");
    // The next run leaves the link out, as a plan does.
    let again = client.sync(&*dir, &manifest).plan().unwrap();
    assert!(again.actions().is_empty(), "{:?}", again.actions());
}

#[test]
fn delete_never_removes_a_file_a_forged_manifest_line_names_under_another_name() {
    let emulator = Emulator::start().unwrap();
    let client = client_for(&emulator);
    let dir = temp_dir("sync-forged");
    let scratch = temp_dir("sync-forged-manifest");
    let manifest = scratch.join("m.jsonl");
    write(&dir, "kept.txt", b"kept");
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
    std::fs::write(&manifest, format!("{line}\n")).unwrap();
    let plan = client.sync(&*dir, &manifest).delete(true).plan().unwrap();
    let report = client.sync(&*dir, &manifest).apply(plan);
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
    let plan = client.sync(&*dir, &manifest).delete(true).plan().unwrap();
    let _ = client.sync(&*dir, &manifest).apply(plan);
    assert_eq!(sizes(&client), [9], "kept.txt deleted, theirs.txt left");
}
