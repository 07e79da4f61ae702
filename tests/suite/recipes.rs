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

/// Token counts of `ids`, specials left out.
fn histogram(ids: impl Iterator<Item = u32>, specials: &[u32]) -> HashMap<u32, u64> {
    let mut counts = HashMap::new();
    for id in ids.filter(|id| !specials.contains(id)) {
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

#[test]
fn full_sentence_rows_hold_the_whole_corpus_unmasked_and_unpadded() {
    let flags = [
        "--objective",
        "none",
        "--masking",
        "dynamic",
        "--padding",
        "none",
    ];
    let Some(out) = build_shared_wiki("enwiki-2019-small", &flags) else {
        return;
    };
    let manifest = Manifest::read(out.path()).unwrap();
    let tokenizer = Tokenizer::embedded().unwrap();
    let sp = tokenizer.specials();
    // The corpus as the build sees it: `bertprep sentences`, one sentence per line.
    let corpus = shared_corpus("enwiki-2019-small").unwrap().join("wiki");
    let sentences = bertprep(&["sentences", &corpus.display().to_string()]);
    assert!(sentences.status.success());
    let mut text = Vec::new();
    for line in String::from_utf8(sentences.stdout).unwrap().lines() {
        text.extend(tokenizer.encode(line).unwrap());
    }
    let mut stored = Vec::new();
    let (mut rows, mut full, mut tokens) = (0u64, 0u64, 0u64);
    for shard in &manifest.shards {
        for row in read_shard(&out.path().join(&shard.file)).unwrap().rows {
            let n = row.num_tokens as usize;
            assert_eq!(
                row.input_ids.len(),
                n,
                "an unpadded row is stored at its length"
            );
            assert!(row.labels.is_empty() && row.next_sentence_label == -1);
            assert!(!row.input_ids.contains(&(sp.mask as i32)));
            assert_eq!((row.input_ids[0], row.input_ids[n - 1]), (101, 102));
            rows += 1;
            tokens += n as u64;
            full += u64::from(n * 100 >= 512 * 95);
            stored.extend(row.input_ids.iter().map(|&t| t as u32));
        }
    }
    // Every token of the text is in exactly one row: packing loses and repeats nothing.
    let skip = [sp.cls, sp.sep];
    assert_eq!(
        histogram(stored.into_iter(), &skip),
        histogram(text.into_iter(), &skip),
        "the rows' tokens differ from the corpus's"
    );
    let fill = tokens as f64 / (rows * 512) as f64;
    let full_share = full as f64 / rows as f64;
    eprintln!(
        "{rows} FULL-SENTENCES rows at 512: mean fill {fill:.4}, {full_share:.4} at least 95% full"
    );
    // Whole sentences do not split to fill a row exactly: rows are 95% full on average.
    assert!(fill >= 0.95, "mean fill {fill}");
    assert!(full_share >= 0.7, "rows at least 95% full: {full_share}");
    let check = bertprep(&["inspect", &out.path().display().to_string(), "--check"]);
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("masks are drawn in training"), "{report}");
    // DOC-SENTENCES: a row never holds a document boundary.
    let docs = tempfile::tempdir().unwrap();
    build_ok(
        &corpus,
        docs.path(),
        &[&flags[..], &["--no-cross-document"]].concat(),
    );
    for shard in &Manifest::read(docs.path()).unwrap().shards {
        for row in read_shard(&docs.path().join(&shard.file)).unwrap().rows {
            let seps = row
                .input_ids
                .iter()
                .filter(|&&t| t == sp.sep as i32)
                .count();
            assert_eq!(seps, 1, "a DOC-SENTENCES row crosses a document");
        }
    }
}

#[test]
fn transformers_trains_on_roberta_style_shards_as_they_are() {
    if !python_ready(
        &["datasets, transformers, torch"],
        "datasets transformers torch",
    ) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures(),
        out.path(),
        &[
            "--max-seq-len",
            "128",
            "--objective",
            "none",
            "--masking",
            "dynamic",
            "--padding",
            "none",
        ],
    );
    let output = std::process::Command::new("python3")
        .arg(root().join("scripts/check_recipes.py"))
        .arg(out.path())
        .env("TF_CPP_MIN_LOG_LEVEL", "3")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("ok: "),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{stdout}");
}

#[test]
fn recipe_flags_that_cannot_work_together_are_refused() {
    let out = tempfile::tempdir().unwrap();
    let input = fixtures().display().to_string();
    let dir = out.path().join("o").display().to_string();
    for (flags, says) in [
        (
            &["--masking", "dynamic", "--dupe-factor", "2"][..],
            "--dupe-factor 2",
        ),
        (
            &["--masking", "dynamic", "--mask-spans"][..],
            "--masking static",
        ),
        (&["--no-cross-document"][..], "--objective none"),
        (&["--objective", "mlm"][..], "expected nsp, sop or none"),
    ] {
        let run = bertprep(&[&["build", "--in", &input, "--out", &dir][..], flags].concat());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            !run.status.success() && stderr.contains(says),
            "{flags:?}: {stderr}"
        );
        assert!(!out.path().join("o").join("manifest.json").exists());
    }
}

#[test]
fn static_rows_without_a_pair_hold_their_invariants_at_thirty_percent() {
    let out = tempfile::tempdir().unwrap();
    let flags = [
        "--max-seq-len",
        "128",
        "--objective",
        "none",
        "--masked-lm-prob",
        "0.3",
    ];
    build_ok(&fixtures(), out.path(), &flags);
    let manifest = Manifest::read(out.path()).unwrap();
    assert_eq!(manifest.config.max_predictions, 38);
    for shard in &manifest.shards {
        for row in read_shard(&out.path().join(&shard.file)).unwrap().rows {
            assert_eq!(row.input_ids.len(), 128);
            assert!(row.token_type_ids.iter().all(|&t| t == 0));
            let n = row.num_tokens as usize;
            let predicted = row.labels.iter().filter(|&&l| l >= 0).count();
            let want = ((n as f64 * 0.3).round_ties_even() as usize).clamp(1, 38);
            assert!(
                predicted <= want && predicted + 2 >= want,
                "{predicted} of {want}"
            );
            // No prediction on [CLS] or any [SEP], the ones between documents included.
            for (i, &l) in row.labels.iter().enumerate() {
                if l >= 0 {
                    assert!(l != 101 && l != 102, "label {l} at {i}");
                }
            }
        }
    }
    let check = bertprep(&["inspect", &out.path().display().to_string(), "--check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
