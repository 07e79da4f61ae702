//! Shared test helpers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bertprep::shard::{ShardRow, IGNORE_LABEL};
use bertprep::tokenize::SpecialTokens;

/// The project root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/` in the project.
pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// A small tokenizer kept in `tests/fixtures/tokenizers/`: `bpe` (byte-level, RoBERTa's
/// pipeline) or `unigram` (Metaspace), trained by `bertprep vocab` on `fixtures/`.
pub fn fixture_tokenizer(kind: &str) -> PathBuf {
    root()
        .join("tests/fixtures/tokenizers")
        .join(kind)
        .join("tokenizer.json")
}

/// Asserts that `--whole-word-mask` rows of `shard` (built with `tok`) predict whole words:
/// a piece continuing a word (by `tok`'s word starts) is predicted exactly when the piece
/// before it is. Returns how many continuing pieces were checked inside predicted words.
pub fn assert_whole_words(shard: &Path, tok: &bertprep::tokenize::Tokenizer) -> usize {
    let sp = tok.specials();
    let specials = [sp.cls, sp.sep, sp.pad, sp.unk, sp.mask].map(|i| i as i32);
    let rows = bertprep::shard::read_shard(shard).unwrap().rows;
    let mut predicted_pieces = 0;
    for (r, row) in rows.iter().enumerate() {
        for i in 1..row.num_tokens as usize {
            let original = if row.labels[i] >= 0 {
                row.labels[i]
            } else {
                row.input_ids[i]
            };
            let before = if row.labels[i - 1] >= 0 {
                row.labels[i - 1]
            } else {
                row.input_ids[i - 1]
            };
            // A word never runs on from a special token (a segment may begin mid-word).
            if specials.contains(&original) || specials.contains(&before) {
                continue;
            }
            if tok.is_continuation(original as u32) {
                assert_eq!(
                    row.labels[i] >= 0,
                    row.labels[i - 1] >= 0,
                    "row {r} splits a word at {i}: {:?}",
                    tok.id_to_token(original as u32)
                );
                if row.labels[i] >= 0 {
                    predicted_pieces += 1;
                }
            }
        }
    }
    predicted_pieces
}

/// Set to `1` where the shared corpora must be present (CI): a missing corpus then fails the
/// test instead of skipping it.
pub const REQUIRE_CORPORA: &str = "BERTPREP_REQUIRE_CORPORA";

/// A corpus under `../shared/corpora`, or `None` with a message saying the test is skipped;
/// panics instead when [`REQUIRE_CORPORA`] is `1`.
pub fn shared_corpus(name: &str) -> Option<PathBuf> {
    let path = root().join("../shared/corpora").join(name);
    if path.exists() {
        return Some(path);
    }
    if std::env::var(REQUIRE_CORPORA).is_ok_and(|v| v == "1") {
        panic!(
            "corpus {} not found and {REQUIRE_CORPORA}=1",
            path.display()
        );
    }
    eprintln!("SKIPPED: corpus {} not found", path.display());
    None
}

/// Whether python3 imports every group of `modules` (one process per group: TensorFlow and
/// torch may not share one). Where it does not, the test is skipped with a message naming the
/// `pip` packages — or fails under CI (`CI` or [`REQUIRE_CORPORA`] set), where `.ci/run`
/// installs them.
pub fn python_ready(modules: &[&str], packages: &str) -> bool {
    let ready = modules.iter().all(|group| {
        Command::new("python3")
            .args(["-c", &format!("import {group}")])
            .env("TF_CPP_MIN_LOG_LEVEL", "3")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ready {
        let required = std::env::var_os("CI").is_some()
            || std::env::var(REQUIRE_CORPORA).is_ok_and(|v| v == "1");
        assert!(
            !required,
            "CI: python3 cannot import {}",
            modules.join(", ")
        );
        eprintln!("SKIPPED: pip install {packages} to run this check");
    }
    ready
}

/// Runs `bertprep` with `args`.
pub fn bertprep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(args)
        .output()
        .expect("run bertprep")
}

/// Runs `bertprep build --quiet --in INPUT --out OUT EXTRA...` and asserts success.
pub fn build_ok(input: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "build",
        "--quiet",
        "--in",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = bertprep(&args);
    assert!(
        output.status.success(),
        "bertprep {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds the `wiki/` directory of the shared corpus `name` into a temporary directory with
/// `extra` flags; `None` (the test is skipped, with a message) when the corpus is absent.
pub fn build_shared_wiki(name: &str, extra: &[&str]) -> Option<tempfile::TempDir> {
    let corpus = shared_corpus(name)?;
    let out = tempfile::tempdir().unwrap();
    build_ok(&corpus.join("wiki"), out.path(), extra);
    Some(out)
}

/// Sorted names of the files in `dir`.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Asserts every invariant a padded row must hold; returns the number of predictions.
pub fn assert_row_invariants(row: &ShardRow, sp: SpecialTokens, max_seq_len: usize) -> usize {
    let n = row.num_tokens as usize;
    assert_eq!(row.input_ids.len(), max_seq_len);
    assert_eq!(row.token_type_ids.len(), max_seq_len);
    assert_eq!(row.attention_mask.len(), max_seq_len);
    assert_eq!(row.labels.len(), max_seq_len);
    assert!((5..=max_seq_len).contains(&n), "num_tokens {n}");
    let ids = &row.input_ids;
    // Exactly one [CLS], at 0.
    assert_eq!(ids[0], sp.cls as i32);
    assert_eq!(ids.iter().filter(|&&t| t == sp.cls as i32).count(), 1);
    // [SEP] after A and at the end of B: exactly two among the real tokens, the last one at n-1.
    let seps: Vec<usize> = (0..n).filter(|&i| ids[i] == sp.sep as i32).collect();
    assert_eq!(seps.len(), 2, "seps at {seps:?}");
    assert_eq!(seps[1], n - 1);
    assert!(seps[0] >= 2 && seps[0] <= n - 3, "empty segment: {seps:?}");
    // Padding.
    assert!(ids[n..].iter().all(|&t| t == sp.pad as i32));
    // Token types: 0 through the first [SEP], 1 through the last, 0 on padding.
    for (i, &t) in row.token_type_ids.iter().enumerate() {
        let want = i8::from(i > seps[0] && i < n);
        assert_eq!(t, want, "token type at {i}");
    }
    // Attention mask is 1 exactly on the first num_tokens.
    for (i, &m) in row.attention_mask.iter().enumerate() {
        assert_eq!(m, i8::from(i < n), "attention at {i}");
    }
    // Labels: only at real, non-special positions.
    let mut predictions = 0;
    for (i, &label) in row.labels.iter().enumerate() {
        if label == IGNORE_LABEL {
            assert_ne!(ids[i], sp.mask as i32, "[MASK] without a label at {i}");
            continue;
        }
        predictions += 1;
        assert!(
            i > 0 && i < n && !seps.contains(&i),
            "label at special position {i}"
        );
        assert!(label >= 0);
        for special in [sp.pad, sp.cls, sp.sep, sp.mask] {
            assert_ne!(label, special as i32, "special label at {i}");
            if ids[i] != label && ids[i] != sp.mask as i32 {
                assert_ne!(
                    ids[i], special as i32,
                    "random replacement is special at {i}"
                );
            }
        }
    }
    assert!(predictions >= 1);
    assert!(matches!(row.next_sentence_label, 0 | 1));
    predictions
}

/// Kills `child` (with SIGKILL) as soon as `file` exists, or after a minute.
pub fn kill_when_exists(mut child: std::process::Child, file: &Path) {
    let start = std::time::Instant::now();
    while !file.exists() && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Sets `file`'s modification time two minutes back (a claim whose heartbeat stopped).
pub fn age(file: &Path) {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
    std::fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

/// Builds `dir` `finalize`d: `bertprep finalize DIR EXTRA...`, asserting success.
pub fn finalize_ok(dir: &Path, extra: &[&str]) {
    let mut args = vec!["finalize", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = bertprep(&args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
