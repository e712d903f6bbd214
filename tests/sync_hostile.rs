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
