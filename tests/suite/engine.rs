//! The build engine: thread-count independence, the global shuffle, resume after SIGKILL,
//! `--tasks T` run by `--worker i/N`, joined by `finalize`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bertprep::output::manifest::Manifest;
use bertprep::shard::{read_shard, ShardRow};

use crate::util::*;

/// Every file of a build directory (hidden work files excluded), with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    file_names(dir)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

fn assert_same_files(a: &Path, b: &Path, what: &str) {
    let (x, y) = (snapshot(a), snapshot(b));
    let names = |s: &[(String, Vec<u8>)]| s.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&x), names(&y), "{what}");
    for ((name, p), (_, q)) in x.iter().zip(&y) {
        assert!(p == q, "{name} differs: {what}");
    }
}

/// A corpus of `copies` copies of the fixture files, in a temp dir.
fn replicated_fixtures(copies: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sources = ["wiki/AA/wiki_00", "wiki/AA/wiki_01", "jsonl/docs.jsonl"];
    for c in 0..copies {
        for (i, s) in sources.iter().enumerate() {
            let name = format!(
                "part{c:03}_{i}{}",
                if s.ends_with(".jsonl") { ".jsonl" } else { "" }
            );
            std::fs::copy(fixtures().join(s), dir.path().join(name)).unwrap();
        }
    }
    dir
}

fn rows(dir: &Path) -> Vec<ShardRow> {
    let m = Manifest::read(dir).unwrap();
    m.shards
        .iter()
        .flat_map(|s| read_shard(&dir.join(&s.file)).unwrap().rows)
        .collect()
}

const SMALL_UNITS: [&str; 8] = [
    "--max-seq-len",
    "64",
    "--unit-bytes",
    "3000",
    "--rows-per-shard",
    "40",
    "--dupe-factor",
    "2",
];

#[test]
fn one_two_and_eight_threads_write_identical_bytes() {
    let outs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (out, threads) in outs.iter().zip(["1", "2", "8"]) {
        let mut flags = SMALL_UNITS.to_vec();
        flags.extend(["--threads", threads]);
        build_ok(&fixtures(), out.path(), &flags);
    }
    let m = Manifest::read(outs[0].path()).unwrap();
    assert!(m.shards.len() > 5);
    assert_same_files(outs[0].path(), outs[1].path(), "threads 1 vs 2");
    assert_same_files(outs[0].path(), outs[2].path(), "threads 1 vs 8");
}

#[test]
fn instances_of_one_document_do_not_sit_together() {
    let Some(out) = build_shared_wiki(
        "enwiki-2019-small",
        &["--max-seq-len", "128", "--rows-per-shard", "1000"],
    ) else {
        return;
    };
    let rows = rows(out.path());
    let n = rows.len() as f64;
    let adjacent = rows
        .windows(2)
        .filter(|w| w[0].source == w[1].source)
        .count() as f64;
    let mut per_doc = std::collections::HashMap::new();
    for r in &rows {
        *per_doc.entry(r.source).or_insert(0u64) += 1;
    }
    // Under a uniform shuffle two neighbours share a document with probability sum(p_d^2).
    let expected: f64 = per_doc.values().map(|&c| (c as f64 / n).powi(2)).sum();
    let observed = adjacent / (n - 1.0);
    eprintln!("same-document neighbours: {observed:.4}, uniform shuffle {expected:.4}");
    assert!(
        observed < expected * 2.0 + 0.005,
        "{observed} vs {expected}"
    );
    // The largest document's instances reach every shard.
    let (&big, _) = per_doc.iter().max_by_key(|(_, &c)| c).unwrap();
    let m = Manifest::read(out.path()).unwrap();
    assert!(m.shards.len() >= 4);
    let mut start = 0;
    for shard in &m.shards {
        let end = start + shard.rows as usize;
        assert!(
            rows[start..end].iter().any(|r| r.source == big),
            "{} lacks it",
            shard.file
        );
        start = end;
    }
}

fn build_command(input: &Path, out: &Path, flags: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bertprep"));
    cmd.args(["build", "--quiet", "--in"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Every `shard-*.parquet` present is complete and readable.
fn assert_shards_complete(out: &Path) {
    for name in file_names(out) {
        if name.starts_with("shard-") {
            read_shard(&out.join(&name)).unwrap_or_else(|e| panic!("incomplete {name}: {e}"));
        }
    }
}

#[test]
fn killed_builds_resume_to_identical_bytes() {
    let corpus = replicated_fixtures(8);
    let flags = [
        "--max-seq-len",
        "64",
        "--unit-bytes",
        "4000",
        "--rows-per-shard",
        "25",
        "--threads",
        "1",
    ];
    let reference = tempfile::tempdir().unwrap();
    let began = Instant::now();
    build_ok(corpus.path(), reference.path(), &flags);
    let full = began.elapsed();
    let shards = Manifest::read(reference.path()).unwrap().shards.len();
    assert!(shards > 10);

    // Kill points by what the build has done, not by time: a loaded machine runs it at any
    // speed. The first is a moment after the start (wherever that lands), then the first
    // checkpoint of the spill phase, then after 1, a third, two thirds and all but two shards.
    let kill_points = [
        KillPoint::Started,
        KillPoint::Checkpointed,
        KillPoint::Shards(1),
        KillPoint::Shards(shards / 3),
        KillPoint::Shards(2 * shards / 3),
        KillPoint::Shards(shards - 2),
    ];
    let mut kills_mid_build = 0;
    for point in kill_points {
        let out = tempfile::tempdir().unwrap();
        let mut child = build_command(corpus.path(), out.path(), &flags)
            .spawn()
            .unwrap();
        let reached = point.wait_for(out.path(), &mut child, full);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        if reached && !finished && !out.path().join("manifest.json").exists() {
            kills_mid_build += 1;
        }
        assert_shards_complete(out.path());
        // Kill the resumed run once more, early, then let it finish.
        let mut again = build_command(corpus.path(), out.path(), &flags)
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(0.1));
        again.kill().ok();
        again.wait().unwrap();
        assert_shards_complete(out.path());
        let done = build_command(corpus.path(), out.path(), &flags)
            .output()
            .unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        assert_same_files(
            reference.path(),
            out.path(),
            &format!("killed at {point:?}"),
        );
        assert!(!out.path().join(".bertprep-work").exists());
    }
    eprintln!(
        "{kills_mid_build} of {} kills landed mid-build",
        kill_points.len()
    );
    assert!(
        kills_mid_build >= 4,
        "only {kills_mid_build} kills landed mid-build"
    );
}

/// When [`killed_builds_resume_to_identical_bytes`] kills a build.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// A twentieth of a whole build's time after the start.
    Started,
    /// Once the work directory holds a checkpoint.
    Checkpointed,
    /// Once this many shards are complete (staged in the work directory, where they wait
    /// until the last is written).
    Shards(usize),
}

impl KillPoint {
    /// Runs the build writing `out` until it reaches this point (or exits, or a minute passes)
    /// and leaves it stopped there; whether it reached the point. It runs in slices of about 50 µs (a SIGCONT, a sleep, a
    /// SIGSTOP), stopped while its output is looked at, so the point is caught however fast the
    /// build goes.
    fn wait_for(self, out: &Path, child: &mut std::process::Child, full: Duration) -> bool {
        let pid = child.id() as libc::pid_t;
        let signal = |sig| {
            // SAFETY: kill(2) on our own child, which is not reaped before the caller waits.
            unsafe { libc::kill(pid, sig) };
        };
        if let KillPoint::Started = self {
            std::thread::sleep(full.mul_f64(0.05));
        }
        let reached = || match self {
            KillPoint::Started => true,
            KillPoint::Checkpointed => out.join(".bertprep-work/state.json").exists(),
            KillPoint::Shards(n) => {
                let work = out.join(".bertprep-work");
                file_names(&work)
                    .iter()
                    .filter(|f| f.starts_with("shard-") && f.ends_with(".parquet"))
                    .count()
                    >= n
            }
        };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            signal(libc::SIGSTOP);
            if !stopped_or_gone(pid) {
                return false;
            }
            if reached() {
                return true;
            }
            signal(libc::SIGCONT);
            std::thread::sleep(Duration::from_micros(50));
        }
        false
    }
}

/// Waits until every thread of process `pid` is stopped (true) or the process has exited
/// (false).
pub fn stopped_or_gone(pid: libc::pid_t) -> bool {
    loop {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return false;
        };
        let mut all_stopped = true;
        for task in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
                continue; // A thread that just ended.
            };
            // The state follows the parenthesised command name.
            match stat
                .rsplit(") ")
                .next()
                .and_then(|rest| rest.chars().next())
            {
                Some('T') | Some('t') => {}
                Some('Z') | Some('X') | None if task.file_name() == *pid.to_string() => {
                    return false
                }
                _ => all_stopped = false,
            }
        }
        if all_stopped {
            return true;
        }
        std::thread::yield_now();
    }
}

#[test]
fn unfinished_build_with_other_settings_is_refused() {
    let corpus = replicated_fixtures(4);
    let out = tempfile::tempdir().unwrap();
    let flags = [
        "--max-seq-len",
        "64",
        "--unit-bytes",
        "4000",
        "--threads",
        "1",
    ];
    let mut child = build_command(corpus.path(), out.path(), &flags)
        .spawn()
        .unwrap();
    // Wait for the first checkpoint, then kill.
    let state = out.path().join(".bertprep-work/state.json");
    let t = Instant::now();
    while !state.exists() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().ok();
    child.wait().unwrap();
    let mut other = flags.to_vec();
    other.extend(["--seed", "99"]);
    let refused = build_command(corpus.path(), out.path(), &other)
        .output()
        .unwrap();
    if out.path().join("manifest.json").exists() {
        return; // The build finished before the kill; nothing unfinished to refuse.
    }
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--overwrite"));
    let mut forced = other.clone();
    forced.push("--overwrite");
    let ok = build_command(corpus.path(), out.path(), &forced)
        .output()
        .unwrap();
    assert!(ok.status.success());
    assert_eq!(Manifest::read(out.path()).unwrap().config.seed, 99);
}

#[test]
fn finished_build_run_again_does_nothing() {
    let out = tempfile::tempdir().unwrap();
    build_ok(&fixtures(), out.path(), &["--max-seq-len", "64"]);
    let before = snapshot(out.path());
    let again = bertprep(&[
        "build",
        "--in",
        fixtures().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--max-seq-len",
        "64",
    ]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to do"));
    assert_eq!(before, snapshot(out.path()));
}

fn row_key(r: &ShardRow) -> Vec<u8> {
    let mut k = Vec::new();
    for v in r.input_ids.iter().chain(&r.labels) {
        k.extend_from_slice(&v.to_le_bytes());
    }
    k.extend(r.token_type_ids.iter().map(|&t| t as u8));
    k.push(r.next_sentence_label as u8);
    k.extend_from_slice(&r.source.to_le_bytes());
    k
}

#[test]
fn workers_together_make_the_same_instances() {
    // Pieces small enough that files are cut, five tasks on three workers.
    let planned: Vec<&str> = SMALL_UNITS
        .iter()
        .copied()
        .chain(["--piece-bytes", "4096"])
        .collect();
    let single = tempfile::tempdir().unwrap();
    build_ok(&fixtures(), single.path(), &planned);
    let split = tempfile::tempdir().unwrap();
    for i in 0..3 {
        let mut flags = planned.clone();
        flags.extend(["--tasks", "5"]);
        let spec = format!("{i}/3");
        if i == 2 {
            // The Kubernetes way: index from the environment.
            let out = Command::new(env!("CARGO_BIN_EXE_bertprep"))
                .args(["build", "--quiet", "--in"])
                .arg(fixtures())
                .arg("--out")
                .arg(split.path())
                .args(&flags)
                .args(["--worker", "auto/3"])
                .env("JOB_COMPLETION_INDEX", "2")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        flags.extend(["--worker", &spec]);
        build_ok(&fixtures(), split.path(), &flags);
    }
    assert!(split.path().join("manifest-t0004.json").exists());
    assert!(!split.path().join("manifest.json").exists());
    let merged = bertprep(&["finalize", split.path().to_str().unwrap()]);
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let a = Manifest::read(single.path()).unwrap();
    let b = Manifest::read(split.path()).unwrap();
    assert_eq!(a.counters, b.counters);
    assert_eq!(a.inputs, b.inputs);
    assert_eq!(b.merged_tasks, Some(5));
    let mut x: Vec<Vec<u8>> = rows(single.path()).iter().map(row_key).collect();
    let mut y: Vec<Vec<u8>> = rows(split.path()).iter().map(row_key).collect();
    assert_eq!(x.len() as u64, a.counters.instances);
    x.sort();
    y.sort();
    assert!(
        x == y,
        "the workers' instances differ from the single build's"
    );
}

#[test]
fn finalize_names_unfinished_tasks_and_merge_manifest_is_its_alias() {
    let split = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures(),
        split.path(),
        &["--max-seq-len", "64", "--tasks", "2", "--worker", "0/2"],
    );
    for command in ["finalize", "merge-manifest"] {
        let merged = bertprep(&[command, split.path().to_str().unwrap()]);
        assert_eq!(merged.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&merged.stderr).contains("manifest-t0001.json"));
    }
}

#[test]
fn summary_on_stderr_unless_quiet() {
    let out = tempfile::tempdir().unwrap();
    let fixtures = fixtures();
    let args = [
        "build",
        "--in",
        fixtures.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--max-seq-len",
        "64",
        "--progress-lines",
    ];
    let loud = bertprep(&args);
    assert!(loud.status.success());
    let stderr = String::from_utf8_lossy(&loud.stderr);
    let summary = stderr.lines().last().unwrap_or_default();
    let m = Manifest::read(out.path()).unwrap();
    assert!(summary.starts_with("bertprep: done: "), "{stderr}");
    assert!(
        summary.contains(&format!("{} instances", m.counters.instances)),
        "{summary}"
    );
    assert!(summary.contains("MB/s"), "{summary}");
    let quiet_out = tempfile::tempdir().unwrap();
    let quiet = bertprep(&[
        "build",
        "--quiet",
        "--in",
        fixtures.to_str().unwrap(),
        "--out",
        quiet_out.path().to_str().unwrap(),
        "--max-seq-len",
        "64",
    ]);
    assert!(quiet.status.success());
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}
