//! Rule-based sentence splitting for encyclopaedic text.
//!
//! This module owns the "document → sentences" step of the pipeline. It takes one
//! document (`&str`, typically WikiExtractor output where each line is a paragraph) and
//! returns the byte range of every sentence in it. It allocates nothing except the output
//! ranges, never panics on any input, and never copies text.
//!
//! # Invariants of the output
//! * ranges are in order, non-overlapping and non-empty;
//! * every range starts and ends on a `char` boundary and is trimmed of Unicode whitespace
//!   (`char::is_whitespace`, the same definition as [`str::trim`]);
//! * every non-whitespace byte of the input lies in exactly one range.
//!
//! # Rules (in the spirit of rule-based segmenters such as pragmatic-segmenter / pySBD,
//! written from scratch)
//! * `'\n'` is always a hard boundary; blank lines produce nothing.
//! * CJK full-width terminators (`。！？｡`) and the Devanagari danda (`।`, `॥`) end a
//!   sentence right after themselves (plus any closing quotes/brackets), space or not.
//! * `.` `!` `?` `…` and the "soft" scripts' terminators (Arabic `؟`, Greek `;` U+037E,
//!   Armenian `։`) end a sentence only when, after the terminator run and any closing
//!   quotes/brackets, whitespace follows and the next sentence plausibly starts (an
//!   uppercase letter, a digit, a letter of an uncased script, or an opening quote/bracket
//!   followed by one of those). A lowercase next word never starts a sentence.
//! * A single `.` is further checked against the word before it: titles (`Dr.`, `St.`) never
//!   end a sentence; reference abbreviations (`No.`, `Fig.`, `p.`) do not when a number
//!   follows; `e.g.`, `vs.`, `ca.` never do; company/date/`etc.`-like abbreviations, dotted
//!   acronyms (`U.S.`, `a.m.`) and initials (`W.`) end a sentence only before a common
//!   sentence starter (`The`, `He`, `In`, ...); list markers (`1.`, `iv.`, `b.`) at the start
//!   of a sentence never end it.
//! * A `.` glued to a following capitalised word (`ended.The next`) is a boundary when the
//!   word before is plain lowercase; URLs, e-mail addresses, file names and decimals are
//!   otherwise never split because their dots are not followed by whitespace.
//!
//! The scan walks bytes with a lookup table of "interesting" lead bytes and only decodes
//! UTF-8 around candidate terminators.

use std::ops::Range;

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
    let b = text.as_bytes();
    let n = b.len();
    let mut seg_start = 0usize;
    let mut i = 0usize;
    while i < n {
        let c = b[i];
        if !CANDIDATE[c as usize] {
            i += 1;
            continue;
        }
        if c == b'\n' {
            push_trimmed(text, seg_start, i, out);
            seg_start = i + 1;
            i += 1;
            continue;
        }
        if term_at(b, i).is_none() {
            i += 1;
            continue;
        }
        let (next, boundary) = analyse(text, i, seg_start);
        if let Some(end) = boundary {
            push_trimmed(text, seg_start, end, out);
            seg_start = end;
        }
        // `analyse` always consumes at least the terminator itself.
        i = next.max(i + 1);
    }
    push_trimmed(text, seg_start, n, out);
}

/// Bytes that may start a terminator, plus `'\n'`.
static CANDIDATE: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\n' as usize] = true;
    t[b'.' as usize] = true;
    t[b'!' as usize] = true;
    t[b'?' as usize] = true;
    t[0xE2] = true; // … U+2026
    t[0xE3] = true; // 。 U+3002
    t[0xEF] = true; // ！ ？ ｡
    t[0xE0] = true; // । ॥
    t[0xD8] = true; // ؟ U+061F
    t[0xD6] = true; // ։ U+0589
    t[0xCD] = true; // ; U+037E
    t
};

/// Pushes `text[s..e]` trimmed of whitespace, if anything remains.
fn push_trimmed(text: &str, s: usize, e: usize, out: &mut Vec<Range<usize>>) {
    if let Some(seg) = text.get(s..e) {
        let t = seg.trim_start();
        let start = e - t.len();
        let t = t.trim_end();
        if !t.is_empty() {
            out.push(start..start + t.len());
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Term {
    /// `.`
    Dot,
    /// `!` or `?`
    BangQ,
    /// `…`
    Ellipsis,
    /// Needs whitespace and a plausible start after it, but no abbreviation check.
    Soft,
    /// Boundary right after, whatever follows.
    Hard,
}

/// The terminator starting at byte `i`, with its length in bytes.
fn term_at(b: &[u8], i: usize) -> Option<(Term, usize)> {
    let tail2 = b.get(i + 1..i + 3);
    let tail1 = b.get(i + 1);
    match *b.get(i)? {
        b'.' => Some((Term::Dot, 1)),
        b'!' | b'?' => Some((Term::BangQ, 1)),
        0xE2 => match tail2 {
            Some([0x80, 0xA6]) => Some((Term::Ellipsis, 3)),
            _ => None,
        },
        0xE3 => match tail2 {
            Some([0x80, 0x82]) => Some((Term::Hard, 3)),
            _ => None,
        },
        0xEF => match tail2 {
            Some([0xBC, 0x81] | [0xBC, 0x9F] | [0xBD, 0xA1]) => Some((Term::Hard, 3)),
            _ => None,
        },
        0xE0 => match tail2 {
            Some([0xA5, 0xA4] | [0xA5, 0xA5]) => Some((Term::Hard, 3)),
            _ => None,
        },
        0xD8 => (tail1 == Some(&0x9F)).then_some((Term::Soft, 2)),
        0xD6 => (tail1 == Some(&0x89)).then_some((Term::Soft, 2)),
        0xCD => (tail1 == Some(&0xBE)).then_some((Term::Soft, 2)),
        _ => None,
    }
}

/// Length in bytes of the closing quote/bracket at `k`, if any.
fn closer_len(b: &[u8], k: usize) -> usize {
    match b.get(k) {
        Some(b'"' | b'\'' | b')' | b']') => 1,
        Some(0xC2) if b.get(k + 1) == Some(&0xBB) => 2, // »
        Some(0xE2) => match b.get(k + 1..k + 3) {
            // ” ’ ›
            Some([0x80, 0x9D] | [0x80, 0x99] | [0x80, 0xBA]) => 3,
            _ => 0,
        },
        Some(0xE3) => match b.get(k + 1..k + 3) {
            // 」 』 》 〉 】 〕
            Some([0x80, 0x8D] | [0x80, 0x8F] | [0x80, 0x8B] | [0x80, 0x89] | [0x80, 0x91])
            | Some([0x80, 0x95]) => 3,
            _ => 0,
        },
        Some(0xEF) => match b.get(k + 1..k + 3) {
            Some([0xBC, 0x89]) => 3, // ）
            _ => 0,
        },
        _ => 0,
    }
}

/// The `char` starting at byte `pos`, if `pos` is a char boundary inside `text`.
#[inline]
fn char_at(text: &str, pos: usize) -> Option<char> {
    match text.as_bytes().get(pos) {
        Some(&c) if c < 0x80 => Some(c as char),
        Some(_) => text.get(pos..).and_then(|s| s.chars().next()),
        None => None,
    }
}

/// The `char` ending at byte `pos`, if `pos` is a char boundary inside `text`.
#[inline]
fn char_before(text: &str, pos: usize) -> Option<char> {
    match pos.checked_sub(1).and_then(|p| text.as_bytes().get(p)) {
        Some(&c) if c < 0x80 => Some(c as char),
        Some(_) => text.get(..pos).and_then(|s| s.chars().next_back()),
        None => None,
    }
}

/// Skips at least one whitespace char from `k`; returns where the next non-whitespace char
/// starts. `None` when there is no whitespace at `k`, or a newline / the end comes first
/// (the newline or the end of the text is a boundary anyway).
fn skip_ws(text: &str, mut k: usize) -> Option<usize> {
    let b = text.as_bytes();
    let start = k;
    while let Some(&c) = b.get(k) {
        match c {
            b'\n' => return None,
            b' ' | b'\t' | b'\r' | 0x0B | 0x0C => k += 1,
            0..=0x7F => break,
            _ => match char_at(text, k) {
                Some(ch) if ch.is_whitespace() => k += ch.len_utf8(),
                _ => break,
            },
        }
    }
    (k > start && k < b.len()).then_some(k)
}

/// Whether `c` can be the first letter of a sentence.
#[inline]
fn starts_sentence_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_uppercase() || c.is_ascii_digit();
    }
    c.is_uppercase() || c.is_numeric() || (c.is_alphabetic() && !c.is_lowercase())
}

fn is_opener(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '('
            | '['
            | '\u{201C}'
            | '\u{2018}'
            | '\u{201E}'
            | '\u{00AB}'
            | '\u{2039}'
            | '\u{00BF}'
            | '\u{00A1}'
            | '\u{300C}'
            | '\u{300E}'
            | '\u{FF08}'
    )
}

/// Whether a sentence plausibly starts at byte `m`.
fn plausible_start(text: &str, m: usize) -> bool {
    match char_at(text, m) {
        Some(c) if starts_sentence_char(c) => true,
        Some(c) if is_opener(c) => {
            char_at(text, m + c.len_utf8()).is_some_and(starts_sentence_char)
        }
        _ => false,
    }
}

/// Looks at the terminator run starting at `i` and decides whether it ends a sentence.
/// Returns (where to resume scanning, boundary position if any).
fn analyse(text: &str, i: usize, seg_start: usize) -> (usize, Option<usize>) {
    let b = text.as_bytes();
    let mut j = i;
    let mut count = 0usize;
    let mut dots = 0usize;
    let mut hard = false;
    let mut spaced = false;
    loop {
        if let Some((t, len)) = term_at(b, j) {
            match t {
                Term::Dot => dots += 1,
                Term::Hard => hard = true,
                Term::BangQ | Term::Ellipsis | Term::Soft => {}
            }
            j += len;
            count += 1;
            continue;
        }
        // Spaced ellipsis ". . ." (only once at least three dots are spaced out).
        if j > i && b[j - 1] == b'.' {
            if b.get(j..j + 4) == Some(b" . .") {
                j += 4;
                count += 2;
                dots += 2;
                spaced = true;
                continue;
            }
            if spaced && b.get(j..j + 2) == Some(b" .") {
                j += 2;
                count += 1;
                dots += 1;
                continue;
            }
        }
        break;
    }
    let run_end = j;
    let single_dot = count == 1 && dots == 1;

    let mut k = run_end;
    loop {
        let len = closer_len(b, k);
        if len == 0 {
            break;
        }
        k += len;
    }
    if hard {
        return (k, Some(k));
    }
    if single_dot && k == run_end && glued_sentence(text, i, seg_start) {
        return (run_end, Some(run_end));
    }
    let Some(m) = skip_ws(text, k) else {
        return (k, None);
    };
    if !plausible_start(text, m) || after_opener(text, i) {
        return (k, None);
    }
    if !single_dot || dot_ends_sentence(text, i, seg_start, m) {
        (k, Some(k))
    } else {
        (k, None)
    }
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

/// How an abbreviation behaves before a capitalised word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Abbr {
    /// Never ends a sentence (`Dr.`, `St.`).
    Title,
    /// Does not end a sentence before a number or roman numeral (`No. 5`, `Vol. II`).
    NumRef,
    /// Never ends a sentence (`e.g.`, `vs.`).
    NonEnd,
    /// Ends a sentence only before a common sentence starter (`etc. The`).
    Cond,
}

/// Classifies a lowercase abbreviation (without its final dot).
fn classify(w: &[u8]) -> Option<Abbr> {
    Some(match w {
        b"mr" | b"mrs" | b"ms" | b"mx" | b"dr" | b"drs" | b"prof" | b"profs" | b"st" | b"sts"
        | b"mt" | b"ft" | b"gen" | b"col" | b"capt" | b"cpt" | b"lt" | b"sgt" | b"gov" | b"sen"
        | b"rep" | b"rev" | b"revd" | b"hon" | b"pres" | b"adm" | b"maj" | b"cmdr" | b"cdr"
        | b"comdr" | b"brig" | b"cpl" | b"pvt" | b"supt" | b"insp" | b"fr" | b"msgr" | b"atty"
        | b"mme" | b"mlle" | b"messrs" | b"rt" | b"lieut" | b"gens" | b"sens" | b"reps"
        | b"sra" | b"srta" | b"hr" => Abbr::Title,
        b"no" | b"nos" | b"fig" | b"figs" | b"vol" | b"vols" | b"p" | b"pp" | b"op" | b"ch"
        | b"chap" | b"sec" | b"sect" | b"art" | b"nr" | b"para" | b"pl" => Abbr::NumRef,
        b"r" | b"b" | b"d" | b"fl" | b"vs" | b"v" | b"cf" | b"viz" | b"approx" | b"ca" | b"c"
        | b"circ" | b"e.g" | b"i.e" | b"a.k.a" | b"incl" | b"esp" | b"resp" | b"lit" | b"var"
        | b"syn" => Abbr::NonEnd,
        b"etc" | b"inc" | b"ltd" | b"co" | b"corp" | b"bros" | b"jr" | b"sr" | b"esq" | b"al"
        | b"ed" | b"eds" | b"jan" | b"feb" | b"mar" | b"apr" | b"jun" | b"jul" | b"aug"
        | b"sep" | b"sept" | b"oct" | b"nov" | b"dec" | b"mon" | b"tue" | b"tues" | b"thu"
        | b"thur" | b"thurs" | b"fri" | b"dept" | b"univ" | b"assn" | b"assoc" | b"est"
        | b"govt" | b"ave" | b"blvd" | b"rd" | b"natl" | b"intl" | b"div" | b"a.m" | b"p.m"
        | b"ibid" | b"plc" | b"mfg" | b"bldg" | b"hwy" | b"d.phil" | b"trans" | b"min" | b"max"
        | b"dist" | b"gov't" => Abbr::Cond,
        _ => return None,
    })
}

/// Lowercases an ASCII token into `buf`; `None` when it does not fit.
fn lower<'a>(tok: &[u8], buf: &'a mut [u8; 8]) -> Option<&'a [u8]> {
    let dst = buf.get_mut(..tok.len())?;
    for (d, s) in dst.iter_mut().zip(tok) {
        *d = s.to_ascii_lowercase();
    }
    Some(dst)
}

/// Whether `text[seg_start..pos]` is only whitespace (i.e. `pos` starts the sentence).
fn at_sentence_start(text: &str, seg_start: usize, pos: usize) -> bool {
    text.get(seg_start..pos)
        .is_some_and(|s| s.trim_start().is_empty())
}

fn is_roman(tok: &[u8]) -> bool {
    !tok.is_empty()
        && tok.len() <= 5
        && (tok.iter().all(|c| b"IVXLCDM".contains(c))
            || tok.iter().all(|c| b"ivxlcdm".contains(c)))
}

/// The ASCII-letter word at `m`, if it is followed by a non-alphanumeric char (or the end).
fn word_at(text: &str, m: usize) -> Option<&[u8]> {
    let b = text.as_bytes();
    let rest = b.get(m..)?;
    let len = rest
        .iter()
        .take(16)
        .position(|c| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len().min(16));
    if len == 0 || char_at(text, m + len).is_some_and(char::is_alphanumeric) {
        return None;
    }
    rest.get(..len)
}

/// Whether the word at `m` is a common sentence starter. With `initial`, one-letter words
/// ("A", "I") do not count, since they are more likely further initials.
fn starter_at(text: &str, m: usize, initial: bool) -> bool {
    let Some(w) = word_at(text, m) else {
        return false;
    };
    if initial && w.len() == 1 {
        return false;
    }
    matches!(
        w,
        b"A" | b"An"
            | b"The"
            | b"This"
            | b"That"
            | b"These"
            | b"Those"
            | b"There"
            | b"Their"
            | b"They"
            | b"He"
            | b"She"
            | b"It"
            | b"Its"
            | b"His"
            | b"Her"
            | b"We"
            | b"Our"
            | b"I"
            | b"You"
            | b"In"
            | b"On"
            | b"At"
            | b"By"
            | b"For"
            | b"From"
            | b"With"
            | b"After"
            | b"Before"
            | b"During"
            | b"Since"
            | b"As"
            | b"When"
            | b"While"
            | b"Although"
            | b"Though"
            | b"However"
            | b"But"
            | b"And"
            | b"Also"
            | b"Then"
            | b"Thus"
            | b"Today"
            | b"Later"
            | b"Many"
            | b"Most"
            | b"Some"
            | b"Several"
            | b"Both"
            | b"Each"
            | b"All"
            | b"Another"
            | b"Other"
            | b"Such"
            | b"One"
            | b"If"
            | b"Because"
            | b"Despite"
            | b"Following"
            | b"According"
            | b"Furthermore"
            | b"Moreover"
            | b"Meanwhile"
            | b"Nevertheless"
            | b"Instead"
            | b"Who"
            | b"What"
            | b"Which"
            | b"Where"
            | b"Why"
            | b"How"
            | b"Until"
            | b"Upon"
            | b"Under"
            | b"Between"
            | b"Among"
            | b"Only"
            | b"Yet"
    )
}

/// Whether a number (or, with `roman`, an uppercase roman numeral) starts at `m`.
fn number_at(text: &str, m: usize, roman: bool) -> bool {
    match char_at(text, m) {
        Some(c) if c.is_numeric() => true,
        _ => roman && word_at(text, m).is_some_and(|w| w.iter().all(|c| b"IVXLCDM".contains(c))),
    }
}

/// Decides whether a single `.` at `i`, followed by whitespace and a plausible sentence
/// start at `m`, ends a sentence, judging by the word before it.
fn dot_ends_sentence(text: &str, i: usize, seg_start: usize, m: usize) -> bool {
    const MAX_TOKEN: usize = 64;
    let b = text.as_bytes();
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
        // A non-ASCII initial such as "É." or "А." stands alone after a non-letter.
        return match char_before(text, i) {
            Some(c) if !c.is_ascii() && c.is_uppercase() => {
                let p = i - c.len_utf8();
                if char_before(text, p).is_some_and(char::is_alphanumeric) {
                    true
                } else if at_sentence_start(text, seg_start, p) {
                    false
                } else {
                    starter_at(text, m, true)
                }
            }
            _ => true,
        };
    }
    // The ASCII token is the tail of a longer word ("Straße.").
    if ts > seg_start && char_before(text, ts).is_some_and(char::is_alphanumeric) {
        return true;
    }
    let start = at_sentence_start(text, seg_start, ts);
    let mut buf = [0u8; 8];
    let low = lower(tok, &mut buf);

    if tok.iter().any(u8::is_ascii_digit) {
        // "1." / "2.3." list markers at the start; numbers ("1990.", "$3.50.") otherwise.
        return !(start && tok.iter().all(|&c| c.is_ascii_digit() || c == b'.'));
    }
    if tok.contains(&b'.') {
        return match low.and_then(classify) {
            Some(Abbr::Cond) => starter_at(text, m, false),
            Some(_) => false,
            None if tok.split(|&c| c == b'.').all(|s| s.len() <= 2) => starter_at(text, m, false),
            None => true, // "example.com.", "file.txt."
        };
    }
    if start && (tok.len() == 1 || is_roman(tok)) {
        return false; // list marker: "a.", "B.", "iv."
    }
    if tok.len() == 1 && tok[0].is_ascii_uppercase() {
        return starter_at(text, m, true); // initial: "George W. Bush"
    }
    match low.and_then(classify) {
        Some(Abbr::Title | Abbr::NonEnd) => false,
        Some(Abbr::NumRef) => !number_at(text, m, tok.len() > 1),
        Some(Abbr::Cond) => starter_at(text, m, false),
        None => true,
    }
}

/// "It ended.The next": a `.` at `i` glued to a common sentence starter, after a plain
/// lowercase word that starts after whitespace (so not a URL, file name or identifier).
fn glued_sentence(text: &str, i: usize, seg_start: usize) -> bool {
    let b = text.as_bytes();
    match (b.get(i + 1), b.get(i + 2)) {
        (Some(u), Some(l)) if u.is_ascii_uppercase() && l.is_ascii_lowercase() => {}
        _ => return false,
    }
    // Only a common sentence starter ("The", "He") counts, so "console.Log" stays whole.
    if !starter_at(text, i + 1, true) {
        return false;
    }
    let mut ts = i;
    while ts > seg_start && b[ts - 1].is_ascii_lowercase() {
        ts -= 1;
    }
    if i - ts < 2 {
        return false;
    }
    if ts > seg_start && !matches!(b[ts - 1], b' ' | b'\t' | b'(' | b'"') {
        return false;
    }
    let mut buf = [0u8; 8];
    lower(&b[ts..i], &mut buf).and_then(classify).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(text: &str) -> Vec<&str> {
        split(text).into_iter().map(|r| &text[r]).collect()
    }

    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
        // Basics and newlines.
        ("", &[]),
        ("   \n\t \n", &[]),
        ("Hello world.", &["Hello world."]),
        ("Hello world", &["Hello world"]),
        ("One. Two. Three.", &["One.", "Two.", "Three."]),
        ("  Leading and trailing.  ", &["Leading and trailing."]),
        ("First line\nsecond line", &["First line", "second line"]),
        ("Para one.\n\nPara two.", &["Para one.", "Para two."]),
        ("A sentence.\r\nAnother.", &["A sentence.", "Another."]),
        ("It rained. \nthen it stopped", &["It rained.", "then it stopped"]),
        ("He left.  She stayed.", &["He left.", "She stayed."]),
        ("He left.\tShe stayed.", &["He left.", "She stayed."]),
        ("He left.\u{a0}She stayed.", &["He left.", "She stayed."]),
        // Lowercase next word.
        ("This is it. and more", &["This is it. and more"]),
        ("Really? yes.", &["Really? yes."]),
        ("Wow! that was fast.", &["Wow! that was fast."]),
        // ! and ?
        ("Is it? It is.", &["Is it?", "It is."]),
        ("Stop! Go now.", &["Stop!", "Go now."]),
        ("What?! No way.", &["What?!", "No way."]),
        ("Yes!! Great.", &["Yes!!", "Great."]),
        ("Why? 5 people came.", &["Why?", "5 people came."]),
        // Titles and abbreviations.
        ("Mr. Smith went home.", &["Mr. Smith went home."]),
        ("Dr. Who is a show. It is old.", &["Dr. Who is a show.", "It is old."]),
        ("Mrs. Jones and Ms. Lee met Prof. Kim.", &["Mrs. Jones and Ms. Lee met Prof. Kim."]),
        ("He lived on St. The Street.", &["He lived on St. The Street."]),
        ("Gen. Lee and Col. Sanders met Capt. Hook.", &["Gen. Lee and Col. Sanders met Capt. Hook."]),
        ("Lt. Dan met Sgt. Pepper.", &["Lt. Dan met Sgt. Pepper."]),
        ("Gov. Brown and Sen. Smith and Rep. Jones.", &["Gov. Brown and Sen. Smith and Rep. Jones."]),
        ("The Rev. King spoke. The Hon. Member replied.", &["The Rev. King spoke.", "The Hon. Member replied."]),
        ("Mt. Everest is high.", &["Mt. Everest is high."]),
        ("Apple Inc. In 1980 it grew.", &["Apple Inc.", "In 1980 it grew."]),
        ("Apple Inc. Products are sold.", &["Apple Inc. Products are sold."]),
        ("Acme Ltd. The company failed.", &["Acme Ltd.", "The company failed."]),
        ("Smith & Co. Kerry office.", &["Smith & Co. Kerry office."]),
        ("Warner Bros. Pictures made it.", &["Warner Bros. Pictures made it."]),
        ("Martin Luther King Jr. He was a leader.", &["Martin Luther King Jr.", "He was a leader."]),
        ("Martin Luther King Jr. Day is a holiday.", &["Martin Luther King Jr. Day is a holiday."]),
        ("Arsenal vs. Chelsea was close.", &["Arsenal vs. Chelsea was close."]),
        ("Smith v. Jones was decided.", &["Smith v. Jones was decided."]),
        ("Apples, pears, etc. The list goes on.", &["Apples, pears, etc.", "The list goes on."]),
        ("Apples, pears, etc. Were sold.", &["Apples, pears, etc. Were sold."]),
        ("Fruits, e.g. Apples, are good.", &["Fruits, e.g. Apples, are good."]),
        ("Some, i.e. Those, left.", &["Some, i.e. Those, left."]),
        ("See Smith et al. The study was big.", &["See Smith et al.", "The study was big."]),
        ("See Smith et al. (2005) for details.", &["See Smith et al. (2005) for details."]),
        ("Built ca. 1900 by them.", &["Built ca. 1900 by them."]),
        ("Born c. 1450 in Italy.", &["Born c. 1450 in Italy."]),
        ("Al-Mansur (r. 754–775) ruled. He died.", &["Al-Mansur (r. 754–775) ruled.", "He died."]),
        ("Jane Doe (b. 1950; d. 2001) wrote it.", &["Jane Doe (b. 1950; d. 2001) wrote it."]),
        ("Réka (b. December 1976) sang.", &["Réka (b. December 1976) sang."]),
        ("A poet (fl. 1200) lived there.", &["A poet (fl. 1200) lived there."]),
        ("Built (c. AD 800) of stone.", &["Built (c. AD 800) of stone."]),
        ("He wrote x. Then c. Then d.", &["He wrote x.", "Then c. Then d."]),
        ("cf. Smith for details.", &["cf. Smith for details."]),
        ("See Fig. 3 for details.", &["See Fig. 3 for details."]),
        ("See fig. 3 and Vol. II of the book.", &["See fig. 3 and Vol. II of the book."]),
        ("See pp. 12-15. The end.", &["See pp. 12-15.", "The end."]),
        ("See p. 5 for more.", &["See p. 5 for more."]),
        ("He wore No. 5 for years.", &["He wore No. 5 for years."]),
        ("He said No. Then he left.", &["He said No.", "Then he left."]),
        ("Born on Jan. 5, 1990.", &["Born on Jan. 5, 1990."]),
        ("Founded in Sept. 1990 by him.", &["Founded in Sept. 1990 by him."]),
        ("It was approx. 5 km long.", &["It was approx. 5 km long."]),
        ("He arrived at 5 p.m. The party began.", &["He arrived at 5 p.m.", "The party began."]),
        ("He arrived at 5 p.m. Eastern time.", &["He arrived at 5 p.m. Eastern time."]),
        ("It opened at 9 a.m. on Monday.", &["It opened at 9 a.m. on Monday."]),
        ("The U.S. Army fought.", &["The U.S. Army fought."]),
        ("He moved to the U.S. He liked it.", &["He moved to the U.S.", "He liked it."]),
        ("The U.K. Parliament met.", &["The U.K. Parliament met."]),
        ("The U.N. Security Council voted.", &["The U.N. Security Council voted."]),
        ("She has a Ph.D. The thesis was long.", &["She has a Ph.D.", "The thesis was long."]),
        ("She got her Ph.D. Summa cum laude.", &["She got her Ph.D. Summa cum laude."]),
        ("He got a B.A. Degree.", &["He got a B.A. Degree."]),
        ("Washington, D.C. Is big.", &["Washington, D.C. Is big."]),
        ("The E.U. Commission met.", &["The E.U. Commission met."]),
        // Initials.
        ("J. R. R. Tolkien wrote it.", &["J. R. R. Tolkien wrote it."]),
        ("George W. Bush was president.", &["George W. Bush was president."]),
        ("J.R.R. Tolkien wrote it.", &["J.R.R. Tolkien wrote it."]),
        ("A. A. Milne wrote it.", &["A. A. Milne wrote it."]),
        ("He met Charles V. He was king.", &["He met Charles V.", "He was king."]),
        ("Émile Z. Étienne wrote. É. Zola too.", &["Émile Z. Étienne wrote.", "É. Zola too."]),
        ("Писатель А. С. Пушкин жил. Он умер.", &["Писатель А. С. Пушкин жил.", "Он умер."]),
        ("World War II. The war ended.", &["World War II.", "The war ended."]),
        // Numbers.
        ("Pi is 3.14 roughly.", &["Pi is 3.14 roughly."]),
        ("It sold 1.5 million copies.", &["It sold 1.5 million copies."]),
        ("Version v2.0 was out.", &["Version v2.0 was out."]),
        ("It cost 1,000.5 dollars.", &["It cost 1,000.5 dollars."]),
        ("It cost $3.50. The next day it rose.", &["It cost $3.50.", "The next day it rose."]),
        ("He was born in 1990. He grew up.", &["He was born in 1990.", "He grew up."]),
        ("The score was 3. 4 people left.", &["The score was 3.", "4 people left."]),
        // Ellipses.
        ("Wait... what happened?", &["Wait... what happened?"]),
        ("Wait... The door opened.", &["Wait...", "The door opened."]),
        ("Wait. . . the door.", &["Wait. . . the door."]),
        ("Wait. . . The door.", &["Wait. . .", "The door."]),
        ("Wait\u{2026} what?", &["Wait\u{2026} what?"]),
        ("Wait\u{2026} The door.", &["Wait\u{2026}", "The door."]),
        ("... and then it ended.", &["... and then it ended."]),
        ("A former (\"... Schutzbund\") member.", &["A former (\"... Schutzbund\") member."]),
        ("He said \"no\"! Then he left.", &["He said \"no\"!", "Then he left."]),
        ("Pick one (... Or two).", &["Pick one (... Or two)."]),
        // Quotes and brackets.
        ("\"Stop.\" He left.", &["\"Stop.\"", "He left."]),
        ("\"Where?\" she asked.", &["\"Where?\" she asked."]),
        ("\"Where?\" She asked.", &["\"Where?\"", "She asked."]),
        ("(See below.) Then it ended.", &["(See below.)", "Then it ended."]),
        ("He left. (He was tired.) Then he slept.", &["He left.", "(He was tired.)", "Then he slept."]),
        ("He said \u{201C}yes.\u{201D} Then he went.", &["He said \u{201C}yes.\u{201D}", "Then he went."]),
        ("He said. \u{201C}Yes,\u{201D} she said.", &["He said.", "\u{201C}Yes,\u{201D} she said."]),
        ("He said 'no.' Then left.", &["He said 'no.'", "Then left."]),
        ("\u{ab}Non.\u{bb} Il partit.", &["\u{ab}Non.\u{bb}", "Il partit."]),
        ("The word \"hello\". Then more.", &["The word \"hello\".", "Then more."]),
        ("He (born 1990.) lived here.", &["He (born 1990.) lived here."]),
        ("\"Stop!\" \"Go!\"", &["\"Stop!\"", "\"Go!\""]),
        ("It is [sic.] He said.", &["It is [sic.]", "He said."]),
        // URLs, e-mails, file names.
        ("Visit www.example.com for info.", &["Visit www.example.com for info."]),
        ("See example.com/a.html for more.", &["See example.com/a.html for more."]),
        ("Mail john.smith@example.org today.", &["Mail john.smith@example.org today."]),
        ("Open file.txt now.", &["Open file.txt now."]),
        ("Visit example.com. Then leave.", &["Visit example.com.", "Then leave."]),
        ("Mail john.smith@example.org. Thanks.", &["Mail john.smith@example.org.", "Thanks."]),
        ("Open www.x.org/Dir.Html now.", &["Open www.x.org/Dir.Html now."]),
        // No space after the full stop.
        ("It ended.The next day was calm.", &["It ended.", "The next day was calm."]),
        ("The U.S.A is big.", &["The U.S.A is big."]),
        ("Use Node.Js daily.", &["Use Node.Js daily."]),
        ("Call console.Log now.", &["Call console.Log now."]),
        ("Call System.Out.println now.", &["Call System.Out.println now."]),
        ("It is a.B test.", &["It is a.B test."]),
        // List markers.
        ("1. First item", &["1. First item"]),
        ("1. First item. 2. Second item.", &["1. First item.", "2. Second item."]),
        ("a. Apples are red.", &["a. Apples are red."]),
        ("B. Bananas are yellow.", &["B. Bananas are yellow."]),
        ("IV. Results are shown.", &["IV. Results are shown."]),
        ("2.3. Methods were used.", &["2.3. Methods were used."]),
        ("Intro.\n3. Third point here.", &["Intro.", "3. Third point here."]),
        // Other scripts.
        ("我来了。你呢？好！", &["我来了。", "你呢？", "好！"]),
        ("他说：「好。」然后走了。", &["他说：「好。」", "然后走了。"]),
        ("什么？！真的吗。", &["什么？！", "真的吗。"]),
        ("日本語です｡次の文です｡", &["日本語です｡", "次の文です｡"]),
        ("He left. 他走了。", &["He left.", "他走了。"]),
        ("यह एक वाक्य है। यह दूसरा है।", &["यह एक वाक्य है।", "यह दूसरा है।"]),
        ("पहला॥दूसरा।", &["पहला॥", "दूसरा।"]),
        ("ماذا تريد؟ لا شيء.", &["ماذا تريد؟", "لا شيء."]),
        ("Τι κάνεις\u{37e} Καλά.", &["Τι κάνεις\u{37e}", "Καλά."]),
        ("Τι κάνεις\u{37e} καλά.", &["Τι κάνεις\u{37e} καλά."]),
        ("Բարեւ\u{589} Ինչպես ես\u{589}", &["Բարեւ\u{589}", "Ինչպես ես\u{589}"]),
        ("Он ушёл. Она пришла.", &["Он ушёл.", "Она пришла."]),
        ("Die Straße. Die Stadt.", &["Die Straße.", "Die Stadt."]),
        ("Semi; colon. Done.", &["Semi; colon.", "Done."]),
        ("¿Qué? ¡Sí! Bueno.", &["¿Qué?", "¡Sí!", "Bueno."]),
        ("It ends. 🎉 party", &["It ends. 🎉 party"]),
    ];

    #[test]
    fn table() {
        assert!(CASES.len() >= 80, "only {} cases", CASES.len());
        let mut failures = Vec::new();
        for (input, expected) in CASES {
            let got = sentences(input);
            if got != *expected {
                failures.push(format!(
                    "{input:?}\n  expected {expected:?}\n  got      {got:?}"
                ));
            }
            check_invariants(input, &split(input));
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn split_into_reuses_and_clears() {
        let mut out = vec![0..1, 5..9];
        split_into("A x. C d.", &mut out);
        assert_eq!(out, vec![0..4, 5..9]);
        split_into("", &mut out);
        assert!(out.is_empty());
    }

    fn check_invariants(text: &str, ranges: &[Range<usize>]) {
        let mut covered = vec![0u8; text.len()];
        let mut prev_end = 0;
        for r in ranges {
            assert!(r.start < r.end, "empty range {r:?} in {text:?}");
            assert!(r.start >= prev_end, "overlap/order {r:?} in {text:?}");
            prev_end = r.end;
            let s = text.get(r.clone()).expect("range on char boundaries");
            assert_eq!(s, s.trim(), "untrimmed {s:?} in {text:?}");
            for c in &mut covered[r.clone()] {
                *c += 1;
            }
        }
        for (pos, ch) in text.char_indices() {
            if !ch.is_whitespace() {
                let bytes = &covered[pos..pos + ch.len_utf8()];
                assert!(
                    bytes.iter().all(|&c| c == 1),
                    "{ch:?} at {pos} not covered once in {text:?}"
                );
            }
        }
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_invariants() {
        const PIECES: &[&str] = &[
            "a", "b", "x", "the", "He", "A", "I", "U", "S", "Dr", "Mr", "U.S", "e.g", "etc", "No",
            "p", "iv", "com", "The", "In", "1", "42", "3.14", " ", " ", " ", "  ", "\t", "\n",
            "\r\n", "\u{a0}", "\u{3000}", "\u{2028}", ".", ".", ".", "!", "?", "...", ". . .",
            "\u{2026}", ";", ",", "\"", "'", "(", ")", "[", "]", "\u{201c}", "\u{201d}",
            "\u{2019}", "\u{ab}", "\u{bb}", "\u{300c}", "\u{300d}", "\u{ff09}", "。", "！", "？",
            "｡", "．", "।", "॥", "؟", "\u{37e}", "\u{589}", "我", "語", "é", "É", "ß", "Ж", "ж",
            "Ω", "ω", "ه", "क", "\u{301}", "\u{308}", "\u{200d}", "🎉", "👍🏽", "@", "/", "$", "-",
            "\u{2013}", "¿", "¡", "\u{c2}", "\u{e2}", "\u{ef}",
        ];
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut out = Vec::new();
        let mut s = String::new();
        for _ in 0..20_000 {
            s.clear();
            let len = rng.below(40);
            for _ in 0..len {
                s.push_str(PIECES[rng.below(PIECES.len())]);
            }
            split_into(&s, &mut out);
            check_invariants(&s, &out);
        }
        // Arbitrary chars, including ones whose UTF-8 starts with candidate lead bytes.
        for _ in 0..5_000 {
            s.clear();
            let len = rng.below(30);
            for _ in 0..len {
                let c = match rng.below(4) {
                    0 => char::from_u32(rng.below(0x80) as u32),
                    1 => char::from_u32(0x300 + rng.below(0x700) as u32),
                    2 => char::from_u32(0x2000 + rng.below(0xE000) as u32),
                    _ => char::from_u32(rng.below(0x11_0000) as u32),
                };
                s.push(c.unwrap_or('.'));
            }
            split_into(&s, &mut out);
            check_invariants(&s, &out);
        }
    }
}
