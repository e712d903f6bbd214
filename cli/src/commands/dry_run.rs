//! `--dry-run`: what a command would write, printed instead of sent. Each line (or JSON
//! object with `dry_run: true`) names one write.

use serde_json::json;

use super::select::Targets;
use crate::failure::Failure;
use crate::ids::ids;
use crate::output::Out;
use crate::text::{json_line, tsv_field};

/// The deletes `rm` would send: `ID<TAB>NAME` (the name when the listing gave it).
pub fn deletes(targets: &Targets, json: bool, out: &mut Out) -> Result<(), Failure> {
    let lines: Vec<(String, Option<String>)> = match targets {
        Targets::Files(files) => files
            .iter()
            .map(|f| (f.id.clone(), Some(f.filename.clone())))
            .collect(),
        Targets::Ids(given) => ids(given)
            .map(|id| id.map(|id| (id, None)))
            .collect::<Result<_, _>>()?,
    };
    for (id, name) in lines {
        out.line(&if json {
            json_line(&json!({"action": "delete", "id": id, "filename": name, "dry_run": true}))
        } else {
            match name {
                Some(name) => format!("delete\t{}\t{}", tsv_field(&id), tsv_field(&name)),
                None => format!("delete\t{}", tsv_field(&id)),
            }
        })?;
    }
    Ok(())
}

/// One transfer `put` or `get` would make: `upload PATH NAME SIZE` or `download ID PATH`.
pub fn transfer(
    out: &mut Out,
    json: bool,
    action: &str,
    from: &str,
    to: &str,
    size: Option<u64>,
) -> Result<(), Failure> {
    out.line(&if json {
        json_line(&json!({"action": action, "from": from, "to": to, "size": size, "dry_run": true}))
    } else {
        let size = size.map(|s| format!("\t{s}")).unwrap_or_default();
        format!("{action}\t{}\t{}{size}", tsv_field(from), tsv_field(to))
    })
}
