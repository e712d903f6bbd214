//! Making server-provided text safe to print: control characters and line separators removed
//! from messages, TSV fields escaped, and JSON lines with no raw control character or line
//! separator left in them.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw: a control character (C0, DEL and C1), a line or
/// paragraph separator (see [`breaks_lines`]), or a bidirectional formatting character
/// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which reorders what is shown around
/// it (`invoice\u{202e}fdp.exe` shows as `invoiceexe.pdf`).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || breaks_lines(c)
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether some reader ends a line at `c`: LF, CR, VT, FF, the separators FS, GS and RS, NEL
/// (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029). Python's
/// `str.splitlines` takes all of them; editors, log viewers and JavaScript take the last three.
pub fn breaks_lines(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}'..='\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// `text` without the characters of [`is_unsafe`], for messages meant for people. A terminal
/// would otherwise obey escape sequences hidden in a file name or an error body.
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_unsafe) {
        Cow::Owned(text.chars().filter(|&c| !is_unsafe(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` with every occurrence of `secret` (when not empty) replaced by `[redacted]`: a
/// server can echo the key it was sent in a file name or a message.
pub fn hide<'a>(text: &'a str, secret: Option<&str>) -> Cow<'a, str> {
    match secret {
        Some(secret) if !secret.is_empty() && text.contains(secret) => {
            Cow::Owned(text.replace(secret, "[redacted]"))
        }
        _ => Cow::Borrowed(text),
    }
}

/// One TSV field: backslash, TAB, LF and CR become `\\`, `\t`, `\n` and `\r`, and every other
/// character of [`breaks_lines`] `\u000b`, `\u2028` and so on, so a field can never split a
/// row or a line for any reader; the other characters of [`is_unsafe`] are removed.
pub fn tsv_field(text: &str) -> String {
    let mut field = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => field.push_str("\\\\"),
            '\t' => field.push_str("\\t"),
            '\n' => field.push_str("\\n"),
            '\r' => field.push_str("\\r"),
            c if breaks_lines(c) => {
                let _ = write!(field, "\\u{:04x}", c as u32);
            }
            c if is_unsafe(c) => {}
            c => field.push(c),
        }
    }
    field
}

/// `value` as one line of JSON. serde_json escapes C0 controls itself; DEL, the C1 controls,
/// the line and paragraph separators and the bidirectional formatting characters it leaves raw
/// are escaped here as `\u007f`, `\u2028`, `\u202e` and so on, so the line is still exact JSON.
pub fn json_line(value: &impl serde::Serialize) -> String {
    answer_line(value, None)
}

/// [`json_line`] with the server's request id, when there is one, added as the last field,
/// `_request_id` (the other fields keep their order): what support asks for.
pub fn answer_line(value: &impl serde::Serialize, request_id: Option<&str>) -> String {
    let mut raw = serde_json::to_string(value).unwrap_or_else(|e| {
        let message = serde_json::Value::String(format!("cannot encode as JSON: {e}"));
        format!("{{\"error\":{message}}}")
    });
    if let Some(id) = request_id
        && raw.ends_with('}')
    {
        raw.pop();
        if !raw.ends_with('{') {
            raw.push(',');
        }
        raw.push_str("\"_request_id\":");
        raw.push_str(&serde_json::Value::from(id).to_string());
        raw.push('}');
    }
    if !raw.chars().any(is_unsafe) {
        return raw;
    }
    let mut line = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        if is_unsafe(c) {
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
    fn bidi_controls_are_removed_from_text_and_escaped_in_json() {
        assert_eq!(clean("a\u{202e}b\u{2066}c\u{200f}d\u{61c}"), "abcd");
        assert_eq!(tsv_field("a\u{202e}b"), "ab");
        let line = json_line(&serde_json::json!("a\u{202e}b"));
        assert_eq!(line, r#""a\u202eb""#);
    }

    #[test]
    fn hide_replaces_the_secret_and_ignores_an_empty_one() {
        assert_eq!(
            hide("x sk-1 y sk-1", Some("sk-1")),
            "x [redacted] y [redacted]"
        );
        assert_eq!(hide("abc", Some("")), "abc");
        assert_eq!(hide("abc", None), "abc");
    }

    #[test]
    fn tsv_fields_cannot_forge_rows_or_columns() {
        assert_eq!(tsv_field("a\tb\nc\\d\re"), "a\\tb\\nc\\\\d\\re");
        assert_eq!(tsv_field("x\u{1b}]0;title\u{7}y"), "x]0;titley");
    }

    #[test]
    fn no_line_or_paragraph_separator_survives_in_a_field_a_line_or_a_message() {
        let name = "a\u{2028}b\u{2029}c\u{85}d\u{b}e\u{c}f\u{1c}g\u{1d}h\u{1e}i";
        let field = tsv_field(name);
        assert_eq!(
            field,
            "a\\u2028b\\u2029c\\u0085d\\u000be\\u000cf\\u001cg\\u001dh\\u001ei"
        );
        let row = format!("or_file_1\t{field}");
        assert_eq!(row.lines().count(), 1);
        assert!(!row.chars().any(breaks_lines), "{row}");
        assert_eq!(clean(name), "abcdefghi");
        let line = json_line(&serde_json::json!({ "filename": name }));
        assert!(!line.chars().any(breaks_lines), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["filename"], name);
    }

    #[test]
    fn answer_lines_end_with_the_request_id_and_stay_exact() {
        let value = serde_json::json!({"id": "f"});
        assert_eq!(
            answer_line(&value, Some("r\u{202e}1")),
            r#"{"id":"f","_request_id":"r\u202e1"}"#
        );
        assert_eq!(
            answer_line(&serde_json::json!({}), Some("r")),
            r#"{"_request_id":"r"}"#
        );
        assert_eq!(answer_line(&value, None), json_line(&value));
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
