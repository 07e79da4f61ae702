//! Rule-based sentence splitting for encyclopaedic text.
//!
//! This module owns the "document → sentences" step of the pipeline. It takes one document
//! (`&str`, typically WikiExtractor output where each line is a paragraph) and returns the byte
//! range of every sentence in it. It allocates nothing except the output ranges, never panics
//! on any input, and never copies text.
//!
//! # Invariants of the output
//! * ranges are in order, non-overlapping and non-empty;
//! * every range starts and ends on a `char` boundary and is trimmed of Unicode whitespace
//!   (`char::is_whitespace`, the same definition as [`str::trim`]);
//! * every non-whitespace byte of the input lies in exactly one range;
//! * no range contains a line break (`\n`, `\r`, U+2028, U+2029).
//!
//! # Rules
//! In the spirit of pragmatic-segmenter (and its Python port pySBD), whose English "Golden
//! Rules" it passes, but written from scratch as one left-to-right byte scan:
//! * A line break is always a boundary; blank lines produce nothing.
//! * CJK terminators (`。！？｡．`) and the Devanagari danda (`।`, `॥`) end a sentence right after
//!   themselves and any closing quotes, space or not — except before a Japanese quoting
//!   particle (`「…。」と言った`).
//! * `.` `!` `?` `…` and the "soft" terminators of other scripts (Arabic `؟`, Urdu `۔`, Greek
//!   `;`, Armenian `։`) end a sentence only when, after the terminator run and any closing
//!   quotes/brackets, whitespace follows and the next sentence plausibly starts: an uppercase
//!   letter, a digit, a letter of an uncased script, a list marker, or an opening
//!   quote/bracket before one of those. A lowercase next word never starts a sentence.
//! * Inside quotes and brackets that close on the same line ([`spans`]), nothing ends a
//!   sentence except the terminator right before the closing mark: `He said "Stop. Now." and
//!   left.` is one sentence.
//! * A single `.` is checked against the word before it ([`words`]): titles (`Dr.`, `St.`)
//!   never end a sentence; references (`No.`, `Fig.`, `p.`) do not before a number;
//!   `e.g.`, `vs.`, `ca.` never do; company, date and state abbreviations, `etc.`, dotted
//!   acronyms (`U.S.`, `Ph.D.`) and initials (`W.`) end one only before a common sentence
//!   starter (`The`, `He`, `In`, ...); `a.m.`/`p.m.` end one before any capital except a
//!   time zone, a weekday, or after a short opening time phrase (`At 5 a.m. Mr. Smith left.`);
//!   the pronoun `I.` after a lowercase word does (`you and I. Did`); numbers do, unless they
//!   continue an inline list (`1. Mix 2. Bake`).
//! * Ellipses: `...`, `....` and `…` end a sentence before a plausible start; a spaced
//!   `. . .` after a space never does, four spaced dots do; a full stop glued to a word and
//!   followed by a spaced ellipsis (`words. . . . The`) ends the sentence at the full stop.
//! * List markers ([`lists`]) at the start of a sentence never end it, and a list continues
//!   as separate sentences on the same line: `1. The first item 2. The second item`.
//! * A `.` (or `?`, `!`) glued to a capitalised word is a boundary after a plain lowercase word
//!   or a number (`ended.The next`, `bought 1,000.That`), or after any word before a common
//!   starter or title (`Tuesday.Mr. Smith`); URLs, e-mail addresses, file names, identifiers
//!   and decimals are otherwise never split because their dots are not followed by whitespace.
//!
//! The scan walks bytes with a lookup table of "interesting" lead bytes and only decodes UTF-8
//! around candidates, so it runs at hundreds of MB/s on one core.

mod chars;
mod lists;
mod spans;
mod words;

use std::ops::Range;

use chars::{
    char_at, char_before, closer_len, first_non_blank, is_bullet, is_opener, line_break_len,
    skip_ws, starts_sentence_char, term_at, Term, CANDIDATE,
};
use words::{
    after_time_word, classify, is_exclamation_name, is_state, is_time_preposition, lower,
    starter_at, title_at, word_at, Abbr,
};

/// Splits `text` into sentences, returning the byte range of each sentence in `text`.
/// Ranges are in order, non-overlapping, non-empty, trimmed of surrounding whitespace
/// (Unicode whitespace), and every non-whitespace byte of `text` lies in exactly one range.
pub fn split(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    split_into(text, &mut out);
    out
}

/// Like [`split`], but clears `out` and fills it, so callers can reuse the allocation.
pub fn split_into(text: &str, out: &mut Vec<Range<usize>>) {
    out.clear();
    let mut scanner = Scanner {
        text,
        b: text.as_bytes(),
        out,
        seg_start: 0,
        marker_end: 0,
        list_cut: usize::MAX,
        protect_end: 0,
    };
    scanner.run();
}

/// The state of one left-to-right scan.
struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    out: &'a mut Vec<Range<usize>>,
    /// Where the current sentence starts (possibly at whitespace).
    seg_start: usize,
    /// End of the list marker opening the current sentence (0 when there is none).
    marker_end: usize,
    /// Where the next item of the current sentence's list starts (`usize::MAX`: none).
    list_cut: usize,
    /// One past the first byte of the closing mark of the quoted/bracketed span being
    /// scanned (0: none); positions before it are inside the span.
    protect_end: usize,
}

/// A run of terminators starting at a candidate, as in `?!`, `...`, `. . . .`.
struct Run {
    /// Byte just after the run.
    end: usize,
    /// Terminators in the run (a spaced ellipsis counts each dot).
    count: usize,
    /// Full stops in the run.
    dots: usize,
    /// Dots written ` .` after the first one (a spaced ellipsis).
    spaced_dots: usize,
    /// Whether a hard (CJK-style) terminator is in the run.
    hard: bool,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let n = self.b.len();
        self.start_sentence(0, false);
        let mut i = 0;
        loop {
            let stop = n.min(self.list_cut);
            while i < stop && !CANDIDATE[self.b[i] as usize] {
                i += 1;
            }
            if i >= self.list_cut {
                let cut = self.list_cut;
                if cut > self.seg_start && cut <= n {
                    self.cut(cut, true);
                    i = cut;
                } else {
                    self.list_cut = usize::MAX;
                }
                continue;
            }
            if i >= n {
                break;
            }
            let lb = line_break_len(self.b, i);
            if lb > 0 {
                self.push(self.seg_start, i);
                self.seg_start = i + lb;
                self.protect_end = 0;
                self.start_sentence(i + lb, false);
                i += lb;
                continue;
            }
            if i >= self.protect_end {
                if let Some((open_len, close)) = spans::span_at(self.text, i) {
                    self.protect_end = close + 1;
                    i += open_len;
                    continue;
                }
            }
            let Some(_) = term_at(self.text, i) else {
                i += 1;
                continue;
            };
            let (next, boundary) = self.analyse(i);
            if let Some(end) = boundary {
                self.cut(end, false);
            }
            // `analyse` always consumes at least the terminator itself.
            i = next.max(i + 1);
        }
        self.push(self.seg_start, n);
    }

    /// Ends the current sentence at `end` and starts the next one there.
    fn cut(&mut self, end: usize, continued: bool) {
        self.push(self.seg_start, end);
        self.seg_start = end;
        self.protect_end = 0;
        self.start_sentence(end, continued);
    }

    /// Looks for a list marker opening the sentence that starts at (or after whitespace
    /// from) `pos`.
    fn start_sentence(&mut self, pos: usize, continued: bool) {
        self.marker_end = 0;
        self.list_cut = usize::MAX;
        let m = first_non_blank(self.text, pos);
        if let Some(marker) = lists::marker_at(self.text, m, continued) {
            self.marker_end = marker.end;
            self.list_cut = lists::find_next(self.text, &marker).unwrap_or(usize::MAX);
        }
    }

    /// Pushes `text[s..e]` trimmed of whitespace, if anything remains.
    fn push(&mut self, s: usize, e: usize) {
        if let Some(seg) = self.text.get(s..e) {
            let t = seg.trim_start();
            let start = e - t.len();
            let t = t.trim_end();
            if !t.is_empty() {
                self.out.push(start..start + t.len());
            }
        }
    }

    /// Reads the run of terminators starting at `i`.
    fn read_run(&self, i: usize) -> Run {
        let b = self.b;
        let mut run = Run {
            end: i,
            count: 0,
            dots: 0,
            spaced_dots: 0,
            hard: false,
        };
        let mut j = i;
        loop {
            if let Some((t, len)) = term_at(self.text, j) {
                match t {
                    Term::Dot => run.dots += 1,
                    Term::Hard => run.hard = true,
                    Term::BangQ | Term::Ellipsis | Term::Soft => {}
                }
                j += len;
                run.count += 1;
                continue;
            }
            // Spaced ellipsis ". . ." (only once at least three dots are spaced out).
            if j > i && b[j - 1] == b'.' && run.count == run.dots {
                if run.spaced_dots == 0 && b.get(j..j + 4) == Some(b" . .") {
                    j += 4;
                    run.count += 2;
                    run.dots += 2;
                    run.spaced_dots += 2;
                    continue;
                }
                if run.spaced_dots > 0 && b.get(j..j + 2) == Some(b" .") {
                    j += 2;
                    run.count += 1;
                    run.dots += 1;
                    run.spaced_dots += 1;
                    continue;
                }
            }
            break;
        }
        run.end = j;
        run
    }

    /// Looks at the terminator run starting at `i` and decides whether it ends a sentence.
    /// Returns (where to resume scanning, boundary position if any).
    fn analyse(&self, i: usize) -> (usize, Option<usize>) {
        let text = self.text;
        let b = self.b;
        let run = self.read_run(i);
        let mut k = run.end;
        loop {
            let len = closer_len(b, k);
            if len == 0 {
                break;
            }
            k += len;
        }
        // Inside a quoted or bracketed span, unless the run reaches its closing mark.
        if i < self.protect_end && k < self.protect_end {
            return (run.end, None);
        }
        // The full stop of the sentence's own list marker ("1. First").
        if i < self.marker_end {
            return (run.end.max(self.marker_end), None);
        }
        if run.hard {
            if k > run.end && char_at(text, k).is_some_and(is_quoting_particle) {
                return (k, None);
            }
            return (k, Some(k));
        }
        let first = b[i];
        let single = run.count == 1;
        if single && k == run.end && glued_sentence(text, i, self.seg_start) {
            return (run.end, Some(run.end));
        }
        let Some(m) = skip_ws(text, k) else {
            return (k, None);
        };
        if after_opener(text, i) || !self.plausible_start(m) {
            return (k, None);
        }
        if single && first == b'.' {
            return (k, self.dot_ends_sentence(i, m).then_some(k));
        }
        if single && first == b'!' && word_before(text, i).is_some_and(is_exclamation_name) {
            return (k, None);
        }
        if run.spaced_dots > 0 && run.count == run.dots {
            let spaced_from_start = char_before(text, i).is_some_and(char::is_whitespace)
                || first_non_blank(text, self.seg_start) == i;
            if spaced_from_start {
                // " . . ." is an omission inside a sentence; " . . . ." ends one.
                return (k, (run.dots >= 4).then_some(k));
            }
            if run.dots >= 4 {
                // "words. . . . The": the full stop ends the sentence, the ellipsis opens
                // the next one.
                return (k, self.dot_ends_sentence(i, m).then_some(i + 1));
            }
        }
        (k, Some(k))
    }

    /// Whether a sentence plausibly starts at byte `m`.
    fn plausible_start(&self, m: usize) -> bool {
        match char_at(self.text, m) {
            Some(c) if starts_sentence_char(c) || is_bullet(c) => true,
            Some(c) if is_opener(c) => {
                char_at(self.text, m + c.len_utf8()).is_some_and(starts_sentence_char)
                    || lists::marker_at(self.text, m, false).is_some_and(|l| l.starts_list())
            }
            Some(c) if c.is_ascii_lowercase() => {
                lists::marker_at(self.text, m, false).is_some_and(|l| l.starts_list())
            }
            _ => false,
        }
    }

    /// Decides whether a single `.` at `i`, followed by whitespace and a plausible sentence
    /// start at `m`, ends a sentence, judging by the word before it.
    fn dot_ends_sentence(&self, i: usize, m: usize) -> bool {
        const MAX_TOKEN: usize = 64;
        let text = self.text;
        let b = self.b;
        let seg_start = self.seg_start;
        let mut ts = i;
        while ts > seg_start && (b[ts - 1].is_ascii_alphanumeric() || b[ts - 1] == b'.') {
            if i - ts >= MAX_TOKEN {
                return true;
            }
            ts -= 1;
        }
        while ts < i && b[ts] == b'.' {
            ts += 1;
        }
        let tok = &b[ts..i];
        if tok.is_empty() {
            return self.symbol_ends_sentence(i, m);
        }
        // The ASCII token is the tail of a longer word ("Straße.").
        if ts > seg_start && char_before(text, ts).is_some_and(char::is_alphanumeric) {
            return true;
        }
        let mut buf = [0u8; 8];
        let low = lower(tok, &mut buf);

        if tok.iter().any(u8::is_ascii_digit) {
            // "1990." / "$3.50." end a sentence; "2." continuing an inline list does not.
            return !self.inline_list_number(ts, tok);
        }
        if tok.contains(&b'.') {
            return match low.and_then(classify) {
                Some(Abbr::Time) => self.time_ends_sentence(ts, m),
                Some(Abbr::Cond) => starter_at(text, m, false),
                Some(_) => false,
                None if tok.split(|&c| c == b'.').all(|s| s.len() <= 2) => {
                    starter_at(text, m, false)
                }
                None => true, // "example.com.", "file.txt."
            };
        }
        if tok.len() == 1 && tok[0].is_ascii_uppercase() {
            // The pronoun after a lowercase word ("you and I. Did") ends a sentence.
            if tok == b"I" && prev_word(text, ts, seg_start).is_some_and(is_lower_word) {
                return true;
            }
            return starter_at(text, m, true); // initial: "George W. Bush"
        }
        match low.and_then(classify) {
            Some(Abbr::Title) => {
                // "Main St. The house": a street name before it ends the sentence.
                matches!(low, Some(b"st" | b"dr"))
                    && prev_word(text, ts, seg_start).is_some_and(is_capitalised)
                    && starter_at(text, m, false)
            }
            Some(Abbr::NonEnd) => false,
            Some(Abbr::NumRef) => !number_at(text, m, tok.len() > 1),
            Some(Abbr::Cond) => {
                // "OHA Sr. A league": a suffix before a lone capital is part of a name.
                let initial = matches!(low, Some(b"jr" | b"sr"));
                starter_at(text, m, initial)
            }
            Some(Abbr::Time) => self.time_ends_sentence(ts, m),
            None if is_state(tok) => starter_at(text, m, false),
            None => true,
        }
    }

    /// A full stop after a non-ASCII char: an initial ("É.", "А."), "N°.", or a word end.
    fn symbol_ends_sentence(&self, i: usize, m: usize) -> bool {
        let text = self.text;
        match char_before(text, i) {
            Some('°' | 'º') => {
                let p = i - '°'.len_utf8();
                if matches!(char_before(text, p), Some('N' | 'n')) {
                    !number_at(text, m, false)
                } else {
                    true
                }
            }
            Some(c) if !c.is_ascii() && c.is_uppercase() => {
                let p = i - c.len_utf8();
                if char_before(text, p).is_some_and(char::is_alphanumeric) {
                    true
                } else if first_non_blank(text, self.seg_start) == p {
                    false
                } else {
                    starter_at(text, m, true)
                }
            }
            _ => true,
        }
    }

    /// `a.m.`/`p.m.` at `ts`: a boundary before a capital, except a time zone or weekday, or
    /// when the sentence so far is only a short opening time phrase ("At 5 a.m.").
    fn time_ends_sentence(&self, ts: usize, m: usize) -> bool {
        if self.b.get(m) == Some(&b'(') {
            return false;
        }
        if let Some(w) = word_at(self.text, m) {
            // "5 p.m. Eastern", "9 a.m. Monday", "5 p.m. Malaysian time".
            let then = first_non_blank(self.text, m + w.len());
            if after_time_word(w) || word_at(self.text, then) == Some(b"time") {
                return false;
            }
        }
        let start = first_non_blank(self.text, self.seg_start);
        let opening = word_at(self.text, start).is_some_and(is_time_preposition);
        let words = self
            .text
            .get(start..ts)
            .map_or(0, |s| s.split_whitespace().count());
        !(opening && words <= 4)
    }

    /// Whether the number `tok` at `ts` is a marker of an inline list in the current sentence:
    /// in "The steps: 1. Mix 2. Bake" neither `1.` (after a colon or bracket, with a `2.` to
    /// follow) nor `2.` (after a `1.`) ends a sentence.
    fn inline_list_number(&self, ts: usize, tok: &[u8]) -> bool {
        if tok.len() > 2 || !tok.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let value = tok.iter().fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
        let before = |k: usize| ts.checked_sub(k).and_then(|p| self.b.get(p)).copied();
        if value == 1 {
            let opens = matches!(
                (before(2), before(1)),
                (Some(b':'), Some(b' ')) | (_, Some(b'('))
            );
            let rest = self.b.get(ts + 2..).unwrap_or_default();
            let line = &rest[..rest
                .iter()
                .take(2000)
                .position(|&c| c == b'\n' || c == b'\r')
                .unwrap_or(rest.len().min(2000))];
            return opens && line.windows(4).any(|w| w == b" 2. ");
        }
        if value < 2 || before(1) != Some(b' ') {
            return false;
        }
        let mut want = [0u8; 4];
        let prev = value - 1;
        let len = if prev >= 10 {
            want[0] = b'0' + (prev / 10) as u8;
            want[1] = b'0' + (prev % 10) as u8;
            2
        } else {
            want[0] = b'0' + prev as u8;
            1
        };
        want[len] = b'.';
        want[len + 1] = b' ';
        let want = &want[..len + 2];
        let seg = &self.b[self.seg_start..ts];
        seg.windows(want.len())
            .enumerate()
            .any(|(p, w)| w == want && (p == 0 || matches!(seg[p - 1], b' ' | b'(' | b':' | b'\t')))
    }
}

/// Japanese particles that follow a closing quote inside a sentence: `「…。」と言った`.
fn is_quoting_particle(c: char) -> bool {
    matches!(c, 'と' | 'っ' | 'て' | '、' | '，' | ',')
}

/// Whether the terminator run at `i` directly follows an opening quote or bracket, as in
/// `("... Schutzbund")`: a leading ellipsis or mark never ends a sentence.
fn after_opener(text: &str, i: usize) -> bool {
    match char_before(text, i) {
        Some('"' | '\'') => {
            let p = i - 1;
            p == 0 || char_before(text, p).is_some_and(|c| c.is_whitespace() || is_opener(c))
        }
        Some(c) => is_opener(c),
        None => false,
    }
}

/// The ASCII word ending right at `i` (letters only), if any.
fn word_before(text: &str, i: usize) -> Option<&[u8]> {
    let b = text.as_bytes();
    let mut s = i;
    while s > 0 && b[s - 1].is_ascii_alphabetic() && i - s < 16 {
        s -= 1;
    }
    (s < i).then(|| &b[s..i])
}

/// The word before the token starting at `ts` (skipping whitespace), within the sentence.
fn prev_word(text: &str, ts: usize, seg_start: usize) -> Option<&[u8]> {
    let b = text.as_bytes();
    let mut e = ts;
    while e > seg_start && chars::is_blank(b[e - 1]) {
        e -= 1;
    }
    if e == ts || e <= seg_start {
        return None;
    }
    word_before(text, e)
}

fn is_lower_word(w: &[u8]) -> bool {
    w.first().is_some_and(u8::is_ascii_lowercase)
}

fn is_capitalised(w: &[u8]) -> bool {
    w.len() >= 2 && w[0].is_ascii_uppercase() && w[1..].iter().all(u8::is_ascii_lowercase)
}

/// Whether a number (or, with `roman`, an uppercase roman numeral) starts at `m`.
fn number_at(text: &str, m: usize, roman: bool) -> bool {
    match char_at(text, m) {
        Some(c) if c.is_numeric() => true,
        _ => roman && word_at(text, m).is_some_and(|w| w.iter().all(|c| b"IVXLCDM".contains(c))),
    }
}

/// "It ended.The next": a `.`, `?` or `!` at `i` glued to a capitalised word. A boundary after
/// a plain lowercase word or a number that starts after whitespace (so not a URL, file name
/// or identifier), or after a capitalised word before a common starter or title.
fn glued_sentence(text: &str, i: usize, seg_start: usize) -> bool {
    let b = text.as_bytes();
    match (b.get(i + 1), b.get(i + 2)) {
        (Some(u), Some(l)) if u.is_ascii_uppercase() && l.is_ascii_lowercase() => {}
        _ => return false,
    }
    // The next word must be a plain word, not a member chain or call ("Log()", "Out.println").
    let Some(next) = word_at(text, i + 1) else {
        return false;
    };
    match b.get(i + 1 + next.len()) {
        Some(b'(') => return false,
        Some(b'.')
            if b.get(i + 2 + next.len())
                .is_some_and(u8::is_ascii_alphanumeric) =>
        {
            return false
        }
        _ => {}
    }
    let mut ts = i;
    while ts > seg_start && (b[ts - 1].is_ascii_alphanumeric() || b[ts - 1] == b',') {
        ts -= 1;
    }
    if ts > seg_start && !matches!(b[ts - 1], b' ' | b'\t' | b'(' | b'"') {
        return false;
    }
    let tok = &b[ts..i];
    let mut buf = [0u8; 8];
    if b[i] != b'.' && tok.len() >= 2 && tok.iter().all(u8::is_ascii_alphabetic) {
        return true; // "Really?Yes"
    }
    if tok.len() >= 2 && tok.iter().all(u8::is_ascii_lowercase) {
        return lower(tok, &mut buf).and_then(classify).is_none();
    }
    if b[i] == b'.' && tok.first().is_some_and(u8::is_ascii_digit) {
        return tok.iter().all(|c| c.is_ascii_digit() || *c == b',');
    }
    if tok.len() >= 2 && is_capitalised(tok) {
        return lower(tok, &mut buf).and_then(classify).is_none()
            && (starter_at(text, i + 1, true) || title_at(text, i + 1));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(text: &str) -> Vec<&str> {
        split(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn split_into_reuses_and_clears() {
        let mut out = vec![0..1, 5..9];
        split_into("A x. C d.", &mut out);
        assert_eq!(out, vec![0..4, 5..9]);
        split_into("", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn each_rule_family_decides() {
        // One case per decision path; the full table is tests/suite/segment_cases.rs.
        assert_eq!(
            sentences("Dr. Who left. He came."),
            ["Dr. Who left.", "He came."]
        );
        assert_eq!(sentences("See No. 5 here."), ["See No. 5 here."]);
        assert_eq!(
            sentences("He said \"A. B.\" and went."),
            ["He said \"A. B.\" and went."]
        );
        assert_eq!(sentences("1. One 2. Two"), ["1. One", "2. Two"]);
        assert_eq!(sentences("At 5 a.m. Mr. X ran."), ["At 5 a.m. Mr. X ran."]);
        assert_eq!(sentences("It ended.The end."), ["It ended.", "The end."]);
        assert_eq!(sentences("我来了。你呢？"), ["我来了。", "你呢？"]);
        assert_eq!(sentences("words. . . . The"), ["words.", ". . . The"]);
    }

    #[test]
    fn inline_list_numbers_need_their_predecessor() {
        assert_eq!(
            sentences("Steps: 1. Mix 2. Bake"),
            ["Steps: 1. Mix 2. Bake"]
        );
        assert_eq!(sentences("It had 2. Bake it."), ["It had 2.", "Bake it."]);
    }
}
