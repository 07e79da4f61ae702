//! `bertprep vocab`: vocabularies trained on a corpus, reproducible, used by `build`, and the
//! same as the Python `tokenizers` package trains from the same sentences.

use std::process::Command;

use bertprep::tokenize::Tokenizer;

use crate::util::*;

fn vocab_ok(args: &[&str]) -> String {
    let run = bertprep(&[&["vocab"], args].concat());
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "vocab {args:?}: {stderr}");
    stderr
}

#[test]
fn a_trained_wordpiece_vocabulary_is_reproducible_and_builds_shards() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixtures().display().to_string();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let said = vocab_ok(&[
            "--in",
            &input,
            "--out",
            out.to_str().unwrap(),
            "--vocab-size",
            "400",
        ]);
        assert!(
            said.contains("trained a vocabulary of 400 entries"),
            "{said}"
        );
    }
    let json = std::fs::read(a.join("tokenizer.json")).unwrap();
    assert_eq!(json, std::fs::read(b.join("tokenizer.json")).unwrap());
    // Byte-level BPE as well, on one thread or several.
    let (c, d) = (dir.path().join("c"), dir.path().join("d"));
    for (out, threads) in [(&c, "1"), (&d, "3")] {
        let run = Command::new(env!("CARGO_BIN_EXE_bertprep"))
            .args(["vocab", "--in", &input, "--out", out.to_str().unwrap()])
            .args(["--model", "bpe", "--vocab-size", "500"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(run.status.success());
    }
    assert_eq!(
        std::fs::read(c.join("tokenizer.json")).unwrap(),
        std::fs::read(d.join("tokenizer.json")).unwrap()
    );
    // BERT's specials first, vocab.txt in id order.
    let vocab = std::fs::read_to_string(a.join("vocab.txt")).unwrap();
    let lines: Vec<&str> = vocab.lines().collect();
    assert_eq!(lines.len(), 400);
    assert_eq!(lines[..5], ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
    assert!(lines.iter().any(|l| l.starts_with("##")));
    let tokenizer = Tokenizer::from_json_file(&a.join("tokenizer.json")).unwrap();
    assert_eq!(tokenizer.vocab_size(), 400);
    // The two files say the same vocabulary: vocab.txt loads to the same ids.
    let from_txt = Tokenizer::bert(&vocab, true, "vocab.txt").unwrap();
    let text = "The abbey church was rebuilt in stone.";
    assert_eq!(
        tokenizer.encode(text).unwrap(),
        from_txt.encode(text).unwrap()
    );
    // And the build takes it as it is.
    let shards = dir.path().join("shards");
    let tok = a.join("tokenizer.json").display().to_string();
    build_ok(
        &fixtures(),
        &shards,
        &["--tokenizer", &tok, "--max-seq-len", "64"],
    );
    let check = bertprep(&["inspect", shards.to_str().unwrap(), "--check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn vocab_refuses_what_it_cannot_do_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.display().to_string();
    let input = fixtures().display().to_string();
    let missing = dir.path().join("missing").display().to_string();
    for (args, says) in [
        (vec!["--in", &missing, "--out", &out_s], "missing"),
        (
            vec!["--in", &input, "--out", &out_s, "--model", "sentencepiece"],
            "expected wordpiece",
        ),
        (
            vec!["--in", &input, "--out", &out_s, "--special-tokens", "cls"],
            "role=token",
        ),
        (
            vec!["--in", &input, "--out", &out_s, "--vocab-size", "3"],
            "at least 10",
        ),
    ] {
        let run = bertprep(&[&["vocab"], &args[..]].concat());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            !run.status.success() && stderr.contains(says),
            "{args:?}: {stderr}"
        );
        assert!(!out.join("tokenizer.json").exists());
    }
    vocab_ok(&["--in", &input, "--out", &out_s, "--vocab-size", "300"]);
    let again = bertprep(&[
        "vocab",
        "--in",
        &input,
        "--out",
        &out_s,
        "--vocab-size",
        "300",
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
    vocab_ok(&[
        "--in",
        &input,
        "--out",
        &out_s,
        "--vocab-size",
        "300",
        "--overwrite",
    ]);
    // No temporary file is left.
    assert_eq!(file_names(&out), ["tokenizer.json", "vocab.txt"]);
}

#[test]
fn the_python_tokenizers_package_trains_the_same_vocabularies() {
    if !python_ready(&["tokenizers, transformers"], "tokenizers transformers") {
        return;
    }
    let Some(corpus) = shared_corpus("enwiki-2019-small") else {
        return;
    };
    let corpus = corpus.join("wiki");
    for model in ["wordpiece", "bpe", "unigram"] {
        let out = tempfile::tempdir().unwrap();
        let run = Command::new("python3")
            .arg(root().join("scripts/compare_vocab.py"))
            .arg(env!("CARGO_BIN_EXE_bertprep"))
            .arg(&corpus)
            .args([model, "4000"])
            .arg(out.path())
            .env("TF_CPP_MIN_LOG_LEVEL", "3")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{model}: {stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        eprintln!("{stdout}");
        if model == "bpe" {
            // No ties broken by hash order in byte-level BPE: the very same ids.
            assert!(stdout.contains("same ids True"), "{stdout}");
        }
    }
}

#[test]
fn byte_level_and_unigram_vocabularies_build_with_their_roles_and_word_starts() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixtures().display().to_string();
    for (model, roles) in [
        ("bpe", ["<pad>", "<unk>", "<s>", "</s>", "<mask>"]),
        ("unigram", ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]),
    ] {
        let vocab = dir.path().join(model);
        vocab_ok(&[
            "--in",
            &input,
            "--out",
            vocab.to_str().unwrap(),
            "--model",
            model,
        ]);
        let tok_path = vocab.join("tokenizer.json");
        let tokenizer = Tokenizer::from_json_file(&tok_path).unwrap();
        let sp = tokenizer.specials();
        let id = |t: &str| tokenizer.crate_tokenizer().token_to_id(t).unwrap();
        assert_eq!(
            [sp.pad, sp.unk, sp.cls, sp.sep, sp.mask],
            roles.map(id),
            "{model}: roles from the post-processor and spellings"
        );
        // Words start with the pre-tokeniser's marker; other pieces continue them.
        let marker = if model == "bpe" { 'Ġ' } else { '▁' };
        let encoded = tokenizer
            .encode("Counts made in 2015 recorded kittiwakes.")
            .unwrap();
        for &t in &encoded {
            let token = tokenizer.id_to_token(t).unwrap();
            assert_eq!(
                tokenizer.is_continuation(t),
                !token.starts_with(marker),
                "{token}"
            );
        }
        let shards = dir.path().join(format!("{model}-shards"));
        let tok = tok_path.display().to_string();
        let flags = [
            "--tokenizer",
            &tok,
            "--max-seq-len",
            "64",
            "--objective",
            "none",
        ];
        build_ok(
            &fixtures(),
            &shards,
            &[&flags[..], &["--whole-word-mask"]].concat(),
        );
        let manifest = bertprep::output::manifest::Manifest::read(&shards).unwrap();
        assert_eq!(manifest.tokenizer.special_tokens, sp);
        let check = bertprep(&["inspect", shards.to_str().unwrap(), "--check"]);
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
        // Rows decode as text, predictions as decoded pieces, not as vocabulary spellings.
        let shard = shards.join("shard-0000.parquet");
        let shown = bertprep(&["inspect", shard.to_str().unwrap(), "--rows", "3"]);
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.contains("[MASK→"), "{model}: {shown}");
        for spelled in ["→Ġ", "→▁", "kept Ġ", "kept ▁"] {
            assert!(
                !shown.contains(spelled),
                "{model} shows {spelled:?}: {shown}"
            );
        }
    }
    // Pairs follow the post-processor: RoBERTa's `<s> A </s></s> B </s>`, one segment id.
    let tok = dir.path().join("bpe/tokenizer.json").display().to_string();
    let pairs = dir.path().join("pairs");
    build_ok(
        &fixtures(),
        &pairs,
        &["--tokenizer", &tok, "--max-seq-len", "64"],
    );
    let check = bertprep(&["inspect", pairs.to_str().unwrap(), "--check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let bpe = Tokenizer::from_json_file(&dir.path().join("bpe/tokenizer.json")).unwrap();
    let sep = bpe.specials().sep as i32;
    let rows = bertprep::shard::read_shard(&pairs.join("shard-0000.parquet"))
        .unwrap()
        .rows;
    for row in &rows {
        let n = row.num_tokens as usize;
        let seps: Vec<usize> = (0..n).filter(|&i| row.input_ids[i] == sep).collect();
        assert_eq!(seps.len(), 3, "{:?}", &row.input_ids[..n]);
        assert_eq!((seps[1], seps[2]), (seps[0] + 1, n - 1));
        assert!(row.token_type_ids.iter().all(|&t| t == 0));
    }
    // BERT trainers' formats say why they cannot take it.
    let export = bertprep(&[
        "export",
        pairs.to_str().unwrap(),
        "--to",
        "hdf5",
        "--out",
        dir.path().join("h5").to_str().unwrap(),
    ]);
    assert!(!export.status.success());
    assert!(String::from_utf8_lossy(&export.stderr).contains("RoBERTa's layout"));
    let input = fixtures().display().to_string();
    // A role named on the command line wins; one the vocabulary lacks is named in the error.
    let named = dir.path().join("named").display().to_string();
    let run = bertprep(&[
        "build",
        "--in",
        &input,
        "--out",
        &named,
        "--tokenizer",
        &tok,
        "--objective",
        "none",
        "--special-tokens",
        "mask=<nope>",
    ]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("mask=<nope>"));
}
