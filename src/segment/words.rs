//! Word lists of the sentence scanner: abbreviations and how each behaves before a capital,
//! common sentence starters, and the few special words (time zones, `Yahoo!`) that change a
//! decision.
//!
//! The lists are English and encyclopaedic (titles, references, company and date forms, US
//! state abbreviations), in the spirit of pragmatic-segmenter's abbreviation list but written
//! for this scanner: each abbreviation carries a behaviour, not just membership.

use super::chars::char_at;

/// How an abbreviation behaves before a capitalised word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Abbr {
    /// Never ends a sentence (`Dr.`, `St.`), except a street (`Main St. The ...`).
    Title,
    /// Does not end a sentence before a number or roman numeral (`No. 5`, `Vol. II`).
    NumRef,
    /// Never ends a sentence (`e.g.`, `vs.`).
    NonEnd,
    /// Ends a sentence only before a common sentence starter (`etc. The`).
    Cond,
    /// `a.m.` / `p.m.`: ends a sentence before a capital, except a time zone or weekday, or
    /// after a short time phrase opening the sentence (`At 5 a.m. Mr. Smith left.`).
    Time,
}

/// Classifies a lowercase abbreviation (without its final dot).
pub(super) fn classify(w: &[u8]) -> Option<Abbr> {
    Some(match w {
        b"mr" | b"mrs" | b"ms" | b"mx" | b"dr" | b"drs" | b"prof" | b"profs" | b"st" | b"sts"
        | b"ste" | b"sta" | b"sto" | b"mt" | b"mts" | b"ft" | b"gen" | b"col" | b"capt"
        | b"cpt" | b"lt" | b"sgt" | b"gov" | b"sen" | b"rep" | b"rev" | b"revd" | b"hon"
        | b"pres" | b"adm" | b"maj" | b"cmdr" | b"cdr" | b"comdr" | b"brig" | b"cpl" | b"pvt"
        | b"supt" | b"insp" | b"fr" | b"msgr" | b"mons" | b"atty" | b"mme" | b"mlle"
        | b"messrs" | b"rt" | b"lieut" | b"gens" | b"sens" | b"reps" | b"sra" | b"srta" | b"hr"
        | b"dott" | b"ing" | b"dipl" | b"pfc" | b"ens" | b"cmdt" => Abbr::Title,
        b"no" | b"nos" | b"fig" | b"figs" | b"vol" | b"vols" | b"p" | b"pp" | b"op" | b"ch"
        | b"chap" | b"sec" | b"sect" | b"art" | b"nr" | b"para" | b"pl" | b"pop" | b"tab"
        | b"eq" | b"eqs" | b"ex" | b"n" | b"ln" | b"pt" | b"pts" => Abbr::NumRef,
        b"r" | b"b" | b"d" | b"fl" | b"vs" | b"v" | b"cf" | b"viz" | b"approx" | b"ca" | b"c"
        | b"circ" | b"e.g" | b"i.e" | b"a.k.a" | b"incl" | b"esp" | b"resp" | b"lit" | b"var"
        | b"syn" | b"orig" | b"abbr" => Abbr::NonEnd,
        b"a.m" | b"p.m" => Abbr::Time,
        b"etc" | b"inc" | b"ltd" | b"co" | b"corp" | b"bros" | b"jr" | b"sr" | b"esq" | b"al"
        | b"ed" | b"eds" | b"jan" | b"feb" | b"mar" | b"apr" | b"jun" | b"jul" | b"aug"
        | b"sep" | b"sept" | b"oct" | b"nov" | b"dec" | b"mon" | b"tue" | b"tues" | b"thu"
        | b"thur" | b"thurs" | b"fri" | b"dept" | b"univ" | b"assn" | b"assoc" | b"est"
        | b"govt" | b"ave" | b"blvd" | b"rd" | b"natl" | b"intl" | b"div" | b"ibid" | b"plc"
        | b"mfg" | b"bldg" | b"hwy" | b"d.phil" | b"trans" | b"min" | b"max" | b"dist"
        | b"gov't" | b"cie" | b"gebr" | b"ges" | b"pty" | b"llc" | b"mgr" | b"dir" | b"asst" => {
            Abbr::Cond
        }
        _ => return None,
    })
}

/// US state and Canadian province abbreviations that are not also words or names (`Mass.`,
/// `Wash.`, `Ill.` are left out); they end a sentence only before a common sentence starter.
pub(super) fn is_state(tok: &[u8]) -> bool {
    matches!(
        tok,
        b"Ala"
            | b"Ariz"
            | b"Calif"
            | b"Colo"
            | b"Conn"
            | b"Fla"
            | b"Ga"
            | b"Kan"
            | b"Kans"
            | b"Ky"
            | b"Md"
            | b"Mich"
            | b"Minn"
            | b"Mont"
            | b"Neb"
            | b"Nebr"
            | b"Nev"
            | b"Okla"
            | b"Oreg"
            | b"Tenn"
            | b"Tex"
            | b"Vt"
            | b"Va"
            | b"Wis"
            | b"Wisc"
            | b"Wyo"
            | b"Alta"
            | b"Ont"
            | b"Que"
            | b"Sask"
    )
}

/// Words that end in `!` as part of a name (`Yahoo!`).
pub(super) fn is_exclamation_name(w: &[u8]) -> bool {
    matches!(w, b"Yahoo" | b"Jeopardy" | b"Joomla" | b"Yum" | b"Wham")
}

/// The ASCII-letter word at `m`, if it is followed by a non-alphanumeric char (or the end).
pub(super) fn word_at(text: &str, m: usize) -> Option<&[u8]> {
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
pub(super) fn starter_at(text: &str, m: usize, initial: bool) -> bool {
    let Some(w) = word_at(text, m) else {
        return false;
    };
    if initial && w.len() == 1 {
        return false;
    }
    is_starter(w)
}

/// Whether `w` is one of the [`STARTERS`].
fn is_starter(w: &[u8]) -> bool {
    STARTERS.contains(&w)
}

/// Common sentence starters: capitalised words that, after an abbreviation that may or may not
/// end a sentence (`etc.`, `Calif.`), say that a new sentence begins.
const STARTERS: &[&[u8]] = &[
    b"A",
    b"An",
    b"The",
    b"This",
    b"That",
    b"These",
    b"Those",
    b"There",
    b"Their",
    b"They",
    b"He",
    b"She",
    b"It",
    b"Its",
    b"His",
    b"Her",
    b"We",
    b"Our",
    b"I",
    b"You",
    b"In",
    b"On",
    b"At",
    b"By",
    b"For",
    b"From",
    b"With",
    b"After",
    b"Before",
    b"During",
    b"Since",
    b"As",
    b"When",
    b"While",
    b"Although",
    b"Though",
    b"However",
    b"But",
    b"And",
    b"Also",
    b"Then",
    b"Thus",
    b"Today",
    b"Later",
    b"Many",
    b"Most",
    b"Some",
    b"Several",
    b"Both",
    b"Each",
    b"All",
    b"Another",
    b"Other",
    b"Such",
    b"One",
    b"If",
    b"Because",
    b"Despite",
    b"Following",
    b"According",
    b"Furthermore",
    b"Moreover",
    b"Meanwhile",
    b"Nevertheless",
    b"Instead",
    b"Who",
    b"What",
    b"Which",
    b"Where",
    b"Why",
    b"How",
    b"Until",
    b"Upon",
    b"Under",
    b"Between",
    b"Among",
    b"Only",
    b"Yet",
    b"Being",
    b"Did",
    b"More",
    b"Millions",
    b"Thousands",
    b"Hundreds",
    b"Subsequently",
    b"Afterwards",
    b"Finally",
    b"Initially",
    b"Originally",
];

/// Whether the word at `m` is a title that usually starts a new sentence's subject (`Mr.`).
pub(super) fn title_at(text: &str, m: usize) -> bool {
    word_at(text, m).is_some_and(|w| {
        matches!(
            w,
            b"Mr" | b"Mrs" | b"Ms" | b"Dr" | b"Prof" | b"Sir" | b"Lady" | b"Lord"
        )
    })
}

/// Time zones and weekdays: `5 p.m. Eastern`, `9 a.m. Monday` stay in one sentence.
pub(super) fn after_time_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"Eastern"
            | b"Central"
            | b"Mountain"
            | b"Pacific"
            | b"Atlantic"
            | b"Alaska"
            | b"Hawaii"
            | b"local"
            | b"Local"
            | b"EST"
            | b"EDT"
            | b"CST"
            | b"CDT"
            | b"MST"
            | b"MDT"
            | b"PST"
            | b"PDT"
            | b"GMT"
            | b"UTC"
            | b"BST"
            | b"CET"
            | b"CEST"
            | b"IST"
            | b"JST"
            | b"AEST"
            | b"ET"
            | b"CT"
            | b"PT"
            | b"Monday"
            | b"Tuesday"
            | b"Wednesday"
            | b"Thursday"
            | b"Friday"
            | b"Saturday"
            | b"Sunday"
    )
}

/// Prepositions that open a sentence with a time phrase: `At 5 a.m. Mr. Smith ...`.
pub(super) fn is_time_preposition(w: &[u8]) -> bool {
    matches!(
        w,
        b"At"
            | b"By"
            | b"Around"
            | b"About"
            | b"Before"
            | b"After"
            | b"From"
            | b"Until"
            | b"Till"
            | b"Since"
            | b"On"
            | b"Approximately"
            | b"Shortly"
            | b"Sometime"
    )
}

/// Lowercases an ASCII token into `buf`; `None` when it does not fit.
pub(super) fn lower<'a>(tok: &[u8], buf: &'a mut [u8; 8]) -> Option<&'a [u8]> {
    let dst = buf.get_mut(..tok.len())?;
    for (d, s) in dst.iter_mut().zip(tok) {
        *d = s.to_ascii_lowercase();
    }
    Some(dst)
}

/// The value of a roman numeral made of `i`, `v`, `x` (one case), up to 39.
pub(super) fn roman_value(tok: &[u8]) -> Option<u32> {
    if tok.is_empty() || tok.len() > 7 {
        return None;
    }
    let upper = tok[0].is_ascii_uppercase();
    let mut total = 0u32;
    let mut prev = 0u32;
    for &c in tok.iter().rev() {
        if c.is_ascii_uppercase() != upper {
            return None;
        }
        let v = match c.to_ascii_lowercase() {
            b'i' => 1,
            b'v' => 5,
            b'x' => 10,
            _ => return None,
        };
        if v < prev {
            total = total.checked_sub(v)?;
        } else {
            total += v;
            prev = v;
        }
    }
    (total > 0 && total < 40).then_some(total)
}

/// Writes `v` (1..40) as a roman numeral, piece by piece, into `out`.
pub(super) fn push_roman(v: u32, upper: bool, mut out: impl FnMut(&[u8])) {
    const DIGITS: [(u32, &[u8]); 5] = [(10, b"x"), (9, b"ix"), (5, b"v"), (4, b"iv"), (1, b"i")];
    let mut v = v;
    for (value, s) in DIGITS {
        while v >= value {
            for &c in s {
                out(&[if upper { c.to_ascii_uppercase() } else { c }]);
            }
            v -= value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roman_numerals_round_trip() {
        for v in 1..40 {
            for upper in [false, true] {
                let mut s = Vec::new();
                push_roman(v, upper, |p| s.extend_from_slice(p));
                assert_eq!(roman_value(&s), Some(v), "{}", String::from_utf8_lossy(&s));
            }
        }
        assert_eq!(roman_value(b"iV"), None);
        assert_eq!(roman_value(b"mix"), None);
        assert_eq!(roman_value(b"xl"), None);
    }

    #[test]
    fn abbreviations_carry_a_behaviour() {
        assert_eq!(classify(b"dr"), Some(Abbr::Title));
        assert_eq!(classify(b"no"), Some(Abbr::NumRef));
        assert_eq!(classify(b"e.g"), Some(Abbr::NonEnd));
        assert_eq!(classify(b"inc"), Some(Abbr::Cond));
        assert_eq!(classify(b"p.m"), Some(Abbr::Time));
        assert_eq!(classify(b"dog"), None);
        assert!(is_state(b"Calif") && !is_state(b"Mass"));
    }
}
