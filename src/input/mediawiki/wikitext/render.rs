//! Renderers for the inline templates whose text belongs in the sentence (the list is in the
//! [`super`] module doc). Every other template is dropped by [`super::templates`].
//!
//! Dates come from numeric parameters: "12 March 1950" on English wikis, ISO `1950-03-12`
//! elsewhere (the month names of other languages are not known here). `lang-xx` writes the
//! foreign text only, without the "Russian:" label. Ages are computed only when both dates are
//! given (no clock is read, so output is reproducible).

use super::templates::Call;
use super::writer::Writer;
use super::Cleaner;

/// How a known template is written.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// `text=` or the first positional parameter.
    First,
    /// `text=` or the second positional (`{{lang|fr|texte}}`), else the first.
    Second,
    /// The last positional parameter.
    Last,
    /// Positionals joined by a separator.
    Join(&'static str),
    /// A fixed string.
    Literal(&'static str),
    /// A fixed string, then the first parameter.
    Prefix(&'static str),
    /// The first parameter, then a fixed string.
    Suffix(&'static str),
    /// The first parameter in upper case (small capitals).
    Upper,
    /// `⟨p1⟩`.
    Angle,
    Convert,
    Frac,
    AsOf,
    /// A date from numeric y, m, d; `true`: followed by "(aged N)" from a second date.
    Date(bool),
    Age,
    Nihongo,
    Marriage,
    /// Parser function argument (`{{formatnum:1234}}`), with a case change.
    FnArg(Case),
}

#[derive(Debug, Clone, Copy)]
enum Case {
    Keep,
    Lower,
    Upper,
    LowerFirst,
    UpperFirst,
}

fn rule(name: &str) -> Option<Rule> {
    use Rule::*;
    Some(match name {
        "nowrap" | "nobr" | "small" | "smaller" | "big" | "bigger" | "large" | "larger"
        | "huge" | "resize" | "sup" | "sub" | "math" | "mvar" | "var" | "em" | "strong"
        | "code" | "abbr" | "abbrlink" | "tooltip" | "vr" | "ipa" | "ipa2" | "ill"
        | "interlanguage link" | "noitalic" | "not a typo" | "proper name" | "visible anchor"
        | "center" | "centre" | "quote" | "blockquote" | "cquote" | "quotation" | "flag"
        | "flagcountry" | "flagu" | "date" | "keep together" | "nowrap begin" | "serif"
        | "sans-serif" | "samp" | "mono" | "strikethrough" | "underline" | "text" | "nihongo2"
        | "korean" | "sortname" | "font" | "nbsp+" | "lang-en" | "ipa audio" => First,
        "lang" | "script" | "lsj" | "sep" | "color" | "colour" | "font color" | "abbr2" => Second,
        "transl" | "transliteration" => Last,
        "hlist" | "ubl" | "unbulleted list" | "plainlist" | "flatlist" | "bulleted list"
        | "bulleted" | "enum" => Join(", "),
        "keypress" | "key press" => Join("+"),
        "chem" | "chem2" | "sic" | "linktext" => Join(""),
        "ad" => Prefix("AD "),
        "bc" => Suffix(" BC"),
        "bce" => Suffix(" BCE"),
        "ce" => Suffix(" CE"),
        "sc" | "smallcaps" | "small caps" | "sc1" | "sc2" => Upper,
        "angbr" | "angle bracket" => Angle,
        "convert" | "cvt" => Convert,
        "frac" | "sfrac" | "fraction" => Frac,
        "as of" => AsOf,
        "birth date"
        | "death date"
        | "start date"
        | "end date"
        | "birth date and age"
        | "start date and age"
        | "end date and age"
        | "dob"
        | "bda"
        | "film date"
        | "birth-date"
        | "death-date"
        | "ngày sinh"
        | "ngày mất"
        | "ngày sinh và tuổi"
        | "ngày bắt đầu và tuổi"
        | "ngày bắt đầu" => Date(false),
        "death date and age" | "dda" | "ngày mất và tuổi" => Date(true),
        "age" => Age,
        "nihongo" => Nihongo,
        "marriage" => Marriage,
        "formatnum" => FnArg(Case::Keep),
        "lc" => FnArg(Case::Lower),
        "uc" => FnArg(Case::Upper),
        "lcfirst" => FnArg(Case::LowerFirst),
        "ucfirst" => FnArg(Case::UpperFirst),
        n if n.starts_with("lang-") => First,
        n if n.starts_with("ipa-") => First,
        n => return fixed_rule(n),
    })
}

/// Templates that write fixed text, alone or before their first parameter.
fn fixed_rule(name: &str) -> Option<Rule> {
    use Rule::*;
    Some(match name {
        "'" => Literal("'"),
        "'s" => Literal("'s"),
        "\"'" => Literal("\"'"),
        "snd" | "spnd" | "spaced ndash" | "spaced en dash" | "dash" => Literal(" – "),
        "ndash" | "en dash" | "endash" => Literal("–"),
        "mdash" | "em dash" | "emdash" | "long dash" => Literal("—"),
        "mdashb" | "spaced mdash" | "spaced em dash" => Literal(" — "),
        "nbsp" | "sp" | "space" | "thinsp" | "hair space" => Literal(" "),
        "!" => Literal("|"),
        "=" => Literal("="),
        "okina" => Literal("ʻ"),
        "·" | "dot" | "middot" | "dot-sep" => Literal(" · "),
        "bull" | "bullet" => Literal(" • "),
        "circa" | "c." | "ca." | "ca" => Prefix("c. "),
        "floruit" | "fl." | "fl" => Prefix("fl. "),
        "reign" | "r." => Prefix("r. "),
        "hms" => Prefix("HMS "),
        "uss" => Prefix("USS "),
        "ss" => Prefix("SS "),
        "hmas" => Prefix("HMAS "),
        "hmcs" => Prefix("HMCS "),
        "rms" => Prefix("RMS "),
        "us$" | "usd" | "usdollar" => Prefix("US$"),
        "$" => Prefix("$"),
        "gbp" | "£" | "pound sterling" => Prefix("£"),
        "€" | "euro" | "eur" => Prefix("€"),
        "jpy" | "¥" | "yen" => Prefix("¥"),
        "inr" | "₹" => Prefix("₹"),
        _ => return None,
    })
}

/// True when `name` (normalised) has a renderer.
pub(super) fn is_known(name: &str) -> bool {
    rule(name).is_some()
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Unit codes of `{{convert}}` whose display differs from the code.
fn unit_name(code: &str) -> &str {
    match code {
        "km2" => "km²",
        "m2" => "m²",
        "cm2" => "cm²",
        "sqmi" | "mi2" => "sq mi",
        "sqft" | "ft2" => "sq ft",
        "m3" => "m³",
        "km3" => "km³",
        "cuft" | "ft3" => "cu ft",
        "C" | "°C" => "°C",
        "F" | "°F" => "°F",
        "kmh" | "kph" => "km/h",
        "acre" => "acres",
        "sqkm" => "km²",
        "ftin" => "ft",
        "lbkg" => "lb",
        other => other,
    }
}

/// Range words between the two values of `{{convert|5|to|10|km}}`, and how they print.
fn range_word(word: &str) -> Option<&'static str> {
    Some(match word {
        "-" | "–" | "&ndash;" => "–",
        "to" => " to ",
        "to(-)" => " to ",
        "and" | "and(-)" => " and ",
        "or" => " or ",
        "x" | "×" | "by" => " × ",
        "+" => " + ",
        "+/-" | "±" => " ± ",
        _ => return None,
    })
}

impl Cleaner<'_> {
    /// Writes the known template `call`.
    pub(super) fn render(&mut self, call: &Call, w: &mut Writer) {
        let Some(rule) = rule(&call.name) else {
            return;
        };
        let src = self.src;
        let text = call
            .named(src, "text")
            .or_else(|| call.named(src, "quote"))
            .or_else(|| call.named(src, "name"));
        match rule {
            Rule::First => self.write_opt(text.or_else(|| call.pos(src, 1)), w),
            Rule::Second => self.write_opt(
                text.or_else(|| call.pos(src, 2))
                    .or_else(|| call.pos(src, 1)),
                w,
            ),
            Rule::Last => self.write_opt(call.positionals().last(), w),
            Rule::Join(sep) => {
                for (k, r) in call.positionals().filter(|r| r.0 < r.1).enumerate() {
                    if k > 0 {
                        w.text(sep);
                    }
                    self.write_range(r, w);
                }
            }
            Rule::Literal(s) => w.text(s),
            Rule::Prefix(p) => {
                if let Some(r) = call.pos(src, 1) {
                    w.text(p);
                    self.write_range(r, w);
                }
            }
            Rule::Suffix(s) => {
                if let Some(r) = call.pos(src, 1) {
                    self.write_range(r, w);
                    w.text(s);
                }
            }
            Rule::Upper => self.upper(call.pos(src, 1), w),
            Rule::Angle => {
                w.text("⟨");
                self.write_opt(call.pos(src, 1), w);
                w.text("⟩");
            }
            Rule::Convert => self.convert(call, w),
            Rule::Frac => self.frac(call, w),
            Rule::AsOf => self.as_of(call, w),
            Rule::Date(aged) => self.date(call, aged, w),
            Rule::Age => self.age(call, w),
            Rule::Nihongo => self.nihongo(call, w),
            Rule::Marriage => {
                self.write_opt(call.pos(src, 1), w);
                if let Some(r) = call.pos(src, 2) {
                    w.text(" (m. ");
                    self.write_range(r, w);
                    w.text(")");
                }
            }
            Rule::FnArg(case) => self.fn_arg(call, case, w),
        }
    }

    fn write_opt(&mut self, r: Option<(usize, usize)>, w: &mut Writer) {
        if let Some(r) = r {
            self.write_range(r, w);
        }
    }

    /// Plain text (no markup characters) of `r`, if it is plain.
    fn plain(&self, r: (usize, usize)) -> Option<&str> {
        let s = self.raw(r);
        (!s.contains(['{', '[', '<', '&', '\''])).then_some(s)
    }

    fn upper(&mut self, r: Option<(usize, usize)>, w: &mut Writer) {
        let Some(r) = r else { return };
        match self.plain(r) {
            Some(s) => w.text(&s.to_uppercase()),
            None => self.write_range(r, w),
        }
    }

    fn fn_arg(&mut self, call: &Call, case: Case, w: &mut Writer) {
        let Some(r) = call.fn_arg else { return };
        let Some(s) = self.plain(r) else {
            self.write_range(r, w);
            return;
        };
        let mut first = s.chars();
        let head = first.next().map(String::from).unwrap_or_default();
        let out = match case {
            Case::Keep => s.to_owned(),
            Case::Lower => s.to_lowercase(),
            Case::Upper => s.to_uppercase(),
            Case::LowerFirst => head.to_lowercase() + first.as_str(),
            Case::UpperFirst => head.to_uppercase() + first.as_str(),
        };
        w.text(&out);
    }

    /// `{{convert|5|km|mi}}` → "5 km"; `{{convert|5|to|10|km}}` → "5 to 10 km".
    fn convert(&mut self, call: &Call, w: &mut Writer) {
        let src = self.src;
        let Some(v1) = call.pos(src, 1) else { return };
        self.write_range(v1, w);
        let mut unit_at = 2;
        if let Some(word) = call.pos(src, 2).and_then(|r| range_word(self.raw(r))) {
            if let Some(v2) = call.pos(src, 3) {
                w.text(word);
                self.write_range(v2, w);
                unit_at = 4;
            }
        }
        if let Some(u) = call.pos(src, unit_at) {
            w.text(" ");
            match self.plain(u) {
                Some(unit) => w.text(unit_name(unit)),
                None => self.write_range(u, w),
            }
        }
    }

    /// `{{frac|1|2}}` → "1/2", `{{frac|3|1|2}}` → "3 1/2", `{{frac|4}}` → "1/4".
    fn frac(&mut self, call: &Call, w: &mut Writer) {
        let parts: Vec<(usize, usize)> = call.positionals().take(3).collect();
        match parts.as_slice() {
            [d] => {
                w.text("1/");
                self.write_range(*d, w);
            }
            [n, d] => {
                self.write_range(*n, w);
                w.text("/");
                self.write_range(*d, w);
            }
            [i, n, d] => {
                self.write_range(*i, w);
                w.text(" ");
                self.write_range(*n, w);
                w.text("/");
                self.write_range(*d, w);
            }
            _ => {}
        }
    }

    /// `{{as of|2010|5}}` → "As of May 2010"; `lc=y` gives "as of".
    fn as_of(&mut self, call: &Call, w: &mut Writer) {
        let src = self.src;
        let lower = call
            .named(src, "lc")
            .is_some_and(|r| !self.raw(r).is_empty());
        let ymd = self.ymd(call, 1);
        if ymd.0.is_none() {
            return;
        }
        w.text(if lower { "as of " } else { "As of " });
        w.text(&self.format_date(ymd));
    }

    /// Numeric year, month, day from positionals `first`, `first+1`, `first+2`.
    fn ymd(&self, call: &Call, first: usize) -> (Option<i64>, Option<u32>, Option<u32>) {
        let num = |k: usize| -> Option<i64> { self.raw(call.pos(self.src, k)?).parse().ok() };
        let month = num(first + 1)
            .filter(|m| (1..=12).contains(m))
            .map(|m| m as u32);
        let day = num(first + 2)
            .filter(|d| (1..=31).contains(d))
            .map(|d| d as u32);
        (num(first), month, day)
    }

    fn format_date(&self, (y, m, d): (Option<i64>, Option<u32>, Option<u32>)) -> String {
        let Some(y) = y else { return String::new() };
        let english = self.site.lang == "en";
        match (m, d) {
            (Some(m), Some(d)) if english => format!("{d} {} {y}", MONTHS[m as usize - 1]),
            (Some(m), None) if english => format!("{} {y}", MONTHS[m as usize - 1]),
            (Some(m), Some(d)) => format!("{y:04}-{m:02}-{d:02}"),
            (Some(m), None) => format!("{y:04}-{m:02}"),
            _ => y.to_string(),
        }
    }

    /// Birth, death, start and end dates; `aged`: "(aged N)" from the birth date after them.
    fn date(&mut self, call: &Call, aged: bool, w: &mut Writer) {
        let first = self.ymd(call, 1);
        if first.0.is_none() {
            if let Some(r) = call.pos(self.src, 1) {
                self.write_range(r, w);
            }
            return;
        }
        w.text(&self.format_date(first));
        if aged {
            if let Some(years) = years_between(self.ymd(call, 4), first) {
                w.text(&format!(" (aged {years})"));
            }
        }
    }

    /// `{{age|1950|3|12|2000|1|1}}` → "49"; with one date only, nothing.
    fn age(&mut self, call: &Call, w: &mut Writer) {
        if let Some(years) = years_between(self.ymd(call, 1), self.ymd(call, 4)) {
            w.text(&years.to_string());
        }
    }

    /// `{{nihongo|Tokyo|東京|Tōkyō}}` → "Tokyo (東京, Tōkyō)".
    fn nihongo(&mut self, call: &Call, w: &mut Writer) {
        let src = self.src;
        self.write_opt(call.pos(src, 1), w);
        let extra: Vec<(usize, usize)> = [2, 3]
            .iter()
            .filter_map(|&k| call.pos(src, k))
            .filter(|r| r.0 < r.1)
            .collect();
        for (k, r) in extra.iter().enumerate() {
            w.text(if k == 0 { " (" } else { ", " });
            self.write_range(*r, w);
        }
        if !extra.is_empty() {
            w.text(")");
        }
    }
}

/// Whole years from `from` to `to`, when both have a year.
fn years_between(
    from: (Option<i64>, Option<u32>, Option<u32>),
    to: (Option<i64>, Option<u32>, Option<u32>),
) -> Option<i64> {
    let (y0, y1) = (from.0?, to.0?);
    let before_birthday =
        (to.1.unwrap_or(12), to.2.unwrap_or(31)) < (from.1.unwrap_or(1), from.2.unwrap_or(1));
    let years = y1 - y0 - i64::from(before_birthday);
    (0..=200).contains(&years).then_some(years)
}
