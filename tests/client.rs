//! FilesClient against the emulator: every operation, validation before sending, errors,
//! laziness, and the current API's additions.

mod common;

use std::io::Read;
use std::sync::{Arc, Mutex};

use common::{client_for, emulator_and_client, temp_dir, text};
use openrouter_files::{
    ApiErrorKind, Error, FilesClient, ListRequest, Order, Provider, Shape, Upload,
};
use openrouter_files_emulator::{ApiVersion, DEFAULT_WORKSPACE, Emulator, Fault};

const WS: &str = "a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7";

#[test]
fn upload_retrieve_list_delete_round_trip() {
    let (emulator, client) = emulator_and_client();
    let meta = client
        .upload(Upload::bytes("notes.md", "# Notes\n\nhello\n"))
        .unwrap();
    assert!(meta.id.starts_with("or_file_"));
    assert_eq!(meta.filename, "notes.md");
    assert_eq!(meta.mime_type.as_deref(), Some("text/markdown"));
    assert_eq!(meta.size_bytes, 15);
    assert_eq!(meta.shape, Some(Shape::OpenRouter));
    assert_eq!(client.retrieve(&meta.id).unwrap(), meta);
    let listed: Vec<_> = client.list().into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(listed, vec![meta.clone()]);
    let gone = client.delete(&meta.id).unwrap();
    assert_eq!(gone.id, meta.id);
    assert!(gone.deleted);
    let err = client.retrieve(&meta.id).unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.api().unwrap().kind(), ApiErrorKind::NotFound);
    assert_eq!(err.api().unwrap().message(), "Resource not found");
    assert_eq!(emulator.requests().len(), 5);
}

#[test]
fn upload_from_a_path_uses_its_file_name_and_streams_it() {
    let (_emulator, client) = emulator_and_client();
    let dir = temp_dir("upload-path");
    let path = dir.join("table.csv");
    std::fs::write(&path, "a,b\n1,2\n").unwrap();
    let meta = client.upload_path(&path).unwrap();
    assert_eq!(meta.filename, "table.csv");
    assert_eq!(meta.mime_type.as_deref(), Some("text/csv"));
    let renamed = client
        .upload(Upload::path(&path).filename("other.csv"))
        .unwrap();
    assert_eq!(renamed.filename, "other.csv");
}

#[test]
fn upload_from_a_reader_sends_exactly_its_length() {
    let (_emulator, client) = emulator_and_client();
    let data = text(100_000);
    let meta = client
        .upload(Upload::reader("r.txt", &data[..], 100_000))
        .unwrap();
    assert_eq!(meta.size_bytes, 100_000);
    // A longer reader is cut at the declared length.
    let meta = client
        .upload(Upload::reader("cut.txt", &data[..], 10))
        .unwrap();
    assert_eq!(meta.size_bytes, 10);
}

#[test]
fn a_reader_that_ends_early_fails_instead_of_hanging() {
    let (emulator, client) = emulator_and_client();
    let err = client
        .upload(Upload::reader("short.txt", &b"abc"[..], 10))
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.to_string().contains("ended"), "{err}");
    assert!(client.list().page().unwrap().data.is_empty());
    drop(emulator);
}

#[test]
fn names_with_quotes_newlines_and_backslashes_arrive_intact() {
    let (emulator, client) = emulator_and_client();
    for name in [
        "we\"ird\r\nname.txt",
        "back\\slash.txt",
        "two\\\\backslashes.txt",
        "ends\\",
    ] {
        let meta = client.upload(Upload::bytes(name, "x")).unwrap();
        assert_eq!(meta.filename, name);
        assert_eq!(client.retrieve(&meta.id).unwrap().filename, name);
    }
    // A server-created file's name comes back through the download's Content-Disposition.
    let id = emulator
        .seed_file_in(DEFAULT_WORKSPACE, "a\\b \"c\".txt", b"hi")
        .unwrap();
    assert_eq!(
        client.download(&id).unwrap().filename(),
        Some("a\\b \"c\".txt")
    );
}

#[test]
fn empty_and_oversized_uploads_are_refused_before_sending() {
    let emulator = Emulator::start().unwrap();
    let client = FilesClient::builder()
        .api_key(emulator.api_key())
        .base_url(emulator.base_url())
        .upload_limit(100)
        .build()
        .unwrap();
    let dir = temp_dir("refuse");
    std::fs::write(dir.join("empty.txt"), "").unwrap();
    std::fs::write(dir.join("big.txt"), text(101)).unwrap();
    for upload in [
        Upload::path(dir.join("empty.txt")),
        Upload::path(dir.join("big.txt")),
        Upload::bytes("e.txt", Vec::new()),
        Upload::bytes("", "x"),
        Upload::reader("r.txt", &b""[..], 101),
    ] {
        let err = client.upload(upload).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    }
    client
        .upload(Upload::path(dir.join("big.txt")).filename("x"))
        .unwrap_err();
    assert!(
        client.upload(Upload::bytes("ok.txt", text(100))).is_ok(),
        "exactly the limit is fine"
    );
    let err = client.upload_path(dir.join("missing.txt")).unwrap_err();
    assert!(
        matches!(&err, Error::Io { path: Some(p), .. } if p.ends_with("missing.txt")),
        "{err:?}"
    );
    assert!(
        client.upload_path(&dir).is_err(),
        "a directory is not a file"
    );
    assert_eq!(
        emulator.requests().len(),
        1,
        "only the valid upload was sent"
    );
}

#[test]
fn the_default_limit_is_100_mb_and_matches_the_emulator() {
    let (_emulator, client) = emulator_and_client();
    assert_eq!(client.upload_limit(), 100_000_000);
    let err = client
        .upload(Upload::reader("big", std::io::repeat(b'a'), 100_000_001))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
}

#[test]
fn server_side_validation_errors_are_typed() {
    let (_emulator, client) = emulator_and_client();
    let err = client
        .upload(Upload::bytes("blob.bin", vec![0u8, 200, 201, 255]))
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.api().unwrap().kind(), ApiErrorKind::BadRequest);
    assert!(
        err.api()
            .unwrap()
            .message()
            .contains("Unsupported file type")
    );
    assert_eq!(err.api().unwrap().code(), Some(400));
}

#[test]
fn a_wrong_key_is_unauthorized_and_never_echoed() {
    let emulator = Emulator::start().unwrap();
    let client = FilesClient::builder()
        .api_key("sk-or-wrong-secret")
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let err = client.list().page().unwrap_err();
    assert_eq!(err.api().unwrap().kind(), ApiErrorKind::Unauthorized);
    assert!(!err.to_string().contains("wrong-secret"));
    assert!(!format!("{err:?}").contains("wrong-secret"));
    assert!(!format!("{client:?}").contains("wrong-secret"));
}

#[test]
fn list_is_lazy_and_fetches_the_next_page_only_when_needed() {
    let emulator = Emulator::start().unwrap();
    for i in 0..25 {
        emulator
            .seed_file_in(DEFAULT_WORKSPACE, &format!("f{i}.txt"), b"x")
            .unwrap();
    }
    let client = client_for(&emulator);
    let mut files = client.list().page_size(10).into_iter();
    assert_eq!(
        emulator.requests().len(),
        0,
        "nothing is sent before next()"
    );
    for _ in 0..10 {
        files.next().unwrap().unwrap();
    }
    assert_eq!(emulator.requests().len(), 1);
    files.next().unwrap().unwrap();
    assert_eq!(emulator.requests().len(), 2);
    let rest: Vec<_> = files.collect::<Result<_, _>>().unwrap();
    assert_eq!(rest.len(), 14);
    assert_eq!(emulator.requests().len(), 3, "exactly ceil(25/10) requests");
    let pages: Vec<_> = client
        .list()
        .page_size(10)
        .pages()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.data.len()).collect::<Vec<_>>(),
        vec![10, 10, 5]
    );
    assert!(pages[2].cursor.is_none() && !pages[2].has_more);
    let page = client
        .list()
        .page_size(10)
        .cursor(pages[0].cursor.as_ref().unwrap())
        .page()
        .unwrap();
    assert_eq!(page, pages[1]);
}

#[test]
fn list_page_sizes_outside_1_to_1000_are_refused_before_sending() {
    let (emulator, client) = emulator_and_client();
    // `limit` is `page_size`'s deprecated former name, kept for one release.
    #[allow(deprecated)]
    let spellings: [fn(ListRequest, u32) -> ListRequest; 2] =
        [ListRequest::page_size, ListRequest::limit];
    for (limit, page_size) in [0, 1001].into_iter().zip(spellings) {
        let err = page_size(client.list(), limit).page().unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        let mut iter = page_size(client.list(), limit).into_iter();
        assert!(matches!(iter.next(), Some(Err(Error::InvalidInput(_)))));
        assert!(iter.next().is_none(), "the iterator ends after an error");
    }
    assert!(emulator.requests().is_empty());
}

#[test]
fn workspaces_scope_calls_and_are_checked_locally() {
    let (emulator, client) = emulator_and_client();
    let scoped = client.in_workspace(WS);
    let meta = scoped.upload(Upload::bytes("w.txt", "in ws")).unwrap();
    assert_eq!(scoped.retrieve(&meta.id).unwrap().id, meta.id);
    assert_eq!(client.retrieve(&meta.id).unwrap_err().status(), Some(404));
    assert_eq!(client.list().workspace(WS).page().unwrap().data.len(), 1);
    assert!(client.list().page().unwrap().data.is_empty());
    let before = emulator.requests().len();
    for call in [
        client.in_workspace("nope").retrieve("x").map(|_| ()),
        client.list().workspace("123").page().map(|_| ()),
        client.retrieve("").map(|_| ()),
        client.delete(" ").map(|_| ()),
        client.download("").map(|_| ()),
    ] {
        assert!(matches!(call, Err(Error::InvalidInput(_))), "{call:?}");
    }
    assert_eq!(emulator.requests().len(), before);
}

#[test]
fn ids_are_sent_as_one_path_segment() {
    let (emulator, client) = emulator_and_client();
    for id in ["../x", "a/b", "..", "a b?c#d"] {
        let err = client.retrieve(id).unwrap_err();
        assert_eq!(err.status(), Some(404), "{id}: {err}");
    }
    let paths: Vec<String> = emulator.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        vec![
            "/api/v1/files/..%2Fx",
            "/api/v1/files/a%2Fb",
            "/api/v1/files/%2E%2E",
            "/api/v1/files/a%20b%3Fc%23d"
        ]
    );
}

#[test]
fn downloads_stream_with_length_and_type() {
    let content: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    let emulator = Emulator::builder()
        .seed_file("d.bin", content.clone())
        .start()
        .unwrap();
    let client = client_for(&emulator);
    let id = client.list().page().unwrap().data[0].id.clone();
    let mut download = client.download(&id).unwrap();
    assert_eq!(download.content_length(), Some(1_000_000));
    assert_eq!(download.content_type(), Some("application/octet-stream"));
    assert_eq!(download.filename(), Some("d.bin"));
    let mut got = Vec::new();
    download.read_to_end(&mut got).unwrap();
    assert_eq!(got, content);
    assert_eq!(download.received(), 1_000_000);
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&download);
}

#[test]
fn download_to_writes_the_file_atomically() {
    let content = text(700_000);
    let emulator = Emulator::builder()
        .seed_file("d.txt", content.clone())
        .start()
        .unwrap();
    let client = client_for(&emulator);
    let id = client.list().page().unwrap().data[0].id.clone();
    let dir = temp_dir("download-to");
    let target = dir.join("out.txt");
    std::fs::write(&target, "old").unwrap();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&progress);
    let written = client
        .download(&id)
        .unwrap()
        .on_progress(move |done, total| sink.lock().unwrap().push((done, total)))
        .save_to(&target)
        .unwrap();
    assert_eq!(written, 700_000);
    assert_eq!(std::fs::read(&target).unwrap(), content);
    let progress = progress.lock().unwrap();
    assert_eq!(progress.last(), Some(&(700_000, Some(700_000))));
    assert!(progress.len() >= 2 && progress.len() <= 4, "{progress:?}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temp file left"
    );
    assert_eq!(
        client.download_to(&id, dir.join("again.txt")).unwrap(),
        700_000
    );
}

#[test]
fn a_truncated_download_is_an_error_and_leaves_the_target_untouched() {
    let emulator = Emulator::builder()
        .seed_file("d.bin", vec![7u8; 500_000])
        .start()
        .unwrap();
    let client = client_for(&emulator);
    let id = client.list().page().unwrap().data[0].id.clone();
    let dir = temp_dir("truncated");
    let target = dir.join("keep.bin");
    std::fs::write(&target, "previous").unwrap();
    emulator.inject(
        Fault::TruncateDownload {
            after_bytes: 100_000,
        },
        1,
    );
    let err = client.download_to(&id, &target).unwrap_err();
    assert!(
        matches!(err, Error::Truncated { expected: 500_000, received } if received <= 100_000),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"previous");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    emulator.inject(Fault::TruncateDownload { after_bytes: 10 }, 1);
    let mut reader = client.download(&id).unwrap();
    let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    assert!(matches!(Error::from(err), Error::Truncated { .. }));
    let err = client.download_to(&id, dir.join("fresh.bin"));
    assert!(err.is_ok(), "the fault is used up: {err:?}");
}

#[test]
fn uploaded_files_are_not_downloadable() {
    let (_emulator, client) = emulator_and_client();
    let meta = client.upload(Upload::bytes("mine.txt", "mine")).unwrap();
    assert!(!meta.downloadable);
    let err = client.download(&meta.id).unwrap_err();
    assert_eq!(err.api().unwrap().kind(), ApiErrorKind::BadRequest);
    let dir = temp_dir("not-downloadable");
    assert!(client.download_to(&meta.id, dir.join("x")).is_err());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn upload_progress_reports_in_steps_up_to_the_total() {
    let (_emulator, client) = emulator_and_client();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&calls);
    client
        .upload(
            Upload::bytes("p.txt", text(1_000_000))
                .on_progress(move |d, t| sink.lock().unwrap().push((d, t))),
        )
        .unwrap();
    let calls = calls.lock().unwrap();
    assert_eq!(calls.last(), Some(&(1_000_000, Some(1_000_000))));
    assert!((3..=5).contains(&calls.len()), "{calls:?}");
}

#[test]
fn the_first_api_version_decodes_too() {
    let emulator = Emulator::builder()
        .api_version(ApiVersion::V2026_07_19)
        .start()
        .unwrap();
    let client = client_for(&emulator);
    let meta = client.upload(Upload::bytes("a.txt", "abc")).unwrap();
    assert!(meta.id.starts_with("file_"));
    assert_eq!(meta.shape, None);
    assert_eq!(client.delete(&meta.id).unwrap().id, meta.id);
}

#[test]
fn provider_storage_in_the_openai_shape_is_normalised_and_paged_by_id() {
    let (emulator, client) = emulator_and_client();
    let openai = client.with_provider(Provider::OpenAi);
    let ids: Vec<String> = (0..5)
        .map(|i| {
            openai
                .upload(Upload::bytes(format!("o{i}.txt"), "abc"))
                .unwrap()
                .id
        })
        .collect();
    let first = openai.retrieve(&ids[0]).unwrap();
    assert_eq!(first.shape, Some(Shape::OpenAi));
    assert_eq!(first.size_bytes, 3);
    assert_eq!(
        first.openai.as_ref().unwrap().purpose.as_deref(),
        Some("user_data")
    );
    assert!(first.created_at.ends_with('Z'));
    let listed: Vec<String> = openai
        .list()
        .page_size(2)
        .into_iter()
        .map(|f| f.unwrap().id)
        .collect();
    assert_eq!(listed, ids);
    let queries: Vec<String> = emulator
        .requests()
        .iter()
        .filter_map(|r| r.query.clone())
        .collect();
    assert!(
        queries
            .iter()
            .any(|q| q.contains(&format!("after={}", ids[1]))),
        "{queries:?}"
    );
    let newest_first: Vec<String> = client
        .list()
        .provider("openai")
        .order(Order::Desc)
        .into_iter()
        .map(|f| f.unwrap().id)
        .collect();
    assert_eq!(newest_first, ids.iter().rev().cloned().collect::<Vec<_>>());
    let ids_from = |request: openrouter_files::ListRequest| -> Vec<String> {
        request.into_iter().map(|f| f.unwrap().id).collect()
    };
    assert_eq!(
        ids_from(openai.list().page_size(2).after(&ids[1])),
        ids[2..].to_vec()
    );
    assert_eq!(
        ids_from(openai.list().page_size(3).after_id(&ids[0])),
        ids[1..].to_vec()
    );
    // Anthropic-style reverse paging: page by page backwards, each page in list order.
    assert_eq!(
        ids_from(openai.list().page_size(2).before_id(&ids[4])),
        [&ids[2..4], &ids[0..2]].concat()
    );
    let anthropic = client.with_provider(Provider::Anthropic);
    for i in 0..3 {
        anthropic
            .upload(Upload::bytes(format!("a{i}.txt"), "abc"))
            .unwrap();
    }
    assert_eq!(anthropic.list().page_size(1).into_iter().count(), 3);
    assert!(openai.delete(&ids[0]).unwrap().deleted);
    let err = client.list().order(Order::Desc).page().unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[test]
fn clones_share_one_connection() {
    let (emulator, client) = emulator_and_client();
    let other = client.clone();
    let scoped = client.in_workspace(WS);
    client.list().page().unwrap();
    other.list().page().unwrap();
    scoped.list().page().unwrap();
    client.retrieve("or_file_missing").unwrap_err();
    assert_eq!(emulator.connections_accepted(), 1);
}

#[test]
fn a_client_works_from_many_threads() {
    let (emulator, client) = emulator_and_client();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    client
                        .upload(Upload::bytes(format!("t{t}-{i}.txt"), "x"))
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(client.list().into_iter().count(), 20);
    assert!(emulator.connections_accepted() <= 4);
}

#[test]
fn from_env_needs_a_key() {
    // SAFETY: this test is the only one in this binary touching these variables.
    unsafe {
        std::env::remove_var("OPENROUTER_API_KEY");
    }
    assert!(matches!(FilesClient::from_env(), Err(Error::Config(_))));
    unsafe {
        std::env::set_var("OPENROUTER_API_KEY", "sk-env");
        std::env::set_var("OPENROUTER_BASE_URL", "http://127.0.0.1:9/api/v1/");
    }
    let client = FilesClient::from_env().unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9/api/v1");
    unsafe {
        std::env::remove_var("OPENROUTER_API_KEY");
        std::env::remove_var("OPENROUTER_BASE_URL");
    }
}

#[test]
fn a_download_larger_than_the_writeback_step_is_byte_exact() {
    let content: Vec<u8> = (0..20_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let emulator = Emulator::builder()
        .seed_file("big.bin", content.clone())
        .start()
        .unwrap();
    let client = client_for(&emulator);
    let id = client.list().page().unwrap().data[0].id.clone();
    let scratch = temp_dir("large-download");
    let target = scratch.join("big.bin");
    assert_eq!(client.download_to(&id, &target).unwrap(), 20_000_000);
    assert!(
        std::fs::read(&target).unwrap() == content,
        "content differs"
    );
}

#[test]
fn a_download_of_a_file_named_with_control_characters_is_readable() {
    let emulator = Emulator::start().unwrap();
    let client = client_for(&emulator);
    for name in [
        "tab\there.txt",
        "nul\0.txt",
        "bell\x07.txt",
        "del\x7f.txt",
        "café.txt",
    ] {
        let id = emulator
            .seed_file_in(openrouter_files_emulator::DEFAULT_WORKSPACE, name, b"bytes")
            .unwrap();
        let mut download = client
            .download(&id)
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(download.filename(), Some(name), "{name:?}");
        let mut body = Vec::new();
        download.read_to_end(&mut body).unwrap();
        assert_eq!(body, b"bytes");
    }
}
