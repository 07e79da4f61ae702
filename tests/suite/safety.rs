//! Safety promises of the binaries: concurrent workers, failed and forced builds, files outside
//! `--out`, files the tool did not make, manifests and state files that were edited or left
//! behind, unbounded reads, thread counts, and the wording of errors. Every case runs `bertprep`
//! as a user would, on small generated or fixture corpora (`bert-train`'s cases are in
//! `crates/bert-train/tests/safety.rs`).

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bertprep::output::manifest::Manifest;
use bertprep::shard::{read_shard, ShardRow};
use sha2::{Digest, Sha256};

use crate::util::*;

const BERTPREP: &str = env!("CARGO_BIN_EXE_bertprep");

/// Address space a process that must stay bounded may take: a runaway read of `/dev/zero`
/// stops there instead of exhausting the machine.
const MEMORY_CAP: u64 = 4 << 30;

/// Peak resident memory a bounded read may reach, in KiB: above a build or an inspection of
/// the fixtures (a few hundred MiB), below what reading toward [`MEMORY_CAP`] takes (2 GiB).
const BOUNDED_RSS_KIB: u64 = 1 << 20;

/// Repetitions of the concurrent-workers build (a race shows up in some runs only).
const WORKER_REPETITIONS: usize = 20;

// ---------------------------------------------------------------------------------------------
// Helpers

/// How a process run under [`run_timed`] ended.
struct Finished {
    /// `None`: it was still running at the time limit and was killed.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Peak resident memory of the process, in KiB.
    peak_rss_kib: u64,
}

impl Finished {
    fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// stdout and stderr together.
    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The outcome for assertion messages.
    fn describe(&self) -> String {
        let how = match self.status {
            None => format!("still running after {:.1?}, killed", self.elapsed),
            Some(s) => format!("{s} after {:.1?}", self.elapsed),
        };
        let how = format!("{how}, peak RSS {} MiB", self.peak_rss_kib >> 10);
        let clip = |s: &str| s.chars().take(2000).collect::<String>();
        format!(
            "{how}\n--- stderr:\n{}\n--- stdout:\n{}",
            clip(&self.stderr),
            clip(&self.stdout)
        )
    }
}

/// A `bertprep` command with `args`.
fn bertprep_cmd<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut cmd = Command::new(BERTPREP);
    cmd.args(args);
    cmd
}

/// Runs `cmd` with `input` on its standard input (empty when `None`), killing it after
/// `limit`; collects its output.
// The process is reaped with wait4 in `reap`, which also gives its peak memory.
#[allow(clippy::zombie_processes)]
fn run_timed_with_input(cmd: &mut Command, input: Option<&[u8]>, limit: Duration) -> Finished {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("start the program");
    let feeder = input.map(|bytes| {
        let mut stdin = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        })
    });
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let pid = child.id() as libc::pid_t;
    let (status, peak_rss_kib) = loop {
        if let Some((status, rss)) = reap(pid, false) {
            break (Some(status), rss);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let (_, rss) = reap(pid, true).expect("reap the killed process");
            break (None, rss);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    if let Some(f) = feeder {
        let _ = f.join();
    }
    Finished {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed,
        peak_rss_kib,
    }
}

/// Reaps process `pid` if it has ended (waiting for it with `block`): its exit status and peak
/// resident memory in KiB.
fn reap(pid: libc::pid_t, block: bool) -> Option<(ExitStatus, u64)> {
    use std::os::unix::process::ExitStatusExt;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if block { 0 } else { libc::WNOHANG };
    loop {
        // SAFETY: wait4 writes only into the two locals passed.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if r == pid {
            return Some((ExitStatus::from_raw(status), usage.ru_maxrss as u64));
        }
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return None;
    }
}

/// [`run_timed_with_input`] without input.
fn run_timed(cmd: &mut Command, limit: Duration) -> Finished {
    run_timed_with_input(cmd, None, limit)
}

/// Caps the address space of the process `cmd` starts at `bytes`.
fn cap_memory(cmd: &mut Command, bytes: u64) -> &mut Command {
    // SAFETY: only setrlimit runs between fork and exec; it is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Child processes killed and reaped when dropped (a failed assertion leaves none running).
struct Reaper(Vec<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes about `bytes` of WikiExtractor text with varied sentences to `path`.
fn generated_wiki(path: &Path, bytes: usize, seed: u64) {
    const ADJECTIVES: [&str; 16] = [
        "old", "quiet", "northern", "famous", "narrow", "wooden", "coastal", "busy", "ancient",
        "modern", "small", "remote", "royal", "broad", "sunken", "painted",
    ];
    const NOUNS: [&str; 20] = [
        "harbour",
        "bridge",
        "library",
        "mill",
        "chapel",
        "railway",
        "market",
        "garden",
        "lighthouse",
        "school",
        "canal",
        "theatre",
        "museum",
        "castle",
        "farm",
        "quarry",
        "observatory",
        "brewery",
        "orchard",
        "tower",
    ];
    const VERBS: [&str; 14] = [
        "replaced",
        "overlooked",
        "served",
        "joined",
        "faced",
        "outlasted",
        "supplied",
        "sheltered",
        "connected",
        "inspired",
        "rivalled",
        "bordered",
        "funded",
        "housed",
    ];
    const PLACES: [&str; 12] = [
        "Alderney",
        "Brockwell",
        "Carrow",
        "Dunmere",
        "Elstow",
        "Fenwick",
        "Greyholm",
        "Hathersage",
        "Ilkley",
        "Jarrow",
        "Kesgrave",
        "Lindale",
    ];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut text = String::with_capacity(bytes + 4096);
    let mut doc = 0;
    while text.len() < bytes {
        doc += 1;
        let place = PLACES[next(PLACES.len())];
        let title = format!("{place} {} {doc}", NOUNS[next(NOUNS.len())]);
        text.push_str(&format!(
            "<doc id=\"{doc}\" url=\"?curid={doc}\" title=\"{title}\">\n{title}\n\n"
        ));
        for _ in 0..2 + next(4) {
            for _ in 0..3 + next(6) {
                text.push_str(&format!(
                    "The {} {} near {} {} the {} {} in {}, after {} years of work. ",
                    ADJECTIVES[next(ADJECTIVES.len())],
                    NOUNS[next(NOUNS.len())],
                    PLACES[next(PLACES.len())],
                    VERBS[next(VERBS.len())],
                    ADJECTIVES[next(ADJECTIVES.len())],
                    NOUNS[next(NOUNS.len())],
                    1700 + next(320),
                    2 + next(90),
                ));
            }
            text.push('\n');
        }
        text.push_str("</doc>\n");
    }
    std::fs::write(path, text).unwrap();
}

/// A temp dir holding `corpus.txt`, a generated corpus of about `bytes`.
fn generated_corpus(bytes: usize, seed: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corpus.txt");
    generated_wiki(&path, bytes, seed);
    (dir, path)
}

/// A row as bytes, for comparing the multisets of two builds' rows.
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

/// The sorted rows of the build in `dir`, read through its manifest.
fn sorted_row_keys(dir: &Path) -> Vec<Vec<u8>> {
    let m = Manifest::read(dir).unwrap();
    let mut keys: Vec<Vec<u8>> = m
        .shards
        .iter()
        .flat_map(|sh| {
            read_shard(&dir.join(&sh.file))
                .unwrap_or_else(|e| panic!("{} in {}: {e}", sh.file, dir.display()))
                .rows
        })
        .map(|r| row_key(&r))
        .collect();
    keys.sort();
    keys
}

/// Every file of `dir` (not recursing), with its bytes.
fn files_with_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    file_names(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &serde_json::Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Flags of the small worker builds of the fixtures: several units, several shards.
const FIXTURE_UNITS: [&str; 6] = [
    "--max-seq-len",
    "64",
    "--unit-bytes",
    "3000",
    "--rows-per-shard",
    "40",
];

/// A finished two-worker build of the fixtures (both parts, not merged).
fn two_worker_build() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..2 {
        let mut flags = FIXTURE_UNITS.to_vec();
        let spec = format!("{i}/2");
        flags.extend(["--tasks", "2", "--worker", &spec]);
        build_ok(&fixtures(), dir.path(), &flags);
    }
    dir
}

/// A finished one-machine build of the fixtures with `extra` flags.
fn fixture_build(extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    build_ok(&fixtures(), dir.path(), extra);
    dir
}

/// Copies the files of `from` (recursively) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Waits until `path` exists or `child` exits (or 60 s pass); whether it exists.
fn wait_for(path: &Path, child: &mut Child) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if path.exists() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return path.exists();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// A build command with its output discarded (for builds killed on purpose).
fn background_build(input: &Path, out: &Path, flags: &[&str]) -> Command {
    let mut cmd = Command::new(BERTPREP);
    cmd.args(["build", "--quiet", "--in"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

// ---------------------------------------------------------------------------------------------
// 1. Parallel workers

/// N workers started at the same moment on one shared output directory all succeed,
/// `finalize` succeeds, and the merged instances are exactly a one-machine build's.
#[test]
fn concurrent_workers_all_succeed_and_merge() {
    let (_corpus_dir, corpus) = generated_corpus(600_000, 1);
    let flags = ["--max-seq-len", "128", "--unit-bytes", "100000"];
    let single = tempfile::tempdir().unwrap();
    build_ok(&corpus, single.path(), &flags);
    let expected = sorted_row_keys(single.path());
    assert!(!expected.is_empty(), "the one-machine build made no rows");
    for rep in 0..WORKER_REPETITIONS {
        let out = tempfile::tempdir().unwrap();
        let logs = tempfile::tempdir().unwrap();
        let mut reaper = Reaper(Vec::new());
        for i in 0..4 {
            let log = std::fs::File::create(logs.path().join(format!("w{i}.log"))).unwrap();
            let child = Command::new(BERTPREP)
                .args(["build", "--quiet", "--threads", "1", "--in"])
                .arg(&corpus)
                .arg("--out")
                .arg(out.path())
                .args(flags)
                .args(["--tasks", "4", "--worker", &format!("{i}/4")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .spawn()
                .unwrap();
            reaper.0.push(child);
        }
        let statuses: Vec<ExitStatus> = reaper.0.iter_mut().map(|c| c.wait().unwrap()).collect();
        for (i, status) in statuses.iter().enumerate() {
            let log = std::fs::read_to_string(logs.path().join(format!("w{i}.log"))).unwrap();
            assert!(
                status.success(),
                "repetition {rep}: worker {i}/4, run beside the other three, failed ({status}): {log}"
            );
        }
        let merged = bertprep(&["finalize", s(out.path())]);
        assert!(
            merged.status.success(),
            "repetition {rep}: finalize after 4 concurrent workers failed: {}",
            String::from_utf8_lossy(&merged.stderr)
        );
        assert!(
            sorted_row_keys(out.path()) == expected,
            "repetition {rep}: the concurrent workers' merged instances differ from the \
             one-machine build's"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. A failed --overwrite

/// A `--overwrite` build that fails (invalid UTF-8 input) leaves the previous build in place:
/// its shards, manifest.json and tokenizer.json, byte for byte.
#[test]
fn failed_overwrite_keeps_previous_build() {
    let out = fixture_build(&["--max-seq-len", "128", "--rows-per-shard", "40"]);
    let before = files_with_bytes(out.path());
    assert!(before.iter().any(|(n, _)| n == "manifest.json"));
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = bad_dir.path().join("bad-utf8.txt");
    std::fs::write(
        &bad,
        b"A first sentence here.\nThen \xff\xfe broken bytes.\n",
    )
    .unwrap();
    let failed = bertprep(&[
        "build",
        "--quiet",
        "--in",
        s(&bad),
        "--out",
        s(out.path()),
        "--max-seq-len",
        "128",
        "--overwrite",
    ]);
    assert_eq!(
        failed.status.code(),
        Some(1),
        "a build of invalid UTF-8 should fail: {}",
        String::from_utf8_lossy(&failed.stderr)
    );
    let after = files_with_bytes(out.path());
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&after),
        names(&before),
        "the failed --overwrite build changed which files the previous build has"
    );
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        assert!(a == b, "the failed --overwrite build changed {name}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Writes and deletes outside --out

/// Reading standard input never writes through a symlink planted at `OUT/.bertprep-stdin`:
/// the file it points to, outside OUT, is left as it was.
#[test]
fn stdin_spool_symlink_does_not_write_outside_out() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"precious contents\n").unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&victim, out.join(".bertprep-stdin")).unwrap();
    let wiki = std::fs::read(fixtures().join("wiki/AA/wiki_00")).unwrap();
    let head = &wiki[..20_000.min(wiki.len())];
    let run = run_timed_with_input(
        &mut bertprep_cmd(&[
            "build",
            "--quiet",
            "--in",
            "-",
            "--out",
            s(&out),
            "--max-seq-len",
            "128",
        ]),
        Some(head),
        Duration::from_secs(60),
    );
    assert!(
        run.status.is_some(),
        "build did not finish: {}",
        run.describe()
    );
    let now = String::from_utf8_lossy(&std::fs::read(&victim).unwrap()).into_owned();
    assert!(
        now == "precious contents\n",
        "the build wrote standard input through OUT/.bertprep-stdin into a file outside OUT: \
         it now starts {:?} ({})",
        now.chars().take(60).collect::<String>(),
        run.describe()
    );
}

/// A resume whose `state.json` names a file outside OUT (`../victim/precious.txt` as a finished
/// shard) and whose spill bucket is shorter than its checkpoint fails or is refused without
/// deleting that file.
#[test]
fn tampered_state_does_not_delete_outside_out() {
    let (_corpus_dir, corpus) = generated_corpus(600_000, 3);
    let flags = ["--max-seq-len", "128", "--threads", "1"];
    for attempt in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let victim_dir = dir.path().join("victim");
        std::fs::create_dir(&victim_dir).unwrap();
        let victim = victim_dir.join("precious.txt");
        std::fs::write(&victim, b"precious\n").unwrap();
        let work = out.join(".bertprep-work");
        let state_path = work.join("state.json");
        let mut child = background_build(&corpus, &out, &flags).spawn().unwrap();
        let appeared = wait_for(&state_path, &mut child);
        let _ = child.kill();
        child.wait().unwrap();
        if !appeared || !state_path.exists() || out.join("manifest.json").exists() {
            eprintln!("attempt {attempt}: no unfinished build to tamper with; again");
            continue;
        }
        let mut state = read_json(&state_path);
        state["shards"]
            .as_array_mut()
            .expect("state.json has a shards list")
            .push(serde_json::json!({
                "file": "../victim/precious.txt",
                "rows": 1,
                "bytes": 9,
                "sha256": sha256_hex(b"precious\n"),
            }));
        let lengths = state["bucket_lengths"]
            .as_array_mut()
            .expect("state.json has bucket_lengths");
        let recorded = lengths[0].as_u64().unwrap();
        lengths[0] = serde_json::json!(recorded.max(4096));
        write_json(&state_path, &state);
        let bucket = work.join("spill/bucket-00000.bin");
        if bucket.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&bucket)
                .unwrap()
                .set_len(0)
                .unwrap();
        }
        let mut cmd = bertprep_cmd(&["build", "--quiet", "--in", s(&corpus), "--out", s(&out)]);
        cmd.args(flags);
        let resumed = run_timed(&mut cmd, Duration::from_secs(60));
        assert!(
            victim.exists(),
            "resuming a tampered state deleted ../victim/precious.txt, outside OUT ({})",
            resumed.describe()
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
        return;
    }
    panic!("the build finished before it could be killed, three times: enlarge the corpus");
}

// ---------------------------------------------------------------------------------------------
// 4. Files the tool did not make

/// A build without `--overwrite` leaves a file it did not make, `OUT/.notes.txt.tmp`, alone.
#[test]
fn build_keeps_foreign_hidden_tmp_file() {
    let out = tempfile::tempdir().unwrap();
    let notes = out.path().join(".notes.txt.tmp");
    std::fs::write(&notes, b"my notes\n").unwrap();
    build_ok(&fixtures(), out.path(), &["--max-seq-len", "128"]);
    assert!(
        notes.exists(),
        "the build deleted OUT/.notes.txt.tmp, a file it did not make"
    );
}

/// `--overwrite` replaces the earlier build only: a foreign `shard-2023-backup.parquet` (no
/// manifest or state of the tool lists it) survives.
#[test]
fn overwrite_keeps_foreign_shard_named_file() {
    let out = fixture_build(&["--max-seq-len", "128"]);
    let backup = out.path().join("shard-2023-backup.parquet");
    std::fs::write(&backup, b"someone else's file").unwrap();
    build_ok(
        &fixtures(),
        out.path(),
        &["--max-seq-len", "128", "--seed", "7", "--overwrite"],
    );
    assert!(
        backup.exists(),
        "--overwrite deleted shard-2023-backup.parquet, which no build of the tool made"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. finalize and inspect --check trust manifests

/// `finalize` checks that the shards the parts list exist: a deleted worker shard fails
/// the merge, naming it.
#[test]
fn merge_manifest_fails_on_a_missing_shard() {
    let dir = two_worker_build();
    let part = Manifest::read_file(&dir.path().join("manifest-t0001.json")).unwrap();
    let shard = part.shards[0].file.clone();
    std::fs::remove_file(dir.path().join(&shard)).unwrap();
    let merged = bertprep(&["finalize", s(dir.path())]);
    let err = String::from_utf8_lossy(&merged.stderr);
    assert!(
        !merged.status.success() && err.contains(&shard),
        "finalize with {shard} deleted should fail naming it; status {}, stderr: {err}",
        merged.status
    );
}

/// `finalize` holds every shard to the SHA-256 its part records: a shard changed in place
/// (same size, one byte flipped) fails the merge, naming it, and no manifest is written.
#[test]
fn finalize_fails_on_a_shard_changed_in_place() {
    let dir = two_worker_build();
    let part = Manifest::read_file(&dir.path().join("manifest-t0000.json")).unwrap();
    let shard = part.shards[0].file.clone();
    let path = dir.path().join(&shard);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let merged = bertprep(&["finalize", s(dir.path())]);
    let err = String::from_utf8_lossy(&merged.stderr);
    assert!(
        !merged.status.success() && err.contains(&shard) && err.contains("SHA-256"),
        "finalize with {shard} changed should fail naming it; status {}, stderr: {err}",
        merged.status
    );
    assert!(!dir.path().join("manifest.json").exists());
}

/// `finalize` refuses a part that lists a shard outside the directory
/// (`../../../etc/passwd`).
#[test]
fn merge_manifest_rejects_shard_paths_outside_dir() {
    let dir = two_worker_build();
    let path = dir.path().join("manifest-t0001.json");
    let mut part = read_json(&path);
    part["shards"][0]["file"] = serde_json::json!("../../../etc/passwd");
    write_json(&path, &part);
    let merged = bertprep(&["finalize", s(dir.path())]);
    assert!(
        !merged.status.success(),
        "finalize accepted a part listing ../../../etc/passwd as a shard: {}",
        String::from_utf8_lossy(&merged.stderr)
    );
    assert!(
        !dir.path().join("manifest.json").exists(),
        "a manifest.json listing ../../../etc/passwd was written"
    );
}

/// A stray copy of a part (`manifest-t0000.bak.json`) is not counted: the merge ignores or
/// rejects it, and a merged manifest holds each worker's shards and instances once.
#[test]
fn merge_manifest_ignores_or_rejects_stray_part_copies() {
    let dir = two_worker_build();
    let parts: Vec<Manifest> = (0..2)
        .map(|i| Manifest::read_file(&dir.path().join(format!("manifest-t000{i}.json"))).unwrap())
        .collect();
    let instances: u64 = parts.iter().map(|p| p.counters.instances).sum();
    let shards: usize = parts.iter().map(|p| p.shards.len()).sum();
    std::fs::copy(
        dir.path().join("manifest-t0000.json"),
        dir.path().join("manifest-t0000.bak.json"),
    )
    .unwrap();
    let merged = bertprep(&["finalize", s(dir.path())]);
    if !merged.status.success() {
        return; // Rejected: fine.
    }
    let m = Manifest::read(dir.path()).unwrap();
    assert_eq!(
        (m.counters.instances, m.shards.len()),
        (instances, shards),
        "finalize counted the stray copy manifest-t0000.bak.json as a part \
         (instances, shards)"
    );
}

/// Parts left from an earlier build with another worker count (a 3-worker build's
/// `manifest-t0002.json` after a 2-worker `--overwrite` rebuild) are not merged: the merge
/// writes the 2-worker build's manifest, or fails naming the stale part.
#[test]
fn merge_manifest_rejects_stale_parts_of_another_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    for (count, extra) in [(3, None), (2, Some("--overwrite"))] {
        for i in 0..count {
            let mut flags = FIXTURE_UNITS.to_vec();
            let spec = format!("{i}/{count}");
            let tasks = count.to_string();
            flags.extend(["--tasks", &tasks, "--worker", &spec]);
            flags.extend(extra);
            build_ok(&fixtures(), dir.path(), &flags);
        }
        if count == 3 {
            let merged = bertprep(&["finalize", s(dir.path())]);
            assert!(merged.status.success(), "the 3-worker merge failed");
        }
    }
    let single = fixture_build(&FIXTURE_UNITS);
    let expected = Manifest::read(single.path()).unwrap().counters.instances;
    let merged = bertprep(&["finalize", s(dir.path())]);
    let err = String::from_utf8_lossy(&merged.stderr);
    if merged.status.success() {
        let m = Manifest::read(dir.path()).unwrap();
        assert_eq!(
            (m.merged_tasks, m.counters.instances),
            (Some(2), expected),
            "the merge took in the 3-worker build's stale manifest-t0002.json"
        );
    } else {
        assert!(
            err.contains("manifest-t0002.json"),
            "the merge failed without naming the stale part manifest-t0002.json: {err}"
        );
    }
}

/// `inspect DIR --check` fails on a manifest that lists one shard twice, even when its
/// counters were edited to agree with reading that shard twice.
#[test]
fn inspect_check_fails_on_a_shard_listed_twice() {
    let dir = fixture_build(&["--max-seq-len", "64", "--rows-per-shard", "40"]);
    let path = dir.path().join("manifest.json");
    let mut m = read_json(&path);
    let first = m["shards"][0].clone();
    m["shards"].as_array_mut().unwrap().push(first);
    write_json(&path, &m);
    // Counters that agree with the rows read through the edited list: the duplicate itself
    // is what must be caught.
    let first_look = bertprep(&["inspect", s(dir.path()), "--check"]);
    for line in String::from_utf8_lossy(&first_look.stdout).lines() {
        let Some(rest) = line.trim().strip_prefix("manifest.json: counters.") else {
            continue;
        };
        let (name, numbers) = rest.split_once(" is ").unwrap();
        let held: u64 = numbers
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("unexpected counter line {line:?}"));
        m["counters"][name] = serde_json::json!(held);
    }
    write_json(&path, &m);
    let run = bertprep(&["inspect", s(dir.path()), "--check"]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "inspect --check passed a manifest listing shard-0000.parquet twice: {}",
        String::from_utf8_lossy(&run.stdout)
    );
}

// ---------------------------------------------------------------------------------------------
// 6. inspect --check and the manifest's tokenizer file

/// A fresh build of the fixtures whose manifest names `file` as its tokenizer file.
fn build_with_tokenizer_file(file: &str) -> tempfile::TempDir {
    let dir = fixture_build(&["--max-seq-len", "64"]);
    let path = dir.path().join("manifest.json");
    let mut m = read_json(&path);
    m["tokenizer"]["file"] = serde_json::json!(file);
    write_json(&path, &m);
    dir
}

/// `inspect --check` does not read a tokenizer file outside the directory
/// (`../../../../etc/passwd`): it fails, and prints no hash of that file.
#[test]
fn inspect_check_does_not_hash_a_tokenizer_outside_dir() {
    let dir = build_with_tokenizer_file("../../../../etc/passwd");
    let passwd_sha = sha256_hex(&std::fs::read("/etc/passwd").unwrap());
    let run = run_timed(
        &mut bertprep_cmd(&["inspect", s(dir.path()), "--check"]),
        Duration::from_secs(30),
    );
    assert!(
        !run.success(),
        "inspect --check passed with the tokenizer file ../../../../etc/passwd"
    );
    assert!(
        !run.text().contains(&passwd_sha),
        "inspect --check printed the SHA-256 of /etc/passwd: {}",
        run.describe()
    );
}

/// `inspect --check` with the manifest's tokenizer file `/dev/zero` fails at once instead of
/// hashing an endless file.
#[test]
fn inspect_check_does_not_read_dev_zero_as_tokenizer() {
    let dir = build_with_tokenizer_file("/dev/zero");
    let run = run_timed(
        &mut bertprep_cmd(&["inspect", s(dir.path()), "--check"]),
        Duration::from_secs(10),
    );
    assert!(
        run.status.is_some() && !run.success(),
        "inspect --check with tokenizer file /dev/zero should fail quickly: {}",
        run.describe()
    );
}

/// `inspect --check` holds the build to its own `tokenizer.json`: a manifest pointing at a
/// valid tokenizer elsewhere (absolute path) while `DIR/tokenizer.json` is gone fails.
#[test]
fn inspect_check_needs_the_tokenizer_in_dir() {
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = fixture_build(&["--max-seq-len", "64"]);
    let copy = elsewhere.path().join("tokenizer.json");
    std::fs::rename(dir.path().join("tokenizer.json"), &copy).unwrap();
    let path = dir.path().join("manifest.json");
    let mut m = read_json(&path);
    m["tokenizer"]["file"] = serde_json::json!(s(&copy));
    write_json(&path, &m);
    let run = bertprep(&["inspect", s(dir.path()), "--check"]);
    assert!(
        !run.status.success(),
        "inspect --check passed a directory without tokenizer.json whose manifest points at {}",
        copy.display()
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Unbounded reads

/// `inspect` with `DIR/tokenizer.json` a symlink to `/dev/zero` ends on its own within 10 s,
/// naming tokenizer.json, with its peak memory under 1 GiB: it reads a bounded amount (a
/// 4 GiB address-space cap keeps a runaway read from exhausting the machine).
#[test]
fn inspect_tokenizer_symlink_to_dev_zero_is_bounded() {
    let dir = fixture_build(&["--max-seq-len", "64"]);
    let tok = dir.path().join("tokenizer.json");
    std::fs::remove_file(&tok).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &tok).unwrap();
    let mut cmd = bertprep_cmd(&["inspect", s(dir.path())]);
    let run = run_timed(cap_memory(&mut cmd, MEMORY_CAP), Duration::from_secs(10));
    assert!(
        run.code().is_some()
            && run.text().contains("tokenizer.json")
            && run.peak_rss_kib < BOUNDED_RSS_KIB,
        "inspect with tokenizer.json -> /dev/zero should stop reading it after a bounded \
         amount and say so: {}",
        run.describe()
    );
}

/// `build --tokenizer /dev/zero` fails within 10 s with an error naming the file, its peak
/// memory under 1 GiB (a 4 GiB address-space cap keeps a runaway read from exhausting the
/// machine).
#[test]
fn build_tokenizer_dev_zero_is_bounded() {
    let out = tempfile::tempdir().unwrap();
    let fixtures = fixtures();
    let mut cmd = bertprep_cmd(&[
        "build",
        "--quiet",
        "--in",
        s(&fixtures),
        "--out",
        s(out.path()),
        "--tokenizer",
        "/dev/zero",
    ]);
    let run = run_timed(cap_memory(&mut cmd, MEMORY_CAP), Duration::from_secs(10));
    assert!(
        run.code() == Some(1)
            && run.stderr.contains("/dev/zero")
            && run.peak_rss_kib < BOUNDED_RSS_KIB,
        "build --tokenizer /dev/zero should fail quickly after a bounded read, naming it: {}",
        run.describe()
    );
}

/// `bertprep sentences` on a file holding one 40 MB line fails with the line-length error the
/// build gives (it stops at 32 MiB).
#[test]
fn sentences_stops_at_an_overlong_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-line.txt");
    let word = b"word ";
    let mut line = Vec::with_capacity(40_000_000);
    while line.len() < 40_000_000 {
        line.extend_from_slice(word);
    }
    std::fs::write(&path, &line).unwrap();
    drop(line);
    let mut cmd = bertprep_cmd(&["sentences", "--format", "text", s(&path)]);
    let run = run_timed(cap_memory(&mut cmd, MEMORY_CAP), Duration::from_secs(60));
    assert!(
        run.code() == Some(1) && run.stderr.contains("line longer than"),
        "bertprep sentences on a 40 MB line should fail with the line-length error: {}",
        run.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// 8. --out inside --in

/// A build whose `--out` is inside, or equal to, an `--in` directory is refused before it
/// writes anything, with a message naming `--out`.
#[test]
fn out_inside_or_equal_to_in_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("corpus");
    copy_tree(&fixtures().join("wiki"), &input);
    for out in [input.join("out"), input.clone()] {
        let run = bertprep(&[
            "build",
            "--quiet",
            "--in",
            s(&input),
            "--out",
            s(&out),
            "--max-seq-len",
            "64",
        ]);
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            run.status.code() == Some(1) && err.contains("--out"),
            "--out {} with --in {} should be refused, naming --out; status {}, stderr: {err}",
            out.display(),
            input.display(),
            run.status
        );
        assert!(
            !out.join("manifest.json").exists(),
            "a build was written into {}",
            out.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Resume and finished shards

/// A resumed build whose state lists a finished shard that was deleted (from the work
/// directory, where shards wait until the build is complete) rebuilds it or fails; it never
/// exits 0 with a manifest listing a missing shard.
#[test]
fn resume_rebuilds_or_refuses_a_deleted_finished_shard() {
    let (_corpus_dir, corpus) = generated_corpus(600_000, 9);
    let flags = [
        "--max-seq-len",
        "128",
        "--rows-per-shard",
        "50",
        "--threads",
        "1",
    ];
    for attempt in 0..3 {
        let out = tempfile::tempdir().unwrap();
        let mut child = background_build(&corpus, out.path(), &flags)
            .spawn()
            .unwrap();
        // Shards are staged in the work directory until the build is complete. Once
        // shard-0001 exists there, the state has recorded shard-0000 as finished.
        let work = out.path().join(".bertprep-work");
        let appeared = wait_for(&work.join("shard-0001.parquet"), &mut child);
        let _ = child.kill();
        child.wait().unwrap();
        if !appeared || out.path().join("manifest.json").exists() {
            eprintln!("attempt {attempt}: the kill did not land in the write phase; again");
            continue;
        }
        std::fs::remove_file(work.join("shard-0000.parquet")).unwrap();
        let mut cmd = bertprep_cmd(&["build", "--quiet", "--in", s(&corpus), "--out"]);
        cmd.arg(out.path()).args(flags);
        let resumed = run_timed(&mut cmd, Duration::from_secs(120));
        if !resumed.success() {
            return; // Refused or failed: fine.
        }
        let m = Manifest::read(out.path()).unwrap();
        let missing: Vec<&str> = m
            .shards
            .iter()
            .map(|sh| sh.file.as_str())
            .filter(|f| !out.path().join(f).exists())
            .collect();
        assert!(
            missing.is_empty(),
            "the resumed build exited 0 with a manifest listing missing shards {missing:?}"
        );
        return;
    }
    panic!("the build finished before it could be killed, three times: enlarge the corpus");
}

// ---------------------------------------------------------------------------------------------
// 11. --threads

/// Whether `run` was refused or capped with a message about `--threads`, within the limit.
fn threads_handled(run: &Finished) -> bool {
    run.status.is_some() && run.stderr.contains("--threads")
}

/// `bertprep build --threads 100000` is refused or capped with a message, and ends quickly.
#[test]
fn build_threads_are_capped_or_refused() {
    let out = tempfile::tempdir().unwrap();
    let fixtures = fixtures();
    let run = run_timed(
        &mut bertprep_cmd(&[
            "build",
            "--in",
            s(&fixtures),
            "--out",
            s(out.path()),
            "--max-seq-len",
            "64",
            "--threads",
            "100000",
        ]),
        Duration::from_secs(20),
    );
    assert!(
        threads_handled(&run),
        "build --threads 100000 should be refused or capped with a message about --threads, \
         within 20 s: {}",
        run.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// 12. Messages

/// A manifest part whose worker index is out of range (7 of 2) is reported as such, not as a
/// missing part.
#[test]
fn merge_manifest_names_an_out_of_range_part() {
    let dir = two_worker_build();
    let old = dir.path().join("manifest-t0001.json");
    let mut part = read_json(&old);
    part["task"]["index"] = serde_json::json!(7);
    std::fs::remove_file(&old).unwrap();
    write_json(&dir.path().join("manifest-t0007.json"), &part);
    let merged = bertprep(&["finalize", s(dir.path())]);
    let err = String::from_utf8_lossy(&merged.stderr);
    assert!(
        !merged.status.success() && err.contains("manifest-t0007.json") && !err.contains("missing"),
        "a part with worker index 7 of 2 should be reported as that, not as a missing part: {err}"
    );
}

/// A corrupt `state.json` (garbage bytes) is reported as a corrupt or unreadable state file,
/// named, not as a build with other inputs or settings.
#[test]
fn corrupt_state_is_reported_as_corrupt() {
    let out = tempfile::tempdir().unwrap();
    let work = out.path().join(".bertprep-work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("state.json"), b"\x00\x13garbage{{{not json").unwrap();
    let fixtures = fixtures();
    let run = bertprep(&[
        "build",
        "--quiet",
        "--in",
        s(&fixtures),
        "--out",
        s(out.path()),
        "--max-seq-len",
        "64",
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("state.json") && !err.contains("other inputs"),
        "a corrupt state.json should be reported as such, naming it: {err}"
    );
}

/// `inspect DIR --check` with its one shard unreadable reports that shard, and no
/// "tokenizer SHA-256 differs" line that follows from it.
#[test]
fn inspect_check_unreadable_shard_is_not_a_tokenizer_mismatch() {
    let dir = fixture_build(&["--max-seq-len", "64"]);
    let m = Manifest::read(dir.path()).unwrap();
    assert_eq!(m.shards.len(), 1, "the fixture build should make one shard");
    std::fs::write(dir.path().join(&m.shards[0].file), b"PAR1 not really").unwrap();
    let run = bertprep(&["inspect", s(dir.path()), "--check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_ne!(
        run.status.code(),
        Some(0),
        "inspect --check passed an unreadable shard"
    );
    assert!(
        !text.contains("tokenizer SHA-256 differs"),
        "an unreadable shard was also reported as a tokenizer mismatch: {text}"
    );
}
