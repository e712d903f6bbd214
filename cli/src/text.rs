//! Making server-provided text safe to print: control characters removed from messages, TSV
//! fields escaped, and JSON lines with no raw control character left in them.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` without its control characters (C0, DEL and C1), for messages meant for people.
/// A terminal would otherwise obey escape sequences hidden in a file name or an error body.
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(text.chars().filter(|c| !c.is_control()).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// One TSV field: backslash, TAB, LF and CR become `\\`, `\t`, `\n` and `\r`, so a field can
/// never split a row or a line; other control characters are removed.
pub fn tsv_field(text: &str) -> String {
    let mut field = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => field.push_str("\\\\"),
            '\t' => field.push_str("\\t"),
            '\n' => field.push_str("\\n"),
            '\r' => field.push_str("\\r"),
            c if c.is_control() => {}
            c => field.push(c),
        }
    }
    field
}

/// `value` as one line of JSON. serde_json escapes C0 controls itself; DEL and the C1 controls
/// it leaves raw are escaped here as `\u007f` and so on, so the line is still exact JSON.
pub fn json_line(value: &impl serde::Serialize) -> String {
    let raw = serde_json::to_string(value).unwrap_or_else(|e| {
        let message = serde_json::Value::String(format!("cannot encode as JSON: {e}"));
        format!("{{\"error\":{message}}}")
    });
    if !raw.chars().any(char::is_control) {
        return raw;
    }
    let mut line = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        if c.is_control() {
            let _ = write!(line, "\\u{:04x}", c as u32);
        } else {
            line.push(c);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_escape_sequences_and_keeps_the_rest() {
        assert_eq!(clean("a\u{1b}[31mred\u{7}\u{9b}2J"), "a[31mred2J");
        assert!(matches!(clean("plain ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn tsv_fields_cannot_forge_rows_or_columns() {
        assert_eq!(tsv_field("a\tb\nc\\d\re"), "a\\tb\\nc\\\\d\\re");
        assert_eq!(tsv_field("x\u{1b}]0;title\u{7}y"), "x]0;titley");
    }

    #[test]
    fn json_lines_escape_every_control_character_and_stay_exact() {
        let value = serde_json::json!({"name": "a\u{1b}b\u{7f}c\u{9b}d\ne"});
        let line = json_line(&value);
        assert!(!line.chars().any(char::is_control), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, value);
    }
}
