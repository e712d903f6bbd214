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
