//! The output writer: collects inline text into lines (one paragraph, heading or list item per
//! line), collapsing whitespace, and finalises each line: trimmed, runs of spaces collapsed,
//! lines with no letter or digit dropped.
//!
//! Removed markup leaves no trace: a space before `,.;:)!?` that follows removed markup is
//! dropped, and `(` immediately closed after removed markup (`({{IPAc-en|…}})`) disappears.

/// Appends cleaned lines to a `String`.
pub(super) struct Writer<'o> {
    out: &'o mut String,
    /// Where the current line starts in `out`.
    line_start: usize,
    /// A space is owed before the next text.
    pending_space: bool,
    /// Markup was removed since the last text.
    removed: bool,
}

impl<'o> Writer<'o> {
    pub fn new(out: &'o mut String) -> Writer<'o> {
        let line_start = out.len();
        Writer {
            out,
            line_start,
            pending_space: false,
            removed: false,
        }
    }

    fn line_is_empty(&self) -> bool {
        self.out.len() == self.line_start
    }

    /// Owes a space before the next text (collapses with other spaces).
    pub fn space(&mut self) {
        self.pending_space = true;
    }

    /// Notes that markup was removed here.
    pub fn removed(&mut self) {
        self.removed = true;
    }

    /// Appends text; leading and trailing whitespace become owed spaces.
    pub fn text(&mut self, s: &str) {
        let trimmed = s.trim_start_matches(is_space);
        if trimmed.len() != s.len() {
            self.pending_space = true;
        }
        let body = trimmed.trim_end_matches(is_space);
        if body.is_empty() {
            if !trimmed.is_empty() {
                self.pending_space = true;
            }
            return;
        }
        let body = self.tidy_after_removal(body);
        if body.is_empty() {
            return;
        }
        if self.pending_space && !self.line_is_empty() && !self.out.ends_with(' ') {
            self.out.push(' ');
        }
        self.pending_space = false;
        self.removed = false;
        self.out.push_str(body);
        if body.len() != trimmed.len() {
            self.pending_space = true;
        }
    }

    /// After removed markup: drops an owed space before closing punctuation, and an opening
    /// parenthesis left empty. Returns what remains of `body` to write.
    fn tidy_after_removal<'s>(&mut self, body: &'s str) -> &'s str {
        if !self.removed {
            return body;
        }
        let first = body.as_bytes()[0];
        if !matches!(first, b',' | b'.' | b';' | b':' | b')' | b'!' | b'?') {
            return body;
        }
        self.pending_space = false;
        if self.out.len() > self.line_start && self.out.ends_with('(') {
            match first {
                b')' => {
                    self.out.pop();
                    let rest = &body[1..];
                    self.pending_space = !rest.starts_with([',', '.', ';', ':']);
                    return rest.trim_start_matches(is_space);
                }
                b',' | b';' => return body[1..].trim_start_matches(is_space),
                _ => {}
            }
        }
        body
    }

    /// Removes `suffix` from the end of the current line if it is there (a URL scheme already
    /// written when the URL is recognised).
    pub fn retract(&mut self, suffix: &str) -> bool {
        if self.out.len() - self.line_start >= suffix.len() && self.out.ends_with(suffix) {
            self.out.truncate(self.out.len() - suffix.len());
            true
        } else {
            false
        }
    }

    /// Ends the current line: keeps it if it holds a letter or digit.
    pub fn end_line(&mut self) {
        self.pending_space = false;
        self.removed = false;
        if self.line_is_empty() {
            return;
        }
        let line = &self.out[self.line_start..];
        let trimmed_len = line.trim_end_matches(is_space).len();
        self.out.truncate(self.line_start + trimmed_len);
        let line = &self.out[self.line_start..];
        if !has_word_char(line) {
            self.out.truncate(self.line_start);
            return;
        }
        if memchr::memmem::find(line.as_bytes(), b"  ").is_some() {
            let collapsed = collapse_spaces(line);
            self.out.truncate(self.line_start);
            self.out.push_str(&collapsed);
        }
        self.out.push('\n');
        self.line_start = self.out.len();
    }
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\u{a0}'
}

fn has_word_char(line: &str) -> bool {
    line.bytes().any(|b| b.is_ascii_alphanumeric())
        || line.chars().any(|c| !c.is_ascii() && c.is_alphanumeric())
}

fn collapse_spaces(line: &str) -> String {
    let mut s = String::with_capacity(line.len());
    for c in line.chars() {
        if c == ' ' && s.ends_with(' ') {
            continue;
        }
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(parts: &[Option<&str>]) -> String {
        let mut out = String::new();
        let mut w = Writer::new(&mut out);
        for p in parts {
            match p {
                Some(t) => w.text(t),
                None => w.removed(),
            }
        }
        w.end_line();
        out
    }

    #[test]
    fn collapses_and_trims() {
        assert_eq!(
            write(&[Some("  a  "), Some(" b"), Some("c  d ")]),
            "a bc d\n"
        );
        assert_eq!(write(&[Some(" ... "), Some("--")]), "");
        assert_eq!(write(&[Some("¿"), Some("ñ")]), "¿ñ\n");
    }

    #[test]
    fn tidies_after_removed_markup() {
        assert_eq!(
            write(&[Some("word "), None, Some(". Next")]),
            "word. Next\n"
        );
        assert_eq!(
            write(&[Some("word ("), None, Some(") next")]),
            "word next\n"
        );
        assert_eq!(
            write(&[Some("word ("), None, Some("; Greek)")]),
            "word (Greek)\n"
        );
        assert_eq!(write(&[Some("word "), Some(". x")]), "word . x\n");
    }
}
