//! Whole-folder jobs through the CLI: `--dry-run` sends no write on any command (checked on
//! the emulator's request log), filters select from the listing (names with odd characters
//! included), `rm` needs `--all` for everything, `put -r` and `--skip-existing`, `get
//! --by-name` never writing outside its folder, and `ls --summarize`.

mod common;

use common::{json_lines, run, seeded, writes};
use openrouter_files_emulator::Emulator;

const ODD: [&str; 6] = [
    "plain.csv",
    "with space.csv",
    "star*name.csv",
    "brackets [1].csv",
    "tab\there.txt",
    "ünï 名前.csv",
];

fn odd_files() -> (Emulator, Vec<String>) {
    let files: Vec<(&str, Vec<u8>)> = ODD
        .iter()
        .enumerate()
        .map(|(i, name)| (*name, vec![b'x'; 100 * (i + 1)]))
        .collect();
    seeded(&files)
}

fn names_of(stdout: &str) -> Vec<String> {
    json_lines(stdout)
        .iter()
        .map(|v| v["filename"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn dry_run_sends_no_write_on_any_command() {
    let (emulator, ids) = odd_files();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    std::fs::write(src.join("sub/b.txt"), "bb").unwrap();
    let src = src.to_str().unwrap();
    let out_dir = dir.path().join("out");
    let out_dir = out_dir.to_str().unwrap();
    let manifest = dir.path().join("m.jsonl");
    let manifest = manifest.to_str().unwrap();
    let existing = dir.path().to_str().unwrap();
    emulator.clear_requests();
    let commands: Vec<Vec<&str>> = vec![
        vec!["put", "-r", src, "--dry-run"],
        vec!["put", "-r", src, "--skip-existing", "--dry-run"],
        vec!["rm", &ids[0], "--dry-run"],
        vec!["rm", "--all", "--dry-run"],
        vec!["rm", "--name", "*.csv", "--dry-run"],
        vec![
            "get",
            "--name",
            "*.csv",
            "-d",
            out_dir,
            "--by-name",
            "--dry-run",
        ],
        vec!["get", &ids[1], "-d", existing, "--dry-run"],
        vec!["get", &ids[1], "--dry-run"],
        vec!["sync", src, "--manifest", manifest, "--delete", "--dry-run"],
    ];
    for args in &commands {
        let out = run(&emulator, args);
        assert_eq!(out.code, Some(0), "{args:?}: {out:?}");
        assert!(!out.stdout.is_empty(), "{args:?} printed no plan");
        assert!(writes(&emulator).is_empty(), "{args:?} wrote");
    }
    assert_eq!(common::listed_ids(&emulator), ids, "nothing changed");
    assert!(
        !std::path::Path::new(out_dir).exists(),
        "get --dry-run made no folder"
    );
    assert!(!std::path::Path::new(manifest).exists());
    let saved: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(saved.len(), 1, "only src: nothing downloaded");
    let preview = run(&emulator, &["--json", "put", "-r", src, "--dry-run"]);
    let lines = json_lines(&preview.stdout);
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|l| l["dry_run"] == true && l["action"] == "upload")
    );
}

#[test]
fn filters_select_odd_names_on_ls_info_and_rm() {
    let (emulator, _) = odd_files();
    let ls = |args: &[&str]| {
        let mut all = vec!["--json", "ls"];
        all.extend_from_slice(args);
        names_of(&run(&emulator, &all).stdout)
    };
    assert_eq!(ls(&["--name", r"star\*name.csv"]), ["star*name.csv"]);
    assert_eq!(ls(&["--name", r"brackets \[1\].csv"]), ["brackets [1].csv"]);
    assert_eq!(ls(&["--name", "tab\there.txt"]), ["tab\there.txt"]);
    assert_eq!(ls(&["--name", "ünï *"]), ["ünï 名前.csv"]);
    assert_eq!(
        ls(&["--name", "*.csv", "--min-size", "200", "--max-size", "400"]),
        ["with space.csv", "star*name.csv", "brackets [1].csv"]
    );
    assert_eq!(ls(&["--mime", "image/"]).len(), 0);
    assert_eq!(ls(&["--downloadable", "--since", "1h"]).len(), 6);
    assert_eq!(ls(&["--before", "2000-01-01"]).len(), 0);
    let bad = run(&emulator, &["ls", "--min-size", "ten"]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    let info = run(&emulator, &["info", "--name", "with space.csv"]);
    assert_eq!(names_of(&info.stdout), ["with space.csv"]);
    let rm = run(&emulator, &["rm", "--name", "*.csv", "--max-size", "300"]);
    assert_eq!(rm.code, Some(0), "{rm:?}");
    assert_eq!(rm.stdout.lines().count(), 3);
    assert_eq!(
        ls(&[]),
        ["brackets [1].csv", "tab\there.txt", "ünï 名前.csv"],
        "only the selected files were deleted"
    );
}

#[test]
fn rm_with_neither_ids_nor_filters_needs_all() {
    let (emulator, ids) = odd_files();
    let out = run(&emulator, &["rm"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--all"), "{}", out.stderr);
    assert!(writes(&emulator).is_empty());
    let both = run(&emulator, &["rm", &ids[0], "--name", "*"]);
    assert_eq!(both.code, Some(2), "{both:?}");
    let all = run(&emulator, &["rm", "--all"]);
    assert_eq!(all.code, Some(0), "{all:?}");
    assert!(common::listed_ids(&emulator).is_empty());
}

#[test]
fn put_recursive_uploads_regular_files_and_says_where_each_came_from() {
    let emulator = common::emulator();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("nested/deeper")).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    std::fs::write(src.join("nested/deeper/b.txt"), "bb").unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "outside").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, src.join("link.txt")).unwrap();
    let src_s = src.to_str().unwrap();
    let refused = run(&emulator, &["put", src_s]);
    assert_eq!(refused.code, Some(2));
    assert!(refused.stderr.contains("-r"), "a hint: {}", refused.stderr);
    let out = run(&emulator, &["put", "-r", src_s]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let lines = json_lines(&out.stdout);
    let mut pairs: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["filename"].as_str().unwrap().to_string(),
                l["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("a.txt".to_string(), src.join("a.txt").display().to_string()),
            (
                "b.txt".to_string(),
                src.join("nested/deeper/b.txt").display().to_string()
            ),
        ],
        "the symbolic link is left out"
    );
    #[cfg(unix)]
    {
        let followed = run(
            &emulator,
            &["put", "-r", "--follow-symlinks", "--skip-existing", src_s],
        );
        assert_eq!(followed.code, Some(0), "{followed:?}");
        let lines = json_lines(&followed.stdout);
        let uploaded: Vec<_> = lines.iter().filter(|l| l["skipped"].is_null()).collect();
        assert_eq!(uploaded.len(), 1, "only the link's file is new: {lines:?}");
        assert_eq!(uploaded[0]["filename"], "link.txt");
        assert_eq!(lines.len(), 3);
    }
}

#[test]
fn put_skip_existing_uploads_only_what_is_missing() {
    let emulator = common::emulator();
    let dir = tempfile::tempdir().unwrap();
    let a = common::file(dir.path(), "a.txt", "aaa");
    let b = common::file(dir.path(), "b.txt", "bbb");
    assert_eq!(run(&emulator, &["put", &a]).code, Some(0));
    emulator.clear_requests();
    let out = run(&emulator, &["put", "--skip-existing", &a, &b]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let posts: Vec<_> = writes(&emulator);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let lines = json_lines(&out.stdout);
    assert_eq!(lines[0]["skipped"], "exists");
    assert_eq!(lines[1]["filename"], "b.txt");
}

#[test]
fn get_by_name_keeps_names_inside_the_folder_and_makes_them_unique() {
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("report.pdf", b"one".to_vec()),
        ("report.pdf", b"second".to_vec()),
        ("../escape.txt", b"nope".to_vec()),
        ("..", b"dots".to_vec()),
        ("sub/dir.txt", b"slash".to_vec()),
    ];
    let (emulator, ids) = seeded(&files);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new/folder");
    let target_s = target.to_str().unwrap();
    let out = run(
        &emulator,
        &["get", "--name", "*", "-d", target_s, "--by-name"],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let mut saved: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    saved.sort();
    let mut expected = vec![
        "report.pdf".to_string(),
        format!("report ({}).pdf", ids[1]),
        ".._escape.txt".to_string(),
        ids[3].clone(),
        "sub_dir.txt".to_string(),
    ];
    expected.sort();
    assert_eq!(saved, expected);
    assert!(!dir.path().join("new/escape.txt").exists());
    assert_eq!(std::fs::read(target.join("report.pdf")).unwrap(), b"one");
    // Run again with --skip-existing: every target holds its file, nothing is downloaded.
    emulator.clear_requests();
    let again = run(
        &emulator,
        &[
            "get",
            "--name",
            "*",
            "-d",
            target_s,
            "--by-name",
            "--skip-existing",
        ],
    );
    assert_eq!(again.code, Some(0), "{again:?}");
    let downloads = emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/content"))
        .count();
    assert_eq!(downloads, 0);
}

#[test]
fn ls_summarize_counts_files_and_bytes_of_the_selection() {
    let (emulator, _) = odd_files();
    let out = run(&emulator, &["ls", "--summarize", "--name", "*.csv"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let last = out.stdout.lines().last().unwrap();
    assert_eq!(last, "total\t5 files\t1600");
    let human = run(&emulator, &["ls", "-H", "--summarize"]);
    assert_eq!(human.stdout.lines().last().unwrap(), "total\t6 files\t2.1K");
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.split('\t').nth(1) == Some("600"))
    );
    let json = run(&emulator, &["--json", "ls", "--summarize"]);
    let lines = json_lines(&json.stdout);
    assert_eq!(lines.last().unwrap()["summary"]["files"], 6);
    assert_eq!(lines.last().unwrap()["summary"]["bytes"], 2100);
}
