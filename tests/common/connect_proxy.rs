//! A small HTTP CONNECT proxy on 127.0.0.1 (std::net) that records what crosses it: each
//! request head it gets, and every byte the client sends after a tunnel opens. It opens
//! tunnels, or refuses each with a status (407, 502, …). Also a SOCKS5 proxy (no
//! authentication) that records the same. Shared by the library's and the CLI's proxy tests
//! (included with `#[path]`).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy does with a `CONNECT`.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// Opens the tunnel.
    Tunnel,
    /// Answers with this status and closes.
    Refuse(u16),
}

/// What crossed the proxy.
#[derive(Default, Debug)]
pub struct Crossed {
    /// Each request head, as received.
    pub heads: Vec<String>,
    /// Every byte the client sent inside its tunnels, in order.
    pub tunnelled: Vec<u8>,
}

/// Serves up to `connections` connections with `answer`; returns the port and what crossed.
pub fn connect_proxy(answer: Answer, connections: usize) -> (u16, Arc<Mutex<Crossed>>) {
    listen(connections, move |client, crossed| {
        serve(client, answer, crossed)
    })
}

/// A SOCKS5 proxy (no authentication, IPv4 or name targets) for up to `connections`
/// connections; each greeting is recorded as a head of the form `SOCKS5 host:port`.
pub fn socks5_proxy(connections: usize) -> (u16, Arc<Mutex<Crossed>>) {
    listen(connections, serve_socks5)
}

fn listen(
    connections: usize,
    serve: impl Fn(TcpStream, &Mutex<Crossed>) -> std::io::Result<()> + Send + Sync + 'static,
) -> (u16, Arc<Mutex<Crossed>>) {
    let serve = Arc::new(serve);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let crossed = Arc::new(Mutex::new(Crossed::default()));
    let record = Arc::clone(&crossed);
    thread::spawn(move || {
        for client in listener.incoming().take(connections) {
            let Ok(client) = client else { continue };
            let record = Arc::clone(&record);
            let serve = Arc::clone(&serve);
            thread::spawn(move || {
                let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = serve(client, &record);
            });
        }
    });
    (port, crossed)
}

fn serve(mut client: TcpStream, answer: Answer, crossed: &Mutex<Crossed>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    crossed.lock().unwrap().heads.push(head.clone());
    let target = match (answer, head.strip_prefix("CONNECT ")) {
        (Answer::Tunnel, Some(rest)) => rest.split(' ').next().unwrap_or_default().to_string(),
        (Answer::Tunnel, None) => return refuse(&mut client, 405),
        (Answer::Refuse(status), _) => return refuse(&mut client, status),
    };
    let Ok(server) = TcpStream::connect(&target) else {
        return refuse(&mut client, 502);
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    tunnel(client, server, crossed)
}

fn serve_socks5(mut client: TcpStream, crossed: &Mutex<Crossed>) -> std::io::Result<()> {
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting)?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    client.read_exact(&mut methods)?;
    if greeting[0] != 5 || !methods.contains(&0) {
        return client.write_all(&[5, 0xff]);
    }
    client.write_all(&[5, 0])?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request)?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len)?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return client.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port)?;
    let target = format!("{host}:{}", u16::from_be_bytes(port));
    crossed
        .lock()
        .unwrap()
        .heads
        .push(format!("SOCKS5 {target}"));
    let Ok(server) = TcpStream::connect(&target) else {
        return client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
    };
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    tunnel(client, server, crossed)
}

/// Copies bytes both ways until either side ends, recording what the client sends.
fn tunnel(
    mut client: TcpStream,
    mut server: TcpStream,
    crossed: &Mutex<Crossed>,
) -> std::io::Result<()> {
    let mut from_server = server.try_clone()?;
    let mut to_client = client.try_clone()?;
    let back = thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        crossed
            .lock()
            .unwrap()
            .tunnelled
            .extend_from_slice(&buf[..n]);
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = back.join();
    Ok(())
}

fn refuse(client: &mut TcpStream, status: u16) -> std::io::Result<()> {
    let challenge = if status == 407 {
        "Proxy-Authenticate: Basic realm=\"test\"\r\n"
    } else {
        ""
    };
    write!(
        client,
        "HTTP/1.1 {status} Refused\r\n{challenge}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    client.flush()
}
