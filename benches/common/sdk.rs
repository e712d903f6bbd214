//! The official SDKs the benchmarks compare with, installed into a temp dir (pinned:
//! `openrouter==1.3.84` from PyPI, `@openrouter/sdk@1.3.19` from npm), and the scripts in
//! `benches/sdk/` that drive them. `OPENROUTER_BENCH_PYTHON` (a Python with the SDK) and
//! `OPENROUTER_BENCH_NODE_SDK` (a directory with it in node_modules) skip the install.

use std::path::Path;
use std::process::Command;

const PY_SDK: &str = "openrouter==1.3.84";
const TS_SDK: &str = "@openrouter/sdk@1.3.19";

/// Where the SDKs are, or why they are not.
pub struct Sdks {
    pub python: Result<String, String>,
    pub node: Result<String, String>,
}

pub fn install_sdks(work: &Path) -> Sdks {
    let python = match std::env::var("OPENROUTER_BENCH_PYTHON") {
        Ok(p) => Ok(p),
        Err(_) => {
            let venv = work.join("py");
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success())
                && Command::new(venv.join("bin/pip"))
                    .args(["install", "-q", PY_SDK])
                    .status()
                    .is_ok_and(|s| s.success());
            let python = venv.join("bin/python").to_string_lossy().into_owned();
            if ok {
                Ok(python)
            } else {
                Err(format!("could not install {PY_SDK} from PyPI"))
            }
        }
    };
    let node = match std::env::var("OPENROUTER_BENCH_NODE_SDK") {
        Ok(d) => Ok(d),
        Err(_) => {
            let dir = work.join("ts");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join("package.json"), r#"{"private":true}"#);
            let ok = Command::new("npm")
                .args(["install", "--silent", "--no-audit", "--no-fund", TS_SDK])
                .current_dir(&dir)
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                Ok(dir.to_string_lossy().into_owned())
            } else {
                Err(format!("could not install {TS_SDK} from npm"))
            }
        }
    };
    for (name, sdk) in [("Python", &python), ("TypeScript", &node)] {
        if let Err(why) = sdk {
            println!("{name} SDK rows skipped: {why}");
        }
    }
    Sdks { python, node }
}

pub fn sdk_script(name: &str) -> String {
    format!("{}/benches/sdk/{name}", env!("CARGO_MANIFEST_DIR"))
}
