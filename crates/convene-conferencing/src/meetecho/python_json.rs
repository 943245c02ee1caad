//! JSON written as Python's `json.dumps` writes it (what `requests` sends for `json=`): `", "`
//! and `": "` separators and every non-ASCII character as `\uXXXX`. The datatracker's bodies,
//! byte for byte.

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};
use std::io::{self, Write};

struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Python escapes the same characters, but writes other controls in lower-case hex.
        match escape {
            CharEscape::AsciiControl(byte) => write!(w, "\\u{byte:04x}"),
            other => serde_json::ser::CompactFormatter.write_char_escape(w, other),
        }
    }
}

pub fn to_vec(value: &impl Serialize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = Serializer::with_formatter(&mut out, PythonFormatter);
    // Serialising plain structs of strings and numbers into memory cannot fail.
    let _ = value.serialize(&mut serializer);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_what_json_dumps_writes() {
        let body = json!({"a": [1, 2], "b": {"c": "Zürich 🎤"}, "d": "tab\there\u{1}"});
        assert_eq!(
            String::from_utf8(to_vec(&body)).unwrap(),
            r#"{"a": [1, 2], "b": {"c": "Z\u00fcrich \ud83c\udfa4"}, "d": "tab\there\u0001"}"#
        );
    }
}
