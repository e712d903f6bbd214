//! JSON text made decodable: a lone UTF-16 surrogate escape (`"\ud800"`, legal JSON that no
//! Rust `String` can hold, so serde_json refuses the whole body) becomes `\ufffd`, the
//! replacement character, where it stands. Only that string changes; a list with one odd
//! name keeps its other files and its later pages.

/// Rewrites, in place, every `\uXXXX` escape of a lone surrogate in `json` to `\ufffd`
/// (same length). Escaped pairs (`\ud83d\ude00`) and an escaped backslash followed by `u`
/// (`\\ud800`, the text `\ud800`) are left as they are.
pub(crate) fn replace_lone_surrogates(json: &mut [u8]) {
    let mut i = 0;
    while i < json.len() {
        if json[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = escaped_unit(json, i) else {
            // Another escape (`\\`, `\"`, `\n`…) or a broken one: skip the escaped byte.
            i += 2;
            continue;
        };
        match unit {
            0xD800..=0xDBFF if escaped_unit(json, i + 6).is_some_and(is_low_surrogate) => {
                i += 12;
                continue;
            }
            0xD800..=0xDFFF => json[i + 2..i + 6].copy_from_slice(b"fffd"),
            _ => {}
        }
        i += 6;
    }
}

fn is_low_surrogate(unit: u16) -> bool {
    (0xDC00..=0xDFFF).contains(&unit)
}

/// The code unit of the `\uXXXX` escape starting at `at`, if one starts there.
fn escaped_unit(json: &[u8], at: usize) -> Option<u16> {
    let escape = json.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    u16::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(json: &str) -> String {
        let mut bytes = json.as_bytes().to_vec();
        replace_lone_surrogates(&mut bytes);
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        assert_eq!(fixed(r#""\ud800""#), r#""\ufffd""#);
        assert_eq!(fixed(r#""a\uDFFFb\ud800""#), r#""a\ufffdb\ufffd""#);
        // A high surrogate followed by another high one: both lone.
        assert_eq!(fixed(r#""\ud800\ud801x""#), r#""\ufffd\ufffdx""#);
        // A low surrogate first, then a pair.
        assert_eq!(fixed(r#""\udc00\ud83d\ude00""#), r#""\ufffd\ud83d\ude00""#);
        let decoded: String = serde_json::from_str(&fixed(r#""x\ud800y""#)).unwrap();
        assert_eq!(decoded, "x\u{fffd}y");
    }

    #[test]
    fn everything_else_is_left_as_it_is() {
        for json in [
            r#""\ud83d\ude00""#,
            r#""\\ud800""#,
            r#""\\\\ud800""#,
            r#""\u00e9\n\"\/""#,
            r#""\u12""#,
            r#"\"#,
            r#""\uzzzz""#,
            "\"\u{e9}\\u0041\"",
        ] {
            assert_eq!(fixed(json), json);
        }
        assert_eq!(fixed(r#""\\\ud800""#), r#""\\\ufffd""#);
    }
}
