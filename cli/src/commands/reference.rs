//! `ref`: the content part that names a file in a completion request, one JSON line per id.
//! Nothing is sent, and no key is needed.

use openrouter_files::CompletionApi;

use crate::args::{Ref, RefFor};
use crate::failure::Failure;
use crate::ids::ids;
use crate::output::Out;
use crate::text::json_line;

pub fn reference(args: &Ref, out: &mut Out) -> Result<(), Failure> {
    let api = match args.api {
        RefFor::Chat => CompletionApi::ChatCompletions,
        RefFor::Responses => CompletionApi::Responses,
        RefFor::Messages => CompletionApi::Messages,
    };
    for id in ids(&args.ids) {
        let id = id?;
        if id.trim().is_empty() {
            return Err(Failure::usage("the file id is empty"));
        }
        out.line(&json_line(&api.file_part(&id)))?;
        if out.closed() {
            break;
        }
    }
    Ok(())
}
