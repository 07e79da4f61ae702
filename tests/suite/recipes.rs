//! The recipes beyond BERT's on real Wikipedia text: ALBERT's sentence order (`--objective
//! sop`) and SpanBERT's spans (`--mask-spans`), each checked for its statistics and invariants.

use std::collections::HashMap;

use bertprep::output::manifest::Manifest;
use bertprep::shard::{read_shard, ShardRow};
use bertprep::tokenize::Tokenizer;

use crate::util::*;

/// The row's ids with every prediction put back to its original.
fn originals(row: &ShardRow) -> Vec<u32> {
    let n = row.num_tokens as usize;
    row.input_ids[..n]
        .iter()
        .zip(&row.labels)
        .map(|(&id, &label)| if label >= 0 { label as u32 } else { id as u32 })
        .collect()
}

/// Every input file's text as token ids, in order (the `<doc>` tag lines left out), with an
/// index from each run of three ids to where it starts.
struct Encoded {
    ids: Vec<u32>,
    trigrams: HashMap<[u32; 3], Vec<usize>>,
}

impl Encoded {
    fn new(manifest: &Manifest, tokenizer: &Tokenizer) -> Encoded {
        let mut ids = Vec::new();
        for input in &manifest.inputs {
            let text = std::fs::read_to_string(&input.path).unwrap();
            for line in text
                .lines()
                .filter(|l| !l.starts_with("<doc") && *l != "</doc>")
            {
                ids.extend(tokenizer.encode(line).unwrap());
            }
        }
        let mut trigrams: HashMap<[u32; 3], Vec<usize>> = HashMap::new();
        for (i, w) in ids.windows(3).enumerate() {
            trigrams.entry([w[0], w[1], w[2]]).or_default().push(i);
        }
        Encoded { ids, trigrams }
    }

    /// Where `part` occurs as a contiguous run of the text.
    fn occurrences(&self, part: &[u32]) -> Vec<usize> {
        let key = [part[0], part[1], part[2]];
        self.trigrams
            .get(&key)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| self.ids.get(i..i + part.len()) == Some(part))
            .collect()
    }

    /// Whether `first` and then `second` occur in the text in that order, with at most `gap`
    /// tokens between them (what truncation cut from the end of one and the start of the other).
    fn in_order(&self, first: &[u32], second: &[u32], gap: usize) -> bool {
        let seconds = self.occurrences(second);
        self.occurrences(first).iter().any(|&p| {
            let end = p + first.len();
            seconds.iter().any(|&q| q >= end && q - end <= gap)
        })
    }
}

#[test]
fn sop_pairs_are_consecutive_and_swapped_half_the_time() {
    let flags = [
        "--max-seq-len",
        "128",
        "--objective",
        "sop",
        "--dupe-factor",
        "8",
    ];
    let Some(out) = build_shared_wiki("enwiki-2019-small", &flags) else {
        return;
    };
    let manifest = Manifest::read(out.path()).unwrap();
    let tokenizer = Tokenizer::embedded().unwrap();
    let text = Encoded::new(&manifest, &tokenizer);
    let (mut rows, mut swapped, mut checked) = (0u64, 0u64, 0u64);
    for shard in &manifest.shards {
        let path = out.path().join(&shard.file);
        let file = std::fs::File::open(&path).unwrap();
        let schema = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .schema()
            .clone();
        assert!(schema.field_with_name("sentence_order_label").is_ok());
        assert!(schema.field_with_name("next_sentence_label").is_err());
        for row in read_shard(&path).unwrap().rows {
            assert_row_invariants(&row, tokenizer.specials(), 128);
            rows += 1;
            swapped += row.next_sentence_label as u64;
            let ids = originals(&row);
            let a_end = row.token_type_ids.iter().position(|&t| t == 1).unwrap();
            let (a, b) = (&ids[1..a_end - 1], &ids[a_end..ids.len() - 1]);
            let (first, second) = if row.next_sentence_label == 1 {
                (b, a)
            } else {
                (a, b)
            };
            // Both halves of every pair of the first pass, in document order: the text of one
            // document, `second` after `first`.
            if first.len() >= 3 && second.len() >= 3 && checked < 3_000 {
                assert!(
                    text.in_order(first, second, 4_000),
                    "row {rows}: not consecutive text in order:\n{}\n---\n{}",
                    tokenizer.decode(first).unwrap(),
                    tokenizer.decode(second).unwrap()
                );
                checked += 1;
            }
        }
    }
    assert!(rows >= 20_000, "only {rows} rows");
    assert_eq!(manifest.counters.swapped, swapped);
    assert_eq!(manifest.counters.random_next, 0);
    let share = swapped as f64 / rows as f64;
    eprintln!("{rows} SOP rows, swapped {share:.4}; {checked} pairs found in order in the text");
    assert!((share - 0.5).abs() <= 0.01, "swapped share {share}");
    assert_eq!(checked, 3_000);
    let check = bertprep(&["inspect", &out.path().display().to_string(), "--check"]);
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("sentence order   swapped"), "{report}");
}

#[test]
fn spans_on_wikipedia_follow_spanbert() {
    // At 30% of 128 tokens the budget cuts more spans short than at 15% of 512. The default
    // prediction cap follows the rate: 77 at 512 and 15%, 38 at 128 and 30%.
    for (len, prob, lowest, cap) in [("512", "0.15", 3.55, 77), ("128", "0.3", 3.35, 38)] {
        let flags = [
            "--max-seq-len",
            len,
            "--mask-spans",
            "--masked-lm-prob",
            prob,
        ];
        let Some(out) = build_shared_wiki("enwiki-2019-small", &flags) else {
            return;
        };
        let manifest = Manifest::read(out.path()).unwrap();
        assert_eq!(manifest.config.max_predictions, cap);
        let c = &manifest.counters;
        let mean = c.mask_span_words as f64 / c.mask_spans as f64;
        let per_span = c.masked as f64 / c.mask_spans as f64;
        eprintln!(
            "--max-seq-len {len} --masked-lm-prob {prob}: {} spans, mean {mean:.3} words, \
             {per_span:.3} tokens",
            c.mask_spans
        );
        // SpanBERT draws lengths of mean 3.8 words; a span stopped on both sides (a segment's
        // ends, words already taken) or by the prediction budget comes out shorter.
        assert!((lowest..=3.8).contains(&mean), "mean span {mean} words");
        assert!(
            per_span > mean,
            "WordPiece spans hold more tokens than words"
        );
        let check = bertprep(&["inspect", &out.path().display().to_string(), "--check"]);
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
        // The prediction count is exact (every word here is short enough to fit).
        let expected: u64 = manifest
            .shards
            .iter()
            .flat_map(|s| read_shard(&out.path().join(&s.file)).unwrap().rows)
            .map(|r| {
                let want = (r.num_tokens as f64 * prob.parse::<f64>().unwrap()).round_ties_even();
                (want as u64).clamp(1, manifest.config.max_predictions as u64)
            })
            .sum();
        let ratio = c.masked as f64 / expected as f64;
        assert!(
            ratio > 0.995 && ratio <= 1.0,
            "masked {} of {expected}",
            c.masked
        );
    }
}
