//! The options for company networks, run as a subprocess: `ref` (file ids ready for a
//! completion), and more below as they come.

mod common;

use common::*;

#[test]
fn ref_prints_the_content_part_for_each_request_shape_without_a_key() {
    let id = "or_file_011CNha8iCJcU1wXNR6q4V8w";
    for (api, expected) in [
        (
            "chat",
            serde_json::json!({"type": "file", "file": {"file_id": id}}),
        ),
        (
            "responses",
            serde_json::json!({"type": "input_file", "file_id": id}),
        ),
        (
            "messages",
            serde_json::json!({"type": "document", "source": {"type": "file", "file_id": id}}),
        ),
    ] {
        let out = bare()
            .env_remove("OPENROUTER_API_KEY")
            .args(["ref", id, "--for", api])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(line, expected, "{api}");
    }
}

#[test]
fn ref_reads_ids_from_standard_input_and_refuses_an_unknown_shape_or_a_control_character() {
    let out = bare()
        .args(["ref", "-", "--for", "responses"])
        .write_stdin("a\n\nb\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["file_id"].to_string())
        .collect();
    assert_eq!(ids, ["\"a\"", "\"b\""]);
    let out = bare()
        .args(["ref", "x", "--for", "embeddings"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = bare()
        .args(["ref", "a\u{1b}b", "--for", "chat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty());
}
