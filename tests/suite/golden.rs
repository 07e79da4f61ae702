//! Token ids equal those of `transformers`' `BertTokenizerFast` on the same vocabulary.
//!
//! `tests/golden/tokenizer_uncased.jsonl` was made by `scripts/make_tokenizer_golden.py`.

use bertprep::tokenize::Tokenizer;

use crate::util::root;

#[derive(serde::Deserialize)]
struct Golden {
    text: String,
    ids: Vec<u32>,
}

#[test]
fn embedded_tokenizer_matches_transformers() {
    let path = root().join("tests/golden/tokenizer_uncased.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let tok = Tokenizer::embedded().unwrap();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let golden: Golden = serde_json::from_str(line).unwrap();
        let ids = tok.encode(&golden.text).unwrap();
        if ids != golden.ids {
            mismatches.push(format!(
                "{:?}: ours {:?}, transformers {:?}",
                golden.text, ids, golden.ids
            ));
        }
        checked += 1;
    }
    assert!(checked >= 300, "only {checked} golden sentences");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
