//! The emulator against clients and local users that mean harm: bodies trickled to hold
//! connections, a storage directory swapped for a symlink while it runs, and clients still
//! sending a body the server has answered early. Raw sockets on 127.0.0.1.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{connect, raw_agent, read_status, text, upload_head};
use openrouter_files_emulator::{Emulator, Fault};

/// An upload that sends its head, then one body byte every `every`, for at most `for_at_most`
/// or until the server closes.
fn trickle(addr: SocketAddr, key: &str, every: Duration, for_at_most: Duration) -> JoinHandle<()> {
    let head = upload_head(key, 100_000);
    std::thread::spawn(move || {
        let mut stream = connect(addr);
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        let started = Instant::now();
        for byte in
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.txt\"\r\n\r\n"
                .iter()
                .cycle()
        {
            if started.elapsed() > for_at_most || stream.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(every);
        }
    })
}

/// Issue 19, item 1: with the defaults a handful of uploads sending a byte now and then held
/// every connection, and every other client got 503 for as long as the trickle lasted.
#[test]
fn trickled_uploads_at_the_cap_do_not_lock_out_a_well_behaved_client() {
    let server = Emulator::builder().max_connections(4).start().unwrap();
    let addr = server.addr();
    let trickles: Vec<_> = (0..4)
        .map(|_| {
            trickle(
                addr,
                server.api_key(),
                Duration::from_millis(200),
                Duration::from_secs(8),
            )
        })
        .collect();
    // Every slot taken by a trickle, each past the age at which it may give way.
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let resp = raw_agent()
        .get(format!("{}/files", server.base_url()))
        .header("Authorization", format!("Bearer {}", server.api_key()))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200, "a well-behaved client was locked out");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(server);
    for t in trickles {
        t.join().unwrap();
    }
}

/// Issue 19, item 1: a body below the minimum rate is answered 408 once its grace and the
/// time its bytes bought are spent, long before the read timeout between reads.
#[test]
fn a_body_below_the_minimum_rate_gets_408_after_its_grace() {
    let server = Emulator::builder()
        .min_rate(1000, Duration::from_secs(1))
        .start()
        .unwrap();
    let mut stream = connect(server.addr());
    let started = Instant::now();
    stream
        .write_all(upload_head(server.api_key(), 100_000).as_bytes())
        .unwrap();
    // Ten bytes a second, then silence: the deadline (about 1.2 s) passes with nothing unread,
    // so the client reads the answer rather than a reset.
    for byte in b"--b\r\nCont" {
        if started.elapsed() > Duration::from_millis(800) {
            break;
        }
        stream.write_all(&[*byte]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(read_status(&mut stream), Some(408));
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The rate rule judges the client, not the server: an upload held by an injected delay past
/// its grace, whose body the client sent at once, is still read and stored.
#[test]
fn time_the_server_spends_does_not_count_against_the_client() {
    let server = Emulator::builder()
        .min_rate(1000, Duration::from_millis(300))
        .start()
        .unwrap();
    server.inject(Fault::Delay(Duration::from_millis(1500)), 1);
    let body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.txt\"\r\n\r\ndelayed\r\n--b--\r\n";
    let mut stream = connect(server.addr());
    stream
        .write_all(upload_head(server.api_key(), body.len() as u64).as_bytes())
        .unwrap();
    // The head is read alone, then the server waits; the body is there long before it reads.
    std::thread::sleep(Duration::from_millis(200));
    stream.write_all(body).unwrap();
    assert_eq!(read_status(&mut stream), Some(200));
}

/// Issue 19, item 1: a whole-request timeout bounds a request that keeps a fair rate forever.
#[test]
fn a_request_past_the_whole_request_timeout_gets_408() {
    let server = Emulator::builder()
        .request_timeout(Some(Duration::from_secs(2)))
        .start()
        .unwrap();
    let mut stream = connect(server.addr());
    stream
        .write_all(upload_head(server.api_key(), 10_000_000).as_bytes())
        .unwrap();
    stream
        .write_all(
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.txt\"\r\n\r\n",
        )
        .unwrap();
    let started = Instant::now();
    // 20 KB/s, far above the rate rule, for 1.5 s; then wait for the answer.
    while started.elapsed() < Duration::from_millis(1500) {
        if stream.write_all(&text(2000)).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(read_status(&mut stream), Some(408));
}

/// Issue 19, item 7: an answer sent while the client is still sending (here 413 for a
/// declared 3 MB over a 1,000-byte limit) reached the client as a reset, not an answer: the
/// emulator closed with unread bytes. It lingers now, so a client that sends its whole body
/// before reading (as fetch-based SDKs do) gets the 413.
#[test]
fn a_client_that_sends_its_whole_body_before_reading_gets_the_early_413() {
    let server = Emulator::builder().upload_limit(1000).start().unwrap();
    let mut stream = connect(server.addr());
    stream
        .set_write_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let body = vec![b'x'; 3_000_000];
    stream
        .write_all(upload_head(server.api_key(), body.len() as u64).as_bytes())
        .unwrap();
    // The body starts a moment after the head, as a client's body stream does: long enough
    // for the server to have answered.
    std::thread::sleep(Duration::from_millis(300));
    let sent = body.chunks(64 * 1024).try_for_each(|c| stream.write_all(c));
    assert!(sent.is_ok(), "the body could not be sent: {sent:?}");
    assert_eq!(read_status(&mut stream), Some(413));
}

/// Issue 19, item 7: the same for an answer given before the body is read at all (401).
#[test]
fn a_client_that_sends_its_whole_body_before_reading_gets_the_early_401() {
    let server = Emulator::start().unwrap();
    let mut stream = connect(server.addr());
    let body = vec![b'x'; 1_000_000];
    stream
        .write_all(upload_head("wrong-key", body.len() as u64).as_bytes())
        .unwrap();
    // The body starts a moment after the head, as a client's body stream does: long enough
    // for the server to have answered.
    std::thread::sleep(Duration::from_millis(300));
    let sent = body.chunks(64 * 1024).try_for_each(|c| stream.write_all(c));
    assert!(sent.is_ok(), "the body could not be sent: {sent:?}");
    assert_eq!(read_status(&mut stream), Some(401));
}

/// Issue 19, item 2: another local user who can write the storage directory's parent swaps
/// the emulator's directory for a symlink to a folder of links named like its temporary files.
/// An upload then wrote through a link into an unrelated file. The directory is held open now
/// and files are made in it with `O_EXCL | O_NOFOLLOW` under unpredictable names: nothing
/// outside is written, and what the server leaves at drop is nothing but its emptied directory.
#[cfg(unix)]
#[test]
fn an_upload_never_writes_through_a_symlink_swapped_in_for_the_storage_dir() {
    use std::os::unix::fs::symlink;
    let parent = common::temp_dir("swap");
    let victims = common::temp_dir("swap-victims");
    let server = Emulator::builder().storage_dir(&*parent).start().unwrap();
    let own = server.storage_path();
    let decoys = parent.join("decoys");
    std::fs::create_dir(&decoys).unwrap();
    for n in 0..2000 {
        let victim = victims.join(format!("v{n}"));
        std::fs::write(&victim, b"precious").unwrap();
        symlink(&victim, decoys.join(format!("incoming-{n}"))).unwrap();
    }
    let moved = parent.join("moved");
    std::fs::rename(&own, &moved).unwrap();
    symlink(&decoys, &own).unwrap();

    let agent = raw_agent();
    for i in 0..5 {
        let boundary = "swapb";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f{i}.txt\"\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(b"overwritten\n");
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = agent
            .post(format!("{}/files", server.base_url()))
            .header("Authorization", format!("Bearer {}", server.api_key()))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .send(&body[..])
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let untouched = |when: &str| {
        let names = std::fs::read_dir(&*victims).unwrap().count();
        assert_eq!(names, 2000, "{when}: files appeared among the victims");
        for n in 0..2000 {
            let bytes = std::fs::read(victims.join(format!("v{n}"))).unwrap();
            assert_eq!(bytes, b"precious", "{when}: v{n} written through a link");
            let link = decoys.join(format!("incoming-{n}"));
            assert!(link.symlink_metadata().is_ok(), "{when}: a decoy link went");
        }
    };
    untouched("after the uploads");
    assert_eq!(std::fs::read_dir(&moved).unwrap().count(), 5);
    drop(server);
    untouched("after the drop");
    assert_eq!(std::fs::read_dir(&decoys).unwrap().count(), 2000);
    assert_eq!(
        std::fs::read_dir(&moved).unwrap().count(),
        0,
        "uploads left behind"
    );
}
