//! Issue 19, the client's side: answers about another file than the one asked for, names that
//! no file system or reader expects (lone surrogates, 255-byte names), and credentials in the
//! base URL. Each test failed before its fix.

use openrouter_files::{Error, RetryPolicy, Upload};

use super::client;
use super::common::scripted::{Next, Scripted, json};

/// A server answering every request with a 200 and `body`.
fn answering(body: &'static str) -> Scripted {
    Scripted::start(move |_, _, s| {
        json(s, 200, "", body);
        Next::KeepAlive
    })
}

#[test]
fn a_delete_confirmed_for_another_file_is_an_error_not_a_success() {
    for body in [
        r#"{"id":"or_file_B","type":"file_deleted","deleted":true}"#,
        r#"{"_shape":"openai","id":"or_file_B","object":"file","deleted":true}"#,
    ] {
        let server = answering(body);
        let err = client(&server, RetryPolicy::none())
            .delete("or_file_A")
            .unwrap_err();
        match &err {
            Error::OtherFile {
                method,
                path,
                asked,
                answered,
            } => {
                assert_eq!(
                    (*method, path.as_str(), asked.as_str(), answered.as_str()),
                    ("DELETE", "/files/or_file_A", "or_file_A", "or_file_B")
                );
            }
            other => panic!("{body}: {other:?}"),
        }
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("or_file_B"), "{err}");
    }
}

#[test]
fn a_delete_answered_deleted_false_is_an_error() {
    let server = answering(r#"{"id":"or_file_A","type":"file_deleted","deleted":false}"#);
    let err = client(&server, RetryPolicy::none())
        .delete("or_file_A")
        .unwrap_err();
    assert!(
        matches!(err, Error::Decode { what: "delete", .. }),
        "{err:?}"
    );
}

#[test]
fn a_retrieve_answered_with_another_files_metadata_is_an_error() {
    let server = answering(
        r#"{"id":"or_file_B","type":"file","filename":"b.txt","size_bytes":1,"created_at":"2025-01-01T00:00:00Z"}"#,
    );
    let err = client(&server, RetryPolicy::none())
        .retrieve("or_file_A")
        .unwrap_err();
    assert!(
        matches!(&err, Error::OtherFile { asked, answered, .. }
            if asked == "or_file_A" && answered == "or_file_B"),
        "{err:?}"
    );
}

#[test]
fn an_answer_naming_the_same_file_in_the_first_api_versions_style_is_about_it() {
    let server = Scripted::start(|_, request, s| {
        let body = match request.method.as_str() {
            "DELETE" => r#"{"id":"file_A","type":"file_deleted"}"#.to_string(),
            _ => super::common::scripted::file_json("file_A"),
        };
        json(s, 200, "", &body);
        Next::KeepAlive
    });
    let client = client(&server, RetryPolicy::none());
    assert_eq!(client.retrieve("or_file_A").unwrap().id, "file_A");
    assert_eq!(client.delete("or_file_A").unwrap().id, "file_A");
    let other = answering(r#"{"id":"or_x_A","type":"file_deleted"}"#);
    let err = super::client(&other, RetryPolicy::none()).delete("x_A");
    assert!(matches!(err, Err(Error::OtherFile { .. })), "{err:?}");
}

/// Bodies that carry every field of a file's metadata but say they are something else.
const NOT_A_FILE: [&str; 3] = [
    r#"{"id":"or_file_A","type":"file_deleted","filename":"a","size_bytes":1,"created_at":"2025-01-01T00:00:00Z"}"#,
    r#"{"id":"or_file_A","object":"list","filename":"a","bytes":1,"created_at":1735689600}"#,
    r#"{"id":"or_file_A","object":"file","deleted":true,"filename":"a","bytes":1,"created_at":1735689600}"#,
];

#[test]
fn an_upload_or_retrieve_answered_with_something_other_than_a_file_is_an_error() {
    for body in NOT_A_FILE {
        let server = answering(body);
        let client = client(&server, RetryPolicy::none());
        let err = client.upload(Upload::bytes("a.txt", "abc")).unwrap_err();
        assert!(
            matches!(err, Error::Decode { what: "upload", .. }),
            "{body}: {err:?}"
        );
        let err = client.retrieve("or_file_A").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Decode {
                    what: "retrieve",
                    ..
                }
            ),
            "{body}: {err:?}"
        );
    }
}

/// A file whose every string (id aside) holds a lone surrogate escape, and an unknown field
/// whose name and value hold one.
fn odd_file(id: &str) -> String {
    format!(
        r#"{{"_shape":"open\udbff","id":"{id}","type":"fi\udc00le","filename":"\ud800","mime_type":"text/\udfff",
        "size_bytes":1,"created_at":"2025-01-01T00:00:00Z\ud800","downloadable":true,
        "x-\ud800":["\udc01", {{"k":"\ud834"}}],"pair":"\ud83d\ude00","text":"\\ud800"}}"#
    )
}

#[test]
fn one_name_with_a_lone_surrogate_loses_nothing_but_its_own_characters() {
    let server = Scripted::start(|n, _, s| {
        let body = match n {
            0 => format!(
                r#"{{"data":[{},{}],"has_more":true,"cursor":"c1"}}"#,
                super::common::scripted::file_json("or_file_1"),
                odd_file("or_file_2")
            ),
            _ => format!(
                r#"{{"data":[{}],"has_more":false,"cursor":null}}"#,
                super::common::scripted::file_json("or_file_3")
            ),
        };
        json(s, 200, "", &body);
        Next::KeepAlive
    });
    let files: Vec<_> = client(&server, RetryPolicy::none())
        .list()
        .files()
        .collect::<Result<_, _>>()
        .unwrap();
    let ids: Vec<&str> = files.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["or_file_1", "or_file_2", "or_file_3"]);
    assert_eq!(server.received().len(), 2, "the later page was fetched");
    assert_eq!(files[0].filename, "a.txt");
    let odd = &files[1];
    assert_eq!(odd.filename, "\u{fffd}");
    assert_eq!(odd.mime_type.as_deref(), Some("text/\u{fffd}"));
    assert_eq!(odd.object_type, "fi\u{fffd}le");
    assert_eq!(odd.created_at, "2025-01-01T00:00:00Z\u{fffd}");
    assert_eq!(
        odd.shape,
        Some(openrouter_files::Shape::Other("open\u{fffd}".into()))
    );
    assert_eq!(
        odd.extra["x-\u{fffd}"],
        serde_json::json!(["\u{fffd}", {"k": "\u{fffd}"}])
    );
    assert_eq!(odd.extra["pair"], "\u{1f600}", "a valid pair is kept");
    assert_eq!(odd.extra["text"], "\\ud800", "an escaped backslash is text");
}

#[test]
fn a_retrieve_delete_or_upload_answer_with_a_lone_surrogate_decodes() {
    let server = Scripted::start(|_, request, s| {
        let body = match request.method.as_str() {
            "DELETE" => r#"{"id":"or_file_A","type":"file_deleted","note":"\udead"}"#.to_string(),
            _ => odd_file("or_file_A").replace(r#""type":"fi\udc00le","#, r#""type":"file","#),
        };
        json(s, 200, "", &body);
        Next::KeepAlive
    });
    let client = client(&server, RetryPolicy::none());
    assert_eq!(client.retrieve("or_file_A").unwrap().filename, "\u{fffd}");
    let uploaded = client.upload(Upload::bytes("a.txt", "abc")).unwrap();
    assert_eq!(uploaded.filename, "\u{fffd}");
    let gone = client.delete("or_file_A").unwrap();
    assert_eq!(gone.extra["note"], "\u{fffd}");
}

/// The entries of `dir`, by name.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn download_to_saves_any_name_the_file_system_accepts() {
    let server = openrouter_files_emulator::Emulator::builder()
        .seed_file("a.bin", b"content".to_vec())
        .start()
        .unwrap();
    let client = super::common::client_for(&server);
    let id = client.list().page().unwrap().data.remove(0).id;
    let dir = super::common::temp_dir("long-names");
    for name in [
        "a".repeat(255),
        "é".repeat(127) + "x",
        "😀".repeat(63) + "abc",
        ".".to_string() + &"h".repeat(254),
        "b".repeat(240),
    ] {
        assert_eq!(name.len(), if name.starts_with('b') { 240 } else { 255 });
        let target = dir.join(&name);
        assert_eq!(client.download_to(&id, &target).unwrap(), 7, "{name}");
        assert_eq!(std::fs::read(&target).unwrap(), b"content");
        assert_eq!(entries(&dir), std::slice::from_ref(&name), "nothing else");
        std::fs::remove_file(&target).unwrap();
    }
    // A name the file system refuses: the error names it, and nothing is left.
    let too_long = dir.join("c".repeat(256));
    match client.download_to(&id, &too_long).unwrap_err() {
        Error::Io {
            path: Some(path),
            source,
        } => {
            assert_eq!(path, too_long);
            assert_eq!(source.raw_os_error(), Some(libc::ENAMETOOLONG), "{source}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(entries(&dir), Vec::<String>::new());
}

/// The password of the base URLs and `Location`s below.
const PASSWORD: &str = "hunter2";

#[test]
fn a_password_in_a_base_url_is_in_no_configuration_error() {
    for url in [
        "ftp://user:hunter2@h/api",
        "http://user:hunter2@h/api?x=1",
        "http://user:hunter2@h/api#f",
        "http://user:hunter2@/api",
        "http://us er:hunter2@h/api",
        "user:hunter2@h/api",
    ] {
        let err = openrouter_files::FilesClient::builder()
            .api_key(super::KEY)
            .base_url(url)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(PASSWORD), "{shown}");
        assert!(shown.contains("[redacted]@"), "{shown}");
    }
}

#[test]
fn a_password_in_a_location_is_in_no_redirect_error() {
    for location in [
        "ftp://u:hunter2@127.0.0.1/x",
        "//u:hunter2@127.0.0.1:1/x",
        "http://u:hunter2@127.0.0.1:1/x",
    ] {
        let server = Scripted::start(move |_, _, s| {
            super::common::scripted::redirect(s, 302, location);
            Next::KeepAlive
        });
        let base = server.url("/api/v1").replace("://", "://user:hunter2@");
        let client = super::common::client_at(&base, super::KEY, RetryPolicy::none());
        let shown = format!("{client:?}");
        assert!(!shown.contains(PASSWORD), "{shown}");
        // A 302 is followed by a GET only (and then fails to connect): a delete refuses it.
        let err = client.delete("or_file_1").unwrap_err();
        match &err {
            Error::Redirect { location, .. } => {
                assert!(location.contains("[redacted]@127.0.0.1"), "{location}")
            }
            other => panic!("{location}: {other:?}"),
        }
        let dir = super::common::temp_dir("userinfo");
        for (op, result) in super::every_operation(&client, &dir) {
            let err = result.expect_err(op);
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(PASSWORD), "{op}: {shown}");
        }
    }
}
