//! The emulator's front door: a loopback TCP relay in front of the HTTP server. It counts the
//! connections clients open and lets a fault take over a connection to send raw bytes and close
//! it, which the HTTP server alone cannot do.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

const RELAY_BUFFER: usize = 256 * 1024;

/// Shared state of the relay: live client connections keyed by the port of the relay's own
/// connection to the HTTP server (which is what the server sees as the remote address).
#[derive(Default)]
pub(crate) struct Relay {
    accepted: AtomicUsize,
    stopping: AtomicBool,
    clients: Mutex<HashMap<u16, TcpStream>>,
}

impl Relay {
    /// Binds `listen` and relays every accepted connection to `upstream` on a thread pair.
    pub(crate) fn start(listen: TcpListener, upstream: SocketAddr) -> io::Result<Arc<Relay>> {
        let relay = Arc::new(Relay::default());
        let accept_relay = Arc::clone(&relay);
        thread::Builder::new()
            .name("emulator-accept".into())
            .spawn(move || accept_loop(&accept_relay, &listen, upstream))?;
        Ok(relay)
    }

    /// How many TCP connections clients have opened so far.
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Writes `raw` straight to the client behind `server_side`, then closes that connection.
    /// Returns false when the connection is no longer known.
    pub(crate) fn hijack(&self, server_side: Option<&SocketAddr>, raw: &[u8]) -> bool {
        let Some(port) = server_side.map(SocketAddr::port) else {
            return false;
        };
        let client = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&port);
        match client {
            Some(mut client) => {
                let _ = client.write_all(raw);
                let _ = client.flush();
                let _ = client.shutdown(Shutdown::Both);
                true
            }
            None => false,
        }
    }

    /// Stops accepting and closes every live connection.
    pub(crate) fn stop(&self, listen_addr: SocketAddr) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(listen_addr); // wakes the accept loop
        let clients = std::mem::take(&mut *self.clients.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, client) in clients {
            let _ = client.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(relay: &Arc<Relay>, listen: &TcpListener, upstream: SocketAddr) {
    for client in listen.incoming() {
        if relay.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        relay.accepted.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = connect_pair(relay, client, upstream) {
            log::warn!("emulator relay: {e}");
        }
    }
}

fn connect_pair(relay: &Arc<Relay>, client: TcpStream, upstream: SocketAddr) -> io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let port = server.local_addr()?.port();
    relay
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(port, client.try_clone()?);
    let (client_in, server_out) = (client.try_clone()?, server.try_clone()?);
    thread::Builder::new()
        .name("emulator-relay-in".into())
        .spawn(move || pump(client_in, server_out))?;
    let relay = Arc::clone(relay);
    thread::Builder::new()
        .name("emulator-relay-out".into())
        .spawn(move || {
            pump(server, client);
            relay
                .clients
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&port);
        })?;
    Ok(())
}

/// Copies `from` to `to` until either side ends, then closes both directions so the peer of
/// each side sees the end too.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; RELAY_BUFFER];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
