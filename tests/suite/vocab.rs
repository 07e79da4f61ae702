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

/// The `tokenizer.json` in `dir`, parsed.
fn json_in(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("tokenizer.json")).unwrap()).unwrap()
}

#[test]
fn unigram_vocabularies_are_reproducible_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixtures().display().to_string();
    let runs = [("a", "1"), ("b", "1"), ("c", "2"), ("d", "3")];
    for (name, threads) in runs {
        let out = dir.path().join(name);
        let run = Command::new(env!("CARGO_BIN_EXE_bertprep"))
            .args(["vocab", "--in", &input, "--out", out.to_str().unwrap()])
            .args(["--model", "unigram", "--vocab-size", "600"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let first = std::fs::read(dir.path().join("a/tokenizer.json")).unwrap();
    for (name, threads) in &runs[1..] {
        let other = std::fs::read(dir.path().join(name).join("tokenizer.json")).unwrap();
        assert!(first == other, "unigram on {threads} threads differs");
    }
}

#[test]
fn vocab_defaults_follow_the_model_and_its_flags_apply() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixtures().display().to_string();
    let out = |name: &str| dir.path().join(name).display().to_string();
    // RoBERTa's size for bpe (the fixtures run out of merges well before it), BERT's otherwise.
    let said = vocab_ok(&["--in", &input, "--out", &out("bpe"), "--model", "bpe"]);
    assert!(said.contains("(--vocab-size 50265)"), "{said}");
    let said = vocab_ok(&["--in", &input, "--out", &out("wp")]);
    assert!(said.contains("(--vocab-size 30522)"), "{said}");
    // RoBERTa's `<mask>` takes the space before it; the other specials do not.
    let bpe = json_in(&dir.path().join("bpe"));
    let added = bpe["added_tokens"].as_array().unwrap();
    assert_eq!(added.len(), 5);
    for token in added {
        let mask = token["content"] == "<mask>";
        assert_eq!(token["lstrip"], mask, "{token}");
        assert_eq!(token["rstrip"], false, "{token}");
        assert_eq!(token["normalized"], false, "{token}");
        assert_eq!(token["special"], true, "{token}");
    }
    let tok = Tokenizer::from_json_file(&dir.path().join("bpe/tokenizer.json")).unwrap();
    let mask = tok.specials().mask;
    let mut the = tok.encode("the").unwrap();
    the.push(mask);
    assert_eq!(tok.encode("the <mask>").unwrap(), the);
    assert_eq!(tok.encode("the  <mask>").unwrap(), the);
    // Uncased by default; --cased keeps case and accents.
    let uncased = std::fs::read_to_string(dir.path().join("wp/vocab.txt")).unwrap();
    let upper = |vocab: &str| {
        vocab
            .lines()
            .skip(5)
            .filter(|t| t.chars().any(char::is_uppercase))
            .count()
    };
    assert_eq!(upper(&uncased), 0);
    vocab_ok(&[
        "--in",
        &input,
        "--out",
        &out("cased"),
        "--cased",
        "--vocab-size",
        "600",
    ]);
    let cased = std::fs::read_to_string(dir.path().join("cased/vocab.txt")).unwrap();
    assert!(upper(&cased) > 20, "{cased}");
    assert_eq!(
        json_in(&dir.path().join("cased"))["normalizer"]["lowercase"],
        false
    );
    let tok = Tokenizer::from_json_file(&dir.path().join("cased/tokenizer.json")).unwrap();
    let ids = tok.encode("The Abbey").unwrap();
    assert_eq!(tok.decode(&ids).unwrap(), "The Abbey");
    // Respelled roles keep the model's ids and layout.
    vocab_ok(&[
        "--in",
        &input,
        "--out",
        &out("named"),
        "--vocab-size",
        "300",
        "--special-tokens",
        "cls=<cls>,mask=<msk>",
    ]);
    let vocab = std::fs::read_to_string(dir.path().join("named/vocab.txt")).unwrap();
    let first: Vec<&str> = vocab.lines().take(5).collect();
    assert_eq!(first, ["[PAD]", "[UNK]", "<cls>", "[SEP]", "<msk>"]);
    let named = json_in(&dir.path().join("named"));
    assert_eq!(named["post_processor"]["cls"][0], "<cls>");
    // CLS is found from the post-processor; a mask spelled `<msk>` is named to the build.
    let named_json = dir.path().join("named/tokenizer.json");
    let err = Tokenizer::from_json_file(&named_json)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no mask token"), "{err}");
    let shards = dir.path().join("named-shards");
    build_ok(
        &fixtures(),
        &shards,
        &[
            "--tokenizer",
            named_json.to_str().unwrap(),
            "--special-tokens",
            "mask=<msk>",
            "--objective",
            "none",
            "--max-seq-len",
            "64",
        ],
    );
    let sp = bertprep::output::manifest::Manifest::read(&shards)
        .unwrap()
        .tokenizer
        .special_tokens;
    assert_eq!((sp.pad, sp.unk, sp.cls, sp.sep, sp.mask), (0, 1, 2, 3, 4));
    // A higher --min-frequency learns fewer merges.
    let sizes: Vec<usize> = ["2", "20"]
        .iter()
        .map(|freq| {
            let name = format!("freq{freq}");
            let said = vocab_ok(&[
                "--in",
                &input,
                "--out",
                &out(&name),
                "--vocab-size",
                "3000",
                "--min-frequency",
                freq,
            ]);
            let tok = Tokenizer::from_json_file(&dir.path().join(name).join("tokenizer.json"));
            let size = tok.unwrap().vocab_size();
            assert!(said.contains(&format!("of {size} entries")), "{said}");
            size
        })
        .collect();
    assert!(sizes[1] + 100 < sizes[0], "{sizes:?}");
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

/// Runs `compare_vocab.py --diff OURS THEIRS MODEL`: its exit status and output.
fn compare_files(ours: &std::path::Path, theirs: &std::path::Path, model: &str) -> (bool, String) {
    let run = Command::new("python3")
        .arg(root().join("scripts/compare_vocab.py"))
        .arg("--diff")
        .args([ours, theirs])
        .arg(model)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("Traceback"), "{stdout}{stderr}");
    (run.status.success(), stdout)
}

#[test]
fn the_comparison_script_lists_every_difference_and_holds_to_its_tolerance() {
    if !python_ready(&["json"], "python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = fixtures().display().to_string();
    let ours = dir.path().join("wp");
    let size = 1000;
    vocab_ok(&[
        "--in",
        &input,
        "--out",
        ours.to_str().unwrap(),
        "--vocab-size",
        &size.to_string(),
    ]);
    let ours = ours.join("tokenizer.json");
    let json = json_in(ours.parent().unwrap());
    let vocab = json["model"]["vocab"].as_object().unwrap().clone();
    let by_id = |id: u64| {
        vocab
            .iter()
            .find(|(_, v)| v.as_u64() == Some(id))
            .unwrap()
            .0
            .clone()
    };
    // Their vocabulary, edited: `edit` gets token -> id.
    let theirs = |name: &str, edit: &dyn Fn(&mut serde_json::Map<String, serde_json::Value>)| {
        let mut other = json.clone();
        edit(other["model"]["vocab"].as_object_mut().unwrap());
        let path = dir.path().join(name);
        std::fs::write(&path, other.to_string()).unwrap();
        path
    };
    // The same file: nothing to list.
    let (ok, said) = compare_files(&ours, &ours, "wordpiece");
    assert!(ok && said.contains("same ids True"), "{said}");
    // The last token learned differs (a tie at the size limit): listed, within tolerance.
    let last = by_id(size - 1);
    let tied = theirs("tied.json", &|v| {
        let id = v.remove(&last).unwrap();
        v.insert("zzqx".into(), id);
    });
    let (ok, said) = compare_files(&ours, &tied, "wordpiece");
    assert!(ok, "{said}");
    let listed = format!("'{last}'@{}", size - 1);
    assert!(
        said.contains("only in bertprep (1") && said.contains(&listed),
        "{said}"
    );
    assert!(
        said.contains("only in Python (1") && said.contains("'zzqx'"),
        "{said}"
    );
    // Two `##` characters swapped (hash order): listed as the alphabet, within tolerance.
    let chars: Vec<String> = vocab
        .keys()
        .filter(|t| t.starts_with("##") && t.chars().count() == 3)
        .take(2)
        .cloned()
        .collect();
    let swapped = theirs("swapped.json", &|v| {
        let (a, b) = (v[&chars[0]].clone(), v[&chars[1]].clone());
        v.insert(chars[0].clone(), b);
        v.insert(chars[1].clone(), a);
    });
    let (ok, said) = compare_files(&ours, &swapped, "wordpiece");
    assert!(ok && said.contains("alphabet (hash order) (2)"), "{said}");
    // Two words far apart swapped: an unexplained move, a failure naming both.
    let word_in = |ids: std::ops::Range<u64>| {
        vocab
            .iter()
            .find(|(t, id)| {
                t.len() > 3
                    && t.chars().all(char::is_alphabetic)
                    && id.as_u64().is_some_and(|i| ids.contains(&i))
            })
            .unwrap()
            .0
            .clone()
    };
    let words = [word_in(0..300), word_in(900..990)];
    let moved = theirs("moved.json", &|v| {
        let (a, b) = (v[&words[0]].clone(), v[&words[1]].clone());
        v.insert(words[0].clone(), b);
        v.insert(words[1].clone(), a);
    });
    let (ok, said) = compare_files(&ours, &moved, "wordpiece");
    assert!(!ok && said.contains("unexplained (2)"), "{said}");
    assert!(
        said.contains(&words[0]) && said.contains(&words[1]),
        "{said}"
    );
    // More than 1% of the tokens differ, or differ before the last ones: beyond tolerance.
    let many = theirs("many.json", &|v| {
        for id in size - 20..size {
            let id = v.remove(&by_id(id)).unwrap();
            v.insert(format!("zz{id}"), id);
        }
    });
    let (ok, said) = compare_files(&ours, &many, "wordpiece");
    assert!(
        !ok && said.contains("20 tokens only in bertprep, more than 10"),
        "{said}"
    );
    let early = theirs("early.json", &|v| {
        let id = v.remove(&words[0]).unwrap();
        v.insert("zzqx".into(), id);
    });
    let (ok, said) = compare_files(&ours, &early, "wordpiece");
    assert!(!ok && said.contains("before the last 10 ids"), "{said}");
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
