//! Seeded randomized suites against the emulator, for the attack classes of issue 19: bodies
//! trickled at random rates and sizes while the connections are all taken, early error
//! answers with random amounts of body still to come, and the storage directory swapped for a
//! symlink at random moments of concurrent uploads. Each is bounded in count and time, and
//! asserts: nothing lost, nothing left, others keep being served. `EMULATOR_HOSTILE_CASES`
//! sets the size of a run and `EMULATOR_HOSTILE_SEED` its seed; a failure names its case.
//! A suite's cases run at once, each on its own server (`EMULATOR_HOSTILE_PARALLEL` of them at
//! most, 4 by default), since they mostly wait on the server's clocks.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{
    Hold, PAST_TWO_WINDOWS, PIPELINED_QUERY, RATE_WINDOW, Release, Rng, connect, hold, raw_agent,
    read_status, run_cases, settings, text, upload_head,
};
use openrouter_files_emulator::Emulator;
use serde_json::Value;

/// An upload of `bytes` named `name` by a well-behaved client; the status and the answer.
fn upload(server: &Emulator, name: &str, bytes: &[u8]) -> (u16, Value) {
    let mut body = format!(
        "--gb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--gb--\r\n");
    let mut resp = raw_agent()
        .post(format!("{}/files", server.base_url()))
        .header("Authorization", format!("Bearer {}", server.api_key()))
        .header("Content-Type", "multipart/form-data; boundary=gb")
        .send(&body[..])
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The ids and sizes the server lists (one page of up to 1000).
fn listed(server: &Emulator) -> Vec<(String, u64)> {
    let mut resp = raw_agent()
        .get(format!("{}/files?limit=1000", server.base_url()))
        .header("Authorization", format!("Bearer {}", server.api_key()))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let page: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let id = f["id"].as_str().unwrap().to_string();
            (
                id,
                f["bytes"]
                    .as_u64()
                    .or(f["size_bytes"].as_u64())
                    .unwrap_or(0),
            )
        })
        .collect()
}

/// The entries of `dir`.
fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// How a trickling client sends its body.
#[derive(Debug, Clone, Copy)]
struct Trickle {
    /// Bytes sent at once after the head, before the trickle (buying time under an
    /// average-rate rule).
    burst: usize,
    per_tick: usize,
    tick: Duration,
    for_at_most: Duration,
}

/// A client that sends an upload's head and a burst, then `per_tick` body bytes every `tick`
/// until `for_at_most` has passed or the server closes; then reads what it was answered
/// (None: a close without an answer, as when it gave way to another connection).
fn trickler(addr: SocketAddr, key: &str, declared: u64, how: Trickle) -> JoinHandle<Option<u16>> {
    let Trickle {
        burst,
        per_tick,
        tick,
        for_at_most,
    } = how;
    let head = upload_head(key, declared);
    std::thread::spawn(move || {
        let mut stream = connect(addr);
        let started = Instant::now();
        let mut body =
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.txt\"\r\n\r\n"
                .iter()
                .copied()
                .chain(std::iter::repeat(b'x'));
        let mut open = stream.write_all(head.as_bytes()).is_ok();
        let first: Vec<u8> = body.by_ref().take(burst).collect();
        open = open && stream.write_all(&first).is_ok();
        while open && started.elapsed() < for_at_most {
            let chunk: Vec<u8> = body.by_ref().take(per_tick).collect();
            open = stream.write_all(&chunk).is_ok();
            std::thread::sleep(tick);
        }
        read_status(&mut stream)
    })
}

/// Trickled uploads at random rates (all below the rate rule) and sizes hold every
/// connection; a well-behaved client is served at once all the same, each trickle ends in a
/// 408 or a close within its bound, and the trickles leave nothing in the storage.
#[test]
fn trickled_bodies_at_random_rates_never_lock_out_others_nor_leave_bytes() {
    let (cases, seed) = settings("trickle", 4);
    run_cases("trickle", (cases, seed), |_, case| {
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let cap = rng.range(2, 6) as usize;
        let min_rate = rng.range(400, 4000);
        let grace = Duration::from_millis(rng.range(1200, 3000));
        let server = Emulator::builder()
            .max_connections(cap)
            .min_rate(min_rate, grace)
            .start()
            .unwrap();
        let addr = server.addr();
        let trickles: Vec<_> = (0..cap + rng.range(0, 3) as usize)
            .map(|_| {
                let tick = Duration::from_millis(rng.range(50, 300));
                // Bytes a second, below half the minimum rate.
                let rate = rng.range(1, min_rate / 2);
                let per_tick = (rate * tick.as_millis() as u64 / 1000).max(1) as usize;
                // Longer than it can send in its time: it never ends its body.
                let declared = rng.range(1_000, 500_000).max(rate * 10 + 10_000);
                let how = Trickle {
                    burst: 0,
                    per_tick,
                    tick,
                    for_at_most: grace * 3,
                };
                trickler(addr, server.api_key(), declared, how)
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1200));
        let bytes = text(rng.range(1, 50_000) as usize);
        let (status, answer) = upload(&server, "good.txt", &bytes);
        assert_eq!(status, 200, "case {case} (seed {seed}): {answer}");
        for t in trickles {
            let answered = t.join().unwrap();
            assert!(
                matches!(answered, None | Some(408) | Some(503)),
                "case {case} (seed {seed}): a trickle got {answered:?}"
            );
        }
        let files = listed(&server);
        assert_eq!(files.len(), 1, "case {case} (seed {seed}): {files:?}");
        assert_eq!(files[0].0, answer["id"].as_str().unwrap());
        assert_eq!(
            entries(&server.storage_path()),
            1,
            "case {case}: stray bytes"
        );
    });
}

/// A random burst at once (from 20 s to 200 s of credit at `min_rate`), then a trickle below
/// half of it, for 8 s.
fn burst_then_trickle(rng: &mut Rng, min_rate: u64) -> Trickle {
    let tick = Duration::from_millis(rng.range(50, 300));
    let rate = rng.range(1, min_rate / 2);
    Trickle {
        burst: rng.range(min_rate * 20, min_rate * 200) as usize,
        per_tick: (rate * tick.as_millis() as u64 / 1000).max(1) as usize,
        tick,
        for_at_most: Duration::from_secs(8),
    }
}

/// Uploads that send a random burst at once (buying up to minutes under the average-rate
/// rule) and then trickle below the rate hold every connection: at the cap they are judged by
/// their recent rate, so well-behaved clients are served all the same (before, they got 503
/// for as long as the bursts' credit lasted).
#[test]
fn trickles_after_a_fast_start_give_way_at_the_cap() {
    let (cases, seed) = settings("burst then trickle", 3);
    run_cases("burst then trickle", (cases, seed), |_, case| {
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let cap = rng.range(2, 5) as usize;
        let min_rate = rng.range(400, 4000);
        let grace = Duration::from_millis(rng.range(500, 2000));
        let server = Emulator::builder()
            .max_connections(cap)
            .min_rate(min_rate, grace)
            .rate_window(RATE_WINDOW)
            .start()
            .unwrap();
        let trickles: Vec<_> = (0..cap)
            .map(|_| {
                let how = burst_then_trickle(&mut rng, min_rate);
                trickler(server.addr(), server.api_key(), 2_000_000, how)
            })
            .collect();
        // Past two rate windows: what recent reads show is the trickle alone.
        std::thread::sleep(PAST_TWO_WINDOWS);
        let (status, answer) = upload(&server, "good.txt", &text(rng.range(1, 50_000) as usize));
        assert_eq!(status, 200, "case {case} (seed {seed}): {answer}");
        let files = listed(&server);
        assert_eq!(files.len(), 1, "case {case} (seed {seed}): {files:?}");
        drop(server);
        for t in trickles {
            let answered = t.join().unwrap();
            assert!(
                matches!(answered, None | Some(408) | Some(503)),
                "case {case} (seed {seed}): a trickle got {answered:?}"
            );
        }
    });
}

/// Connections held at the cap by hostile clients of random kinds (bursts then trickles,
/// downloads never read, pipelined answers never read, keep-alive requests under a second
/// apart, heads split under a second apart): a well-behaved upload is served all the same,
/// and every holder's thread ends within its bound. Each kind held the cap before.
#[test]
fn hostile_holders_of_random_kinds_never_lock_out_a_well_behaved_client() {
    let (cases, seed) = settings("holders", 3);
    run_cases("holders", (cases, seed), |_, case| {
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0x94D0_49BB_1331_11EB));
        let cap = rng.range(2, 5) as usize;
        let min_rate = rng.range(400, 4000);
        let mut builder = Emulator::builder()
            .max_connections(cap)
            .min_rate(min_rate, Duration::from_millis(rng.range(500, 2000)))
            .rate_window(RATE_WINDOW)
            .write_timeout(Duration::from_secs(60))
            .request_log_limit(1 << 20);
        for n in 0..50 {
            builder = builder.seed_file(&format!("seeded-with-a-long-name-{n:04}.txt"), vec![b'x']);
        }
        let server = builder.start().unwrap();
        let big = server
            .seed_reader_in(
                openrouter_files_emulator::DEFAULT_WORKSPACE,
                "big.bin",
                std::io::Read::take(std::io::repeat(7), 48 << 20),
            )
            .unwrap();
        let until = Instant::now() + Duration::from_secs(8);
        let release = Release::default();
        let mut kinds = Vec::new();
        let holders: Vec<_> = (0..cap)
            .map(|_| {
                let kind = rng.range(0, 5);
                kinds.push(kind);
                let how = match kind {
                    0 => {
                        let how = burst_then_trickle(&mut rng, min_rate);
                        let t = trickler(server.addr(), server.api_key(), 2_000_000, how);
                        return std::thread::spawn(move || drop(t.join()));
                    }
                    1 => Hold::NeverRead { id: big.clone() },
                    2 => Hold::Pipelined {
                        n: rng.range(500, 3000) as usize,
                    },
                    3 => Hold::KeepAlive {
                        split: usize::MAX,
                        mid: Duration::ZERO,
                        after: Duration::from_millis(rng.range(300, 950)),
                    },
                    _ => Hold::KeepAlive {
                        split: rng.range(1, 40) as usize,
                        mid: Duration::from_millis(rng.range(300, 950)),
                        after: Duration::ZERO,
                    },
                };
                hold(server.addr(), server.api_key(), how, until, &release)
            })
            .collect();
        let started = Instant::now();
        // Past two rate windows: what recent bytes show is the holding alone. Pipelined
        // answers stall first, however long a loaded machine takes to fill the buffers of a
        // client that reads nothing: none for two windows.
        let pipelined = || {
            let log = server.requests();
            log.iter()
                .filter(|r| r.query.as_deref() == Some(PIPELINED_QUERY))
                .count()
        };
        common::wait_for_quiet(pipelined, started, PAST_TWO_WINDOWS, 2 * RATE_WINDOW);
        let (status, answer) = upload(&server, "good.txt", &text(rng.range(1, 50_000) as usize));
        assert_eq!(
            status, 200,
            "case {case} (seed {seed}, kinds {kinds:?}): {answer}"
        );
        drop(server);
        let ended = Instant::now();
        release.now();
        for h in holders {
            h.join().unwrap();
        }
        assert!(
            ended.elapsed() < Duration::from_secs(20),
            "case {case} (seed {seed}): holders outlived their bound"
        );
    });
}

/// Early answers (413 over the limit, declared or found while reading; 401; 400 for a body
/// that is not a form; 404) with a random amount of body still to come, sent after a random
/// pause, in random pieces, with a length or chunked: the client sends it all and reads its
/// answer, the server stays up, and no temporary file is left. The cases run in lanes, each
/// lane's cases one after the other on a server of its own, so a server meets several.
#[test]
fn early_errors_with_random_remaining_bodies_reach_the_client() {
    let (cases, seed) = settings("early errors", 24);
    let servers: Vec<Emulator> = (0..common::lanes(cases))
        .map(|_| Emulator::builder().upload_limit(1000).start().unwrap())
        .collect();
    run_cases("early errors", (cases, seed), |lane, case| {
        let server = &servers[lane];
        let key = server.api_key().to_string();
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let size = rng.range(1, 4_000_000) as usize;
        let chunked = rng.chance(30);
        let kind = rng.range(0, 4);
        let (path, auth, content_type, expected) = match kind {
            0 => (
                "/files",
                key.as_str(),
                "multipart/form-data; boundary=b",
                413,
            ),
            1 => ("/files", "wrong", "multipart/form-data; boundary=b", 401),
            2 => ("/files", key.as_str(), "text/plain", 400),
            _ => ("/nowhere", key.as_str(), "text/plain", 404),
        };
        let mut body =
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n"
                .to_vec();
        body.resize(size.max(body.len() + 1001), b'y');
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_string()
        } else {
            format!("Content-Length: {}", body.len())
        };
        let mut stream = connect(server.addr());
        stream
            .set_write_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        write!(
            stream,
            "POST /api/v1{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {auth}\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n"
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(rng.range(0, 300)));
        let mut sent = Ok(());
        let mut rest = &body[..];
        while sent.is_ok() && !rest.is_empty() {
            let n = (rng.range(1, 256 * 1024) as usize).min(rest.len());
            sent = if chunked {
                write!(stream, "{n:x}\r\n")
                    .and_then(|()| stream.write_all(&rest[..n]))
                    .and_then(|()| stream.write_all(b"\r\n"))
            } else {
                stream.write_all(&rest[..n])
            };
            rest = &rest[n..];
        }
        if chunked && sent.is_ok() {
            sent = stream.write_all(b"0\r\n\r\n");
        }
        let what =
            format!("case {case} (seed {seed}): {expected}, {size} bytes, chunked {chunked}");
        assert!(sent.is_ok(), "{what}: the body could not be sent: {sent:?}");
        assert_eq!(read_status(&mut stream), Some(expected), "{what}");
        assert_eq!(
            entries(&server.storage_path()),
            0,
            "{what}: a file was left"
        );
    });
    for server in &servers {
        assert!(listed(server).is_empty());
    }
}

/// Concurrent uploads while the storage directory is swapped for a symlink to a folder of
/// links (and maybe swapped back) at random moments: every upload is stored and listed with
/// its size, nothing outside the storage is written or removed, and the server leaves no
/// bytes behind when dropped.
#[cfg(unix)]
#[test]
fn storage_swapped_for_a_symlink_at_random_moments_is_never_written_through() {
    use std::os::unix::fs::symlink;
    let (cases, seed) = settings("storage races", 6);
    run_cases("storage races", (cases, seed), |_, case| {
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let parent = common::temp_dir("race");
        let victims = common::temp_dir("race-victims");
        let decoys = parent.join("decoys");
        std::fs::create_dir(&decoys).unwrap();
        for n in 0..200 {
            let victim = victims.join(format!("v{n}"));
            std::fs::write(&victim, b"precious").unwrap();
            for name in [format!("incoming-{n}"), format!(".incoming-{n}")] {
                symlink(&victim, decoys.join(name)).unwrap();
            }
        }
        let server = Emulator::builder().storage_dir(&*parent).start().unwrap();
        let own = server.storage_path();
        let moved = parent.join("moved");
        let uploads = rng.range(2, 8) as usize;
        let sizes: Vec<usize> = (0..uploads)
            .map(|_| rng.range(1, 300_000) as usize)
            .collect();
        let swap_at = Duration::from_millis(rng.range(0, 150));
        let swap_back = rng.chance(50);
        let stored = std::thread::scope(|scope| {
            let workers: Vec<_> = sizes
                .iter()
                .enumerate()
                .map(|(i, size)| {
                    let server = &server;
                    scope.spawn(move || upload(server, &format!("u{i}.txt"), &text(*size)))
                })
                .collect();
            std::thread::sleep(swap_at);
            std::fs::rename(&own, &moved).unwrap();
            symlink(&decoys, &own).unwrap();
            let answers: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
            if swap_back {
                std::fs::remove_file(&own).unwrap();
                std::fs::rename(&moved, &own).unwrap();
            }
            answers
        });
        let what = format!("case {case} (seed {seed}), swap back {swap_back}");
        let mut expected: Vec<(String, u64)> = stored
            .iter()
            .zip(&sizes)
            .map(|((status, answer), size)| {
                assert_eq!(*status, 200, "{what}: {answer}");
                (answer["id"].as_str().unwrap().to_string(), *size as u64)
            })
            .collect();
        let mut files = listed(&server);
        expected.sort();
        files.sort();
        assert_eq!(files, expected, "{what}: lost or changed uploads");
        let real = if swap_back { &own } else { &moved };
        assert_eq!(
            entries(real),
            uploads,
            "{what}: bytes not where they belong"
        );
        drop(server);
        assert_eq!(entries(&victims), 200, "{what}");
        for n in 0..200 {
            let bytes = std::fs::read(victims.join(format!("v{n}"))).unwrap();
            assert_eq!(bytes, b"precious", "{what}: v{n} written through a link");
        }
        assert_eq!(entries(&decoys), 400, "{what}: a decoy link was removed");
        if swap_back {
            assert!(!own.exists(), "{what}: the storage was left");
        } else {
            assert_eq!(entries(&moved), 0, "{what}: uploads left behind");
        }
    });
}
