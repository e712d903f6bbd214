//! File ids from the command line, where `-` stands for standard input, one id per line
//! (blank lines skipped, surrounding spaces trimmed). Standard input is read as it is needed,
//! so `ls | cut -f1 | openrouter-files rm -` works on any number of files.

use std::io::{self, BufRead, Read};

use crate::failure::Failure;

/// The longest line accepted on standard input; an id is far shorter.
const MAX_LINE: u64 = 4096;

/// The ids of `args`, in order, with `-` expanded lazily.
pub fn ids(args: &[String]) -> impl Iterator<Item = Result<String, Failure>> + '_ {
    args.iter().flat_map(|arg| -> Box<dyn Iterator<Item = _>> {
        if arg == "-" {
            Box::new(stdin_lines())
        } else {
            Box::new(std::iter::once(Ok(arg.clone())))
        }
    })
}

/// Non-blank lines of standard input, trimmed; a line over [`MAX_LINE`] bytes or that is not
/// UTF-8 is an error, and ends the input.
fn stdin_lines() -> impl Iterator<Item = Result<String, Failure>> {
    let mut stdin = io::stdin().lock();
    let mut failed = false;
    std::iter::from_fn(move || {
        while !failed {
            let mut line = Vec::new();
            let read = Read::take(&mut stdin, MAX_LINE + 1).read_until(b'\n', &mut line);
            let failure = match read {
                Ok(0) => return None,
                Err(e) => Failure::usage(format!("cannot read ids from standard input: {e}")),
                Ok(_) if line.len() as u64 > MAX_LINE && !line.ends_with(b"\n") => {
                    Failure::usage(format!("a line of standard input is over {MAX_LINE} bytes"))
                }
                Ok(_) => match String::from_utf8(line) {
                    Ok(text) if text.trim().is_empty() => continue,
                    Ok(text) => return Some(Ok(text.trim().to_string())),
                    Err(_) => Failure::usage("standard input is not UTF-8 text"),
                },
            };
            failed = true;
            return Some(Err(failure));
        }
        None
    })
}
