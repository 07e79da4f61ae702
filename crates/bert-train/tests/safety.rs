//! Safety promises of `bert-train`: the shard directory checked before the first step, a run
//! directory without a checkpoint started afresh, `--threads` bounded, errors that say their
//! reason once. Every case runs the binary as a user would.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bertprep::config::BuildConfig;
use bertprep::tokenize::TokenizerSource;

mod util;

use util::{build_shards, config_at, file_names, fixtures};

/// How a run ended: its exit status (`None` when it was killed at the time limit) and stderr.
struct Finished {
    status: Option<std::process::ExitStatus>,
    stderr: String,
}

impl Finished {
    fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn describe(&self) -> String {
        format!("status {:?}, stderr:\n{}", self.status, self.stderr)
    }
}

/// A `bert-train` command with `args`.
fn bert_train_cmd<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bert-train"));
    cmd.args(args);
    cmd
}

/// Runs `cmd`, killing it after `limit`.
fn run_timed(cmd: &mut Command, limit: Duration) -> Finished {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bert-train");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Finished {
        status,
        stderr: reader.join().unwrap(),
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Whether `run` was refused or capped with a message about `--threads`, within the limit.
fn threads_handled(run: &Finished) -> bool {
    run.status.is_some() && run.stderr.contains("--threads")
}

/// The fixtures' build the cases train on: rows of 64, one shard.
fn config() -> BuildConfig {
    BuildConfig {
        rows_per_shard: 1000,
        ..config_at(64)
    }
}

/// `--shards S --out RUN --model tiny` and a 3-step run.
fn tiny_run(shards: &Path, run: &Path) -> Vec<String> {
    [
        "--shards",
        s(shards),
        "--out",
        s(run),
        "--model",
        "tiny",
        "--max-steps",
        "3",
        "--batch-size",
        "4",
        "--log-every",
        "1",
        "--threads",
        "2",
        "--quiet",
    ]
    .map(String::from)
    .to_vec()
}

/// Whether `run` holds a checkpoint or a training metrics line.
fn trained_something(run: &Path) -> bool {
    let checkpoint = file_names(run).iter().any(|n| n.starts_with("checkpoint"));
    let steps = std::fs::read_to_string(run.join("metrics.jsonl"))
        .map(|t| t.lines().any(|l| l.contains("\"step\"")))
        .unwrap_or(false);
    checkpoint || steps
}

/// `bert-train` checks the shards' `tokenizer.json` before the first step: deleted or
/// truncated, the run fails at once naming it, with no step taken; restored, a fresh run in
/// the same run directory (which holds no checkpoint) starts.
#[test]
fn bert_train_checks_the_tokenizer_before_the_first_step() {
    let tmp = tempfile::tempdir().unwrap();
    let shards = tmp.path().join("shards");
    build_shards(&fixtures(), &shards, config(), TokenizerSource::Embedded);
    let tok = shards.join("tokenizer.json");
    let good = std::fs::read(&tok).unwrap();
    for (what, bytes) in [
        ("deleted", None),
        ("truncated", Some(&good[..good.len() / 2])),
    ] {
        match bytes {
            None => std::fs::remove_file(&tok).unwrap(),
            Some(b) => std::fs::write(&tok, b).unwrap(),
        }
        let run = tmp.path().join(format!("run-{what}"));
        let failed = run_timed(
            &mut bert_train_cmd(&tiny_run(&shards, &run)),
            Duration::from_secs(120),
        );
        assert!(
            !failed.success() && failed.stderr.contains("tokenizer.json"),
            "bert-train with tokenizer.json {what} should fail naming it: {}",
            failed.describe()
        );
        assert!(
            !trained_something(&run),
            "bert-train with tokenizer.json {what} trained before failing (a checkpoint or a \
             metrics line in {})",
            run.display()
        );
        std::fs::write(&tok, &good).unwrap();
        let again = run_timed(
            &mut bert_train_cmd(&tiny_run(&shards, &run)),
            Duration::from_secs(120),
        );
        assert!(
            again.success(),
            "after tokenizer.json was restored, a fresh run in {} (no checkpoint) was not \
             allowed: {}",
            run.display(),
            again.describe()
        );
    }
}

/// `bert-train --threads 100000` is refused or capped with a message, and ends quickly.
#[test]
fn bert_train_threads_are_capped_or_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let shards = tmp.path().join("shards");
    build_shards(&fixtures(), &shards, config(), TokenizerSource::Embedded);
    let mut args = tiny_run(&shards, &tmp.path().join("run"));
    args.retain(|a| a != "--quiet");
    let i = args.iter().position(|a| a == "--threads").unwrap();
    args[i + 1] = "100000".into();
    let step = args.iter().position(|a| a == "--max-steps").unwrap();
    args[step + 1] = "1".into();
    let run = run_timed(&mut bert_train_cmd(&args), Duration::from_secs(20));
    assert!(
        threads_handled(&run),
        "bert-train --threads 100000 should be refused or capped with a message about \
         --threads, within 20 s: {}",
        run.describe()
    );
}

/// `bert-train` gives an error's OS reason once: for a missing shards directory (whose message
/// needs no OS reason at all), a missing `--config` file and a shard that cannot be opened.
#[test]
fn bert_train_says_the_os_reason_once() {
    let tmp = tempfile::tempdir().unwrap();
    let reason = std::io::Error::from_raw_os_error(2).to_string(); // ENOENT
    let reason = reason.split(" (os error").next().unwrap().to_string();
    let check = |args: Vec<String>, what: &str, at_least: usize| {
        let run = run_timed(&mut bert_train_cmd(&args), Duration::from_secs(30));
        let count = run.stderr.matches(&reason).count();
        assert!(
            !run.success() && (at_least..=1).contains(&count),
            "bert-train with {what} should give the reason \"{reason}\" at most once \
             (found {count} times): {}",
            run.describe()
        );
    };
    let missing = tmp.path().join("no-such-shards");
    check(
        tiny_run(&missing, &tmp.path().join("run-a")),
        "a missing shards directory",
        0,
    );
    let shards = tmp.path().join("shards");
    build_shards(
        &fixtures(),
        &shards,
        config_at(64),
        TokenizerSource::Embedded,
    );
    let mut args = tiny_run(&shards, &tmp.path().join("run-b"));
    let model = args.iter().position(|a| a == "--model").unwrap();
    args.splice(
        model..model + 2,
        [
            "--config".to_string(),
            s(&tmp.path().join("no-config.json")).to_string(),
        ],
    );
    check(args, "a missing --config file", 1);
    let shard = shards.join("shard-0000.parquet");
    std::fs::remove_file(&shard).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("gone.parquet"), &shard).unwrap();
    check(
        tiny_run(&shards, &tmp.path().join("run-c")),
        "a shard that is a dangling symlink",
        1,
    );
}
