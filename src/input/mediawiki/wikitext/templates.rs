//! Templates and parser functions: `{{name|p1|key=value}}` parsed into a name and parameter
//! ranges (top-level `|` and `=` only, nested spans skipped through the index), then either
//! rendered by [`super::render`] or dropped.

use super::super::site::NS_TEMPLATE;
use super::writer::Writer;
use super::Cleaner;

/// One parameter: the trimmed ranges of its name (named parameters) and value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Param {
    pub name: Option<(usize, usize)>,
    pub value: (usize, usize),
}

/// A parsed template call.
pub(super) struct Call {
    /// The normalised name: lower case, `_` as space, single spaces, no `Template:` prefix.
    pub name: String,
    /// For parser functions (`{{formatnum:1234}}`), the range after the `:`.
    pub fn_arg: Option<(usize, usize)>,
    pub params: Vec<Param>,
}

impl Call {
    /// The `k`-th positional parameter (1-based), or the one named `k`.
    pub fn pos(&self, src: &str, k: usize) -> Option<(usize, usize)> {
        let mut seen = 0;
        let mut found = None;
        for p in &self.params {
            match p.name {
                None => {
                    seen += 1;
                    if seen == k {
                        found = Some(p.value);
                    }
                }
                Some((a, b)) if src[a..b].parse() == Ok(k) => found = Some(p.value),
                Some(_) => {}
            }
        }
        found
    }

    /// The parameter named `key`.
    pub fn named(&self, src: &str, key: &str) -> Option<(usize, usize)> {
        self.params
            .iter()
            .rev()
            .find(|p| {
                p.name
                    .is_some_and(|(a, b)| src[a..b].eq_ignore_ascii_case(key))
            })
            .map(|p| p.value)
    }

    /// All positional parameters in order.
    pub fn positionals(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.params
            .iter()
            .filter(|p| p.name.is_none())
            .map(|p| p.value)
    }
}

impl Cleaner<'_> {
    /// The matched template `[start, end)`: rendered when known, else dropped.
    pub(super) fn template(&mut self, start: usize, end: usize, w: &mut Writer) -> usize {
        let inner = (start + 2, end - 2);
        let name_end = self
            .top_level_byte(inner.0, inner.1, b'|')
            .unwrap_or(inner.1);
        let raw_name = &self.src[inner.0..name_end];
        if raw_name.contains(['{', '<', '[']) || self.depth >= super::MAX_DEPTH {
            w.removed();
            return end;
        }
        let (name, fn_arg) = self.normalise_name(raw_name, inner.0);
        if !super::render::is_known(&name) {
            w.removed();
            return end;
        }
        let call = Call {
            name,
            fn_arg,
            params: self.params(name_end, inner.1),
        };
        self.nested(w, |c, w| c.render(&call, w));
        end
    }

    /// Splits `[from, to)` (starting at the `|` after the name) into parameters.
    fn params(&self, from: usize, to: usize) -> Vec<Param> {
        let mut params = Vec::new();
        let mut i = from;
        while i < to {
            let start = i + 1;
            let stop = self.top_level_byte(start, to, b'|').unwrap_or(to);
            let eq = self.top_level_byte(start, stop, b'=');
            params.push(match eq {
                Some(e) => Param {
                    name: Some(self.trim(start, e)),
                    value: self.trim(e + 1, stop),
                },
                None => Param {
                    name: None,
                    value: self.trim(start, stop),
                },
            });
            i = stop;
        }
        params
    }

    /// `[a, b)` without surrounding whitespace.
    pub(super) fn trim(&self, a: usize, b: usize) -> (usize, usize) {
        let s = &self.bytes[a..b];
        let lead = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
        let trail = s[lead..]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
        (a + lead, b - trail)
    }

    /// Normalises a template name; splits `fn:arg` parser-function calls.
    fn normalise_name(&self, raw: &str, raw_start: usize) -> (String, Option<(usize, usize)>) {
        let mut name = raw.trim();
        let mut fn_arg = None;
        if let Some(colon) = name.find(':') {
            let prefix = &name[..colon];
            if self.site.is_namespace(prefix, NS_TEMPLATE)
                || prefix.eq_ignore_ascii_case("subst")
                || prefix.eq_ignore_ascii_case("safesubst")
            {
                name = name[colon + 1..].trim();
            } else {
                let offset = raw.len() - raw.trim_start().len() + colon + 1;
                fn_arg = Some(self.trim(raw_start + offset, raw_start + raw.trim_end().len()));
                name = prefix.trim();
            }
        }
        let mut out = String::with_capacity(name.len());
        for c in name.chars() {
            let c = if c == '_' { ' ' } else { c };
            if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            out.extend(c.to_lowercase());
        }
        (out, fn_arg)
    }

    /// Writes the range `r` inline, one level deeper.
    pub(super) fn write_range(&mut self, r: (usize, usize), w: &mut Writer) {
        self.inline_nested(r.0, r.1, w);
    }

    /// The raw source text of `r`, trimmed.
    pub(super) fn raw(&self, r: (usize, usize)) -> &str {
        self.src[r.0..r.1].trim()
    }
}
