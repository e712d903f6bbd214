//! The emulator against a third round of hostile clients (an adversarial review of issue 19's
//! fixes): uploads that start fast to buy time and then trickle, downloads never read, and
//! endless multipart preambles. Raw sockets on 127.0.0.1, every load bounded in count and time.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{
    Hold, PAST_TWO_WINDOWS, RATE_WINDOW, Release, connect, hold, raw_agent, read_status, text,
    upload_head,
};
use openrouter_files_emulator::{DEFAULT_WORKSPACE, Emulator};

/// A well-behaved client's `GET /files`: its status.
fn list_status(server: &Emulator) -> u16 {
    raw_agent()
        .get(format!("{}/files", server.base_url()))
        .header("Authorization", format!("Bearer {}", server.api_key()))
        .call()
        .map_or(0, |r| r.status().as_u16())
}

/// An upload that sends `fast` bytes of a form field at once (buying, under an average-rate
/// rule, `fast / min_rate` seconds), then one byte every `every` until `for_at_most` has
/// passed or the server closes.
fn fast_then_trickle(
    addr: SocketAddr,
    key: &str,
    fast: usize,
    every: Duration,
    for_at_most: Duration,
) -> JoinHandle<()> {
    let head = upload_head(key, 1_000_000);
    std::thread::spawn(move || {
        let mut stream = connect(addr);
        let mut start = head.into_bytes();
        start.extend_from_slice(b"--b\r\nContent-Disposition: form-data; name=\"pad\"\r\n\r\n");
        start.extend_from_slice(&text(fast));
        if stream.write_all(&start).is_err() {
            return;
        }
        let started = Instant::now();
        while started.elapsed() < for_at_most {
            if stream.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(every);
        }
    })
}

/// The rate rule is an average (Apache `MinRate`), so 200 KB sent at once buys 200 s at
/// 1,000 bytes/s; the trickle after it was never "slower than the rule", so such uploads held
/// every slot and a well-behaved client got 503 until their credit ran out. At the cap, a
/// connection is judged by its recent rate now.
#[test]
fn a_fast_start_buys_no_right_to_hold_a_slot_at_the_cap() {
    let server = Emulator::builder()
        .max_connections(3)
        .min_rate(1000, Duration::from_secs(1))
        .rate_window(RATE_WINDOW)
        .start()
        .unwrap();
    let holders: Vec<_> = (0..3)
        .map(|_| {
            fast_then_trickle(
                server.addr(),
                server.api_key(),
                200_000,
                Duration::from_millis(250),
                Duration::from_secs(15),
            )
        })
        .collect();
    // Long enough for the trickle to be all that recent reads show.
    std::thread::sleep(PAST_TWO_WINDOWS);
    assert_eq!(
        list_status(&server),
        200,
        "uploads that bought time up front locked a well-behaved client out"
    );
    drop(server);
    for h in holders {
        h.join().unwrap();
    }
}

/// Sends a download request for `id` and never reads the answer.
fn never_read(addr: SocketAddr, key: &str, id: &str) -> TcpStream {
    let stream = connect(addr);
    (&stream)
        .write_all(
            format!(
                "GET /api/v1/files/{id}/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    stream
}

/// A download whose client reads nothing blocked its connection thread in a write for the
/// whole write timeout, "busy" and never giving way: a few such requests, renewed, locked
/// everyone else out. A connection whose answer stalls below the rate rule gives way at the
/// cap now.
#[test]
fn downloads_never_read_do_not_lock_out_a_well_behaved_client() {
    let server = Emulator::builder()
        .max_connections(2)
        .min_rate(1000, Duration::from_secs(1))
        .rate_window(RATE_WINDOW)
        .write_timeout(Duration::from_secs(60))
        .start()
        .unwrap();
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "big.bin", &vec![7u8; 48 << 20])
        .unwrap();
    let stalled: Vec<_> = (0..2)
        .map(|_| never_read(server.addr(), server.api_key(), &id))
        .collect();
    // Long enough for the stalled answers to be all that recent writes show.
    std::thread::sleep(PAST_TWO_WINDOWS);
    let started = Instant::now();
    assert_eq!(
        list_status(&server),
        200,
        "downloads nobody reads locked a well-behaved client out"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(stalled);
}

/// The multipart preamble (before the first boundary) was read into a sink without a limit,
/// so a chunked upload could send an endless one at full speed and hold its connection for
/// as long as it liked. It draws on the same budget as the form's other fields now.
#[test]
fn an_endless_chunked_preamble_is_refused() {
    let server = Emulator::start().unwrap();
    let mut stream = connect(server.addr());
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let head = format!(
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.api_key()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = {
        let mut c = format!("{:x}\r\n", 64 * 1024).into_bytes();
        c.extend_from_slice(&text(64 * 1024));
        c.extend_from_slice(b"\r\n");
        c
    };
    // 4 MB of preamble, at full speed; the server is free to stop reading after its limit.
    for _ in 0..64 {
        if stream.write_all(&chunk).is_err() {
            break;
        }
    }
    let status = std::panic::catch_unwind(move || read_status(&mut stream)).ok();
    assert!(
        matches!(status, Some(Some(400 | 413))),
        "an endless preamble was not refused: {status:?}"
    );
}

/// The emulator judges the client's URLs: a path that only starts with the API's prefix
/// (`/api/v1files`, as a base URL joined without its slash would give) was served as
/// `/api/v1/files`, so such a client bug passed every test here and failed on the real API.
#[test]
fn a_path_that_only_starts_like_the_api_prefix_is_not_found() {
    let server = Emulator::builder()
        .seed_file("a.txt", b"a".to_vec())
        .start()
        .unwrap();
    let base = server.base_url().trim_end_matches("/api/v1").to_string();
    for path in ["/api/v1files", "/api/v1files/x", "/api/v1x/files"] {
        let status = raw_agent()
            .get(format!("{base}{path}"))
            .header("Authorization", format!("Bearer {}", server.api_key()))
            .call()
            .map_or(0, |r| r.status().as_u16());
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(list_status(&server), 200);
}

/// A client that pipelines requests for listings and never reads the answers: the JSON
/// answers were written outside the answer tracking, so the connection thread sat "busy" in a
/// blocked write for the whole write timeout and never gave way.
#[test]
fn pipelined_answers_never_read_do_not_lock_out_a_well_behaved_client() {
    let mut builder = Emulator::builder()
        .max_connections(2)
        .min_rate(1000, Duration::from_secs(1))
        .rate_window(RATE_WINDOW)
        .write_timeout(Duration::from_secs(60));
    for n in 0..50 {
        builder = builder.seed_file(
            &format!("seeded-file-with-a-long-name-{n:04}.txt"),
            vec![b'x'],
        );
    }
    let server = builder.start().unwrap();
    let request = format!(
        "GET /api/v1/files?limit=1000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        server.api_key()
    );
    let pipelines: Vec<_> = (0..2)
        .map(|_| {
            let stream = connect(server.addr());
            stream
                .set_write_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let many = request.repeat(2000);
            std::thread::spawn(move || {
                let _ = (&stream).write_all(many.as_bytes());
                stream
            })
        })
        .collect();
    let started = Instant::now();
    // Past two rate windows, and two since the answers stalled, however long a loaded machine
    // takes to fill the buffers of clients that read nothing: the stall is all recent writes
    // show.
    common::wait_for_quiet(
        || server.requests_served() as usize,
        started,
        PAST_TWO_WINDOWS,
        2 * RATE_WINDOW,
    );
    assert_eq!(
        list_status(&server),
        200,
        "pipelined answers nobody reads locked a well-behaved client out"
    );
    drop(server);
    for p in pipelines {
        drop(p.join().unwrap());
    }
}

/// `Duration::MAX`, the usual way to say "no limit", as the read timeout, the rate rule's
/// grace or the whole-request timeout: adding it to the clock panicked in every connection
/// thread, so every request was dropped unanswered.
#[test]
fn the_longest_durations_mean_no_limit_and_never_panic() {
    let server = Emulator::builder()
        .read_timeout(Duration::MAX)
        .write_timeout(Duration::MAX)
        .min_rate(500, Duration::MAX)
        .request_timeout(Some(Duration::MAX))
        .start()
        .unwrap();
    assert_eq!(list_status(&server), 200);
    let mut stream = connect(server.addr());
    stream
        .write_all(upload_head(server.api_key(), 5).as_bytes())
        .unwrap();
    stream.write_all(b"--b--").unwrap();
    assert_eq!(read_status(&mut stream), Some(400));
}

/// Four keep-alive clients of `server` holding connections as [`Hold::KeepAlive`] says, until
/// `release` is given or `for_at_most` has passed.
fn keep_alive_holders(
    server: &Emulator,
    split: usize,
    mid: Duration,
    after: Duration,
    for_at_most: Duration,
    release: &Release,
) -> Vec<JoinHandle<()>> {
    let until = Instant::now() + for_at_most;
    let how = Hold::KeepAlive { split, mid, after };
    (0..4)
        .map(|_| hold(server.addr(), server.api_key(), how.clone(), until, release))
        .collect()
}

/// Waits (at most 20 s) until the four holders of `server`, its only clients so far, hold
/// every slot and have been answered four times in all: the one answered last has its answer,
/// and since its first request its connection is a kept-alive one.
fn wait_for_four_holders_answered(server: &Emulator) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.connections_accepted() < 4 || server.requests_served() < 4 {
        assert!(
            Instant::now() < deadline,
            "the holders never got going: {} connections, {} answers",
            server.connections_accepted(),
            server.requests_served()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Keep-alive clients that send a request every 0.9 s were never "a second into" their
/// idleness, so a few of them (one per slot, about one tiny request a second each) held the
/// cap and every new client got 503. A kept-alive connection between requests may be closed
/// at any time (RFC 9112 §9.3.1: clients retry on a new one), so at the cap it gives way at
/// any age; only a new connection that has not sent its first request yet keeps its second.
#[test]
fn keep_alive_clients_idle_under_a_second_give_way_at_the_cap() {
    let server = Emulator::builder().max_connections(4).start().unwrap();
    let (whole, no_pause) = (usize::MAX, Duration::ZERO);
    let release = Release::default();
    let holders = keep_alive_holders(
        &server,
        whole,
        no_pause,
        Duration::from_millis(900),
        Duration::from_secs(6),
        &release,
    );
    wait_for_four_holders_answered(&server);
    // A third into the 0.9 s the holder answered last idles: kept alive, under a second idle.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        list_status(&server),
        200,
        "keep-alive clients idle just under a second locked a new client out"
    );
    release.now();
    for h in holders {
        h.join().unwrap();
    }
}

/// Keep-alive clients that send each request's head in two halves 0.8 s apart are never
/// idle and never a second into a request, so judged request by request they never gave way
/// and held the cap. A connection is judged by what it has received lately across its
/// requests.
#[test]
fn heads_split_under_a_second_apart_give_way_at_the_cap() {
    let server = Emulator::builder().max_connections(4).start().unwrap();
    let release = Release::default();
    let holders = keep_alive_holders(
        &server,
        10,
        Duration::from_millis(800),
        Duration::ZERO,
        Duration::from_secs(7),
        &release,
    );
    wait_for_four_holders_answered(&server);
    // The holder answered last sent its first bytes over 0.8 s ago and is starting its next
    // request: 0.45 s on, it is over a second into its bytes, mid-way through the 0.8 s its
    // split head takes, never a second into this request.
    std::thread::sleep(Duration::from_millis(450));
    assert_eq!(
        list_status(&server),
        200,
        "heads split under a second apart locked a new client out"
    );
    release.now();
    for h in holders {
        h.join().unwrap();
    }
}
