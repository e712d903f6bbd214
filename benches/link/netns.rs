//! The server side in its own network namespace, reached over a veth pair whose two ends can
//! carry a `tbf` rate limit: a real kernel rate limit that slows nothing else on the machine.
//! Needs root and `ip`/`tc`; otherwise [`Netns::create`] says why not and the link emulator's
//! userspace rate stands in.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use crate::common::Res;
use crate::common::nginx::is_root;

pub struct Netns {
    name: String,
    host_dev: String,
    ns_dev: String,
    /// The namespace's address on the veth pair (the host end is one below).
    pub addr: Ipv4Addr,
}

fn run(args: &[&str]) -> Res {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into())
    }
}

impl Netns {
    /// A namespace with a veth pair to this one; `Err` says why there is none.
    pub fn create() -> Res<Netns> {
        if !is_root() {
            return Err("not root: no network namespace".into());
        }
        for tool in ["ip", "tc"] {
            if Command::new(tool).arg("-V").output().is_err() {
                return Err(format!("`{tool}` (iproute2) is not installed").into());
            }
        }
        let id = std::process::id() % 60_000;
        let subnet = (id % 250) as u8;
        let ns = Netns {
            name: format!("orf-link-{id}"),
            host_dev: format!("orfh{id}"),
            ns_dev: format!("orfn{id}"),
            addr: Ipv4Addr::new(10, 213, subnet, 2),
        };
        let host_addr = format!("10.213.{subnet}.1/30");
        let ns_addr = format!("10.213.{subnet}.2/30");
        run(&["ip", "netns", "add", &ns.name])?;
        // From here on, dropping `ns` removes what was made.
        run(&[
            "ip",
            "link",
            "add",
            &ns.host_dev,
            "type",
            "veth",
            "peer",
            "name",
            &ns.ns_dev,
        ])?;
        run(&["ip", "link", "set", &ns.ns_dev, "netns", &ns.name])?;
        run(&["ip", "addr", "add", &host_addr, "dev", &ns.host_dev])?;
        run(&["ip", "link", "set", &ns.host_dev, "up"])?;
        ns.exec(&["ip", "addr", "add", &ns_addr, "dev", &ns.ns_dev])?;
        ns.exec(&["ip", "link", "set", &ns.ns_dev, "up"])?;
        ns.exec(&["ip", "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The command prefix that runs a program inside the namespace.
    pub fn wrapper(&self) -> Vec<String> {
        ["ip", "netns", "exec", &self.name]
            .map(str::to_string)
            .to_vec()
    }

    fn exec(&self, args: &[&str]) -> Res {
        let mut all: Vec<&str> = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        run(&all)
    }

    /// `tc qdisc replace … tbf rate MBITmbit` on both ends of the pair, or no qdisc for `None`.
    pub fn rate(&self, mbit: Option<u64>) -> Res {
        match mbit {
            Some(mbit) => {
                let rate = format!("{mbit}mbit");
                // A burst of 1 ms at the rate (at least 64 KB) and a 50 ms queue.
                let burst = format!("{}", (mbit * 1_000_000 / 8 / 1000).max(65_536));
                let tbf = [
                    "tc", "qdisc", "replace", "dev", "DEV", "root", "tbf", "rate", &rate, "burst",
                    &burst, "latency", "50ms",
                ];
                let mut host = tbf;
                host[4] = &self.host_dev;
                run(&host)?;
                let mut inner = tbf;
                inner[4] = &self.ns_dev;
                self.exec(&inner)
            }
            None => {
                let _ = run(&["tc", "qdisc", "del", "dev", &self.host_dev, "root"]);
                let _ = self.exec(&["tc", "qdisc", "del", "dev", &self.ns_dev, "root"]);
                Ok(())
            }
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting one end deletes the pair; deleting the namespace ends what runs in it only
        // once its processes are gone (they are stopped before this).
        let _ = run(&["ip", "link", "del", &self.host_dev]);
        let _ = run(&["ip", "netns", "del", &self.name]);
    }
}
