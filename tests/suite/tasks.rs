//! `--tasks T` builds through the binary: the output depends on T only (one process, any
//! number of `--worker`s, `--claim`), each task reads only its share of the input, reruns do
//! only what is left, and a stale claim is taken over.

use std::path::{Path, PathBuf};

use bertprep::output::Manifest;

use crate::util::*;

/// Flags of every build here: pieces of 64 KiB, so the corpus is cut into 16 of them.
const FLAGS: [&str; 6] = [
    "--max-seq-len",
    "64",
    "--piece-bytes",
    "65536",
    "--rows-per-shard",
    "500",
];

/// A WikiExtractor file of about 1 MiB in `dir`.
fn corpus(dir: &Path) -> PathBuf {
    let words = [
        "the", "river", "flows", "north", "through", "old", "towns", "and", "green", "fields",
        "where", "farmers", "grow", "wheat", "barley", "every", "summer",
    ];
    let mut text = String::new();
    let mut n = 0u64;
    let mut doc = 0;
    while text.len() < 1 << 20 {
        text.push_str(&format!(
            "<doc id=\"{doc}\" title=\"Doc {doc}\">\nDoc {doc}\n\n"
        ));
        for s in 0..(3 + doc % 11) {
            let len = 5 + (doc * 7 + s * 3) % 13;
            let sentence: Vec<&str> = (0..len)
                .map(|_| {
                    n = n
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    words[(n >> 33) as usize % words.len()]
                })
                .collect();
            text.push_str(&format!("{}.", sentence.join(" ")));
            text.push(if s % 4 == 3 { '\n' } else { ' ' });
        }
        text.push_str("\n</doc>\n");
        doc += 1;
    }
    let path = dir.join("wiki.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `bertprep build` on `input` into `out` with [`FLAGS`] and `extra`; returns stderr.
fn build(input: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["build", "--in", path(input), "--out", path(out)];
    args.extend(FLAGS);
    args.extend(extra);
    let output = bertprep(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{args:?} failed: {stderr}");
    stderr
}

fn finalize(out: &Path) {
    finalize_ok(out, &[]);
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every shard's bytes, by name.
fn shards(out: &Path) -> Vec<(String, Vec<u8>)> {
    let manifest = Manifest::read(out).unwrap();
    manifest
        .shards
        .iter()
        .map(|s| (s.file.clone(), std::fs::read(out.join(&s.file)).unwrap()))
        .collect()
}

#[test]
fn output_depends_on_the_task_count_only_and_tasks_read_their_share() {
    let tmp = tempfile::tempdir().unwrap();
    let input = corpus(tmp.path());
    let total = std::fs::metadata(&input).unwrap().len();

    let one = tmp.path().join("one");
    build(&input, &one, &["--tasks", "4"]);
    finalize(&one);
    let reference = shards(&one);
    assert!(reference.len() >= 4, "a shard or more per task");

    for workers in [2, 3] {
        let out = tmp.path().join(format!("w{workers}"));
        for i in 0..workers {
            build(
                &input,
                &out,
                &["--tasks", "4", "--worker", &format!("{i}/{workers}")],
            );
        }
        finalize(&out);
        assert!(
            shards(&out) == reference,
            "{workers} workers wrote other bytes"
        );
    }
    let claimed = tmp.path().join("claim");
    build(&input, &claimed, &["--tasks", "4", "--claim"]);
    finalize(&claimed);
    assert!(shards(&claimed) == reference, "--claim wrote other bytes");

    // Each task read its own pieces of the file, plus a few KiB past each piece's end and of
    // the file's head for each piece after the first.
    let files = bertprep::input::discover(std::slice::from_ref(&input)).unwrap();
    let counter = std::sync::atomic::AtomicU64::new(0);
    let pieces = bertprep::input::plan::plan(&files, 65536, &counter).unwrap();
    assert_eq!(pieces.len() as u64, total.div_ceil(65536));
    let mut all = 0;
    for t in 0..4u64 {
        let part = Manifest::read_file(&one.join(format!("manifest-t000{t}.json"))).unwrap();
        let read = part.bytes_read.unwrap();
        let own: Vec<_> = pieces.iter().filter(|p| p.position % 4 == t).collect();
        let own_bytes: u64 = own.iter().map(|p| p.bytes()).sum();
        let slack = own.len() as u64 * (16 << 10);
        assert!(
            read >= own_bytes && read <= own_bytes + slack,
            "task {t} read {read} bytes for its {own_bytes} of {total}"
        );
        all += read;
    }
    assert!(all < total + total / 3, "{all} bytes read for {total}");
    let merged = Manifest::read(&one).unwrap();
    assert_eq!(merged.merged_tasks, Some(4));
    assert_eq!(merged.bytes_read, None);

    // Another task count is another build.
    let five = tmp.path().join("five");
    build(&input, &five, &["--tasks", "5"]);
    finalize(&five);
    assert_ne!(shards(&five), reference);
}

#[test]
fn reruns_and_other_worker_counts_do_only_what_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let input = corpus(tmp.path());
    let out = tmp.path().join("out");
    let said = build(&input, &out, &["--tasks", "6", "--worker", "1/3"]);
    assert!(
        said.contains("ran 2 of 6 tasks (0 already complete)"),
        "{said}"
    );
    // Tasks 1 and 4 are done: 0/2 runs 0 and 2, and 1/2 runs 3 and 5.
    let said = build(&input, &out, &["--tasks", "6", "--worker", "0/2"]);
    assert!(
        said.contains("ran 2 of 6 tasks (1 already complete)"),
        "{said}"
    );
    let said = build(&input, &out, &["--tasks", "6", "--worker", "1/2"]);
    assert!(
        said.contains("ran 2 of 6 tasks (1 already complete)"),
        "{said}"
    );
    let said = build(&input, &out, &["--tasks", "6", "--claim"]);
    assert!(
        said.contains("ran 0 of 6 tasks (6 already complete)"),
        "{said}"
    );
    finalize(&out);
    let whole = tmp.path().join("whole");
    build(&input, &whole, &["--tasks", "6"]);
    finalize(&whole);
    assert!(shards(&out) == shards(&whole));
}

#[test]
fn claiming_workers_wait_for_held_tasks_and_take_over_stale_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let input = corpus(tmp.path());
    let whole = tmp.path().join("whole");
    build(&input, &whole, &["--tasks", "3"]);
    finalize(&whole);

    // Task 2 is held by a live worker (its claim refreshed, as a heartbeat does): the claiming
    // worker runs the other two, then waits, and exits once the holder finishes task 2.
    let out = tmp.path().join("out");
    let claims = out.join(".bertprep-claims");
    std::fs::create_dir_all(&claims).unwrap();
    let claim = claims.join("task-0002");
    std::fs::write(&claim, "host elsewhere pid 1\n").unwrap();
    let alive = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let heartbeat = {
        let (claim, alive) = (claim.clone(), alive.clone());
        std::thread::spawn(move || {
            while alive.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(f) = std::fs::File::options().write(true).open(&claim) {
                    let _ = f.set_modified(std::time::SystemTime::now());
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
    };
    let mut args = vec!["build", "--in", path(&input), "--out", path(&out)];
    args.extend(FLAGS);
    args.extend(["--tasks", "3", "--claim", "--claim-timeout", "3"]);
    let waiting = std::process::Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(&args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let parts = |tasks: &[u32]| {
        tasks
            .iter()
            .all(|t| out.join(format!("manifest-t{t:04}.json")).exists())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !parts(&[0, 1]) {
        assert!(
            std::time::Instant::now() < deadline,
            "tasks 0 and 1 never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Well past the timeout, the held task is still left to its holder.
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert!(!parts(&[2]), "a task under a fresh claim was taken");
    build(&input, &out, &["--tasks", "3", "--worker", "2/3"]);
    alive.store(false, std::sync::atomic::Ordering::Relaxed);
    heartbeat.join().unwrap();
    std::fs::remove_file(&claim).unwrap();
    let done = waiting.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{said}");
    assert!(
        said.contains("waiting for 1 task(s) other workers hold"),
        "{said}"
    );
    assert!(
        said.contains("ran 2 of 3 tasks (0 already complete, 1 finished by other workers)"),
        "{said}"
    );
    finalize(&out);
    assert!(shards(&out) == shards(&whole));

    // Its holder died (the claim is never refreshed): the waiting worker takes the task over
    // once the claim is older than the timeout, not before.
    let out = tmp.path().join("out2");
    let claims = out.join(".bertprep-claims");
    std::fs::create_dir_all(&claims).unwrap();
    let claim = claims.join("task-0002");
    std::fs::write(&claim, "host elsewhere pid 1\n").unwrap();
    let planted = std::time::SystemTime::now();
    let said = build(
        &input,
        &out,
        &["--tasks", "3", "--claim", "--claim-timeout", "3"],
    );
    assert!(
        said.contains("ran 3 of 3 tasks (0 already complete)"),
        "{said}"
    );
    let finished = std::fs::metadata(out.join("manifest-t0002.json"))
        .and_then(|m| m.modified())
        .unwrap();
    assert!(
        finished.duration_since(planted).unwrap() >= std::time::Duration::from_secs(3),
        "the task was taken over before its claim went stale"
    );
    assert!(!claim.exists(), "a finished task's claim is removed");
    finalize(&out);
    assert!(shards(&out) == shards(&whole));
}

#[test]
fn standard_input_and_bad_task_counts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for (extra, says) in [
        (vec!["--in", "-", "--tasks", "2"], "standard input"),
        (
            vec!["--in", path(&fixtures()), "--tasks", "0"],
            "--tasks must be",
        ),
        (
            vec!["--in", path(&fixtures()), "--worker", "2/2"],
            "not below count",
        ),
    ] {
        let mut args = vec!["build", "--out", path(&out)];
        args.extend(extra);
        let output = bertprep(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(says),
            "{args:?}: {stderr}"
        );
    }
}

/// The task a row came from: the piece of the one input file in its `source`, modulo the
/// task count.
fn task_of(source: u64, tasks: u64) -> u64 {
    ((source >> 32) & 0xfff) % tasks
}

#[test]
fn rebalance_gives_equal_shards_drawn_from_every_task_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = corpus(tmp.path());
    let plain = tmp.path().join("plain");
    build(&input, &plain, &["--tasks", "5"]);
    finalize(&plain);
    let mut before: Vec<Vec<u8>> = shard_rows(&plain).iter().map(row_bytes).collect();

    let out = tmp.path().join("out");
    build(&input, &out, &["--tasks", "5"]);
    let said = bertprep(&["finalize", path(&out), "--rebalance", "100"]);
    assert!(
        said.status.success(),
        "{}",
        String::from_utf8_lossy(&said.stderr)
    );
    let manifest = Manifest::read(&out).unwrap();
    assert_eq!(manifest.rebalanced_rows, Some(100));
    let total: u64 = manifest.shards.iter().map(|s| s.rows).sum();
    for (i, shard) in manifest.shards.iter().enumerate() {
        let last = i + 1 == manifest.shards.len();
        assert_eq!(shard.rows, if last { total - 100 * i as u64 } else { 100 });
        assert_eq!(shard.file, format!("shard-{i:04}.parquet"));
    }
    // Only the new shards and the manifest are left of the tasks' files.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with("manifest-t") && !n.starts_with("shard-t")),
        "{names:?}"
    );
    // The same rows, and every full shard draws from each task in proportion to its rows.
    let rows = shard_rows(&out);
    let mut after: Vec<Vec<u8>> = rows.iter().map(row_bytes).collect();
    before.sort();
    after.sort();
    assert!(before == after, "rebalancing changed the rows");
    let mut per_task = [0u64; 5];
    for r in &rows {
        per_task[task_of(r.source, 5) as usize] += 1;
    }
    for (i, shard) in rows.chunks(100).enumerate().filter(|(_, c)| c.len() == 100) {
        for t in 0..5 {
            let got = shard.iter().filter(|r| task_of(r.source, 5) == t).count() as f64;
            let expected = 100.0 * per_task[t as usize] as f64 / total as f64;
            assert!(
                (got - expected).abs() <= 1.5,
                "shard {i}: task {t} has {got} rows, not ~{expected}"
            );
        }
    }

    // Killed part way and run again: the same bytes.
    let killed = tmp.path().join("killed");
    build(&input, &killed, &["--tasks", "5"]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(["finalize", path(&killed), "--rebalance", "3"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state = killed.join(".bertprep-finalize/state.json");
    kill_when_exists(child, &state);
    assert!(
        !killed.join("manifest.json").exists(),
        "the rebalance finished before the kill"
    );
    let again = bertprep(&["finalize", path(&killed), "--rebalance", "3"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let whole = tmp.path().join("whole");
    build(&input, &whole, &["--tasks", "5"]);
    let said = bertprep(&["finalize", path(&whole), "--rebalance", "3"]);
    assert!(said.status.success());
    assert!(
        shards(&killed) == shards(&whole),
        "the resumed rebalance wrote other bytes"
    );
}

fn shard_rows(dir: &Path) -> Vec<bertprep::shard::ShardRow> {
    let manifest = Manifest::read(dir).unwrap();
    manifest
        .shards
        .iter()
        .flat_map(|s| {
            bertprep::shard::read_shard(&dir.join(&s.file))
                .unwrap()
                .rows
        })
        .collect()
}

fn row_bytes(r: &bertprep::shard::ShardRow) -> Vec<u8> {
    format!("{:?}", r).into_bytes()
}

#[test]
fn a_killed_claiming_worker_is_taken_over_and_its_task_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let input = corpus(tmp.path());
    let out = tmp.path().join("out");
    let mut args = vec![
        "build",
        "--quiet",
        "--in",
        path(&input),
        "--out",
        path(&out),
    ];
    args.extend(FLAGS);
    args.extend([
        "--tasks",
        "2",
        "--claim",
        "--threads",
        "1",
        "--unit-bytes",
        "20000",
    ]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(&args)
        .spawn()
        .unwrap();
    // Killed inside its first task, once it has checkpointed.
    let state = out.join(".bertprep-work-t0000/state.json");
    kill_when_exists(child, &state);
    let claim = out.join(".bertprep-claims/task-0000");
    assert!(
        claim.exists(),
        "the worker finished its task before the kill"
    );
    assert!(!out.join("manifest-t0000.json").exists());
    // Its claim goes stale (no heartbeat); the next worker takes the task over and resumes it.
    age(&claim);
    let units = ["--unit-bytes", "20000"];
    let mut flags = vec!["--tasks", "2", "--claim", "--claim-timeout", "60"];
    flags.extend(units);
    let said = build(&input, &out, &flags);
    assert!(said.contains("ran 2 of 2 tasks"), "{said}");
    finalize(&out);
    let whole = tmp.path().join("whole");
    build(&input, &whole, &["--tasks", "2", units[0], units[1]]);
    finalize(&whole);
    assert!(
        shards(&out) == shards(&whole),
        "the taken-over task wrote other bytes"
    );
}
