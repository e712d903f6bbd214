//! Listing: the lazy iterators' page size, progress checks against servers that never finish,
//! and resuming a list from the position it reached.

mod common;

use std::net::TcpStream;

use common::client_for;
use common::scripted::{Next, Scripted, file_json, json};
use openrouter_files::{
    Error, FileMetadata, Files, FilesClient, ListPosition, ListRequest, Order, Pages, RetryPolicy,
    Upload,
};
use openrouter_files_emulator::{Emulator, Fault};

fn client(server: &Scripted) -> FilesClient {
    FilesClient::builder()
        .api_key("sk-or-list-secret")
        .base_url(server.url("/api/v1"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn page(stream: &mut TcpStream, files: &[String], has_more: bool, cursor: Option<&str>) {
    let cursor = cursor.map_or("null".to_string(), |c| format!("{c:?}"));
    let body = format!(
        r#"{{"data":[{}],"has_more":{has_more},"first_id":null,"last_id":null,"cursor":{cursor}}}"#,
        files.join(",")
    );
    json(stream, 200, "", &body);
}

/// Every file of a default list from `server`, which must not fail.
fn list_all(server: &Scripted) -> Vec<FileMetadata> {
    client(server)
        .list()
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn emulator_with_files(n: usize) -> (Emulator, FilesClient) {
    let mut builder = Emulator::builder();
    for i in 0..n {
        builder = builder.seed_file(&format!("f{i}.txt"), vec![b'x'; i + 1]);
    }
    let emulator = builder.start().unwrap();
    let client = client_for(&emulator);
    (emulator, client)
}

fn list_queries(emulator: &Emulator) -> Vec<(u16, String)> {
    emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/files"))
        .map(|r| (r.status, r.query.unwrap_or_default()))
        .collect()
}

#[test]
fn a_server_sending_empty_pages_that_point_on_forever_ends_the_list_with_an_error() {
    let server = Scripted::start(|n, _, s| {
        page(s, &[], true, Some(&format!("c{n}")));
        Next::KeepAlive
    });
    let items: Vec<_> = client(&server).list().into_iter().take(5).collect();
    assert_eq!(
        items.len(),
        1,
        "the iterator ends after the error: {items:?}"
    );
    assert!(
        matches!(&items[0], Err(Error::Protocol(m)) if m.contains("without a file")),
        "{items:?}"
    );
    assert_eq!(
        server.received().len(),
        4,
        "three empty pages allowed, the fourth fails"
    );
}

#[test]
fn a_few_empty_pages_in_a_row_are_allowed() {
    let server = Scripted::start(|n, _, s| {
        if n < 3 {
            page(s, &[], true, Some(&format!("c{n}")));
        } else {
            page(s, &[file_json("or_file_1")], false, None);
        }
        Next::KeepAlive
    });
    let files = list_all(&server);
    assert_eq!(files.len(), 1);
    assert_eq!(server.received().len(), 4);
}

#[test]
fn a_server_cycling_through_cursors_is_caught_within_a_bounded_number_of_pages() {
    let server = Scripted::start(|n, _, s| {
        let file = file_json(&format!("or_file_{n}"));
        page(s, &[file], true, Some(&format!("c{}", n % 5)));
        Next::KeepAlive
    });
    let pages: Vec<_> = client(&server).list().pages().take(100).collect();
    let last = pages.last().unwrap();
    assert!(
        matches!(last, Err(Error::Protocol(m)) if m.contains("repeated")),
        "{last:?}"
    );
    assert!(pages.len() <= 20, "caught after {} pages", pages.len());
    assert_eq!(server.received().len(), pages.len());
}

#[test]
fn a_repeated_cursor_that_echoes_the_key_does_not_put_it_into_the_error() {
    let key_cursor = "cursor-with-sk-or-list-secret";
    let server = Scripted::start(move |n, _, s| {
        let file = file_json(&format!("or_file_{n}"));
        page(s, &[file], true, Some(key_cursor));
        Next::KeepAlive
    });
    let last = client(&server).list().pages().take(5).last().unwrap();
    let err = last.unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("repeated")),
        "{err:?}"
    );
    assert!(
        !format!("{err} {err:?}").contains("sk-or-list-secret"),
        "{err:?}"
    );
}

#[test]
fn iterators_ask_for_1000_files_per_page_when_no_limit_is_set() {
    let (emulator, client) = emulator_with_files(1);
    client.list().into_iter().next().unwrap().unwrap();
    client.list().pages().next().unwrap().unwrap();
    client.list().page().unwrap();
    client
        .list()
        .page_size(7)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    let queries: Vec<_> = list_queries(&emulator).into_iter().map(|q| q.1).collect();
    assert_eq!(queries, ["limit=1000", "limit=1000", "", "limit=7"]);
}

#[test]
fn a_list_resumes_after_a_retryable_error_without_fetching_again_what_it_yielded() {
    let (emulator, client) = emulator_with_files(5);
    let request = client.list().page_size(2);
    let mut files = request.files();
    let mut names = Vec::new();
    for _ in 0..4 {
        names.push(files.next().unwrap().unwrap().filename);
    }
    emulator.inject(Fault::status(503), 1);
    let err = files.next().unwrap().unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable());
    assert!(files.next().is_none(), "the iterator ends after an error");
    let position = files.position().cloned().unwrap();
    assert!(matches!(position, ListPosition::Cursor(_)), "{position:?}");
    for file in request.start_at(position) {
        names.push(file.unwrap().filename);
    }
    assert_eq!(names, ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]);
    let queries = list_queries(&emulator);
    let statuses: Vec<u16> = queries.iter().map(|q| q.0).collect();
    assert_eq!(statuses, [200, 200, 503, 200]);
    assert_eq!(
        queries[2].1, queries[3].1,
        "the failed page and only it is fetched again"
    );
}

#[test]
fn files_position_is_the_start_of_the_page_the_next_file_comes_from() {
    let (_emulator, client) = emulator_with_files(3);
    let mut files = client.list().page_size(2).files();
    assert_eq!(files.position(), Some(&ListPosition::Start));
    files.next().unwrap().unwrap();
    assert_eq!(
        files.position(),
        Some(&ListPosition::Start),
        "one file still buffered"
    );
    files.next().unwrap().unwrap();
    let second_page = files.position().cloned().unwrap();
    assert!(matches!(second_page, ListPosition::Cursor(_)));
    let rest: Vec<_> = client
        .list()
        .page_size(2)
        .start_at(second_page)
        .into_iter()
        .map(|f| f.unwrap().filename)
        .collect();
    assert_eq!(rest, ["f2.txt"]);
    assert_eq!(files.next().unwrap().unwrap().filename, "f2.txt");
    assert!(files.next().is_none());
    assert_eq!(files.position(), None, "nothing left to resume");
}

#[test]
fn pages_position_is_where_the_next_page_starts() {
    let (_emulator, client) = emulator_with_files(3);
    let mut pages = client.list().page_size(2).pages();
    assert_eq!(pages.position(), Some(&ListPosition::Start));
    let first = pages.next().unwrap().unwrap();
    assert_eq!(
        pages.position(),
        Some(&ListPosition::Cursor(first.cursor.clone().unwrap()))
    );
    pages.next().unwrap().unwrap();
    assert_eq!(pages.position(), None);
    assert!(pages.next().is_none());
}

#[test]
fn a_list_request_is_reusable_and_iterable_by_reference() {
    let (emulator, client) = emulator_with_files(2);
    let request: ListRequest = client.list();
    let mut count = 0;
    for file in &request {
        file.unwrap();
        count += 1;
    }
    assert_eq!(count, 2);
    assert_eq!(request.files().count(), 2);
    assert_eq!(list_queries(&emulator).len(), 2);
}

#[test]
fn list_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ListRequest>();
    check::<Pages>();
    check::<Files>();
    check::<ListPosition>();
}

/// A page that says more files follow, in the given shape, with no cursor and no last id.
fn dead_end_page(stream: &mut TcpStream, shape: &str) {
    let body = format!(
        r#"{{{shape}"data":[{}],"has_more":true,"first_id":null,"last_id":null,"cursor":null}}"#,
        file_json("or_file_1")
    );
    json(stream, 200, "", &body);
}

#[test]
fn a_server_that_says_more_follow_but_gives_no_way_on_ends_the_list_with_an_error() {
    for shape in ["", r#""_shape":"openrouter","#, r#""_shape":"anthropic","#] {
        let server = Scripted::start(move |_, _, s| {
            dead_end_page(s, shape);
            Next::KeepAlive
        });
        let mut files = client(&server).list().files();
        let items: Vec<_> = files.by_ref().collect();
        assert!(
            matches!(items.last(), Some(Err(Error::Protocol(m))) if m.contains("more")),
            "a list the server says is unfinished must not end as if complete ({shape}): {items:?}"
        );
        assert_eq!(
            files.position(),
            Some(&ListPosition::Start),
            "the position stays at the page that could not be continued"
        );
        assert_eq!(server.received().len(), 1);
    }
}

#[test]
fn an_empty_cursor_or_file_id_is_refused_before_sending() {
    let (emulator, client) = emulator_with_files(1);
    for request in [
        client.list().cursor(""),
        client.list().after(""),
        client.list().after_id(" "),
        client.list().before_id(""),
        client.list().start_at(ListPosition::Cursor(String::new())),
    ] {
        let err = request.page().unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        let first = request.files().next().unwrap();
        assert!(matches!(first, Err(Error::InvalidInput(_))), "{first:?}");
    }
    assert!(
        list_queries(&emulator).is_empty(),
        "nothing may be sent for an empty position"
    );
}

/// Uploads `n` files to `provider`'s storage on the emulator; returns them in upload order.
fn provider_uploads(client: &FilesClient, provider: &str, n: usize) -> Vec<FileMetadata> {
    (0..n)
        .map(|i| {
            client
                .with_provider(provider)
                .upload(Upload::bytes(format!("p{i}.txt"), vec![b'y'; i + 1]))
                .unwrap()
        })
        .collect()
}

/// The names of `n` files uploaded to `provider`'s storage, in upload order.
fn provider_files(client: &FilesClient, provider: &str, n: usize) -> Vec<String> {
    provider_uploads(client, provider, n)
        .into_iter()
        .map(|f| f.filename)
        .collect()
}

#[test]
fn a_list_paged_by_id_resumes_after_an_error_without_skipping_or_repeating() {
    for (provider, order) in [
        ("openai", Order::Asc),
        ("anthropic", Order::Asc),
        ("openai", Order::Desc),
        ("anthropic", Order::Desc),
    ] {
        let (emulator, client) = emulator_with_files(0);
        let mut all = provider_files(&client, provider, 5);
        if order == Order::Desc {
            all.reverse();
        }
        let request = client.list().provider(provider).order(order).page_size(2);
        let mut files = request.files();
        let mut names: Vec<String> = (0..4)
            .map(|_| files.next().unwrap().unwrap().filename)
            .collect();
        emulator.inject(Fault::status(503), 1);
        assert!(files.next().unwrap().is_err());
        let position = files.position().cloned().unwrap();
        assert!(
            !matches!(position, ListPosition::Start | ListPosition::Cursor(_)),
            "{provider} pages by id: {position:?}"
        );
        names.extend(
            request
                .start_at(position)
                .into_iter()
                .map(|f| f.unwrap().filename),
        );
        assert_eq!(names, all, "{provider} {order}");
    }
}

#[test]
fn a_list_stopped_mid_page_resumes_from_that_page_and_misses_nothing() {
    for provider in [None, Some("openai"), Some("anthropic")] {
        let (_emulator, client) = emulator_with_files(0);
        let client = match provider {
            Some(p) => client.with_provider(p),
            None => client,
        };
        for i in 0..5 {
            client
                .upload(Upload::bytes(format!("m{i}.txt"), "m"))
                .unwrap();
        }
        let request = client.list().page_size(2);
        let mut files = request.files();
        let first: Vec<String> = (0..3)
            .map(|_| files.next().unwrap().unwrap().filename)
            .collect();
        let position = files.position().cloned().unwrap();
        let rest: Vec<String> = request
            .start_at(position)
            .into_iter()
            .map(|f| f.unwrap().filename)
            .collect();
        assert_eq!(first, ["m0.txt", "m1.txt", "m2.txt"], "{provider:?}");
        assert_eq!(
            rest,
            ["m2.txt", "m3.txt", "m4.txt"],
            "{provider:?}: the page being read is read again, nothing after it is skipped"
        );
    }
}

#[test]
fn a_long_list_of_many_pages_is_never_taken_for_a_cycle() {
    const PAGES: usize = 600;
    let server = Scripted::start(|n, _, s| {
        s.set_nodelay(true).unwrap(); // head and body go out at once: no delayed-ACK stall
        let file = file_json(&format!("or_file_{n}"));
        let cursor = format!("c{}", n + 1);
        let more = n + 1 < PAGES;
        page(s, &[file], more, more.then_some(cursor.as_str()));
        Next::KeepAlive
    });
    let files: Vec<_> = client(&server)
        .list()
        .page_size(1)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(files.len(), PAGES);
    assert_eq!(files[PAGES - 1].id, format!("or_file_{}", PAGES - 1));
}

#[test]
fn a_cycle_that_starts_late_is_caught_within_a_bounded_number_of_pages() {
    // 200 fresh positions, then a cycle of 7 forever; by id (OpenAI style) this time.
    let server = Scripted::start(|n, _, s| {
        s.set_nodelay(true).unwrap();
        let id = if n < 200 {
            format!("or_file_{n}")
        } else {
            format!("or_file_loop_{}", n % 7)
        };
        let body = format!(
            r#"{{"_shape":"openai","object":"list","data":[{}],"has_more":true,"first_id":"{id}","last_id":"{id}"}}"#,
            file_json(&id)
        );
        json(s, 200, "", &body);
        Next::KeepAlive
    });
    let pages: Vec<_> = client(&server).list().pages().take(2000).collect();
    assert!(
        matches!(pages.last(), Some(Err(Error::Protocol(m))) if m.contains("repeated")),
        "{:?}",
        pages.last()
    );
    assert!(
        pages.len() < 200 + 7 * 64,
        "caught after {} pages",
        pages.len()
    );
}

#[test]
fn a_page_without_has_more_but_with_a_cursor_is_not_taken_for_the_last() {
    let server = Scripted::start(|n, _, s| {
        let body = match n {
            0 => format!(
                r#"{{"data":[{}],"first_id":"or_file_0","last_id":"or_file_0","cursor":"c1"}}"#,
                file_json("or_file_0")
            ),
            _ => format!(
                r#"{{"data":[{}],"first_id":"or_file_1","last_id":"or_file_1","cursor":null}}"#,
                file_json("or_file_1")
            ),
        };
        json(s, 200, "", &body);
        Next::KeepAlive
    });
    let ids: Vec<String> = client(&server)
        .list()
        .into_iter()
        .map(|f| f.unwrap().id)
        .collect();
    assert_eq!(ids, ["or_file_0", "or_file_1"]);
}

#[test]
fn a_hostile_cursor_goes_back_encoded_and_cannot_add_headers_or_parameters() {
    let server = Scripted::start(|n, _, s| {
        if n == 0 {
            page(
                s,
                &[file_json("or_file_0")],
                true,
                Some("a\r\nX-Evil: 1\r\n&limit=5#frag é"),
            );
        } else {
            page(s, &[file_json("or_file_1")], false, None);
        }
        Next::KeepAlive
    });
    let files = list_all(&server);
    assert_eq!(files.len(), 2);
    let second = &server.received()[1];
    assert!(second.header("x-evil").is_none(), "{second:?}");
    assert!(
        second
            .target
            .ends_with("?limit=1000&cursor=a%0D%0AX-Evil%3A%201%0D%0A%26limit%3D5%23frag%20%C3%A9"),
        "{}",
        second.target
    );
}

/// Query parameter `name` of a request target, as sent (ids need no decoding).
fn query_param<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    let query = target.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

#[test]
fn a_list_started_with_before_id_walks_back_through_every_file_once_against_a_scripted_server() {
    // Anthropic's documented paging: `before_id=X` is the page just before X in the list's
    // order, `first_id` goes on backwards, `has_more` says whether more lie that way.
    const FILES: usize = 10;
    let ids: Vec<String> = (0..FILES).map(|i| format!("or_file_{i:02}")).collect();
    let all = ids.clone();
    let server = Scripted::start(move |_, r, s| {
        let limit: usize = query_param(&r.target, "limit").unwrap().parse().unwrap();
        let before = query_param(&r.target, "before_id").expect("paging stays backwards");
        let end = all.iter().position(|id| id == before).unwrap();
        let start = end.saturating_sub(limit);
        let data: Vec<String> = all[start..end]
            .iter()
            .map(|id| file_json(id).replace("openrouter", "anthropic"))
            .collect();
        let body = format!(
            r#"{{"_shape":"anthropic","data":[{}],"has_more":{},"first_id":"{}","last_id":"{}"}}"#,
            data.join(","),
            start > 0,
            all[start],
            all[end - 1]
        );
        json(s, 200, "", &body);
        Next::KeepAlive
    });
    let walked: Vec<String> = client(&server)
        .list()
        .provider("anthropic")
        .page_size(3)
        .before_id(&ids[FILES - 1])
        .into_iter()
        .map(|f| f.unwrap().id)
        .collect();
    let pages = [&ids[6..9], &ids[3..6], &ids[0..3]].concat();
    assert_eq!(
        walked, pages,
        "page after page backwards, each in list order"
    );
    let asked: Vec<String> = server
        .received()
        .iter()
        .map(|r| query_param(&r.target, "before_id").unwrap().to_string())
        .collect();
    assert_eq!(
        asked,
        [ids[9].clone(), ids[6].clone(), ids[3].clone()],
        "each page's first_id"
    );
}

#[test]
fn a_list_started_with_before_id_walks_back_through_every_file_once_on_the_emulator() {
    for (provider, order) in [
        ("anthropic", Order::Asc),
        ("openai", Order::Asc),
        ("anthropic", Order::Desc),
    ] {
        let (_emulator, client) = emulator_with_files(0);
        let mut in_order: Vec<String> = provider_uploads(&client, provider, 8)
            .into_iter()
            .map(|f| f.id)
            .collect();
        if order == Order::Desc {
            in_order.reverse();
        }
        // Start before the last file in the list's order: every other file comes back once.
        let walked: Vec<String> = client
            .list()
            .provider(provider)
            .order(order)
            .page_size(3)
            .before_id(&in_order[7])
            .into_iter()
            .map(|f| f.unwrap().id)
            .collect();
        let pages = [&in_order[4..7], &in_order[1..4], &in_order[0..1]].concat();
        assert_eq!(walked, pages, "{provider} {order:?}");
    }
}
