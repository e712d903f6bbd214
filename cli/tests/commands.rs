//! Every command and option of `openrouter-files`, run as a subprocess against the emulator:
//! output formats, standard input, several files at once, partial failures, a closed output.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use openrouter_files_emulator::{DEFAULT_WORKSPACE, Emulator, Fault};

#[test]
fn ls_prints_one_tab_separated_line_per_file_in_the_documented_columns() {
    let emulator = emulator();
    let a = put(&emulator, "a.csv", "x,y\n1,2\n");
    let b = put(&emulator, "b name.md", "# B\n");
    let out = run(&emulator, &["ls"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let expected: Vec<String> = [&a, &b]
        .iter()
        .map(|f| {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                f["id"].as_str().unwrap(),
                f["size_bytes"],
                f["mime_type"].as_str().unwrap(),
                f["created_at"].as_str().unwrap(),
                f["filename"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn ls_json_prints_one_object_per_line_across_pages() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "hello");
    let b = put(&emulator, "b.txt", "world!");
    let out = run(&emulator, &["ls", "--json", "--page-size", "1"]);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines, vec![a, b]);
    let pages = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.query.as_deref().is_some_and(|q| q.contains("limit=1")))
        .count();
    assert!(pages >= 2, "--page-size is the page size: {pages} pages");
}

/// The `limit=` of each list request `emulator` received.
fn page_sizes(emulator: &Emulator) -> Vec<String> {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/files"))
        .map(|r| {
            let query = r.query.clone().unwrap_or_default();
            let size = query.split('&').find_map(|p| p.strip_prefix("limit="));
            size.unwrap_or("none").to_string()
        })
        .collect()
}

#[test]
fn ls_limit_caps_the_total_and_page_size_sets_the_files_per_request() {
    let emulator = emulator();
    for i in 0..5 {
        emulator
            .seed_file_in(DEFAULT_WORKSPACE, &format!("f{i}.txt"), b"x")
            .unwrap();
    }
    let names = |out: &Ran| -> Vec<String> {
        let lines = out.stdout.lines();
        lines
            .map(|l| l.rsplit('\t').next().unwrap().to_string())
            .collect()
    };
    // The first two, in one request for no more than two.
    let out = run(&emulator, &["ls", "--limit", "2"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(names(&out), ["f0.txt", "f1.txt"]);
    assert_eq!(page_sizes(&emulator), ["2"]);
    // Three, two per request.
    let emulator_then = emulator.requests().len();
    let out = run(&emulator, &["ls", "--limit=3", "--page-size=2"]);
    assert_eq!(names(&out), ["f0.txt", "f1.txt", "f2.txt"]);
    assert_eq!(page_sizes(&emulator)[1..], ["2", "2"]);
    assert_eq!(emulator.requests().len(), emulator_then + 2);
    // A cap above the number of files lists them all.
    let out = run(&emulator, &["ls", "--limit", "100000"]);
    assert_eq!(names(&out).len(), 5, "{out:?}");
    // The cap counts the files a filter keeps, and the summary still ends the listing.
    let out = run(
        &emulator,
        &["ls", "--limit", "2", "--name", "f[1-4].txt", "--summarize"],
    );
    assert_eq!(names(&out), ["f1.txt", "f2.txt", "2"], "{out:?}");
    assert!(out.stdout.ends_with("\ntotal\t2 files\t2\n"), "{out:?}");
}

#[test]
fn ls_escapes_tab_newline_and_backslash_so_a_name_cannot_forge_a_row() {
    let emulator = emulator();
    emulator
        .seed_file_in(DEFAULT_WORKSPACE, "a\tb\nforged\\row\r.txt", b"x")
        .unwrap();
    let out = run(&emulator, &["ls"]);
    assert_eq!(out.stdout.lines().count(), 1, "{:?}", out.stdout);
    let fields: Vec<&str> = out.stdout.trim_end_matches('\n').split('\t').collect();
    assert_eq!(fields.len(), 5, "{fields:?}");
    assert_eq!(fields[4], "a\\tb\\nforged\\\\row\\r.txt");
}

#[test]
fn ls_passes_provider_and_order_and_workspace_on() {
    let emulator = emulator();
    let workspace = "a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7";
    let out = run(
        &emulator,
        &[
            "ls",
            "--provider",
            "openai",
            "--order=desc",
            "--workspace",
            workspace,
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let query = emulator.requests()[0].query.clone().unwrap_or_default();
    for part in [
        "provider=openai",
        "order=desc",
        &format!("workspace_id={workspace}"),
    ] {
        assert!(query.contains(part), "{part} missing from {query}");
    }
}

#[test]
fn ls_stops_fetching_when_its_output_closes() {
    // 300 lines of about 1 KB: more than a pipe holds (64 KiB on Linux), so the listing
    // cannot run ahead to the end before the reader has gone.
    let emulator = emulator();
    let padding = "n".repeat(1000);
    for i in 0..300 {
        emulator
            .seed_file_in(DEFAULT_WORKSPACE, &format!("f{i:03}{padding}"), b"x")
            .unwrap();
    }
    let mut child = Command::new(BIN)
        .env("OPENROUTER_API_KEY", KEY)
        .args(["ls", "--page-size", "1", "--base-url", emulator.base_url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    // Like `| head -1`: the reader takes its line and closes the pipe.
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(first.contains("\tf000n"), "{first}");
    assert_eq!(status.code(), Some(0));
    let pages = emulator.requests().len();
    assert!(
        pages <= 100,
        "fetched {pages} of 300 pages after the reader left"
    );
}

#[test]
fn put_prints_metadata_and_name_overrides_the_file_name() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "local.txt", "content");
    let out = run(&emulator, &["put", &path, "--name=remote.txt", "--quiet"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let meta: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(meta["filename"], "remote.txt");
    assert_eq!(meta["size_bytes"], 7);
    assert!(
        out.stderr.is_empty(),
        "no progress bar off a terminal: {out:?}"
    );
}

#[test]
fn put_dash_uploads_standard_input_under_the_given_name() {
    let emulator = emulator();
    let out = ran(cli(&emulator, &["put", "-", "--name", "notes.md"]).write_stdin("# Notes\n"));
    assert_eq!(out.code, Some(0), "{out:?}");
    let meta: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(meta["filename"], "notes.md");
    assert_eq!(meta["size_bytes"], 8);
    let refused = ran(cli(&emulator, &["put", "-"]).write_stdin("# Notes\n"));
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(refused.stderr.contains("--name"), "{refused:?}");
    let empty = ran(cli(&emulator, &["put", "-", "--name", "e.txt"]).write_stdin(""));
    assert_eq!(empty.code, Some(2), "{empty:?}");
    assert!(empty.stderr.contains("empty"), "{empty:?}");
    assert_eq!(
        emulator.requests().len(),
        1,
        "only the good upload was sent"
    );
}

#[test]
fn put_of_standard_input_the_server_finds_too_large_exits_1_with_its_status() {
    let emulator = Emulator::builder()
        .api_key(KEY)
        .upload_limit(1000)
        .start()
        .unwrap();
    let big = "x".repeat(200_000);
    // The client's limit is its own (100 MB by default); the server refuses with 413 → 1.
    let out = ran(cli(&emulator, &["put", "-", "--name", "big.txt"]).write_stdin(big));
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("413"), "{out:?}");
}

#[test]
fn put_uploads_several_files_in_parallel_one_json_line_each() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<String> = (0..6)
        .map(|i| file(dir.path(), &format!("f{i}.txt"), format!("file {i}\n")))
        .collect();
    let mut args = vec!["put", "-j", "3"];
    args.extend(paths.iter().map(String::as_str));
    let out = run(&emulator, &args);
    assert_eq!(out.code, Some(0), "{out:?}");
    let mut names: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|m| m["filename"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        (0..6).map(|i| format!("f{i}.txt")).collect::<Vec<_>>()
    );
    assert_eq!(run(&emulator, &["ls"]).stdout.lines().count(), 6);
}

#[test]
fn put_checks_every_local_file_before_sending_anything() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let good = file(dir.path(), "good.txt", "good");
    let empty = file(dir.path(), "empty.txt", "");
    let missing = dir.path().join("missing.txt");
    for bad in [
        empty.as_str(),
        missing.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ] {
        let out = run(&emulator, &["put", &good, bad]);
        assert_eq!(out.code, Some(2), "{bad}: {out:?}");
        assert!(
            out.stderr.contains(bad),
            "the error names the path: {out:?}"
        );
        assert!(out.stdout.is_empty());
    }
    assert!(emulator.requests().is_empty(), "nothing was sent");
}

#[test]
fn put_continue_on_error_uploads_the_rest_and_exits_5_with_a_summary() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let a = file(dir.path(), "a.txt", "a");
    let missing = dir.path().join("missing.txt");
    let missing = missing.to_str().unwrap();
    let b = file(dir.path(), "b.txt", "b");
    let out = run(&emulator, &["put", "--continue-on-error", &a, missing, &b]);
    assert_eq!(out.code, Some(5), "{out:?}");
    assert_eq!(json_lines(&out.stdout).len(), 2);
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.contains("1 of 3 failed") && last.contains(missing),
        "{last}"
    );
    assert!(last.contains("2 uploaded"), "{last}");
}

#[test]
fn put_without_continue_on_error_stops_at_the_first_server_failure() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let a = file(dir.path(), "a.txt", "a");
    let b = file(dir.path(), "b.txt", "b");
    // A 400 is not retried: the first upload fails, the second is not started.
    emulator.inject(openrouter_files_emulator::Fault::status(400), 1);
    let out = run(&emulator, &["put", "-j", "1", &a, &b]);
    assert_eq!(out.code, Some(5), "{out:?}");
    assert!(out.stderr.contains("HTTP 400"), "{out:?}");
    assert!(out.stderr.contains("1 not started"), "{out:?}");
    assert_eq!(emulator.requests().len(), 1);
}

#[test]
fn get_streams_to_stdout_or_writes_a_file() {
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    let (emulator, ids) = seeded(&[("data.bin", content.clone())]);
    let id = &ids[0];
    let out = run(&emulator, &["get", id]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.raw_stdout, content);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.bin");
    let out = run(&emulator, &["get", id, "-o", target.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&target).unwrap(), content);
}

#[test]
fn get_saves_several_files_into_a_directory_in_parallel() {
    let (emulator, ids) = seeded(&[
        ("one.bin", vec![1u8; 100_000]),
        ("two.bin", vec![2u8; 200_000]),
        ("three.bin", vec![3u8; 300_000]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["get", "-j", "3", "-d", dir.path().to_str().unwrap()];
    args.extend(ids.iter().map(String::as_str));
    let out = run(&emulator, &args);
    assert_eq!(out.code, Some(0), "{out:?}");
    for (i, id) in ids.iter().enumerate() {
        let bytes = std::fs::read(dir.path().join(id)).unwrap();
        assert_eq!(bytes, vec![i as u8 + 1; (i + 1) * 100_000]);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temp files left"
    );
}

#[test]
fn get_names_the_real_path_when_it_cannot_write() {
    let (emulator, ids) = seeded(&[("x.bin", vec![7u8; 10])]);
    let id = &ids[0];
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no-such-dir").join("x.bin");
    let out = run(&emulator, &["get", id, "-o", target.to_str().unwrap()]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains(target.to_str().unwrap()), "{out:?}");
    assert!(!out.stderr.contains(".part"), "{out:?}");
    let out = run(&emulator, &["get", id, "-o", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, Some(2), "a directory is not a file: {out:?}");
    let not_a_dir = file(dir.path(), "plain", "x");
    let out = run(&emulator, &["get", id, "-d", &not_a_dir]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("is not a directory"), "{out:?}");
    assert_eq!(emulator.requests().len(), 1, "only the ls was sent");
}

#[test]
fn get_into_a_missing_directory_creates_it_and_removes_it_again_if_nothing_came() {
    let (emulator, ids) = seeded(&[("x.bin", vec![7u8; 10])]);
    let dir = tempfile::tempdir().unwrap();
    let deeper = dir.path().join("new").join("deeper");
    let out = run(&emulator, &["get", &ids[0], "-d", deeper.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(std::fs::read(deeper.join(&ids[0])).unwrap(), vec![7u8; 10]);
    // Nothing downloaded: the directories it made are gone again.
    let missing = dir.path().join("other").join("deeper");
    let out = run(
        &emulator,
        &["get", "or_file_none", "-d", missing.to_str().unwrap()],
    );
    assert_eq!(out.code, Some(4), "{out:?}");
    assert!(!dir.path().join("other").exists());
}

#[test]
fn get_of_an_uploaded_file_is_an_api_error_and_leaves_no_file() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.bin");
    let out = run(
        &emulator,
        &[
            "get",
            a["id"].as_str().unwrap(),
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("HTTP 400"), "{out:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn get_continue_on_error_saves_the_others_and_exits_5() {
    let (emulator, ids) = seeded(&[("x.bin", vec![7u8; 10])]);
    let id = &ids[0];
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run(
        &emulator,
        &["get", "--continue-on-error", "-d", d, "or_file_missing", id],
    );
    assert_eq!(out.code, Some(5), "{out:?}");
    assert!(
        out.stderr
            .contains("or_file_missing: GET /files/or_file_missing/content: HTTP 404"),
        "{out:?}"
    );
    assert_eq!(std::fs::read(dir.path().join(id)).unwrap(), vec![7u8; 10]);
}

#[test]
fn info_prints_each_file_as_one_json_line_over_one_connection() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let b = put(&emulator, "b.txt", "b");
    let before = emulator.connections_accepted();
    let out = run(
        &emulator,
        &["info", a["id"].as_str().unwrap(), b["id"].as_str().unwrap()],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(json_lines(&out.stdout), vec![a, b]);
    assert_eq!(emulator.connections_accepted() - before, 1);
}

#[test]
fn info_goes_on_past_a_missing_id_and_exits_5() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let b = put(&emulator, "b.txt", "b");
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let out = run(&emulator, &["info", a, "or_file_gone", b]);
    assert_eq!(out.code, Some(5), "{out:?}");
    assert_eq!(json_lines(&out.stdout).len(), 2);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines[0].starts_with("openrouter-files: or_file_gone: GET /files/or_file_gone: HTTP 404"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("1 of 3 failed (or_file_gone)"),
        "{lines:?}"
    );
}

#[test]
fn a_summary_names_a_few_failed_ids_and_counts_the_rest() {
    let emulator = emulator();
    let kept = put(&emulator, "kept.txt", "k");
    let missing: Vec<String> = (0..57).map(|i| format!("or_file_gone{i:02}")).collect();
    let mut args = vec!["rm", kept["id"].as_str().unwrap()];
    args.extend(missing.iter().map(String::as_str));
    let out = run(&emulator, &args);
    assert_eq!(out.code, Some(5), "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    // Each failure on its own line as it happens, then one short summary.
    assert_eq!(lines.len(), 58, "{lines:?}");
    assert_eq!(
        lines[57],
        "openrouter-files: 57 of 58 failed (or_file_gone00, or_file_gone01, or_file_gone02 \
         and 54 more), 1 deleted"
    );
    // The JSON summary lists them all (up to a hundred): now the first is gone too.
    args.insert(0, "--json");
    let out = run(&emulator, &args);
    let errors = json_lines(&out.stderr);
    assert_eq!(errors.len(), 59, "{out:?}");
    assert_eq!(errors[58]["failed"].as_array().unwrap().len(), 58);
}

#[test]
fn rm_prints_each_deleted_id_and_reads_ids_from_standard_input() {
    let emulator = emulator();
    let ids = put_many(&emulator, 3);
    let out = run(&emulator, &["rm", &ids[0]]);
    assert_eq!(out.stdout, format!("{}\n", ids[0]));
    let stdin = format!("{}\n\n  {}  \n", ids[1], ids[2]);
    let out = ran(cli(&emulator, &["rm", "-"]).write_stdin(stdin));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, format!("{}\n{}\n", ids[1], ids[2]));
    assert!(run(&emulator, &["ls"]).stdout.is_empty());
}

#[test]
fn rm_json_prints_the_servers_answer_and_a_missing_id_exits_4() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let id = a["id"].as_str().unwrap();
    let out = run(&emulator, &["rm", "--json", id]);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines[0]["id"], id);
    assert_eq!(lines[0]["deleted"], true);
    let out = run(&emulator, &["rm", id]);
    assert_eq!(out.code, Some(4), "{out:?}");
    assert!(out.stderr.contains("request id req_emu_"), "{out:?}");
}

#[test]
fn info_reads_ids_from_standard_input_and_refuses_an_endless_line() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let out =
        ran(cli(&emulator, &["info", "-"]).write_stdin(format!("{}\n", a["id"].as_str().unwrap())));
    assert_eq!(json_lines(&out.stdout), vec![a]);
    let before = emulator.requests().len();
    let out = ran(cli(&emulator, &["info", "-"]).write_stdin("x".repeat(100_000)));
    assert_eq!(out.code, Some(2), "{out:?}");
    assert_eq!(emulator.requests().len(), before);
}

#[test]
fn jobs_run_that_many_transfers_at_once() {
    // Each of the first three requests is held for a while, so only transfers running at the
    // same time explain three connections; one at a time would reuse one connection.
    let (emulator, ids) = seeded(&[
        ("a.bin", vec![1u8; 1000]),
        ("b.bin", vec![2u8; 1000]),
        ("c.bin", vec![3u8; 1000]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let delay = Fault::Delay(std::time::Duration::from_millis(1500));
    emulator.inject(delay.clone(), 3);
    let before = emulator.connections_accepted();
    let out = run(
        &emulator,
        &["get", "-j", "3", "-d", d, &ids[0], &ids[1], &ids[2]],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(emulator.connections_accepted() - before, 3);
    let paths: Vec<String> = (0..3)
        .map(|i| file(dir.path(), &format!("up{i}.txt"), "text"))
        .collect();
    emulator.inject(delay, 3);
    let before = emulator.connections_accepted();
    let out = run(&emulator, &["put", "-j3", &paths[0], &paths[1], &paths[2]]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(emulator.connections_accepted() - before, 3);
    let names: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|m| m["filename"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["up0.txt", "up1.txt", "up2.txt"], "input order");
    let before = emulator.connections_accepted();
    let out = run(&emulator, &["put", "-j", "1", &paths[0], &paths[1]]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        emulator.connections_accepted() - before,
        1,
        "-j 1: one at a time"
    );
}
