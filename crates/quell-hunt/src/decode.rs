//! The [`Decoder`]: the transport layer between an attacker and the log.
//!
//! One decoding round applies, in order, percent-decoding (`%HH`, IIS `%uXXXX`), backslash escapes
//! (`\uXXXX` with surrogate pairs, `\xHH`, octal `\NNN`) and HTML character references (decimal,
//! hex, zero-padded, named, case-insensitive, semicolon optional). Rounds repeat until nothing
//! changes, so every order of layers is undone (`\u002524%7B` is a JSON escape of a percent
//! escape: round one gives `%24{`, round two `${`; triple percent-encoding needs three rounds), or
//! until [`DEFAULT_MAX_DECODE_ROUNDS`] is reached. Each round that changed the text is a
//! [`Variant`] with the chain of decoders that produced it. Decoded bytes are read as UTF-8
//! (`\xC4\xB1` is `ı`), invalid sequences as U+FFFD.
//!
//! Bounded work: every escape decodes to fewer bytes than it is written with, so a round that
//! changes anything shortens the text; at most [`DEFAULT_MAX_DECODE_ROUNDS`] rounds of linear work.
//!
//! [`Decoder::form_variants`] is the same with HTML-form decoding in the first percent round
//! (`+` is a space, as a servlet's `getParameter` reads a query string or form body).

/// Default for the number of decoding rounds (percent-encoding 32 layers deep is decoded).
pub const DEFAULT_MAX_DECODE_ROUNDS: usize = 32;

/// Names of the transport decoders, as they appear in a decode chain.
pub mod layer {
    pub const URL: &str = "url";
    pub const IIS_UNICODE: &str = "iis_unicode";
    pub const JSON_UNICODE: &str = "json_unicode";
    pub const BACKSLASH_X: &str = "backslash_x";
    pub const OCTAL: &str = "octal";
    pub const HTML_ENTITIES: &str = "html_entities";
    /// Percent-decoding with `+` as a space (`application/x-www-form-urlencoded`).
    pub const FORM: &str = "form";
}

/// One decoded form of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Decoders applied, in order (a decoder appears once per round that changed something).
    pub chain: Vec<&'static str>,
    /// The decoded text.
    pub text: String,
}

/// Decodes transport encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    /// Most decoding rounds per field.
    pub max_rounds: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder { max_rounds: DEFAULT_MAX_DECODE_ROUNDS }
    }
}

impl Decoder {
    /// The successive decoded forms of `text` (not including `text` itself), each differing from
    /// the one before.
    pub fn variants(&self, text: &str) -> Vec<Variant> {
        self.variants_with(text, false)
    }

    /// [`Decoder::variants`] with `+` read as a space in the first round that percent-decodes
    /// (chain `form` instead of `url`); empty when `text` has no `+` or no percent escape.
    pub fn form_variants(&self, text: &str) -> Vec<Variant> {
        if !text.contains('+') || !text.contains('%') {
            return Vec::new();
        }
        self.variants_with(text, true)
    }

    fn variants_with(&self, text: &str, mut plus: bool) -> Vec<Variant> {
        let mut out = Vec::new();
        let mut chain: Vec<&'static str> = Vec::new();
        let mut cur = text.as_bytes().to_vec();
        for _ in 0..self.max_rounds {
            let mut changed = false;
            let mut next = cur.clone();
            for (f, name) in DECODERS {
                let (decoded, used) = if plus && *name == "percent" {
                    let (d, u) = percent_form(&next);
                    if !u.is_empty() {
                        plus = false;
                    }
                    (d, u)
                } else {
                    f(&next)
                };
                if !used.is_empty() {
                    changed = true;
                    chain.extend(used);
                    next = decoded;
                }
            }
            if !changed || next == cur {
                break;
            }
            out.push(Variant { chain: chain.clone(), text: String::from_utf8_lossy(&next).into_owned() });
            cur = next;
        }
        out
    }
}

type DecodeFn = fn(&[u8]) -> (Vec<u8>, Vec<&'static str>);
const DECODERS: &[(DecodeFn, &str)] = &[(percent, "percent"), (backslash, "backslash"), (html, "html")];

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

fn hex_n(s: &[u8], n: usize) -> Option<u32> {
    if s.len() < n {
        return None;
    }
    s[..n].iter().try_fold(0u32, |acc, &b| Some(acc * 16 + hex(b)?))
}

fn push_char(out: &mut Vec<u8>, c: u32) {
    let ch = char::from_u32(c).unwrap_or('\u{FFFD}');
    let mut tmp = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
}

/// `%HH` and `%uXXXX`.
fn percent(s: &[u8]) -> (Vec<u8>, Vec<&'static str>) {
    if memchr::memchr(b'%', s).is_none() {
        return (Vec::new(), Vec::new());
    }
    let mut out = Vec::with_capacity(s.len());
    let (mut url, mut iis) = (false, false);
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if let Some(v) = hex_n(&s[i + 1..], 2) {
                out.push(v as u8);
                url = true;
                i += 3;
                continue;
            }
            if matches!(s.get(i + 1), Some(b'u' | b'U'))
                && let Some(v) = hex_n(&s[i + 2..], 4)
            {
                push_char(&mut out, v);
                iis = true;
                i += 6;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    let mut used = Vec::new();
    if url {
        used.push(layer::URL);
    }
    if iis {
        used.push(layer::IIS_UNICODE);
    }
    (out, used)
}

/// `%HH`, `%uXXXX` and `+` as a space.
fn percent_form(s: &[u8]) -> (Vec<u8>, Vec<&'static str>) {
    let (mut out, used) = percent(s);
    if used.is_empty() {
        return (out, used);
    }
    // `+` was copied through as is; a `%2B` decoded to `+` must stay one, so map from the input.
    out.clear();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if let Some(v) = hex_n(&s[i + 1..], 2) {
                out.push(v as u8);
                i += 3;
                continue;
            }
            if matches!(s.get(i + 1), Some(b'u' | b'U'))
                && let Some(v) = hex_n(&s[i + 2..], 4)
            {
                push_char(&mut out, v);
                i += 6;
                continue;
            }
        }
        out.push(if s[i] == b'+' { b' ' } else { s[i] });
        i += 1;
    }
    let used = used.into_iter().map(|u| if u == layer::URL { layer::FORM } else { u }).collect();
    (out, used)
}

/// `\uXXXX` (surrogate pairs joined), `\xHH`, `\NNN`.
fn backslash(s: &[u8]) -> (Vec<u8>, Vec<&'static str>) {
    if memchr::memchr(b'\\', s).is_none() {
        return (Vec::new(), Vec::new());
    }
    let mut out = Vec::with_capacity(s.len());
    let (mut uni, mut x, mut oct) = (false, false, false);
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            match s.get(i + 1) {
                Some(b'u') => {
                    if let Some(v) = hex_n(&s[i + 2..], 4) {
                        let mut c = v;
                        let mut len = 6;
                        if (0xD800..0xDC00).contains(&v)
                            && s.get(i + 6) == Some(&b'\\')
                            && s.get(i + 7) == Some(&b'u')
                            && let Some(lo) = hex_n(&s[i + 8..], 4).filter(|lo| (0xDC00..0xE000).contains(lo))
                        {
                            c = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                            len = 12;
                        }
                        push_char(&mut out, c);
                        uni = true;
                        i += len;
                        continue;
                    }
                }
                Some(b'x' | b'X') => {
                    if let Some(v) = hex_n(&s[i + 2..], 2) {
                        out.push(v as u8);
                        x = true;
                        i += 4;
                        continue;
                    }
                }
                Some(b'0'..=b'3') => {
                    let d = &s[i + 1..];
                    if d.len() >= 3 && d[..3].iter().all(|b| (b'0'..=b'7').contains(b)) {
                        let v = u32::from(d[0] - b'0') * 64 + u32::from(d[1] - b'0') * 8 + u32::from(d[2] - b'0');
                        out.push(v as u8);
                        oct = true;
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(s[i]);
        i += 1;
    }
    let mut used = Vec::new();
    if uni {
        used.push(layer::JSON_UNICODE);
    }
    if x {
        used.push(layer::BACKSLASH_X);
    }
    if oct {
        used.push(layer::OCTAL);
    }
    (out, used)
}

/// Named references decoded (lower-case name → character). Matched case-insensitively.
const NAMED: &[(&str, char)] = &[
    ("dollar", '$'),
    ("lbrace", '{'),
    ("lcub", '{'),
    ("rbrace", '}'),
    ("rcub", '}'),
    ("colon", ':'),
    ("sol", '/'),
    ("bsol", '\\'),
    ("period", '.'),
    ("hyphen", '-'),
    ("dash", '-'),
    ("minus", '-'),
    ("lowbar", '_'),
    ("num", '#'),
    ("amp", '&'),
    ("quot", '"'),
    ("apos", '\''),
    ("lt", '<'),
    ("gt", '>'),
    ("percnt", '%'),
    ("lpar", '('),
    ("rpar", ')'),
    ("comma", ','),
    ("excl", '!'),
    ("quest", '?'),
    ("equals", '='),
    ("commat", '@'),
    ("plus", '+'),
    ("semi", ';'),
    ("nbsp", '\u{a0}'),
];

/// `&#36;`, `&#x24;`, `&#0000036`, `&dollar;`, `&LBRACE;` (semicolon optional).
fn html(s: &[u8]) -> (Vec<u8>, Vec<&'static str>) {
    if memchr::memchr(b'&', s).is_none() {
        return (Vec::new(), Vec::new());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut used = false;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'&'
            && let Some((c, len)) = entity(&s[i + 1..])
        {
            push_char(&mut out, c);
            used = true;
            i += 1 + len;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    (out, if used { vec![layer::HTML_ENTITIES] } else { Vec::new() })
}

/// Decodes the reference after `&`; returns the code point and the bytes consumed.
fn entity(s: &[u8]) -> Option<(u32, usize)> {
    if s.first() == Some(&b'#') {
        let (radix, start) = if matches!(s.get(1), Some(b'x' | b'X')) { (16, 2) } else { (10, 1) };
        let mut v: u32 = 0;
        let mut i = start;
        while i < s.len() && (s[i] as char).is_digit(radix) {
            v = v.saturating_mul(radix).saturating_add((s[i] as char).to_digit(radix).unwrap_or(0));
            i += 1;
        }
        if i == start {
            return None;
        }
        if s.get(i) == Some(&b';') {
            i += 1;
        }
        return Some((if v > 0x10FFFF { 0xFFFD } else { v }, i));
    }
    let n = s.iter().take(12).take_while(|b| b.is_ascii_alphanumeric()).count();
    if n == 0 {
        return None;
    }
    let word = std::str::from_utf8(&s[..n]).ok()?.to_ascii_lowercase();
    let (_, c) = NAMED.iter().find(|(name, _)| *name == word)?;
    let len = if s.get(n) == Some(&b';') { n + 1 } else { n };
    Some((*c as u32, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last(s: &str) -> (Vec<&'static str>, String) {
        let v = Decoder::default().variants(s);
        let l = v.last().cloned().expect("decoded");
        (l.chain, l.text)
    }

    #[test]
    fn layers() {
        assert_eq!(last("%252524%25257B").1, "${");
        assert_eq!(last("$\\u007B").1, "${");
        assert_eq!(last("&#x24;&#000000123;").1, "${");
        assert_eq!(last("$&LBRACE;").1, "${");
        assert_eq!(last("&dollar&lcub;").1, "${");
        assert_eq!(last("\\044\\173").1, "${");
        assert_eq!(last("%u0024%u007b").1, "${");
        assert_eq!(last("\\xC4\\xB1").1, "ı");
        assert_eq!(last("%24%5Cu007B").0, vec![layer::URL, layer::JSON_UNICODE]);
        assert!(Decoder::default().variants("plain text").is_empty());
        // Layers in any order: a JSON escape of a percent escape, HTML of JSON, percent of HTML.
        assert_eq!(last("\\u002524%7B").1, "${");
        assert_eq!(last("\\u002524%7B").0, vec![layer::URL, layer::JSON_UNICODE, layer::URL]);
        assert_eq!(last("&#92;u0024{").1, "${");
        assert_eq!(last("%26%2336;%7B").1, "${");
        let deep = format!("%{}24", "25".repeat(30));
        assert_eq!(last(&deep).1, "$");
        let f = Decoder::default().form_variants("a+b%2B%24");
        assert_eq!((f[0].chain.clone(), f[0].text.as_str()), (vec![layer::FORM], "a b+$"));
    }
}
