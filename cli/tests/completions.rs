//! The completion scripts, loaded into the real shells and asked to complete: subcommand names,
//! and each subcommand's own options. A shell that is not installed is skipped, saying so.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// Where the completion scripts and the shells' answers are kept.
fn script(dir: &Path, shell: &str) -> String {
    let out = ran(bare().args(["completions", shell]));
    assert_eq!(out.code, Some(0), "{shell}: {out:?}");
    file(dir, &format!("completion.{shell}"), out.stdout)
}

/// Whether `shell` runs here; prints why the test skips it when not.
fn installed(shell: &str) -> bool {
    let found = Command::new(shell)
        .args(["-c", "true"])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        println!("skipped: {shell} is not installed");
    }
    found
}

/// The candidates `shell` offers for the last word of `words` (the command line typed so far,
/// cursor at its end), or `None` when the shell is not installed.
fn offered(shell: &str, words: &[&str]) -> Option<Vec<String>> {
    if !installed(shell) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = script(dir.path(), shell);
    let line = words.join(" ");
    let output = match shell {
        // The function `complete -F` registers, called as bash calls it on TAB.
        "bash" => {
            let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
            let program = format!(
                "source '{script}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\n\
                 COMP_POINT=${{#COMP_LINE}}\n_openrouter__files openrouter-files '{}' '{}'\n\
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                quoted.join(" "),
                words.len() - 1,
                words[words.len() - 1],
                words[words.len().saturating_sub(2)],
            );
            Command::new("bash")
                .args(["--norc", "--noprofile", "-c", &program])
                .output()
                .unwrap()
        }
        "fish" => Command::new("fish")
            .args(["--no-config", "-c"])
            .arg(format!("source '{script}'; complete -C'{line}'"))
            .output()
            .unwrap(),
        "zsh" => {
            let answers = dir.path().join("offered");
            let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/shells/complete.zsh");
            let status = Command::new("zsh")
                .args(["-f", driver, &script])
                .arg(&answers)
                .arg(&line)
                .stdin(Stdio::null())
                .status()
                .unwrap();
            if status.code() == Some(3) {
                println!("skipped: this zsh cannot run on a pseudo-terminal (zsh/zpty)");
                return None;
            }
            let text = std::fs::read_to_string(&answers).unwrap_or_default();
            assert!(text.lines().any(|l| l == "<done>"), "zsh gave no answer");
            return Some(
                text.lines()
                    .filter(|l| *l != "<done>")
                    .map(str::to_string)
                    .collect(),
            );
        }
        _ => unreachable!("no such shell in these tests: {shell}"),
    };
    assert!(output.status.success(), "{shell}: {output:?}");
    // fish prints `candidate<TAB>description`.
    let text = String::from_utf8_lossy(&output.stdout);
    Some(
        text.lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
    )
}

/// Asserts that `shell` offers every one of `expected` and none of `absent` for `words`.
fn completes(shell: &str, words: &[&str], expected: &[&str], absent: &[&str]) {
    let Some(offered) = offered(shell, words) else {
        return;
    };
    for want in expected {
        assert!(
            offered.iter().any(|o| o == want),
            "{shell}: `{}<TAB>` does not offer {want}: {offered:?}",
            words.join(" ")
        );
    }
    for unwanted in absent {
        assert!(
            !offered.iter().any(|o| o == unwanted),
            "{shell}: `{}<TAB>` offers {unwanted}: {offered:?}",
            words.join(" ")
        );
    }
}

fn subcommand_options_complete_in(shell: &str) {
    completes(shell, &["openrouter-files", "g"], &["get"], &["ls"]);
    completes(
        shell,
        &["openrouter-files", "get", "--"],
        &["--output", "--dir", "--jobs", "--continue-on-error"],
        &["--port"],
    );
    if cfg!(feature = "emulator") {
        completes(
            shell,
            &["openrouter-files", "emulator", "--seed-"],
            &["--seed-files", "--seed-downloadable"],
            &[],
        );
    }
}

#[test]
fn bash_completes_subcommand_options() {
    subcommand_options_complete_in("bash");
}

#[test]
fn zsh_completes_subcommand_options() {
    subcommand_options_complete_in("zsh");
}

#[test]
fn fish_completes_subcommand_options() {
    subcommand_options_complete_in("fish");
}

#[test]
fn completions_print_a_script_for_each_shell_and_refuse_others() {
    for (shell, marker) in [
        ("bash", "complete -F _openrouter__files"),
        ("zsh", "#compdef openrouter-files"),
        ("fish", "complete -c openrouter-files -n"),
        ("elvish", "openrouter-files"),
        ("powershell", "openrouter-files"),
    ] {
        let out = ran(bare().args(["completions", shell]));
        assert_eq!(out.code, Some(0), "{shell}: {out:?}");
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
    }
    assert_eq!(ran(bare().args(["completions", "tcsh"])).code, Some(2));
}
