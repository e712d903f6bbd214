//! A script's loop: `openrouter-files info ID` run N times in sequence, against `curl` run N
//! times, each a new process over a new TLS connection. And, to split the cost, the same over
//! a link without delay.

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::common::Res;
use crate::common::link::{Link, Shape};
use crate::common::peers::met;
use crate::{Env, Settings};

/// Seconds for `n` sequential runs of `program args`; fails on the first failing run unless
/// `fails` (then every run must fail).
fn sequential(
    n: usize,
    program: &str,
    args: &[String],
    envs: &[(&str, &str)],
    fails: bool,
) -> Res<f64> {
    let started = Instant::now();
    for _ in 0..n {
        let out = Command::new(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        if out.status.success() == fails {
            return Err(format!(
                "{program} {}: {}",
                if fails { "succeeded" } else { "failed" },
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

pub fn rows(
    settings: &Settings,
    env: &Env,
    cli: &str,
    rows: &mut Vec<String>,
    failures: &mut Vec<String>,
) -> Res {
    let n = settings.invocations;
    let key = &env.servers.server.key;
    let id = &env.servers.server.big_id;
    let cli_env = [
        ("OPENROUTER_API_KEY", key.as_str()),
        ("OPENROUTER_BASE_URL", env.base.as_str()),
        ("OPENROUTER_CA_CERT", env.ca.as_str()),
    ];
    let cli_args = ["info".to_string(), id.clone()];
    let curl_args = |url: &str| -> Vec<String> {
        vec![
            "-sS".into(),
            "--fail".into(),
            "--cacert".into(),
            env.ca.clone(),
            "-H".into(),
            format!("Authorization: Bearer {key}"),
            "-o".into(),
            "/dev/null".into(),
            url.to_string(),
        ]
    };
    let url = format!("{}/files/{id}", env.base);
    let rtt = env.profile.rtt();
    // The TLS 1.3 handshake and the request: two round trips per invocation (the relay
    // answers the TCP handshake locally).
    let floor = 2.0 * rtt;
    let mut measured = Vec::new();
    let runs: [(&str, &dyn Fn() -> Res<f64>); 2] = [
        ("openrouter-files info", &|| {
            sequential(n, cli, &cli_args, &cli_env, false)
        }),
        ("curl", &|| {
            sequential(n, "curl", &curl_args(&url), &[], false)
        }),
    ];
    for (name, run) in runs {
        match run() {
            Ok(secs) => {
                let h = env.handshakes()?;
                measured.push((name, secs / n as f64, h));
            }
            Err(e) => {
                failures.push(format!("{name} ×{n} at {}: {e}", env.profile.name()));
                env.handshakes()?;
            }
        }
    }
    // The same over a link without delay: what is left is process start, TLS set-up and the
    // handshake's CPU. And without the extra root (the default roots only, so the handshake
    // fails on the unknown issuer): what adding the extra root costs at start.
    let direct = Link::start(env.servers.tls_addr, Shape::default())?;
    let direct_base = format!("https://127.0.0.1:{}/api/v1", direct.addr.port());
    let direct_url = format!("{direct_base}/files/{id}");
    let with_root = [
        cli_env[0],
        ("OPENROUTER_BASE_URL", direct_base.as_str()),
        cli_env[2],
    ];
    let no_root = [cli_env[0], with_root[1]];
    let mut start = Vec::new();
    for (name, result) in [
        (
            "openrouter-files info",
            sequential(n, cli, &cli_args, &with_root, false),
        ),
        (
            "openrouter-files info without --ca-cert (refused: unknown issuer)",
            sequential(n, cli, &cli_args, &no_root, true),
        ),
        (
            "curl",
            sequential(n, "curl", &curl_args(&direct_url), &[], false),
        ),
    ] {
        match result {
            Ok(secs) => start.push((name, secs / n as f64)),
            Err(e) => failures.push(format!("{name} ×{n} without delay: {e}")),
        }
    }
    env.handshakes()?;
    let curl = measured
        .iter()
        .find(|(name, _, _)| *name == "curl")
        .map(|(_, secs, _)| *secs);
    for (name, each, h) in &measured {
        let target = match (curl, *name == "curl") {
            (Some(curl), false) => format!("≤ curl per invocation: {}", met(*each <= curl)),
            _ => String::new(),
        };
        rows.push(format!(
            "| {} | {name} | {:.1} | {:.1} | {:.2} | {:.1} | {} ({} resumed) | {target} |",
            env.profile.name(),
            each * 1000.0,
            floor * 1000.0,
            each / floor,
            (each - floor) * 1000.0,
            h.connections,
            h.resumed,
        ));
    }
    for (name, each) in start {
        rows.push(format!(
            "| no delay | {name} | {:.1} | 0 | – | {:.1} | – | diagnostic |",
            each * 1000.0,
            each * 1000.0,
        ));
    }
    Ok(())
}

pub fn print(settings: &Settings, rows: &[String]) {
    if rows.is_empty() {
        return;
    }
    println!(
        "\n## {} sequential invocations over TLS, one process each (`info ID` against `curl URL`)\n",
        settings.invocations
    );
    println!(
        "floor = 2 RTT per invocation (TLS 1.3 handshake, the request); above floor = process start, TLS set-up and handshake CPU.\n"
    );
    println!(
        "| link | command | ms each | floor ms | × floor | ms above floor | TLS handshakes | target |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}
