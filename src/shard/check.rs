//! `--check`: the invariants every row and every build must hold.
//!
//! [`check_row`] states, for one stored row, what the property tests assert of every instance
//! and returns the first one broken; `inspect --check`, `bert-train` and the tests all use it:
//!
//! - every list has `max_seq_len` entries (from the build config in the shard's metadata), or
//!   `num_tokens` with `--padding none`;
//! - `num_tokens` is in `5..=max_seq_len` (`[CLS] a [SEP] b [SEP]` at least; 3 for a row
//!   without a pair, whose only `[SEP]`s are the last and those between documents);
//! - exactly one `[CLS]`, at 0; exactly two `[SEP]` among the first `num_tokens`, the last at
//!   `num_tokens - 1`, neither segment empty; `[PAD]` after `num_tokens`;
//! - `token_type_ids` 0 through the first `[SEP]`, 1 through the last, 0 on padding;
//! - `attention_mask` 1 exactly on the first `num_tokens` positions;
//! - labels other than -100 only at real positions that are not `[CLS]`/`[SEP]`; a label is
//!   never `[PAD]`/`[CLS]`/`[SEP]`/`[MASK]` (`[UNK]` is a word like any other); a `[MASK]` input
//!   always has a label; a random replacement is never a special token;
//! - every id and label is below the vocabulary size (when it is known);
//! - at least one prediction; the pair label is 0 or 1 (absent with `--objective none`);
//! - with `--masking dynamic`, instead of the label rules: no `[MASK]`, and
//!   `special_tokens_mask` 1 exactly on `[CLS]`, `[SEP]` and `[PAD]`.
//!
//! For a build directory, [`check_manifest_entry`] and [`sha256_file`] hold each shard to
//! `manifest.json`: present, same size, same row count, same SHA-256 — which is what catches a
//! shard edited by hand even when every row still looks valid.

use serde::Serialize;

use super::row::{RowView, NO_PAIR_LABEL};
use super::schema::RowForm;
pub use crate::output::manifest::sha256_file;
use crate::shard::{ShardEntry, IGNORE_LABEL};
use crate::tokenize::roles::PairLayout;
use crate::tokenize::SpecialTokens;

/// One broken invariant: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Shard file name (or `manifest.json`, `tokenizer.json`).
    pub file: String,
    /// Row within the shard, 0-based, when the violation is about one row.
    pub row: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row {
            Some(row) => write!(f, "{} row {row}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// What a row is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRules {
    /// Length of every padded list; `None` when the shard does not say (then the rows must
    /// agree with their own `input_ids`).
    pub max_seq_len: Option<usize>,
    /// Special-token ids.
    pub specials: SpecialTokens,
    /// Size of the vocabulary, when known.
    pub vocab_size: Option<usize>,
    /// The recipe's rows: pair label or none, labels or special-tokens mask, padded or not.
    pub form: RowForm,
}

/// The invariant a row breaks, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RowProblem(pub String);

/// The outcome of one row check: the value it found, or the first invariant broken.
type Check<T = ()> = std::result::Result<T, RowProblem>;

/// The first invariant `row` breaks, if any.
pub fn check_row(row: &RowView<'_>, rules: &RowRules) -> std::result::Result<(), RowProblem> {
    let form = rules.form;
    let bound = rules.max_seq_len.unwrap_or(row.input_ids.len());
    // `[CLS] a [SEP] b [SEP]` at least, or `[CLS] a [SEP]` for a row without a pair.
    let shortest = if form.pair_label().is_some() { 5 } else { 3 };
    if form.is_padded() {
        check_list_lengths(row, bound, "max_seq_len")?;
    }
    let n = check_num_tokens(row.num_tokens, shortest, bound)?;
    if !form.is_padded() {
        check_list_lengths(row, n, "num_tokens, --padding none")?;
    }
    let len = row.input_ids.len();
    let layout = check_special_layout(row.input_ids, n, len, &rules.specials, form)?;
    check_segment_columns(row, layout)?;
    check_id_range(row.input_ids, rules.vocab_size)?;
    if form.is_static() {
        check_labels(row, layout, rules)?;
    } else {
        check_unmasked(row, &rules.specials)?;
    }
    check_pair_label(row.next_sentence_label, form)
}

/// Where a row's real tokens end and its `[SEP]`s sit, once its special tokens are checked.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// `num_tokens`, as an index.
    n: usize,
    /// Position of the `[SEP]` closing segment A (`n - 1` for a row without a pair).
    first: usize,
    /// Position of the `[SEP]` closing the row (`n - 1`).
    last: usize,
}

/// Every stored list has `len` entries (the columns not decoded are skipped).
fn check_list_lengths(row: &RowView<'_>, len: usize, why: &str) -> Check {
    let labels =
        (!row.labels.is_empty() || row.special_tokens_mask.is_none()).then_some(row.labels.len());
    let lists: [(&str, Option<usize>); 5] = [
        ("input_ids", Some(row.input_ids.len())),
        ("token_type_ids", row.token_type_ids.map(<[i8]>::len)),
        ("attention_mask", row.attention_mask.map(<[i8]>::len)),
        ("labels", labels),
        (
            "special_tokens_mask",
            row.special_tokens_mask.map(<[i8]>::len),
        ),
    ];
    for (name, n) in lists {
        if let Some(n) = n.filter(|&n| n != len) {
            return Err(RowProblem(format!(
                "{name} has {n} entries, expected {len} ({why})"
            )));
        }
    }
    Ok(())
}

/// `num_tokens` is in `shortest..=len`; returns it as an index.
fn check_num_tokens(n: i16, shortest: usize, len: usize) -> Check<usize> {
    if (n as i64) < shortest as i64 || n as usize > len {
        return Err(RowProblem(format!(
            "num_tokens {n} is outside {shortest}..={len}"
        )));
    }
    Ok(n as usize)
}

/// One `[CLS]` at 0, two `[SEP]` closing non-empty segments, `[PAD]` after the real tokens.
fn check_special_layout(
    ids: &[i32],
    n: usize,
    len: usize,
    sp: &SpecialTokens,
    form: RowForm,
) -> Check<Layout> {
    let (pad, cls) = (sp.pad as i32, sp.cls as i32);
    if ids[0] != cls {
        return Err(RowProblem(format!(
            "input_ids[0] is {}, expected [CLS] ({cls})",
            ids[0]
        )));
    }
    if let Some(i) = ids.iter().skip(1).position(|&t| t == cls) {
        return Err(RowProblem(format!("a second [CLS] at position {}", i + 1)));
    }
    let layout = match (form.pair_label(), form.pair_layout) {
        (None, _) => check_document_separators(ids, n, sp.sep as i32)?,
        (Some(_), PairLayout::Bert) => check_separators(ids, n, sp.sep as i32)?,
        (Some(_), PairLayout::Roberta) => check_roberta_separators(ids, n, sp.sep as i32)?,
    };
    if let Some(i) = (n..len).find(|&i| ids[i] != pad) {
        return Err(RowProblem(format!(
            "padding position {i} holds {}, expected [PAD] ({pad})",
            ids[i]
        )));
    }
    Ok(layout)
}

/// Exactly two `[SEP]` among the first `n` ids, the last at `n - 1`, neither segment empty.
fn check_separators(ids: &[i32], n: usize, sep: i32) -> Check<Layout> {
    let seps: Vec<usize> = (0..n).filter(|&i| ids[i] == sep).collect();
    if seps.len() != 2 {
        return Err(RowProblem(format!(
            "{} [SEP] among the first {n} tokens (at {seps:?}), expected 2",
            seps.len()
        )));
    }
    let (first, last) = (seps[0], seps[1]);
    if last != n - 1 {
        return Err(RowProblem(format!(
            "last [SEP] at position {last}, expected at num_tokens - 1 = {}",
            n - 1
        )));
    }
    if first < 2 {
        return Err(RowProblem("segment A is empty".to_string()));
    }
    if first + 1 == last {
        return Err(RowProblem("segment B is empty".to_string()));
    }
    Ok(Layout { n, first, last })
}

/// RoBERTa's pair: exactly three `</s>` among the first `n` ids, two side by side between
/// non-empty segments and the last at `n - 1`. Segment ids are all 0 (layout `first` = `n - 1`
/// for the token-type check).
fn check_roberta_separators(ids: &[i32], n: usize, sep: i32) -> Check<Layout> {
    let seps: Vec<usize> = (0..n).filter(|&i| ids[i] == sep).collect();
    let ok = seps.len() == 3 && seps[1] == seps[0] + 1 && seps[2] == n - 1;
    if !ok {
        return Err(RowProblem(format!(
            "</s> among the first {n} tokens at {seps:?}, expected A </s></s> B </s> ending at {}",
            n - 1
        )));
    }
    if seps[0] < 2 || seps[1] + 1 == seps[2] {
        return Err(RowProblem("a segment is empty".to_string()));
    }
    Ok(Layout {
        n,
        first: n - 1,
        last: n - 1,
    })
}

/// A row without a pair: `[SEP]` at `n - 1`; any other `[SEP]` (between documents) neither
/// right after `[CLS]` nor next to another.
fn check_document_separators(ids: &[i32], n: usize, sep: i32) -> Check<Layout> {
    if ids[n - 1] != sep {
        return Err(RowProblem(format!(
            "input_ids[{}] is {}, expected [SEP] ({sep}) at num_tokens - 1",
            n - 1,
            ids[n - 1]
        )));
    }
    if let Some(i) = (1..n).find(|&i| ids[i] == sep && (i == 1 || ids[i - 1] == sep)) {
        return Err(RowProblem(format!(
            "[SEP] at position {i} closes an empty piece of text"
        )));
    }
    Ok(Layout {
        n,
        first: n - 1,
        last: n - 1,
    })
}

/// `token_type_ids` and `attention_mask` (when decoded) follow the segments and the padding.
fn check_segment_columns(row: &RowView<'_>, layout: Layout) -> Check {
    let Layout { n, first, .. } = layout;
    if let Some(types) = row.token_type_ids {
        for (i, &t) in types.iter().enumerate() {
            let want = i8::from(i > first && i < n);
            if t != want {
                return Err(RowProblem(format!(
                    "token_type_ids[{i}] is {t}, expected {want}"
                )));
            }
        }
    }
    if let Some(attention) = row.attention_mask {
        for (i, &m) in attention.iter().enumerate() {
            let want = i8::from(i < n);
            if m != want {
                return Err(RowProblem(format!(
                    "attention_mask[{i}] is {m}, expected {want}"
                )));
            }
        }
    }
    Ok(())
}

/// Every input id is non-negative and, when the vocabulary size is known, below it.
fn check_id_range(ids: &[i32], vocab_size: Option<usize>) -> Check {
    if let Some(vocab) = vocab_size {
        if let Some(i) = ids.iter().position(|&t| t < 0 || t as usize >= vocab) {
            return Err(RowProblem(format!(
                "input id {} at position {i} is outside the vocabulary (size {vocab})",
                ids[i]
            )));
        }
    } else if let Some(i) = ids.iter().position(|&t| t < 0) {
        return Err(RowProblem(format!(
            "negative input id {} at position {i}",
            ids[i]
        )));
    }
    Ok(())
}

/// Every label is consistent with its input, and there is at least one prediction.
fn check_labels(row: &RowView<'_>, layout: Layout, rules: &RowRules) -> Check {
    let mask = rules.specials.mask as i32;
    let mut predictions = 0;
    for (i, (&label, &id)) in row.labels.iter().zip(row.input_ids).enumerate() {
        if label == IGNORE_LABEL {
            if id == mask {
                return Err(RowProblem(format!("[MASK] at position {i} has no label")));
            }
            continue;
        }
        predictions += 1;
        check_label(i, label, id, layout, rules)?;
    }
    if predictions == 0 {
        return Err(RowProblem("no masked-LM prediction".to_string()));
    }
    Ok(())
}

/// One real `label` at position `i` (input `id`): at a word position, a vocabulary id, no special.
fn check_label(i: usize, label: i32, id: i32, layout: Layout, rules: &RowRules) -> Check {
    let Layout { n, first, last } = layout;
    if i == 0 || i >= n || i == first || i == last {
        let what = if i >= n { "padding" } else { "[CLS]/[SEP]" };
        return Err(RowProblem(format!(
            "label {label} at position {i}, a {what} position"
        )));
    }
    if label < 0 || rules.vocab_size.is_some_and(|v| label as usize >= v) {
        return Err(RowProblem(format!(
            "label {label} at position {i} is not a vocabulary id"
        )));
    }
    let sp = rules.specials;
    let mask = sp.mask as i32;
    for (name, special) in [
        ("[PAD]", sp.pad as i32),
        ("[CLS]", sp.cls as i32),
        ("[SEP]", sp.sep as i32),
        ("[MASK]", mask),
    ] {
        if label == special {
            return Err(RowProblem(format!("label at position {i} is {name}")));
        }
        if id != label && id != mask && id == special {
            return Err(RowProblem(format!(
                "random replacement at position {i} is {name}"
            )));
        }
    }
    Ok(())
}

/// A row of dynamic masking: no `[MASK]` stored, and `special_tokens_mask` (when decoded) 1
/// exactly on `[CLS]`, `[SEP]` and `[PAD]`.
fn check_unmasked(row: &RowView<'_>, sp: &SpecialTokens) -> Check {
    let mask = sp.mask as i32;
    if let Some(i) = row.input_ids.iter().position(|&t| t == mask) {
        return Err(RowProblem(format!(
            "[MASK] at position {i} of a row for dynamic masking (masks are drawn in training)"
        )));
    }
    if let Some(specials) = row.special_tokens_mask {
        let special = [sp.cls, sp.sep, sp.pad].map(|t| t as i32);
        for (i, (&m, &id)) in specials.iter().zip(row.input_ids).enumerate() {
            let want = i8::from(special.contains(&id));
            if m != want {
                return Err(RowProblem(format!(
                    "special_tokens_mask[{i}] is {m}, expected {want} (input id {id})"
                )));
            }
        }
    }
    Ok(())
}

/// The pair label is 0 or 1 where the recipe has one, and absent where it has none.
fn check_pair_label(label: i8, form: RowForm) -> Check {
    match form.pair_label() {
        Some(name) if !matches!(label, 0 | 1) => {
            Err(RowProblem(format!("{name} is {label}, expected 0 or 1")))
        }
        None if label != NO_PAIR_LABEL => Err(RowProblem(format!(
            "a pair label {label} in a row of --objective none"
        ))),
        _ => Ok(()),
    }
}

/// Holds a shard on disk (`bytes`, `sha256`, counted `rows`) to its manifest entry.
pub fn check_manifest_entry(
    entry: &ShardEntry,
    bytes: u64,
    sha256: &str,
    rows: u64,
) -> Vec<String> {
    let mut problems = Vec::new();
    if rows != entry.rows {
        problems.push(format!("{rows} rows, manifest.json says {}", entry.rows));
    }
    if bytes != entry.bytes {
        problems.push(format!("{bytes} bytes, manifest.json says {}", entry.bytes));
    }
    if sha256 != entry.sha256 {
        problems.push(format!(
            "SHA-256 {sha256} differs from manifest.json's {} (the file was changed after the build)",
            entry.sha256
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::ShardRow;

    const SP: SpecialTokens = SpecialTokens::BERT;

    const RULES: RowRules = RowRules {
        form: RowForm::BERT,
        max_seq_len: Some(10),
        specials: SP,
        vocab_size: Some(30_522),
    };

    /// `[CLS] [MASK] 2001 [SEP] 2002 2003 [SEP] [PAD] [PAD] [PAD]`.
    fn good() -> ShardRow {
        let mut labels = vec![IGNORE_LABEL; 10];
        labels[1] = 2000;
        labels[5] = 2003;
        ShardRow {
            input_ids: vec![101, 103, 2001, 102, 2002, 2003, 102, 0, 0, 0],
            token_type_ids: vec![0, 0, 0, 0, 1, 1, 1, 0, 0, 0],
            attention_mask: vec![1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
            labels,
            special_tokens_mask: Vec::new(),
            next_sentence_label: 1,
            num_tokens: 7,
            source: 0,
        }
    }

    fn broken(edit: impl FnOnce(&mut ShardRow)) -> String {
        let mut row = good();
        edit(&mut row);
        check_row(&row.view(), &RULES).unwrap_err().0
    }

    #[test]
    fn a_good_row_passes() {
        assert_eq!(check_row(&good().view(), &RULES), Ok(()));
    }

    #[test]
    fn each_invariant_is_caught() {
        let cases: Vec<(String, &str)> = vec![
            (broken(|r| r.input_ids.push(0)), "input_ids has 11 entries"),
            (
                broken(|r| {
                    r.attention_mask.pop();
                }),
                "attention_mask has 9",
            ),
            (broken(|r| r.num_tokens = 11), "num_tokens 11"),
            (broken(|r| r.input_ids[0] = 2000), "input_ids[0]"),
            (broken(|r| r.input_ids[2] = 101), "second [CLS]"),
            (broken(|r| r.input_ids[3] = 2001), "1 [SEP]"),
            (broken(|r| r.num_tokens = 8), "last [SEP] at position 6"),
            (broken(|r| r.input_ids[8] = 5), "padding position 8"),
            (broken(|r| r.token_type_ids[3] = 1), "token_type_ids[3]"),
            (broken(|r| r.token_type_ids[8] = 1), "token_type_ids[8]"),
            (broken(|r| r.attention_mask[7] = 1), "attention_mask[7]"),
            (
                broken(|r| r.input_ids[4] = 40_000),
                "outside the vocabulary",
            ),
            (broken(|r| r.labels[3] = 2000), "[CLS]/[SEP] position"),
            (broken(|r| r.labels[8] = 2000), "padding position"),
            (broken(|r| r.labels[1] = 103), "is [MASK]"),
            (broken(|r| r.labels[5] = 0), "label at position 5 is [PAD]"),
            (broken(|r| r.labels[5] = 31_000), "not a vocabulary id"),
            (
                broken(|r| r.labels[1] = IGNORE_LABEL),
                "[MASK] at position 1 has no label",
            ),
            (
                broken(|r| {
                    r.labels[5] = IGNORE_LABEL;
                    r.labels[1] = IGNORE_LABEL;
                    r.input_ids[1] = 2000;
                }),
                "no masked-LM prediction",
            ),
            (
                broken(|r| r.next_sentence_label = 2),
                "next_sentence_label is 2",
            ),
        ];
        for (message, want) in cases {
            assert!(
                message.contains(want),
                "{message:?} should mention {want:?}"
            );
        }
    }

    #[test]
    fn segments_must_not_be_empty() {
        let mut row = good();
        row.input_ids = vec![101, 102, 2001, 2002, 2003, 102, 0, 0, 0, 0];
        row.labels = vec![IGNORE_LABEL; 10];
        row.labels[2] = 2001;
        row.num_tokens = 6;
        row.token_type_ids = vec![0, 0, 1, 1, 1, 1, 0, 0, 0, 0];
        row.attention_mask = vec![1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
        let err = check_row(&row.view(), &RULES).unwrap_err().0;
        assert!(err.contains("segment A is empty"), "{err}");
    }

    #[test]
    fn manifest_entry_mismatches_are_named() {
        let entry = ShardEntry {
            file: "shard-0000.parquet".into(),
            rows: 10,
            bytes: 100,
            sha256: "aa".into(),
        };
        assert!(check_manifest_entry(&entry, 100, "aa", 10).is_empty());
        let problems = check_manifest_entry(&entry, 101, "bb", 9);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[2].contains("SHA-256"));
    }
}
