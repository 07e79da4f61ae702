//! Hostile and unusual input through the real binary: every kind in `tests/fixtures/bad/` (and the big
//! or environment-dependent ones generated here) gives its documented outcome — a one-line error
//! naming the file, a non-zero exit and an output directory with nothing in it, or under
//! `--on-error skip` a recorded skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bertprep::output::manifest::Manifest;

use crate::util::{bertprep, build_ok, file_names, fixtures};

/// `tests/fixtures/`: inputs of these tests only (`fixtures/` is built whole by other tests).
fn own() -> PathBuf {
    crate::util::root().join("tests/fixtures")
}

fn bad(name: &str) -> PathBuf {
    own().join("bad").join(name)
}

/// Runs a build of `input` into `out` with `extra` flags.
fn build(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "build",
        "--quiet",
        "--max-seq-len",
        "64",
        "--in",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    bertprep(&args)
}

/// Asserts a failed build: exit 1, one line on stderr naming `path` and containing `what`,
/// and nothing left in `out`.
fn assert_clean_failure(output: &Output, out: &Path, path: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("bertprep: error: "), "{stderr}");
    assert!(stderr.contains(path), "{stderr} does not name {path}");
    assert!(stderr.contains(what), "{stderr} does not say {what}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        file_names(out),
        Vec::<String>::new(),
        "left behind in {out:?}"
    );
}

#[test]
fn every_bad_fixture_is_a_one_line_error_naming_the_file() {
    let cases = [
        ("bad-utf8.txt", "invalid UTF-8 at byte offset 48"),
        ("binary.bin", "invalid UTF-8 at byte offset"),
        ("nul.txt", "binary data (NUL byte) at byte offset 20"),
        ("corrupt.txt.gz", "corrupt deflate stream"),
        ("truncated.txt.gz", "incomplete deflate stream"),
        ("truncated.txt.bz2", "decompression not finished"),
        ("truncated.txt.zst", "incomplete frame"),
        ("truncated.txt.xz", "premature eof"),
        ("utf16-unpaired.txt", "invalid UTF-16 at byte offset"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, what) in cases {
        let out = dir.path().join(name);
        let output = build(&bad(name), &out, &[]);
        assert_clean_failure(&output, &out, name, what);
    }
}

#[test]
fn empty_file_builds_nothing_and_empty_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    build_ok(&bad("empty.txt"), &out, &["--max-seq-len", "64"]);
    let m = Manifest::read(&out).unwrap();
    assert_eq!(m.counters.documents, 0);
    assert_eq!(m.counters.instances, 0);
    assert!(m.shards.is_empty());

    let empty = dir.path().join("empty-dir");
    std::fs::create_dir(&empty).unwrap();
    let out = dir.path().join("out2");
    let output = build(&empty, &out, &[]);
    assert_clean_failure(&output, &out, "empty-dir", "no input files found");
}

#[test]
fn directory_symlink_loop_is_an_error_naming_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(corpus.join("sub")).unwrap();
    std::fs::copy(fixtures().join("text/sample.txt"), corpus.join("sub/a.txt")).unwrap();
    std::os::unix::fs::symlink("..", corpus.join("sub/loop")).unwrap();
    let out = dir.path().join("out");
    let output = build(&corpus, &out, &[]);
    assert_clean_failure(&output, &out, "sub/loop", "directory symlink loop");
}

#[test]
fn line_of_200_mb_without_newline_is_refused_after_32_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-line.txt");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let chunk = b"word ".repeat(1 << 18);
        for _ in 0..(200 << 20) / chunk.len() {
            f.write_all(&chunk).unwrap();
        }
    }
    let out = dir.path().join("out");
    let output = build(&path, &out, &[]);
    // The message names line 1 and offset 0: the reader stopped at the cap, it did not read
    // (and hold) the whole line.
    assert_clean_failure(
        &output,
        &out,
        "one-line.txt:1",
        "line longer than 32 MiB (starting at byte offset 0)",
    );
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        eprintln!("SKIPPED: running as root, where chmod 000 does not stop reading");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.txt");
    std::fs::copy(fixtures().join("text/sample.txt"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = dir.path().join("out");
    let output = build(&path, &out, &[]);
    assert_clean_failure(&output, &out, "secret.txt", "Permission denied");
}

/// A corpus whose first file takes many small units, so the second is opened late.
fn slow_corpus(dir: &Path) -> (PathBuf, PathBuf) {
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let text: String = (0..1000)
        .map(|i| format!("Document {i} begins here. It has a second sentence.\nAnd a line.\n\n"))
        .collect();
    std::fs::write(corpus.join("a.txt"), text).unwrap();
    let second = corpus.join("b.txt");
    std::fs::copy(fixtures().join("text/sample.txt"), &second).unwrap();
    (corpus, second)
}

/// Starts a build of `corpus`, removes `victim` once the build is under way, waits for it.
fn build_while_removing(corpus: &Path, out: &Path, victim: &Path, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bertprep"));
    cmd.args(["build", "--quiet", "--threads", "1", "--unit-bytes", "200"])
        .args(["--max-seq-len", "64", "--in"])
        .arg(corpus)
        .arg("--out")
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let state = out.join(".bertprep-work/state.json");
    let start = Instant::now();
    while !state.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "build never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    std::fs::remove_file(victim).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn file_vanishing_mid_run_stops_or_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (corpus, second) = slow_corpus(dir.path());
    let out = dir.path().join("out");
    let output = build_while_removing(&corpus, &out, &second, &[]);
    assert_clean_failure(&output, &out, "b.txt", "No such file or directory");

    let (corpus, second) = slow_corpus(&dir.path().join("again"));
    let out = dir.path().join("out-skip");
    let output = build_while_removing(&corpus, &out, &second, &["--on-error", "skip"]);
    assert!(output.status.success(), "{output:?}");
    let m = Manifest::read(&out).unwrap();
    assert_eq!(m.counters.skipped, 1);
    assert_eq!(m.skipped.len(), 1);
    assert!(m.skipped[0].path.ends_with("b.txt"));
    assert_eq!((m.skipped[0].file_index, m.skipped[0].offset), (1, 0));
    assert!(
        m.skipped[0].reason.contains("No such file"),
        "{:?}",
        m.skipped
    );
    assert_eq!(m.counters.documents, 1000);
}

#[test]
fn full_disk_is_a_one_line_error_and_leaves_nothing() {
    // A file-size limit stands in for a full disk: writes beyond it fail with EFBIG. The limit
    // is in 512-byte blocks; SIGXFSZ is ignored so the write fails instead of killing us.
    let dir = tempfile::tempdir().unwrap();
    for blocks in [100, 600] {
        let out = dir.path().join(format!("out-{blocks}"));
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""
            ))
            .arg(env!("CARGO_BIN_EXE_bertprep"))
            .args([
                "build",
                "--quiet",
                "--dupe-factor",
                "5",
                "--max-seq-len",
                "128",
            ])
            .arg("--in")
            .arg(fixtures().join("wiki"))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_clean_failure(&output, &out, out.to_str().unwrap(), "File too large");
    }
}

#[test]
fn on_error_skip_records_every_bad_file_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("mixed");
    std::fs::create_dir(&corpus).unwrap();
    for entry in std::fs::read_dir(own().join("bad")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), corpus.join(entry.file_name())).unwrap();
    }
    std::fs::copy(fixtures().join("text/sample.txt"), corpus.join("good.txt")).unwrap();
    let bad_count = std::fs::read_dir(own().join("bad")).unwrap().count() - 1; // empty.txt
    let mut manifests = Vec::new();
    for threads in ["1", "3"] {
        let out = dir.path().join(format!("out-{threads}"));
        let output = build(
            &corpus,
            &out,
            &[
                "--on-error",
                "skip",
                "--threads",
                threads,
                "--unit-bytes",
                "40",
            ],
        );
        assert!(output.status.success(), "{output:?}");
        manifests.push(std::fs::read(out.join("manifest.json")).unwrap());
    }
    assert_eq!(manifests[0], manifests[1], "skips depend on timing");
    let m = Manifest::read(&dir.path().join("out-1")).unwrap();
    assert!(m.counters.instances > 0);
    assert_eq!(m.counters.skipped as usize, m.skipped.len());
    let mut skipped_files: Vec<&str> = m
        .skipped
        .iter()
        .map(|s| s.path.rsplit('/').next().unwrap())
        .collect();
    skipped_files.dedup();
    assert_eq!(skipped_files.len(), bad_count, "{:?}", m.skipped);
    assert!(!skipped_files.contains(&"good.txt"));
    // Units are small here: the bad UTF-8 file loses only the unit with the bad byte.
    let utf8: Vec<_> = m
        .skipped
        .iter()
        .filter(|s| s.path.ends_with("bad-utf8.txt"))
        .collect();
    assert_eq!(utf8.len(), 1);
    assert!(utf8[0].bytes.is_some() && utf8[0].offset > 0, "{utf8:?}");
    assert!(utf8[0].reason.contains("invalid UTF-8 at byte offset 48"));
    let entry = m.inputs.iter().find(|e| e.path.ends_with("bad-utf8.txt"));
    assert_eq!(entry.map(|e| e.documents), Some(1));
}

#[test]
fn utf16_with_bom_reads_like_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixtures().join("text/sample.txt")).unwrap();
    let utf8 = dir.path().join("u8");
    std::fs::create_dir(&utf8).unwrap();
    std::fs::write(utf8.join("sample.txt"), &text).unwrap();
    for (name, big_endian) in [("le", false), ("be", true)] {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.replace('\n', "\r\n").encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        std::fs::write(sub.join("sample.txt"), bytes).unwrap();
    }
    let mut shards = Vec::new();
    for name in ["u8", "le", "be"] {
        let out = dir.path().join(format!("out-{name}"));
        build_ok(&dir.path().join(name), &out, &["--max-seq-len", "64"]);
        let m = Manifest::read(&out).unwrap();
        assert!(m.counters.instances > 0);
        assert_eq!(m.counters.text_bytes, text.len() as u64);
        shards.push(std::fs::read(out.join("shard-0000.parquet")).unwrap());
    }
    assert!(shards[0] == shards[1] && shards[1] == shards[2]);
}

#[test]
fn parquet_xz_and_stdin_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // Parquet is recognised by its magic bytes, whatever its name; nulls are empty documents.
    let named = dir.path().join("rows");
    std::fs::copy(own().join("parquet/docs.parquet"), &named).unwrap();
    let out = dir.path().join("pq");
    build_ok(&named, &out, &["--max-seq-len", "64"]);
    let m = Manifest::read(&out).unwrap();
    assert_eq!(m.inputs[0].format.name(), "parquet");
    assert_eq!((m.counters.documents, m.counters.empty_documents), (8, 2));
    assert!(m.counters.instances > 0);
    let out = dir.path().join("pq-content");
    build_ok(
        &named,
        &out,
        &["--max-seq-len", "64", "--text-column", "content"],
    );
    assert_eq!(Manifest::read(&out).unwrap().config.text_column, "content");
    for (column, what) in [
        ("id", "holds Int64, not strings"),
        ("nope", "no column 'nope'"),
    ] {
        let out = dir.path().join(format!("pq-{column}"));
        let output = build(&named, &out, &["--text-column", column]);
        assert_clean_failure(&output, &out, "rows", what);
    }

    // xz and standard input give the same shards as the plain file.
    let sample = fixtures().join("text/sample.txt");
    let plain = dir.path().join("plain");
    build_ok(&sample, &plain, &["--max-seq-len", "64"]);
    let xz = dir.path().join("sample.txt.xz");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("xz -c {} > {}", sample.display(), xz.display()))
        .status();
    if status.is_ok_and(|s| s.success()) {
        let out = dir.path().join("xz");
        build_ok(&xz, &out, &["--max-seq-len", "64"]);
        let m = Manifest::read(&out).unwrap();
        assert_eq!(m.inputs[0].compression, bertprep::input::Compression::Xz);
        assert_eq!(
            std::fs::read(out.join("shard-0000.parquet")).unwrap(),
            std::fs::read(plain.join("shard-0000.parquet")).unwrap()
        );
    } else {
        eprintln!("SKIPPED: no xz program to compress the fixture");
    }
    let out = dir.path().join("stdin");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args([
            "build",
            "--quiet",
            "--max-seq-len",
            "64",
            "--in",
            "-",
            "--out",
        ])
        .arg(&out)
        .stdin(std::fs::File::open(&sample).unwrap())
        .spawn()
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        std::fs::read(out.join("shard-0000.parquet")).unwrap(),
        std::fs::read(plain.join("shard-0000.parquet")).unwrap()
    );
    assert_eq!(
        file_names(&out),
        ["manifest.json", "shard-0000.parquet", "tokenizer.json"],
        "the standard-input spool is removed"
    );
}

/// Builds a shared corpus (or the named files of it) and returns its manifest and stderr.
fn build_corpus(name: &str, files: usize) -> Option<(Manifest, String)> {
    let root = crate::util::shared_corpus(name)?;
    let mut inputs: Vec<PathBuf> = walk(&root.join("wiki"));
    inputs.sort();
    inputs.truncate(files);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bertprep"));
    cmd.args(["build", "--max-seq-len", "128", "--progress-lines", "--in"]);
    cmd.args(&inputs).arg("--out").arg(&out);
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{name}: {stderr}");
    let m = Manifest::read(&out).unwrap();
    assert!(m.counters.instances > 100, "{name}: {:?}", m.counters);
    assert!(m.inputs.iter().all(|i| i.documents > 0), "{name}");
    Some((m, stderr))
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            out.push(path);
        }
    }
    out
}

#[test]
fn wikiextractor_variants_build() {
    use bertprep::input::Format;
    for (name, files, format) in [
        ("enwiki-2019-small", 2, Format::Wiki),
        ("enwiki-2021", 2, Format::Wiki),
        ("enwiki-json-small", 1, Format::Jsonl),
        ("zhwiki-small", 3, Format::Wiki),
    ] {
        let Some((m, stderr)) = build_corpus(name, files) else {
            continue;
        };
        assert!(m.inputs.iter().all(|i| i.format == format), "{name}");
        assert_eq!(m.counters.unclosed_documents, 0, "{name}");
        assert!(!stderr.contains("warning"), "{name}: {stderr}");
    }
    // The last file of enwiki-truncated ends inside a <doc>: kept, counted, warned about.
    if let Some((m, stderr)) = build_corpus("enwiki-truncated", 4) {
        assert_eq!(m.counters.unclosed_documents, 1);
        assert!(
            stderr.contains("warning: 1 <doc> block(s) never closed"),
            "{stderr}"
        );
    }
}

#[test]
fn scripts_split_and_tokenize_with_a_multilingual_vocabulary() {
    let text = std::fs::read_to_string(own().join("scripts/multilingual.txt")).unwrap();
    let docs: Vec<&str> = text.split("\n\n").map(str::trim).collect();
    let expected = [
        vec![
            "北京是中国的首都。",
            "它有很多历史建筑！",
            "你去过吗？",
            "我很喜欢那里。",
        ],
        vec![
            "東京は日本の首都です。",
            "人口がとても多いです！",
            "行ったことがありますか？",
        ],
        vec![
            "القاهرة هي عاصمة مصر.",
            "هل زرت القاهرة؟",
            "إنها مدينة كبيرة.",
        ],
        vec![
            "दिल्ली भारत की राजधानी है।",
            "यह एक बड़ा शहर है।",
            "क्या आप वहाँ गए हैं?",
        ],
        vec![
            "Москва — столица России.",
            "Это большой город!",
            "Вы там были?",
        ],
        vec![
            "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
            "Είναι μια αρχαία πόλη;",
            "Ναι, πολύ αρχαία.",
        ],
    ];
    assert_eq!(docs.len(), expected.len());
    for (doc, want) in docs.iter().zip(&expected) {
        let got: Vec<&str> = bertprep::segment::split(doc)
            .into_iter()
            .map(|r| &doc[r])
            .collect();
        assert_eq!(&got, want);
    }

    // A small cased WordPiece vocabulary covering the text: every word, every character and
    // its continuation form (what a multilingual BERT vocab.txt holds for these scripts).
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .map(String::from)
        .to_vec();
    for word in text.split_whitespace() {
        let word: String = word
            .chars()
            .filter(|c| c.is_alphanumeric() || is_mark(*c))
            .collect();
        vocab.push(word.clone());
        for c in word
            .chars()
            .chain(text.chars().filter(|c| !c.is_whitespace()))
        {
            vocab.push(c.to_string());
            vocab.push(format!("##{c}"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    vocab.retain(|t| !t.is_empty() && seen.insert(t.clone()));
    let dir = tempfile::tempdir().unwrap();
    let vocab_path = dir.path().join("vocab.txt");
    std::fs::write(&vocab_path, vocab.join("\n") + "\n").unwrap();

    let tok = bertprep::tokenize::Tokenizer::load(&bertprep::tokenize::TokenizerSource::Vocab {
        path: vocab_path.clone(),
        cased: true,
    })
    .unwrap();
    let unk = tok.specials().unk;
    for sentence in expected.iter().flatten() {
        let ids = tok.encode(sentence).unwrap();
        assert!(
            !ids.is_empty() && !ids.contains(&unk),
            "{sentence}: {ids:?}"
        );
        let back: String = tok.decode(&ids).unwrap().split_whitespace().collect();
        let want: String = sentence.split_whitespace().collect();
        assert_eq!(back.replace(' ', ""), want, "round trip of {sentence}");
    }
    // CJK characters are single tokens.
    assert_eq!(tok.encode("北京").unwrap().len(), 2);

    let out = dir.path().join("out");
    let vocab_arg = vocab_path.to_str().unwrap();
    build_ok(
        &own().join("scripts/multilingual.txt"),
        &out,
        &["--max-seq-len", "32", "--vocab", vocab_arg, "--cased"],
    );
    let m = Manifest::read(&out).unwrap();
    assert_eq!(m.counters.documents, 6);
    assert_eq!(
        m.counters.sentences,
        expected.iter().map(Vec::len).sum::<usize>() as u64
    );
    assert!(m.counters.instances > 0);
}

/// Combining marks (Devanagari vowel signs, Arabic harakat) belong to their word.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0610..=0x061A | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0951..=0x0957 | 0x0962..=0x0963)
}
