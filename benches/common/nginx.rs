//! nginx as the benchmarks run it: one worker in the foreground, everything under one
//! directory, installed with apt-get when it is missing and we are root.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Res;

/// A running nginx; stopped when dropped.
pub struct Nginx {
    child: Child,
    /// Its prefix directory (logs are here).
    pub dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx's binary, installed with apt-get when it is missing and we are root; `Err` says why
/// there is none.
pub fn binary() -> Result<&'static str, String> {
    const BIN: &str = "/usr/sbin/nginx";
    if !Path::new(BIN).exists() {
        if is_root() {
            println!("installing nginx with apt-get…");
            let _ = Command::new("apt-get")
                .args(["install", "-y", "-qq", "nginx-light"])
                .stdout(Stdio::null())
                .status();
        } else {
            return Err("nginx is not installed and we are not root to install it".into());
        }
    }
    if Path::new(BIN).exists() {
        Ok(BIN)
    } else {
        Err("nginx could not be installed with apt-get".into())
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A free loopback port (bound, then released).
pub fn free_port() -> Res<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts nginx in `dir` with `http` inside its `http { }` block, run through `wrapper` (for
/// example `ip netns exec NAME`; empty for none); returns once `probe` accepts connections.
pub fn start(dir: &Path, http: &str, probe: SocketAddr, wrapper: &[String]) -> Res<Nginx> {
    let bin = binary()?;
    std::fs::create_dir_all(dir.join("tmp"))?;
    let d = dir.to_string_lossy();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n  fastcgi_temp_path {d}/tmp;\n\
         uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n{http}\n}}\n"
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let mut command = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let child = command
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut nginx = Nginx {
        child,
        dir: dir.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(probe).is_err() {
        if Instant::now() > deadline || nginx.child.try_wait()?.is_some() {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            return Err(format!("nginx did not start listening: {}", log.trim()).into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(nginx)
}
