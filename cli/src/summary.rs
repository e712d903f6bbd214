//! `ls --summarize` and `--human-readable`: the count and bytes of what was listed, and
//! sizes in binary units.

use openrouter_files::FileMetadata;
use serde_json::json;

use crate::text::json_line;

/// What was listed so far.
#[derive(Debug, Default)]
pub struct Summary {
    files: u64,
    bytes: u64,
}

impl Summary {
    pub fn add(&mut self, file: &FileMetadata) {
        self.files += 1;
        self.bytes = self.bytes.saturating_add(file.size_bytes);
    }

    /// `total<TAB>FILES files<TAB>BYTES`, or `{"summary":{"files":…,"bytes":…}}`.
    pub fn line(&self, json: bool, human: bool) -> String {
        if json {
            json_line(&json!({"summary": {"files": self.files, "bytes": self.bytes}}))
        } else {
            format!("total\t{} files\t{}", self.files, size(self.bytes, human))
        }
    }
}

/// `bytes` as a number, or with `human` as `512`, `1.5K`, `12M`, `3.1G` (binary units; one
/// decimal below 10).
pub fn size(bytes: u64, human: bool) -> String {
    if !human || bytes < 1024 {
        return bytes.to_string();
    }
    let mut value = bytes as f64;
    let mut unit = 'B';
    for next in ['K', 'M', 'G', 'T', 'P', 'E'] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    if value < 10.0 {
        format!("{value:.1}{unit}")
    } else {
        format!("{value:.0}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_use_binary_units() {
        assert_eq!(size(512, true), "512");
        assert_eq!(size(1536, true), "1.5K");
        assert_eq!(size(12 << 20, true), "12M");
        assert_eq!(size(3 << 30, true), "3.0G");
        assert_eq!(size(1536, false), "1536");
        assert_eq!(size(u64::MAX, true), "16E");
    }
}
