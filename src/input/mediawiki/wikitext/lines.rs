//! Line structure: the walk over source lines that turns headings (`== Title ==`) and list
//! items (`*`, `#`, `:`, `;`) into lines of their own, drops tables (`{| … |}`) and horizontal
//! rules (`----`), and joins the lines of a paragraph (ended by a blank line) into one line.

use super::index::UNMATCHED;
use super::writer::Writer;
use super::Cleaner;

impl Cleaner<'_> {
    /// Writes the whole text, line by line.
    pub(super) fn blocks(&mut self, w: &mut Writer) {
        let n = self.bytes.len();
        let mut i = 0;
        while i < n {
            i = self.line(i, w);
        }
    }

    /// Writes the source line starting at `i`; returns the start of the next one.
    fn line(&mut self, i: usize, w: &mut Writer) -> usize {
        let b = self.bytes;
        let n = b.len();
        let text_start = i + b[i..]
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        if text_start >= n || b[text_start] == b'\n' {
            w.end_line();
            return text_start + 1;
        }
        match b[text_start] {
            b'=' => {
                if let Some(next) = self.heading(text_start, w) {
                    return next;
                }
            }
            b'*' | b'#' | b':' | b';' if text_start == i => {
                let markers = b[i..]
                    .iter()
                    .take_while(|c| matches!(c, b'*' | b'#' | b':' | b';'))
                    .count();
                w.end_line();
                let rest = i + markers;
                let rest = rest + b[rest..].iter().take_while(|&&c| c == b' ').count();
                if b[rest..].starts_with(b"{|") {
                    return self.table(rest, w);
                }
                let nl = self.inline(rest, n, true, w);
                w.end_line();
                return nl + 1;
            }
            b'{' if b.get(text_start + 1) == Some(&b'|') => return self.table(text_start, w),
            b'-' if b[i..].starts_with(b"----") => {
                w.end_line();
                let dashes = b[i..].iter().take_while(|&&c| c == b'-').count();
                let nl = self.inline(i + dashes, n, true, w);
                return nl + 1;
            }
            _ => {}
        }
        w.space();
        let nl = self.inline(i, n, true, w);
        nl + 1
    }

    /// A table opened at `i`: skipped to its end, or to the end of the line when unclosed.
    fn table(&mut self, i: usize, w: &mut Writer) -> usize {
        w.end_line();
        match self.index.at(i) {
            Some(s) if s.end != UNMATCHED => self.skip(s.end, w),
            _ => memchr::memchr(b'\n', &self.bytes[i..]).map_or(self.bytes.len(), |p| i + p + 1),
        }
    }

    /// A heading line `=+ title =+` at `i`: writes the title as its own line and returns the
    /// start of the next line, or `None` when the line is not a heading.
    fn heading(&mut self, i: usize, w: &mut Writer) -> Option<usize> {
        let b = self.bytes;
        let nl = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
        let mut line = &b[i..nl];
        // Trailing whitespace and comments (`== Title == <!-- note -->`) do not count.
        loop {
            let ws = line
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_whitespace())
                .count();
            line = &line[..line.len() - ws];
            if !line.ends_with(b"-->") {
                break;
            }
            match memchr::memmem::rfind(line, b"<!--") {
                Some(open) => line = &line[..open],
                None => break,
            }
        }
        let trimmed = line.len();
        let lead = line.iter().take_while(|&&c| c == b'=').count();
        let trail = line.iter().rev().take_while(|&&c| c == b'=').count();
        if lead == line.len() || trail == 0 {
            return None;
        }
        let level = lead.min(trail).min(6);
        w.end_line();
        self.inline_nested(i + level, i + trimmed - level, w);
        w.end_line();
        Some(nl + 1)
    }
}
