//! `bertprep sentences` through the real binary: input reading like `build`, the output format
//! (one sentence per line, a blank line between documents), errors, a closed pipe, and the
//! round trip into `bertprep build --presplit --format text`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use bertprep::input::{self, Format};
use bertprep::output::manifest::Manifest;
use bertprep::segment::split;

use crate::util::*;

/// Runs `bertprep ARGS` with `stdin` as standard input.
fn with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bertprep");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    output
}

fn stdout_ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The documents of the output: blank-line separated groups of sentence lines.
fn documents(out: &str) -> Vec<Vec<&str>> {
    out.strip_suffix('\n')
        .unwrap_or(out)
        .split("\n\n")
        .filter(|d| !d.is_empty())
        .map(|d| d.split('\n').collect())
        .collect()
}

#[test]
fn stdin_text_to_one_sentence_per_line() {
    let text = "Dr. Smith arrived at 5 p.m. He left.\nA second paragraph!\n\n\nThe U.S. \
                Army won. 1. First 2. Second\n";
    for args in [
        &["sentences"][..],
        &["sentences", "-"],
        &["sentences", "--format", "text"],
    ] {
        let out = stdout_ok(&with_stdin(args, text.as_bytes()));
        assert_eq!(
            out,
            "Dr. Smith arrived at 5 p.m.\nHe left.\nA second paragraph!\n\n\
             The U.S. Army won.\n1. First\n2. Second\n",
            "{args:?}"
        );
    }
}

#[test]
fn stdin_format_is_detected_or_forced() {
    let jsonl = "{\"text\": \"One. Two.\"}\n{\"text\": \"Three.\"}\n";
    let out = stdout_ok(&with_stdin(&["sentences"], jsonl.as_bytes()));
    assert_eq!(out, "One.\nTwo.\n\nThree.\n");
    // Forced to text, the JSON lines are one document of two paragraphs.
    let out = stdout_ok(&with_stdin(
        &["sentences", "--format", "text", "-"],
        jsonl.as_bytes(),
    ));
    assert_eq!(documents(&out).len(), 1);
    assert!(out.starts_with("{\"text\": \"One."), "{out}");
    // Compressed standard input is undone like a compressed file.
    let zst = zstd::encode_all(jsonl.as_bytes(), 3).unwrap();
    let out = stdout_ok(&with_stdin(&["sentences"], &zst));
    assert_eq!(out, "One.\nTwo.\n\nThree.\n");
}

#[test]
fn paths_are_read_like_build() {
    let wiki = fixtures().join("wiki");
    let out = stdout_ok(&bertprep(&["sentences", wiki.to_str().unwrap()]));
    // The library's own reading and splitting of the same files, in the same order.
    let mut expected = Vec::new();
    for file in input::discover(std::slice::from_ref(&wiki)).unwrap() {
        for doc in input::read(&file.path, Format::Auto).unwrap().documents {
            let sentences: Vec<String> = split(&doc.text)
                .into_iter()
                .map(|r| doc.text[r].to_string())
                .collect();
            if !sentences.is_empty() {
                expected.push(sentences);
            }
        }
    }
    let got = documents(&out);
    assert!(got.len() >= 4, "{} documents", got.len());
    assert_eq!(got, expected);
    for line in out.lines() {
        assert_eq!(line, line.trim(), "untrimmed line {line:?}");
    }
    // Several paths, and `-` among them, keep their order.
    let text = fixtures().join("text/sample.txt");
    let both = stdout_ok(&with_stdin(
        &["sentences", text.to_str().unwrap(), "-"],
        b"From stdin. Two.\n",
    ));
    assert!(both.ends_with("\n\nFrom stdin.\nTwo.\n"), "{both}");
    let alone = stdout_ok(&bertprep(&["sentences", text.to_str().unwrap()]));
    assert!(both.starts_with(&alone));
}

#[test]
fn bad_input_fails_naming_it() {
    let missing = fixtures().join("no-such-file.txt");
    let output = bertprep(&["sentences", missing.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-file.txt"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = with_stdin(&["sentences"], b"fine text\n\xff\xfe broken\n");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("<stdin>") && stderr.contains("UTF-8"),
        "{stderr}"
    );

    let output = bertprep(&["sentences", "--format", "xml", "-"]);
    assert!(!output.status.success());
}

#[test]
fn closed_stdout_exits_quietly() {
    let big = "Alpha beta gamma. Delta epsilon zeta!\n".repeat(200_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(["sentences", "--format", "text", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || pipe.write_all(big.as_bytes()));
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"Alpha beta gamma.\n"));
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "exit {:?}", output.status);
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn output_feeds_build_presplit() {
    let dir = tempfile::tempdir().unwrap();
    let wiki = fixtures().join("wiki");
    let out = stdout_ok(&bertprep(&["sentences", wiki.to_str().unwrap()]));
    let listed = dir.path().join("sentences.txt");
    std::fs::write(&listed, &out).unwrap();

    let direct = dir.path().join("direct");
    build_ok(&wiki, &direct, &["--max-seq-len", "64"]);
    let presplit = dir.path().join("presplit");
    build_ok(
        &listed,
        &presplit,
        &["--max-seq-len", "64", "--presplit", "--format", "text"],
    );
    let direct = Manifest::read(&direct).unwrap().counters;
    let presplit = Manifest::read(Path::new(&presplit)).unwrap().counters;
    // The same documents and sentences, whether split by build or listed and read back.
    assert_eq!(presplit.documents, direct.documents);
    assert_eq!(presplit.sentences, direct.sentences);
    assert_eq!(
        presplit.sentences as usize,
        out.lines().filter(|l| !l.is_empty()).count()
    );
}

/// What `bertprep vocab` says it trained on: (sentences, documents).
fn vocab_read(args: &[&str], stdin: &[u8]) -> (u64, u64, String) {
    let output = with_stdin(args, stdin);
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{said}");
    let number = |after: &str| -> u64 {
        let at = said.find(after).unwrap_or_else(|| panic!("{said}")) + after.len();
        said[at..]
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{said}"))
    };
    (number(" on "), number(" sentences of "), said)
}

/// `vocab` and `sentences` take `build`'s input flags and read every input as `build` does:
/// compressed files, a MediaWiki dump, Parquet with `--text-column`, `--presplit`, standard
/// input, and `--on-error skip`; each gives `vocab` exactly the sentences `sentences` lists.
#[test]
fn vocab_and_sentences_read_every_input_like_build() {
    let Some(dumps) = shared_corpus("mediawiki") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sample = fixtures().join("text/sample.txt");
    let gz = d.join("sample.txt.gz");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -c {} > {}", sample.display(), gz.display()))
        .status()
        .unwrap();
    assert!(
        status.success(),
        "gzip is needed to make the compressed input"
    );
    let parquet = root().join("tests/fixtures/parquet/docs.parquet");
    let dump = dumps.join("bgwiki-sample.xml.bz2");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, Vec<u8>)> = vec![
        (vec![s(&gz)], Vec::new()),
        (vec![s(&dump)], Vec::new()),
        (vec![s(&parquet)], Vec::new()),
        (
            vec![s(&parquet), "--text-column".into(), "content".into()],
            Vec::new(),
        ),
        (vec![s(&sample), "--presplit".into()], Vec::new()),
        (vec!["-".into()], std::fs::read(&sample).unwrap()),
    ];
    for (i, (input, stdin)) in cases.iter().enumerate() {
        let input: Vec<&str> = input.iter().map(String::as_str).collect();
        let mut args = vec!["sentences"];
        args.extend(&input);
        let listed = stdout_ok(&with_stdin(&args, stdin));
        let docs = documents(&listed);
        let sentences: usize = docs.iter().map(Vec::len).sum();
        assert!(sentences > 0, "case {i}: {input:?} gave no sentence");
        let out = d.join(format!("vocab-{i}"));
        let mut args = vec![
            "vocab",
            "--out",
            out.to_str().unwrap(),
            "--vocab-size",
            "120",
        ];
        args.push("--in");
        args.extend(&input);
        let (trained, of_docs, said) = vocab_read(&args, stdin);
        assert_eq!(
            (trained, of_docs),
            (sentences as u64, docs.len() as u64),
            "case {i}: {input:?}: {said}"
        );
    }
    // Standard input and the compressed file train the vocabulary of the plain file.
    let vocab_of = |i: usize| std::fs::read(d.join(format!("vocab-{i}/tokenizer.json"))).unwrap();
    let plain = d.join("vocab-plain");
    let args = [
        "vocab",
        "--in",
        &s(&sample),
        "--out",
        &s(&plain),
        "--vocab-size",
        "120",
    ];
    vocab_read(&args, b"");
    let plain = std::fs::read(plain.join("tokenizer.json")).unwrap();
    assert!(vocab_of(0) == plain && vocab_of(5) == plain);

    // A bad file stops the training, naming it; with --on-error skip it is left out and said.
    let mixed = d.join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(&sample, mixed.join("a.txt")).unwrap();
    std::fs::write(mixed.join("b.txt"), b"not \xff\xfe text\n").unwrap();
    let out = d.join("vocab-mixed");
    let mut args = vec!["vocab", "--in", mixed.to_str().unwrap(), "--out"];
    args.extend([out.to_str().unwrap(), "--vocab-size", "120"]);
    let stopped = bertprep(&args);
    assert!(!stopped.status.success());
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("b.txt"));
    assert!(!out.join("tokenizer.json").exists());
    args.extend(["--on-error", "skip"]);
    let (_, _, said) = vocab_read(&args, b"");
    assert!(
        said.contains("warning: skipped") && said.contains("b.txt"),
        "{said}"
    );
    assert!(std::fs::read(out.join("tokenizer.json")).unwrap() == plain);
    let skipped = bertprep(&["sentences", mixed.to_str().unwrap(), "--on-error", "skip"]);
    assert!(String::from_utf8_lossy(&skipped.stderr).contains("b.txt"));
    assert_eq!(
        stdout_ok(&skipped),
        stdout_ok(&bertprep(&["sentences", sample.to_str().unwrap()]))
    );
}
