//! Adversarial review of the whole-folder jobs, from outside: the binary against the emulator,
//! with manifests that are not files, two syncs on one manifest at once, and stored names
//! built to collide in `get -d DIR --by-name`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::{KEY, emulator, ran, run, writes};
use openrouter_files::FilesClient;
use openrouter_files_emulator::Emulator;

fn client(emulator: &Emulator) -> FilesClient {
    FilesClient::builder()
        .api_key(KEY)
        .base_url(emulator.base_url())
        .build()
        .unwrap()
}

/// The stored files: name → how many times it is stored.
fn stored_counts(emulator: &Emulator) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    for f in client(emulator).list().files() {
        *map.entry(f.unwrap().filename).or_insert(0) += 1;
    }
    map
}

/// `n` small distinct files under `dir`.
fn folder(dir: &Path, n: usize) {
    for i in 0..n {
        let path = dir.join(format!("d{}/f{i}.txt", i % 3));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("file {i} {}", "x".repeat(i))).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn a_manifest_that_is_a_fifo_is_refused_at_once_and_nothing_is_sent() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path(), 2);
    let scratch = tempfile::tempdir().unwrap();
    let fifo = scratch.path().join("m.jsonl");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) reads the NUL-terminated path only.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut cmd = common::cli(&emulator, &["sync", dir.path().to_str().unwrap()]);
        cmd.args(["--manifest", fifo.to_str().unwrap()])
            .args(extra)
            .timeout(Duration::from_secs(20));
        let out = ran(&mut cmd);
        assert_eq!(out.code, Some(2), "{extra:?}: {out:?}");
        assert!(out.stderr.contains("not a regular file"), "{out:?}");
    }
    assert!(writes(&emulator).is_empty(), "{:?}", writes(&emulator));
    // /dev/zero would be read for ever: refused the same way.
    let out = run(
        &emulator,
        &[
            "sync",
            dir.path().to_str().unwrap(),
            "--manifest",
            "/dev/zero",
        ],
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(writes(&emulator).is_empty(), "{:?}", writes(&emulator));
}

#[test]
fn two_syncs_on_one_manifest_at_once_never_store_a_file_twice() {
    let emulator = Emulator::builder()
        .api_key(KEY)
        .latency(Duration::from_millis(5))
        .start()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path(), 40);
    let scratch = tempfile::tempdir().unwrap();
    let manifest = scratch.path().join("m.jsonl");
    let (d, m) = (dir.path().to_str().unwrap(), manifest.to_str().unwrap());
    let spawn = || {
        common::process(emulator.base_url())
            .args(["-q", "sync", d, "--manifest", m, "-j", "4"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let refused = outs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stderr).contains("another sync"))
        .count();
    assert!(
        outs.iter()
            .all(|o| o.status.success()
                || String::from_utf8_lossy(&o.stderr).contains("another sync")),
        "{outs:?}"
    );
    assert!(refused <= 1, "{outs:?}");
    // Whatever happened, a third run finishes the job: each file stored once.
    let out = run(&emulator, &["-q", "sync", d, "--manifest", m]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let counts = stored_counts(&emulator);
    assert_eq!(counts.len(), 40, "{counts:?}");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let left: Vec<_> = std::fs::read_dir(scratch.path()).unwrap().collect();
    assert_eq!(
        left.len(),
        1,
        "the manifest alone, no lock file left: {left:?}"
    );
}

/// Saves the files `ids` (in that order; none: every stored file, with `--name '*'`) with
/// `get -d DIR --by-name`; returns what DIR holds (name → content) and fails unless each of
/// `contents` is there once.
fn get_by_name_all(
    emulator: &Emulator,
    ids: &[&str],
    contents: &[&[u8]],
) -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    let mut args = vec!["get", "-d", target.to_str().unwrap(), "--by-name"];
    if ids.is_empty() {
        args.extend(["--name", "*"]);
    }
    args.extend(ids);
    let out = run(emulator, &args);
    assert_eq!(out.code, Some(0), "{out:?}");
    let saved: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    let mut got: Vec<&[u8]> = saved.values().map(Vec::as_slice).collect();
    got.sort();
    let mut want = contents.to_vec();
    want.sort();
    assert_eq!(got, want, "saved: {:?}", saved.keys().collect::<Vec<_>>());
    saved
}

/// An emulator that takes uploads of any content type.
fn any_content_emulator() -> Emulator {
    Emulator::builder()
        .api_key(KEY)
        .accept_any_content(true)
        .start()
        .unwrap()
}

/// Adds a downloadable file to the running emulator; returns its id.
fn seed(emulator: &Emulator, name: &str, content: &[u8]) -> String {
    emulator
        .seed_file_in(openrouter_files_emulator::DEFAULT_WORKSPACE, name, content)
        .unwrap()
}

#[test]
fn get_by_name_keeps_apart_long_names_that_agree_on_their_first_bytes() {
    let emulator = any_content_emulator();
    let long = format!("{}.txt", "n".repeat(300));
    let contents: [&[u8]; 3] = [b"first", b"second", b"third"];
    for content in contents {
        seed(&emulator, &long, content);
    }
    let saved = get_by_name_all(&emulator, &[], &contents);
    assert!(saved.keys().all(|n| n.len() <= 255), "{saved:?}");
}

#[test]
fn get_by_name_keeps_apart_a_name_equal_to_another_files_made_unique_name() {
    let emulator = any_content_emulator();
    let a = seed(&emulator, "a.txt", b"one");
    let b = seed(&emulator, "a.txt", b"two");
    // A third file named as the second would be renamed, whichever comes first.
    let for_b = seed(&emulator, &format!("a ({b}).txt"), b"three");
    let for_a = seed(&emulator, &format!("a ({a}).txt"), b"four");
    let contents: [&[u8]; 4] = [b"one", b"two", b"three", b"four"];
    for order in [[&for_b, &a, &b, &for_a], [&for_a, &b, &a, &for_b]] {
        let ids = order.map(String::as_str);
        get_by_name_all(&emulator, &ids, &contents);
    }
}

#[test]
fn a_dry_run_with_a_manifest_in_a_missing_folder_previews_and_leaves_nothing() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path(), 2);
    let scratch = tempfile::tempdir().unwrap();
    let manifest = scratch.path().join("missing/m.jsonl");
    let out = run(
        &emulator,
        &[
            "sync",
            dir.path().to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout.lines().count(), 2, "{out:?}");
    assert!(writes(&emulator).is_empty());
    assert!(!scratch.path().join("missing").exists());
}

#[cfg(unix)]
#[test]
fn get_by_name_replaces_links_planted_in_the_folder_and_never_writes_through_them() {
    let emulator = any_content_emulator();
    seed(&emulator, "a.txt", b"stored a");
    seed(&emulator, "b.txt", b"stored b");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(dir.path().join("secret"), b"mine").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret"), target.join("a.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), target.join("b.txt")).unwrap();
    let out = run(
        &emulator,
        &[
            "get",
            "--name",
            "*",
            "-d",
            target.to_str().unwrap(),
            "--by-name",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(std::fs::read(dir.path().join("secret")).unwrap(), b"mine");
    assert!(!dir.path().join("nowhere").exists());
    for (name, content) in [("a.txt", &b"stored a"[..]), ("b.txt", b"stored b")] {
        let meta = std::fs::symlink_metadata(target.join(name)).unwrap();
        assert!(meta.is_file(), "{name} is still a link");
        assert_eq!(std::fs::read(target.join(name)).unwrap(), content);
    }
}

/// Runs `args` as the unprivileged user `nobody` (root reads every file, so a file it cannot
/// read needs another user); None when this is not root or `setpriv` is missing.
#[cfg(unix)]
fn as_nobody(emulator: &Emulator, args: &[&str]) -> Option<common::Ran> {
    // SAFETY: geteuid(2) takes nothing and cannot fail.
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/setpriv").exists() {
        return None;
    }
    let mut cmd = assert_cmd::Command::new("/usr/bin/setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        common::BIN,
    ])
    .env("OPENROUTER_API_KEY", KEY)
    .args(["--base-url", emulator.base_url()])
    .args(args)
    .timeout(Duration::from_secs(60));
    Some(ran(&mut cmd))
}

#[cfg(unix)]
#[test]
fn a_file_that_cannot_be_read_fails_its_item_and_the_rest_is_synced() {
    use std::os::unix::fs::{PermissionsExt, chown};
    let emulator = emulator();
    let scratch = tempfile::tempdir().unwrap();
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = scratch.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(dir.join(name), name).unwrap();
    }
    let manifest = scratch.path().join("m.jsonl");
    let (d, m) = (dir.to_str().unwrap(), manifest.to_str().unwrap());
    let first = run(&emulator, &["-q", "sync", d, "--manifest", m]);
    assert_eq!(first.code, Some(0), "{first:?}");
    // Now owned by nobody, but for b.txt: changed (a new mtime, same size) and unreadable;
    // c.txt changed and readable.
    for path in [&dir, &manifest, &dir.join("a.txt"), &dir.join("c.txt")] {
        chown(path, Some(65534), Some(65534)).unwrap();
    }
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::write(dir.join("c.txt"), "C.txt").unwrap();
    std::fs::set_permissions(dir.join("b.txt"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(dir.join("b.txt"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let Some(out) = as_nobody(&emulator, &["sync", d, "--manifest", m]) else {
        return; // needs root to become another user
    };
    assert_eq!(out.code, Some(5), "one item failed, the rest done: {out:?}");
    assert!(out.stderr.contains("b.txt"), "{out:?}");
    assert!(out.stdout.contains("c.txt"), "c.txt uploaded: {out:?}");
    let counts = stored_counts(&emulator);
    assert_eq!(counts.values().sum::<usize>(), 3, "{counts:?}");
}
