//! Hostile and unusual input through the real binary: every kind in `fixtures/bad/` (and the big
//! or environment-dependent ones generated here) gives its documented outcome — a one-line error
//! naming the file, a non-zero exit and an output directory with nothing in it, or under
//! `--on-error skip` a recorded skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bertprep::manifest::Manifest;

use crate::util::{bertprep, build_ok, file_names, fixtures};

fn bad(name: &str) -> PathBuf {
    fixtures().join("bad").join(name)
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
    for (blocks, path) in [(100, "spill/bucket-"), (600, "tokenizer.json")] {
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
        assert_clean_failure(&output, &out, path, "File too large");
    }
}

#[test]
fn on_error_skip_records_every_bad_file_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("mixed");
    std::fs::create_dir(&corpus).unwrap();
    for entry in std::fs::read_dir(fixtures().join("bad")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), corpus.join(entry.file_name())).unwrap();
    }
    std::fs::copy(fixtures().join("text/sample.txt"), corpus.join("good.txt")).unwrap();
    let bad_count = std::fs::read_dir(fixtures().join("bad")).unwrap().count() - 1; // empty.txt
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
