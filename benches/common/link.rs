//! A userspace link emulator: a loopback relay between a client and a server that delays each
//! direction, adds jitter, limits the rate and can cut connections, and counts the connections
//! clients open.
//!
//! What it cannot show: the client's TCP talks to the relay, not across the delay, so its
//! congestion window, slow start and loss recovery see a loopback peer. Bytes are delayed and
//! paced, never lost. A kernel with `sch_netem` emulates all of that; see BENCHMARKS.md for the
//! `tc netem` commands.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use super::Res;

/// What the link does to the bytes crossing it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shape {
    /// One-way delay client → server.
    pub up: Duration,
    /// One-way delay server → client.
    pub down: Duration,
    /// Up to this much more delay per chunk, uniformly drawn; order is kept.
    pub jitter: Duration,
    /// Bits per second in each direction; `None`: as fast as loopback.
    pub rate_bps: Option<u64>,
    /// The link's first connection is cut (both directions shut) after this many server →
    /// client bytes; later connections pass.
    pub cut_after: Option<u64>,
}

impl Shape {
    /// A round-trip time, half of it each way.
    pub fn rtt(rtt: Duration) -> Shape {
        Shape {
            up: rtt / 2,
            down: rtt - rtt / 2,
            ..Shape::default()
        }
    }

    pub fn rate_mbit(self, mbit: u64) -> Shape {
        Shape {
            rate_bps: Some(mbit * 1_000_000),
            ..self
        }
    }

    pub fn jitter(self, jitter: Duration) -> Shape {
        Shape { jitter, ..self }
    }

    pub fn cut_after(self, bytes: u64) -> Shape {
        Shape {
            cut_after: Some(bytes),
            ..self
        }
    }

    pub fn round_trip(&self) -> Duration {
        self.up + self.down
    }
}

/// The relay; it stops accepting when dropped (open connections run to their end).
pub struct Link {
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Link {
    /// Listens on a fresh loopback port and relays every connection to `upstream`.
    pub fn start(upstream: SocketAddr, shape: Shape) -> Res<Link> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopped) = (Arc::clone(&accepted), Arc::clone(&stop));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let seed = counter.fetch_add(1, Ordering::SeqCst) as u64 + 1;
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(client_in), Ok(server_out)) = (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                let up = Direction {
                    delay: shape.up,
                    seed: seed * 2,
                    cut_after: None,
                    ..Direction::of(&shape)
                };
                let down = Direction {
                    delay: shape.down,
                    seed: seed * 2 + 1,
                    cut_after: shape.cut_after.filter(|_| seed == 1),
                    ..Direction::of(&shape)
                };
                std::thread::spawn(move || pump(client_in, server_out, up));
                std::thread::spawn(move || pump(server, client, down));
            }
        });
        Ok(Link {
            addr,
            accepted,
            stop,
        })
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One direction of one connection.
#[derive(Clone, Copy)]
struct Direction {
    delay: Duration,
    jitter: Duration,
    rate_bps: Option<u64>,
    cut_after: Option<u64>,
    seed: u64,
}

impl Direction {
    fn of(shape: &Shape) -> Direction {
        Direction {
            delay: Duration::ZERO,
            jitter: shape.jitter,
            rate_bps: shape.rate_bps,
            cut_after: shape.cut_after,
            seed: 1,
        }
    }
}

/// Chunks queued in one direction at most: the relay's buffer (64 × 64 KiB), so a fast sender
/// meets back-pressure instead of growing memory.
const QUEUE: usize = 64;

/// Copies `from` to `to`: each chunk leaves when the rate allows, arrives `delay` (plus
/// jitter) later, never before the chunk ahead of it; then closes both directions.
fn pump(mut from: TcpStream, mut to: TcpStream, dir: Direction) {
    let (tx, rx) = mpsc::sync_channel::<(Instant, Vec<u8>)>(QUEUE);
    let cut = from.try_clone().ok();
    let writer = std::thread::spawn(move || {
        let mut rng = dir.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut link_free = Instant::now();
        let mut last_due = Instant::now();
        let mut sent = 0u64;
        for (arrived, mut chunk) in rx {
            let mut cutting = false;
            if let Some(limit) = dir.cut_after {
                let left = limit.saturating_sub(sent);
                if chunk.len() as u64 >= left {
                    chunk.truncate(left as usize);
                    cutting = true;
                }
            }
            let leaves = match dir.rate_bps {
                Some(bps) => {
                    let start = link_free.max(arrived);
                    link_free =
                        start + Duration::from_secs_f64(chunk.len() as f64 * 8.0 / bps as f64);
                    link_free
                }
                None => arrived,
            };
            let jitter = if dir.jitter.is_zero() {
                Duration::ZERO
            } else {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                dir.jitter.mul_f64((rng % 1024) as f64 / 1024.0)
            };
            let due = (leaves + dir.delay + jitter).max(last_due);
            last_due = due;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len() as u64;
            if cutting {
                let _ = to.shutdown(Shutdown::Both);
                if let Some(from) = &cut {
                    let _ = from.shutdown(Shutdown::Both);
                }
                return;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = writer.join();
    let _ = from.shutdown(Shutdown::Read);
}
