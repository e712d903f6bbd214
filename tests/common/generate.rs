//! Seeded generation for the randomized hostile suites, the library's and the CLI's (which
//! includes this file by path): a small generator, and JSON strings with lone surrogates,
//! line separators and escapes beside what a client must decode from them.
#![allow(dead_code)]

/// splitmix64: a small seeded generator, so a failing case can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Pieces of a JSON string: as written on the wire, and as a client must decode them. A lone
/// high surrogate is always followed by something that is not a low one.
pub const JSON_PIECES: [(&str, &str); 27] = [
    ("a", "a"),
    ("Z9", "Z9"),
    ("é", "é"),
    ("😀", "😀"),
    (" ", " "),
    ("\\u2028", "\u{2028}"),
    ("\u{2028}", "\u{2028}"),
    ("\\u2029", "\u{2029}"),
    ("\u{2029}", "\u{2029}"),
    ("\\u0085", "\u{85}"),
    ("\\n", "\n"),
    ("\\t", "\t"),
    ("\\r", "\r"),
    ("\\ud800x", "\u{fffd}x"),
    ("\\udfff", "\u{fffd}"),
    ("\\udbff\\u0041", "\u{fffd}A"),
    ("\\uDC00", "\u{fffd}"),
    ("\\ud83d\\ude00", "😀"),
    ("\\\\ud800", "\\ud800"),
    // An escaped backslash, then a lone surrogate escape.
    ("\\\\\\ud800x", "\\\u{fffd}x"),
    // `\u005c` is a backslash: the text `\ud800`, no escape of a surrogate.
    ("\\u005cud800", "\\ud800"),
    ("\\uD83D\\uDE00", "😀"),
    // A high surrogate followed by the text `\udc00`, not by the low half of a pair.
    ("\\udbff\\\\udc00", "\u{fffd}\\udc00"),
    // A low surrogate, then a high one: both lone (then `x`, so no pair follows).
    ("\\udc00\\ud800x", "\u{fffd}\u{fffd}x"),
    ("\\\"", "\""),
    ("\\u202e", "\u{202e}"),
    ("\\u001b", "\u{1b}"),
];

/// A random JSON string's content as (JSON text, decoded), sometimes longer than any file
/// name.
pub fn odd_json_string(rng: &mut Rng) -> (String, String) {
    let (mut wire, mut decoded) = (String::new(), String::new());
    let long = rng.chance(10);
    let pieces = 1 + rng.below(12);
    let mut n = 0;
    while n < pieces || (long && decoded.len() <= 300) {
        let (w, d) = JSON_PIECES[rng.below(JSON_PIECES.len())];
        wire.push_str(w);
        decoded.push_str(d);
        n += 1;
    }
    (wire, decoded)
}
