//! The tools the many-files and listing benchmarks compare, each a way to run one job as a
//! measured process: ours (the benchmark binary with `--scenario`), `curl -Z`, and the official
//! SDKs; over plain HTTP or, with a CA, over TLS.

use std::path::{Path, PathBuf};

use openrouter_files::FilesClient;

use super::link::Link;
use super::sdk::{Sdks, sdk_script};
use super::{Res, Sample, measure, median};

/// The environment variable that hands ours the PEM file of the CA to trust.
pub const CA_ENV: &str = "OPENROUTER_BENCH_CA";

/// The tools compared.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tool {
    Ours,
    /// `curl -Z`: HTTP/2 where TLS offers it (multiplexed on one connection), else HTTP/1.1.
    Curl,
    /// `curl -Z --http1.1`: one connection per transfer in flight.
    CurlHttp1,
    Python,
    TypeScript,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Ours => "openrouter-files",
            Tool::Curl => "curl -Z",
            Tool::CurlHttp1 => "curl -Z --http1.1",
            Tool::Python => "Python SDK",
            Tool::TypeScript => "TypeScript SDK",
        }
    }
}

/// Child mode (`--scenario`): ours, one measured job. `many BASE KEY FILES WORKERS PATH`
/// uploads, retrieves and deletes FILES copies of PATH; `list BASE KEY LIMIT` lists every file
/// and prints the count.
pub fn scenario(args: &[String]) -> Res {
    let (name, base, key) = (&args[0], &args[1], &args[2]);
    let client = super::client(base, key)?;
    match name.as_str() {
        "many" => many_job(&client, args[3].parse()?, args[4].parse()?, &args[5]),
        "list" => {
            println!("{}", list_job(&client, args[3].parse()?)?);
            Ok(())
        }
        other => Err(format!("unknown scenario {other}").into()),
    }
}

/// Uploads `files` copies of `path` with `workers` in flight, retrieves and deletes them.
pub fn many_job(client: &FilesClient, files: usize, workers: usize, path: &str) -> Res {
    let paths = vec![PathBuf::from(path); files];
    let batch = || client.batch().concurrency(workers);
    let uploaded = batch().upload_paths(&paths);
    if let Some(e) = uploaded.first_error() {
        return Err(format!("upload: {e}").into());
    }
    let ids: Vec<&str> = uploaded.done().map(|(_, f)| f.id.as_str()).collect();
    if let Some(e) = batch().retrieve(&ids).first_error() {
        return Err(format!("retrieve: {e}").into());
    }
    if let Some(e) = batch().delete(&ids).first_error() {
        return Err(format!("delete: {e}").into());
    }
    Ok(())
}

/// Lists every file, `limit` per page; returns how many.
pub fn list_job(client: &FilesClient, limit: u32) -> Res<usize> {
    let mut count = 0usize;
    for file in client.list().page_size(limit) {
        file?;
        count += 1;
    }
    Ok(count)
}

/// One job run by one tool: its sample (curl's three phases summed) and connections used.
pub struct Row {
    pub sample: Sample,
    pub conns: usize,
    pub stdout: String,
}

/// Where and how the tools run.
pub struct Ctx<'a> {
    /// This benchmark binary.
    pub me: String,
    pub base: String,
    pub key: String,
    /// The link in front of the server: it counts the connections.
    pub relay: &'a Link,
    pub sdks: &'a Sdks,
    pub work: &'a Path,
    /// The PEM file of the CA the server's certificate is signed by, over TLS.
    pub ca: Option<String>,
}

impl Ctx<'_> {
    /// The environment that makes a tool trust the CA.
    fn tls_env(&self) -> Vec<(&str, &str)> {
        match &self.ca {
            Some(ca) => vec![
                (CA_ENV, ca.as_str()),
                ("SSL_CERT_FILE", ca.as_str()),
                ("NODE_EXTRA_CA_CERTS", ca.as_str()),
            ],
            None => Vec::new(),
        }
    }

    /// Runs `tool` on a job given by its arguments (`many FILES N PATH` or `list LIMIT`);
    /// `Ok(None)` when the tool is not available or cannot do the job.
    pub fn run(&self, tool: Tool, job: &[String]) -> Res<Option<Row>> {
        let before = self.relay.accepted();
        // `first job-name base key job-args…`
        let argv = |first: String| {
            let mut all = vec![first, job[0].clone(), self.base.clone(), self.key.clone()];
            all.extend_from_slice(&job[1..]);
            all
        };
        let env = self.tls_env();
        let (sample, stdout) = match tool {
            Tool::Ours => measure(&self.me, &argv("--scenario".into()), &env)?,
            Tool::Python => {
                let Ok(python) = &self.sdks.python else {
                    return Ok(None);
                };
                measure(python, &argv(sdk_script("many.py")), &env)?
            }
            Tool::TypeScript => {
                let Ok(dir) = &self.sdks.node else {
                    return Ok(None);
                };
                let mut env = env.clone();
                env.push(("SDK_DIR", dir));
                measure("node", &argv(sdk_script("many.mjs")), &env)?
            }
            Tool::Curl | Tool::CurlHttp1 => {
                if job[0] != "many" {
                    return Ok(None);
                }
                let http1 = tool == Tool::CurlHttp1;
                self.curl_many(job[1].parse()?, job[2].parse()?, &job[3], http1)?
            }
        };
        Ok(Some(Row {
            sample,
            conns: self.relay.accepted() - before,
            stdout,
        }))
    }

    /// curl's upload, retrieve and delete phases, each one `curl -Z` process; summed.
    fn curl_many(
        &self,
        files: usize,
        workers: usize,
        path: &str,
        http1: bool,
    ) -> Res<(Sample, String)> {
        let base = &self.base;
        // Options after `next` start afresh: every transfer's block carries all of them.
        let mut auth = format!("header = \"Authorization: Bearer {}\"\n", self.key);
        if http1 {
            auth.push_str("http1.1\n");
        }
        if let Some(ca) = &self.ca {
            auth.push_str(&format!("cacert = \"{ca}\"\n"));
        }
        let blocks = |each: &dyn Fn(usize) -> String| {
            (0..files).map(each).collect::<Vec<_>>().join("next\n")
        };
        let uploads = blocks(&|i| {
            format!("url = \"{base}/files\"\n{auth}form = \"file=@{path};filename=f{i:04}.txt\"\n")
        });
        let (up, out) = self.curl(&uploads, workers, "upload")?;
        let ids: Vec<String> = out
            .split("\"id\":\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .map(str::to_string)
            .collect();
        if ids.len() != files {
            return Err(format!("curl uploaded {} of {files} files", ids.len()).into());
        }
        let retrieves = blocks(&|i| {
            format!(
                "url = \"{base}/files/{}\"\n{auth}output = \"/dev/null\"\n",
                ids[i]
            )
        });
        let (get, _) = self.curl(&retrieves, workers, "retrieve")?;
        let deletes = blocks(&|i| {
            format!(
                "url = \"{base}/files/{}\"\n{auth}request = \"DELETE\"\noutput = \"/dev/null\"\n",
                ids[i]
            )
        });
        let (del, _) = self.curl(&deletes, workers, "delete")?;
        let sum = Sample {
            secs: up.secs + get.secs + del.secs,
            rss_kib: up.rss_kib.max(get.rss_kib).max(del.rss_kib),
            cpu: up.cpu + get.cpu + del.cpu,
        };
        Ok((sum, String::new()))
    }

    fn curl(&self, config: &str, workers: usize, name: &str) -> Res<(Sample, String)> {
        let path = self.work.join(format!("{name}.curl"));
        std::fs::write(&path, config)?;
        let args = [
            "-sS".to_string(),
            "--fail".into(),
            "-Z".into(),
            "--parallel-max".into(),
            workers.to_string(),
            "-K".into(),
            path.to_string_lossy().into_owned(),
        ];
        measure("curl", &args, &[])
    }
}

/// Medians over the runs of one tool on one job.
pub struct Summary {
    pub tool: Tool,
    pub secs: f64,
    pub rss_mb: f64,
    pub cpu: f64,
    pub conns: usize,
}

pub fn summarize(tool: Tool, rows: &[Row]) -> Summary {
    Summary {
        tool,
        secs: median(rows.iter().map(|r| r.sample.secs).collect()),
        rss_mb: rows.iter().map(|r| r.sample.rss_kib).max().unwrap_or(0) as f64 / 1024.0,
        cpu: median(rows.iter().map(|r| r.sample.cpu).collect()),
        conns: rows.iter().map(|r| r.conns).max().unwrap_or(0),
    }
}

/// The emulator's socket address from its base URL.
pub fn emulator_addr(base: &str) -> Res<std::net::SocketAddr> {
    let host = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .ok_or("bad base URL")?;
    Ok(host.parse()?)
}

pub fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "missed" }
}
