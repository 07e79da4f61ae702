//! The `tokenizers` crate and a fast implementation of the same tokenizer side by side, and
//! the text they are compared on (shared by `fastwp` and `fastbpe`).

use std::path::{Path, PathBuf};

use bertprep::sentences::{SentenceWriter, Source};
use bertprep::tokenize::{Tokenizer, TokenizerImpl};
use proptest::prelude::*;
use serde_json::Value;

use crate::util::shared_corpus;

/// The crate and the fast implementation of the same tokenizer.
pub struct Pair {
    pub name: String,
    pub reference: Tokenizer,
    pub fast: Tokenizer,
}

impl Pair {
    /// Builds the tokenizer twice with `make`, once per implementation.
    pub fn new(name: &str, make: impl Fn() -> Tokenizer) -> Self {
        let reference = make().with_impl(TokenizerImpl::Crate).unwrap();
        let fast = make().with_impl(TokenizerImpl::Fast).unwrap();
        assert_eq!(reference.implementation(), TokenizerImpl::Crate);
        assert_eq!(fast.implementation(), TokenizerImpl::Fast);
        Pair {
            name: name.to_string(),
            reference,
            fast,
        }
    }

    /// `Ok` or a description of the first difference.
    pub fn check(&self, text: &str) -> Result<(), String> {
        let want = self.reference.encode(text).unwrap();
        let got = self.fast.encode(text).unwrap();
        if want == got {
            return Ok(());
        }
        let pieces = |ids: &[u32]| -> Vec<String> {
            ids.iter()
                .map(|&i| self.reference.id_to_token(i).unwrap_or_default())
                .collect()
        };
        Err(format!(
            "{}: {text:?}\n  crate {:?}\n  fast  {:?}",
            self.name,
            pieces(&want),
            pieces(&got)
        ))
    }
}

pub fn from_json(json: &str) -> Tokenizer {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, json).unwrap();
    Tokenizer::from_json_file(&path).unwrap()
}

/// Files under `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every line of the corpus `name` (for JSON lines, every line of each `text` field), or `None`
/// when it is absent.
pub fn corpus_lines(name: &str) -> Option<Vec<String>> {
    let dir = shared_corpus(name)?.join("wiki");
    let mut lines = Vec::new();
    for path in files(&dir) {
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            // A JSON line's text; a line of wikitext may start with `{` too.
            let doc: Option<Value> = line
                .starts_with('{')
                .then(|| serde_json::from_str(line).ok())
                .flatten();
            match doc.as_ref().and_then(|d| d["text"].as_str()) {
                Some(body) => lines.extend(body.lines().map(str::to_string)),
                None => lines.push(line.to_string()),
            }
        }
    }
    Some(lines)
}

/// The lines of a corpus under `../shared/corpora` as `bertprep` reads them, or `None` when it
/// is absent: a `wiki/` tree as [`corpus_lines`]; otherwise every file but `SOURCE.txt`, a
/// MediaWiki XML dump (`.xml.bz2`) as the sentences `bertprep sentences` extracts from its
/// pages, any other file line by line.
pub fn any_corpus_lines(name: &str) -> Option<Vec<String>> {
    let dir = shared_corpus(name)?;
    if dir.join("wiki").is_dir() {
        return corpus_lines(name);
    }
    let mut lines = Vec::new();
    for path in files(&dir) {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if file == "SOURCE.txt" {
            continue;
        }
        let text = if file.ends_with(".xml.bz2") {
            let mut out = Vec::new();
            let mut writer = SentenceWriter::new(&mut out, "<lines>");
            let source = Source::Path(path.clone());
            writer.write_source(&source, &mut std::io::empty()).unwrap();
            writer.finish().unwrap();
            String::from_utf8(out).unwrap()
        } else {
            std::fs::read_to_string(&path).unwrap()
        };
        lines.extend(text.lines().map(str::to_string));
    }
    Some(lines)
}

/// Every line of `lines` (of the corpus `name`) gives the same ids through each of `pairs`.
pub fn assert_lines_exact(name: &str, lines: &[String], pairs: &[&Pair]) {
    for pair in pairs {
        let mismatches: Vec<String> = lines.iter().filter_map(|l| pair.check(l).err()).collect();
        assert!(
            mismatches.is_empty(),
            "{name}: {} of {} lines differ; first ones:\n{}",
            mismatches.len(),
            lines.len(),
            mismatches[..mismatches.len().min(10)].join("\n")
        );
        eprintln!("{name} ({}): {} lines identical", pair.name, lines.len());
    }
}

/// Fails the property case when `pair` differs on `text`.
pub fn check_all(pair: &Pair, text: &str) -> Result<(), TestCaseError> {
    pair.check(text).map_err(TestCaseError::fail)
}

/// Every line of the corpus `name` gives the same ids through each of `pairs`; nothing when
/// the corpus is absent (a failure under CI).
pub fn assert_corpus_exact(name: &str, pairs: &[&Pair]) {
    let Some(lines) = corpus_lines(name) else {
        return;
    };
    assert!(lines.len() > 1000, "{name}: only {} lines", lines.len());
    assert_lines_exact(name, &lines, pairs);
}
