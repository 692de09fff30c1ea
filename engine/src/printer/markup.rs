//! What the HTML and XML printers share: escaping, and the frame of an HTML table.

use std::io::Write;

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    escape(s, false)
}

/// Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids.
pub fn xml_escape(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, xml: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' if xml => out.push_str("&apos;"),
            '\'' => out.push_str("&#39;"),
            '\n' if xml => out.push_str("&#10;"),
            '\t' | '\r' if xml => out.push(' '),
            c if xml && ((c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

/// One cell of an HTML table row.
pub enum Cell<'a> {
    /// Text, escaped.
    Text(&'a str),
    /// A number, right-aligned (`class="n"`).
    Num(u64),
    /// Markup written as it is (the caller escaped what it holds).
    Html(String),
}

/// `<table>`, its header row, and `<tbody>`.
pub fn table_head(out: &mut dyn Write, headers: &[&str]) -> std::io::Result<()> {
    write!(out, "<table>\n<thead><tr>")?;
    for h in headers {
        write!(out, "<th>{h}</th>")?;
    }
    writeln!(out, "</tr></thead>\n<tbody>")
}

/// One row, with an optional class (a status key).
pub fn table_row(out: &mut dyn Write, class: Option<&str>, cells: &[Cell]) -> std::io::Result<()> {
    match class {
        Some(c) => write!(out, "<tr class=\"{}\">", html_escape(c))?,
        None => write!(out, "<tr>")?,
    }
    for cell in cells {
        match cell {
            Cell::Text(t) => write!(out, "<td>{}</td>", html_escape(t))?,
            Cell::Num(n) => write!(out, "<td class=\"n\">{n}</td>")?,
            Cell::Html(h) => write!(out, "<td>{h}</td>")?,
        }
    }
    writeln!(out, "</tr>")
}

/// `</tbody>` and `</table>`.
pub fn table_end(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "</tbody>\n</table>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(html_escape("a<b & 'c'"), "a&lt;b &amp; &#39;c&#39;");
        assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn a_table() {
        let mut out = Vec::new();
        table_head(&mut out, &["A", "B"]).unwrap();
        table_row(
            &mut out,
            Some("x"),
            &[
                Cell::Text("<i>"),
                Cell::Num(3),
                Cell::Html("<b>y</b>".into()),
            ],
        )
        .unwrap();
        table_end(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<table>\n<thead><tr><th>A</th><th>B</th></tr></thead>\n<tbody>\n<tr class=\"x\"><td>&lt;i&gt;</td><td class=\"n\">3</td><td><b>y</b></td></tr>\n</tbody>\n</table>\n"
        );
    }
}
