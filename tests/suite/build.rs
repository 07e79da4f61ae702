//! `bertprep build` through the real binary.

use std::io::Write;
use std::path::Path;

use bertprep::output::manifest::Manifest;
use bertprep::shard::read_shard;
use bertprep::tokenize::{SpecialTokens, Tokenizer};

use crate::util::*;

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    file_names(dir)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

#[test]
fn fixtures_build_end_to_end() {
    let out = tempfile::tempdir().unwrap();
    build_ok(&fixtures(), out.path(), &["--max-seq-len", "128"]);
    let names = file_names(out.path());
    assert!(names.contains(&"manifest.json".to_string()));
    assert!(names.contains(&"tokenizer.json".to_string()));
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");

    let manifest = Manifest::read(out.path()).unwrap();
    assert_eq!(manifest.config.max_seq_len, 128);
    assert_eq!(manifest.config.max_predictions, 19);
    assert_eq!(manifest.inputs.len(), 4);
    let c = &manifest.counters;
    assert!(c.empty_documents >= 2, "{c:?}");
    assert!(c.instances > 50, "{c:?}");

    // Row counts agree with the manifest, rows hold every invariant.
    let mut rows = Vec::new();
    for shard in &manifest.shards {
        let contents = read_shard(&out.path().join(&shard.file)).unwrap();
        assert_eq!(contents.rows.len() as u64, shard.rows);
        rows.extend(contents.rows);
    }
    assert_eq!(rows.len() as u64, c.instances);
    let per_input: u64 = manifest.inputs.iter().map(|i| i.instances).sum();
    assert_eq!(per_input, c.instances);
    let mut predictions = 0;
    for row in &rows {
        predictions += assert_row_invariants(row, SpecialTokens::BERT, 128);
    }
    assert_eq!(predictions as u64, c.masked);
    let random = rows.iter().filter(|r| r.next_sentence_label == 1).count();
    assert_eq!(random as u64, c.random_next);
    let tokens: u64 = rows.iter().map(|r| r.num_tokens as u64).sum();
    assert_eq!(tokens, c.tokens);

    // Decode one instance back to text with the tokenizer written beside the shards, and
    // find its actual-next text in the fixture corpus.
    let tok = Tokenizer::from_json_file(&out.path().join("tokenizer.json")).unwrap();
    assert_eq!(tok.sha256(), manifest.tokenizer.sha256);
    let row = rows.iter().find(|r| r.next_sentence_label == 0).unwrap();
    let original: Vec<u32> = row
        .input_ids
        .iter()
        .zip(&row.labels)
        .take(row.num_tokens as usize)
        .map(|(&id, &label)| if label >= 0 { label as u32 } else { id as u32 })
        .collect();
    let text = tok.decode(&original).unwrap();
    assert!(
        text.starts_with("[CLS] ") && text.ends_with(" [SEP]"),
        "{text}"
    );
    let first_sep = original.iter().position(|&t| t == 102).unwrap();
    let segment_a = tok.decode(&original[1..first_sep]).unwrap();
    let words: Vec<&str> = segment_a
        .split_whitespace()
        .filter(|w| w.len() > 3)
        .collect();
    assert!(!words.is_empty(), "{segment_a}");
    let corpus = [
        "wiki/AA/wiki_00",
        "wiki/AA/wiki_01",
        "jsonl/docs.jsonl",
        "text/sample.txt",
    ]
    .iter()
    .map(|f| {
        std::fs::read_to_string(fixtures().join(f))
            .unwrap()
            .to_lowercase()
    })
    .collect::<String>();
    let found = words
        .iter()
        .filter(|w| corpus.contains(&w.to_lowercase()))
        .count();
    assert!(
        found * 10 >= words.len() * 8,
        "decoded words not in corpus: {segment_a}"
    );
}

#[test]
fn output_is_identical_across_runs_and_thread_counts() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let flags = [
        "--max-seq-len",
        "64",
        "--dupe-factor",
        "2",
        "--rows-per-shard",
        "40",
    ];
    let mut f1 = flags.to_vec();
    f1.extend(["--threads", "1"]);
    let mut f2 = flags.to_vec();
    f2.extend(["--threads", "2"]);
    build_ok(&fixtures(), one.path(), &f1);
    build_ok(&fixtures(), two.path(), &f2);
    let a = read_all(one.path());
    let b = read_all(two.path());
    assert!(
        a.len() >= 5,
        "expected several shards: {:?}",
        file_names(one.path())
    );
    assert_eq!(
        a.iter().map(|x| &x.0).collect::<Vec<_>>(),
        b.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between --threads 1 and --threads 2");
    }
    // A different seed changes the shards.
    let other = tempfile::tempdir().unwrap();
    let mut f3 = f1.clone();
    f3.extend(["--seed", "7"]);
    build_ok(&fixtures(), other.path(), &f3);
    let c = std::fs::read(other.path().join("shard-0000.parquet")).unwrap();
    assert_ne!(c, a.iter().find(|x| x.0 == "shard-0000.parquet").unwrap().1);
}

#[test]
fn compressed_inputs_give_the_same_shards() {
    let plain = std::fs::read(fixtures().join("wiki/AA/wiki_00")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&plain).unwrap();
    let variants = [
        ("wiki_00", plain.clone()),
        ("wiki_00.gz", gz.finish().unwrap()),
        ("wiki_00.zst", zstd::encode_all(&plain[..], 3).unwrap()),
        ("wiki_00.bz2", bz.finish().unwrap()),
    ];
    let mut shards = Vec::new();
    for (name, bytes) in variants {
        let input = tempfile::tempdir().unwrap();
        std::fs::write(input.path().join(name), bytes).unwrap();
        let out = tempfile::tempdir().unwrap();
        build_ok(input.path(), out.path(), &["--max-seq-len", "128"]);
        let manifest = Manifest::read(out.path()).unwrap();
        assert_eq!(manifest.inputs[0].text_bytes, plain.len() as u64, "{name}");
        shards.push(std::fs::read(out.path().join("shard-0000.parquet")).unwrap());
    }
    assert!(shards.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn presplit_and_jsonl_inputs() {
    let out = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures().join("text/sample.txt"),
        out.path(),
        &["--presplit", "--format", "text", "--max-seq-len", "64"],
    );
    let m = Manifest::read(out.path()).unwrap();
    let lines = std::fs::read_to_string(fixtures().join("text/sample.txt")).unwrap();
    let sentences = lines.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(m.counters.sentences, sentences as u64);
    assert!(m.counters.instances > 0);

    let out = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures().join("jsonl"),
        out.path(),
        &["--max-seq-len", "64"],
    );
    let m = Manifest::read(out.path()).unwrap();
    assert_eq!(m.inputs[0].format, bertprep::input::Format::Jsonl);
    assert!(m.counters.instances > 0);
}

#[test]
fn whole_word_masking_masks_whole_words() {
    let out = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures(),
        out.path(),
        &["--max-seq-len", "128", "--whole-word-mask"],
    );
    let tok = Tokenizer::from_json_file(&out.path().join("tokenizer.json")).unwrap();
    let contents = read_shard(&out.path().join("shard-0000.parquet")).unwrap();
    let mut pieces_checked = 0;
    for row in &contents.rows {
        assert_row_invariants(row, SpecialTokens::BERT, 128);
        for i in 1..row.num_tokens as usize {
            let original = if row.labels[i] >= 0 {
                row.labels[i]
            } else {
                row.input_ids[i]
            } as u32;
            // A segment whose start was truncated away may begin with a ## piece.
            let after_special = [101, 102].contains(&row.input_ids[i - 1]);
            if tok.is_continuation(original) && !after_special {
                // A ## piece is predicted exactly when the piece before it is.
                assert_eq!(
                    row.labels[i] >= 0,
                    row.labels[i - 1] >= 0,
                    "row split a word at {i}"
                );
                pieces_checked += 1;
            }
        }
    }
    assert!(pieces_checked > 100);
}

#[test]
fn whole_word_masking_masks_whole_words_of_byte_level_and_metaspace_tokenizers() {
    // Word starts: `Ġ` (byte-level BPE), `▁` (Unigram with Metaspace); one test per kind.
    for kind in ["bpe", "unigram"] {
        let out = tempfile::tempdir().unwrap();
        let path = fixture_tokenizer(kind);
        build_ok(
            &fixtures(),
            out.path(),
            &[
                "--tokenizer",
                path.to_str().unwrap(),
                "--max-seq-len",
                "128",
                "--whole-word-mask",
            ],
        );
        let tok = Tokenizer::from_json_file(&path).unwrap();
        let checked = assert_whole_words(&out.path().join("shard-0000.parquet"), &tok);
        assert!(
            checked > 50,
            "{kind}: only {checked} pieces of predicted words"
        );
    }
}

#[test]
fn invalid_utf8_fails_naming_the_file_and_writes_no_shard() {
    let input = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("wiki/AA/wiki_00"),
        input.path().join("a_good"),
    )
    .unwrap();
    let mut bad = std::fs::read(fixtures().join("wiki/AA/wiki_01")).unwrap();
    bad.splice(100..100, [0xff, 0xfe]);
    std::fs::write(input.path().join("b_bad"), bad).unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = bertprep(&[
        "build",
        "--in",
        input.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("b_bad") && stderr.contains("byte offset 100"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let names = file_names(out.path());
    assert!(!names.contains(&"manifest.json".to_string()), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with("shard-") && !n.ends_with(".tmp")),
        "{names:?}"
    );
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases: Vec<(&str, Vec<u8>, Vec<&str>, &str)> = vec![
        (
            "stray.txt",
            b"<doc id=\"1\">\nx\n</doc>\nstray text\n".to_vec(),
            vec!["--format", "wiki"],
            "stray.txt:4",
        ),
        (
            "bad.jsonl",
            b"{\"text\": \"ok\"}\n{\"body\": 1}\n".to_vec(),
            vec![],
            "bad.jsonl:2",
        ),
        (
            "cut.gz",
            vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2],
            vec![],
            "cut.gz",
        ),
    ];
    for (name, bytes, extra, expect) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let mut args = vec![
            "build",
            "--in",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let output = bertprep(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(expect), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.join("manifest.json").exists());
    }
    let output = bertprep(&[
        "build",
        "--in",
        "/no/such/dir",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/such/dir"));
    let output = bertprep(&[
        "build",
        "--in",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-seq-len",
        "4",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--max-seq-len"));
}

#[test]
fn existing_build_is_refused_unless_overwrite() {
    let out = tempfile::tempdir().unwrap();
    let input = fixtures().join("wiki/AA/wiki_00");
    build_ok(&input, out.path(), &["--max-seq-len", "64"]);
    let output = bertprep(&[
        "build",
        "--in",
        input.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--overwrite"));
    build_ok(&input, out.path(), &["--max-seq-len", "128", "--overwrite"]);
    assert_eq!(Manifest::read(out.path()).unwrap().config.max_seq_len, 128);
}
