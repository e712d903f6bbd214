//! Generated names, ids and credentials, on well-framed answers, each with one exact outcome:
//! names with lone surrogates, line separators and escapes decode to what they say (U+FFFD for
//! a lone surrogate) and never lose a list its other files or pages; a retrieve or a delete
//! answered about another id is `Error::OtherFile`; a retried delete answered 404 is deleted
//! only when its first try may have gone through; any target name of up to 255 bytes is
//! saved, and nothing else is left beside it; a password in a base URL or a `Location` shows
//! in no error and no `Debug` output. `HOSTILE_CASES` cases (2000), seeded by `HOSTILE_SEED`,
//! run on `HOSTILE_THREADS` threads, each with its own server.

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use openrouter_files::{Error, FilesClient, RetryPolicy};

use super::KEY;
use super::common::generate::{Rng, odd_json_string};
use super::common::scripted::{Next, Received, Scripted, api_error, json, redirect, respond};
use super::common::{client_at, fast_retries, temp_dir};
use super::generated::{each_case, settings, workers};

/// A file's metadata as JSON, named by the JSON text `name`.
fn file_body(id: &str, name: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"file","filename":"{name}","mime_type":"text/plain","size_bytes":3,"created_at":"2025-01-01T00:00:00Z","downloadable":true}}"#
    )
}

/// What the server answers during one case.
#[derive(Clone, Default)]
struct Script {
    /// List pages, the n-th asked for with `cursor=pN` (the first without a cursor).
    pages: Vec<String>,
    /// The answer to any retrieve.
    file: String,
    /// The answer to any delete.
    deleted: String,
    /// The content of any download.
    content: Vec<u8>,
    /// When set, every request is answered `302` to it.
    location: Option<String>,
    /// When set, the first delete is answered with this status (0: the connection closes
    /// unanswered) and every later one with 404.
    first_delete: Option<u16>,
    /// Deletes answered so far.
    deletes: Arc<AtomicUsize>,
}

/// Answers `request` as `script` says.
fn answer(script: &Script, request: &Received, s: &mut TcpStream) -> Next {
    // Head and body go in two writes: without this, each answer waits for a delayed ACK.
    let _ = s.set_nodelay(true);
    if let Some(location) = &script.location {
        redirect(s, 302, location);
        return Next::KeepAlive;
    }
    let target = &request.target;
    if let (Some(first), "DELETE") = (script.first_delete, request.method.as_str()) {
        return match (script.deletes.fetch_add(1, Ordering::SeqCst), first) {
            (0, 0) => Next::Close,
            (0, status) => {
                api_error(s, status, "Retry-After: 0\r\n", "not now");
                Next::KeepAlive
            }
            _ => {
                api_error(s, 404, "", "Resource not found");
                Next::KeepAlive
            }
        };
    }
    match request.method.as_str() {
        "GET" if target.ends_with("/content") => respond(s, 200, "", &script.content),
        "GET" if target.contains("/files/") => json(s, 200, "", &script.file),
        "GET" => {
            let page = target
                .split_once("cursor=p")
                .and_then(|(_, n)| n.split('&').next()?.parse::<usize>().ok())
                .unwrap_or(0);
            let body = script.pages.get(page).map_or("{}", String::as_str);
            json(s, 200, "", body);
        }
        _ => json(s, 200, "", &script.deleted),
    }
    Next::KeepAlive
}

/// A list of 1–4 pages of 1–4 files with generated names: every file, in order, each name
/// decoded exactly, and every page fetched.
fn list_case(rng: &mut Rng, case: usize, set: &dyn Fn(Script), client: &FilesClient) {
    let pages = 1 + rng.below(4);
    let mut expected = Vec::new();
    let mut bodies = Vec::new();
    for p in 0..pages {
        let mut files = Vec::new();
        for f in 0..1 + rng.below(4) {
            let id = format!("or_file_{case}_{p}_{f}");
            let (wire, decoded) = odd_json_string(rng);
            files.push(file_body(&id, &wire));
            expected.push((id, decoded));
        }
        let more = p + 1 < pages;
        let cursor = if more {
            format!(r#""p{}""#, p + 1)
        } else {
            "null".into()
        };
        bodies.push(format!(
            r#"{{"data":[{}],"has_more":{more},"cursor":{cursor}}}"#,
            files.join(",")
        ));
    }
    set(Script {
        pages: bodies,
        ..Script::default()
    });
    let files: Vec<_> = client
        .list()
        .files()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("case {case}: {e:?}"));
    let got: Vec<(String, String)> = files.into_iter().map(|f| (f.id, f.filename)).collect();
    assert_eq!(got, expected, "case {case}");
}

/// A retrieve and a delete of one id, answered about it or about another: the metadata or the
/// confirmation when about it, `Error::OtherFile` naming the other id when not.
fn other_id_case(rng: &mut Rng, case: usize, set: &dyn Fn(Script), client: &FilesClient) {
    let asked = format!("or_file_{case}");
    let answered = match rng.below(5) {
        0 => asked.clone(),
        // The same file's id in the first API version's style.
        1 => asked["or_".len()..].to_string(),
        2 => format!("{asked}{}", rng.pick(&["x", " ", "_", "0"])),
        3 => asked[..asked.len() - 1].to_string(),
        _ => format!("file_x{}", rng.next() % 1000),
    };
    let same = answered == asked || answered == asked["or_".len()..];
    let (wire, decoded) = odd_json_string(rng);
    let deleted = match rng.below(3) {
        0 => format!(r#"{{"id":"{answered}","type":"file_deleted"}}"#),
        1 => format!(r#"{{"_shape":"openai","id":"{answered}","object":"file","deleted":true}}"#),
        _ => {
            format!(r#"{{"id":"{answered}","type":"file_deleted","deleted":true,"note":"{wire}"}}"#)
        }
    };
    set(Script {
        file: file_body(&answered, &wire),
        deleted,
        ..Script::default()
    });
    let retrieved = client.retrieve(&asked);
    let gone = client.delete(&asked);
    if same {
        assert_eq!(retrieved.unwrap().filename, decoded, "case {case}");
        assert_eq!(gone.unwrap().id, answered, "case {case}");
        return;
    }
    for err in [retrieved.unwrap_err(), gone.unwrap_err()] {
        assert!(
            matches!(&err, Error::OtherFile { asked: a, answered: b, .. }
                if *a == asked && *b == answered),
            "case {case}: {err:?}"
        );
    }
}

/// A delete whose first try is refused (408, 429, 503), lost or answered with a status after
/// which it may have been done (500, 502, 504), and then answered 404: deleted only when the
/// first try may have gone through, else the 404 (the file was never there).
fn retried_delete_case(rng: &mut Rng, case: usize, set: &dyn Fn(Script), client: &FilesClient) {
    let first = [0, 408, 429, 503, 500, 502, 504][rng.below(7)];
    set(Script {
        first_delete: Some(first),
        ..Script::default()
    });
    let asked = format!("or_file_{case}");
    let gone = client.with_retry(fast_retries(2)).delete(&asked);
    if matches!(first, 408 | 429 | 503) {
        let err = gone.unwrap_err();
        assert_eq!(
            err.status(),
            Some(404),
            "case {case}, first {first}: {err:?}"
        );
    } else {
        let gone = gone.unwrap_or_else(|e| panic!("case {case}, first {first}: {e:?}"));
        assert_eq!((gone.id.as_str(), gone.deleted), (asked.as_str(), true));
    }
}

/// Pieces of a file name the file system takes.
const NAME_PIECES: [&str; 10] = [
    "a", "Q", "é", "😀", "\u{2028}", " ", "-", ".", "\u{fffd}", "\u{202e}",
];

/// A download saved under a generated name of 1 to 255 bytes: the exact content under that
/// name, and nothing else in the directory.
fn long_name_case(rng: &mut Rng, case: usize, set: &dyn Fn(Script), client: &FilesClient) {
    let budget = if rng.chance(50) {
        255 - rng.below(8)
    } else {
        1 + rng.below(255)
    };
    let mut name = String::new();
    loop {
        let piece = NAME_PIECES[rng.below(NAME_PIECES.len())];
        if name.len() + piece.len() > budget {
            break;
        }
        name.push_str(piece);
    }
    if name.is_empty() || name == "." || name == ".." {
        name.insert(0, 'n');
    }
    let content: Vec<u8> = (0..rng.below(2000)).map(|_| rng.next() as u8).collect();
    set(Script {
        content: content.clone(),
        ..Script::default()
    });
    let dir = temp_dir("generated-names");
    let target = dir.join(&name);
    let saved = client.download_to("or_file_1", &target);
    assert_eq!(
        saved.unwrap_or_else(|e| panic!("case {case}: {} bytes: {e:?}", name.len())),
        content.len() as u64
    );
    assert_eq!(std::fs::read(&target).unwrap(), content, "case {case}");
    let entries: Vec<_> = std::fs::read_dir(&*dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, [std::ffi::OsString::from(&name)], "case {case}");
}

/// A password (a marker and characters a userinfo may hold).
fn password(rng: &mut Rng, tag: &str) -> String {
    format!(
        "{tag}{:x}{}",
        rng.next(),
        rng.pick(&["", "!$&'()*+,;=", "%2F", "-._~", ":x"])
    )
}

/// A base URL with a password, refused (query, fragment, scheme, no host) or answered by a
/// redirect to a `Location` with another password: neither shows in any error or `Debug`.
fn userinfo_case(rng: &mut Rng, case: usize, set: &dyn Fn(Script), base: &str) {
    let (first, second) = (password(rng, "pwa"), password(rng, "pwb"));
    let user = rng.pick(&["u", "user.name", "", "a%40b"]);
    let host = base.split_once("://").unwrap().1;
    let location = match rng.below(3) {
        0 => format!("http://x:{second}@{host}/elsewhere"),
        1 => format!("//{user}:{second}@127.0.0.1:1/x"),
        _ => format!("ftp://{second}@h/x"),
    };
    set(Script {
        location: Some(location),
        ..Script::default()
    });
    let url = match rng.below(6) {
        0 => format!("http://{user}:{first}@{host}?x=1"),
        1 => format!("http://{user}:{first}@{host}#f"),
        2 => format!("ftp://{user}:{first}@{host}"),
        3 => format!("{user}:{first}@{host}"),
        _ => format!("http://{user}:{first}@{host}"),
    };
    let shows = |text: String| {
        assert!(
            !text.contains(&first) && !text.contains(&second),
            "case {case}: {text}"
        );
    };
    let client = match FilesClient::builder()
        .api_key(KEY)
        .base_url(&url)
        .retry(RetryPolicy::none())
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            assert!(matches!(err, Error::Config(_)), "case {case}: {err:?}");
            return shows(format!("{err} {err:?}"));
        }
    };
    shows(format!("{client:?}"));
    let results = [
        client.retrieve("or_file_1").map(drop),
        client.delete("or_file_1").map(drop),
        client.list().page().map(drop),
    ];
    for result in results {
        let err = result.expect_err("every call is redirected away");
        shows(format!("{err} {err:?}"));
    }
}

/// A server answering as its script says, and a client for it: one per thread of
/// [`each_case`].
struct Stage {
    script: Arc<Mutex<Script>>,
    base: String,
    client: FilesClient,
    _server: Scripted,
}

impl Stage {
    fn start() -> Stage {
        let script = Arc::new(Mutex::new(Script::default()));
        let serving = Arc::clone(&script);
        let server = Scripted::start(move |_, request, s| {
            let script = serving.lock().unwrap().clone();
            answer(&script, request, s)
        });
        let base = server.url("/api/v1");
        let client = client_at(&base, KEY, RetryPolicy::none());
        Stage {
            script,
            base,
            client,
            _server: server,
        }
    }
}

#[test]
fn generated_names_ids_and_credentials_have_exact_outcomes() {
    let (cases, seed) = settings();
    let stages: Vec<Stage> = (0..workers()).map(|_| Stage::start()).collect();
    let took = each_case(&stages, cases, |stage, case| {
        let set = |next: Script| *stage.script.lock().unwrap() = next;
        let client = &stage.client;
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let started = std::time::Instant::now();
        match case % 5 {
            0 => list_case(&mut rng, case, &set, client),
            1 => other_id_case(&mut rng, case, &set, client),
            2 => long_name_case(&mut rng, case, &set, client),
            3 => retried_delete_case(&mut rng, case, &set, client),
            _ => userinfo_case(&mut rng, case, &set, &stage.base),
        }
        started.elapsed()
    });
    let mut spent = [std::time::Duration::ZERO; 5];
    for (case, took) in took.into_iter().enumerate() {
        spent[case % 5] += took;
    }
    eprintln!(
        "{cases} cases on {} threads; time in lists, other ids, long names, retried deletes, \
         credentials: {spent:?}",
        stages.len()
    );
}
