//! The layout of an output directory: every file a build, a task or `finalize` writes there, by
//! name; which pieces a task builds and which tasks a `--worker` runs.
//!
//! ```text
//! OUT/
//!   shard-0000.parquet ...         one-machine build (shard-tTTTT-NNNN.parquet for task TTTT)
//!   tokenizer.json                 the tokenizer the shards were made with
//!   manifest.json                  written last: its presence means the build is complete
//!   manifest-tTTTT.json            task TTTT's part (its completion marker), joined by `finalize`
//!   .bertprep-work/                spill buckets and state.json of a build in progress
//!                                  (.bertprep-work-tTTTT/ per task)
//!   .bertprep-claims/task-TTTT     a `--claim` worker's claim on task TTTT
//!   .bertprep-finalize/            shards and state of a `finalize --rebalance` in progress
//!   .bertprep-stdin                standard input spooled to a file (-tTTTT per task)
//!   .NAME.PID-N.tmp                a file being written, renamed to NAME when complete
//! ```
//!
//! A build writes its shards into its work directory and moves them into `OUT/` only once all
//! are complete, just before `tokenizer.json` and the manifest: `OUT/` holds the previous build
//! or the new one, whole.
//!
//! No other module spells these names.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The manifest of a finished build.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The tokenizer beside the shards.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// The state file inside a work directory.
pub const STATE_FILE: &str = "state.json";

const SHARD_PREFIX: &str = "shard-";
const SHARD_SUFFIX: &str = ".parquet";
const PART_PREFIX: &str = "manifest-t";
const WORK_DIR: &str = ".bertprep-work";
const STDIN_SPOOL: &str = ".bertprep-stdin";
const CLAIMS_DIR: &str = ".bertprep-claims";
const FINALIZE_DIR: &str = ".bertprep-finalize";

/// One of the fixed tasks of a distributed build (`--tasks T`): task `index` of `count` builds
/// the plan pieces whose position `p` has `p % count == index`, and writes its own shards,
/// manifest part and work directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// This task's index, `0..count`.
    pub index: u32,
    /// Number of tasks.
    pub count: u32,
}

impl Task {
    /// Whether the plan piece at `position` belongs to this task.
    pub fn owns(&self, position: u64) -> bool {
        position % u64::from(self.count) == u64::from(self.index)
    }

    /// Suffix of this task's files, e.g. `-t0003`.
    pub fn suffix(&self) -> String {
        format!("-t{:04}", self.index)
    }
}

/// Which tasks a process runs (`--worker i/N`): those `t` with `t % N == i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    /// This worker's index, `0..count`.
    pub index: u32,
    /// Number of workers.
    pub count: u32,
}

impl Worker {
    /// This worker's tasks out of `tasks`, in order.
    pub fn tasks(self, tasks: u32) -> impl Iterator<Item = Task> {
        (self.index..tasks)
            .step_by(self.count.max(1) as usize)
            .map(move |index| Task {
                index,
                count: tasks,
            })
    }

    /// Parses `--worker`: `I/N`, or `auto` / `auto/N` taking the index from
    /// `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job) or `SLURM_ARRAY_TASK_ID` (minus
    /// `SLURM_ARRAY_TASK_MIN`, Slurm job array), and the count from `N` or
    /// `SLURM_ARRAY_TASK_COUNT`. `env` looks a variable up.
    pub fn parse(spec: &str, env: impl Fn(&str) -> Option<String>) -> Result<Worker> {
        let bad = |msg: String| Error::Config(format!("--worker {spec}: {msg}"));
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| bad(format!("{what} '{s}' is not a number")))
        };
        let (index, count) = spec.split_once('/').unwrap_or((spec, ""));
        let index = if index == "auto" {
            if let Some(i) = env("JOB_COMPLETION_INDEX") {
                number(&i, "JOB_COMPLETION_INDEX")?
            } else if let Some(i) = env("SLURM_ARRAY_TASK_ID") {
                let min = match env("SLURM_ARRAY_TASK_MIN") {
                    Some(m) => number(&m, "SLURM_ARRAY_TASK_MIN")?,
                    None => 0,
                };
                number(&i, "SLURM_ARRAY_TASK_ID")?
                    .checked_sub(min)
                    .ok_or_else(|| bad("SLURM_ARRAY_TASK_ID below SLURM_ARRAY_TASK_MIN".into()))?
            } else {
                return Err(bad(
                    "neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set".into(),
                ));
            }
        } else {
            number(index, "index")?
        };
        let count = if !count.is_empty() {
            number(count, "count")?
        } else if let Some(n) = env("SLURM_ARRAY_TASK_COUNT") {
            number(&n, "SLURM_ARRAY_TASK_COUNT")?
        } else {
            return Err(bad("give the worker count as I/N or auto/N".into()));
        };
        if count == 0 || index >= count {
            return Err(bad(format!("index {index} is not below count {count}")));
        }
        Ok(Worker { index, count })
    }
}

/// Suffix of a task's files (`-t0003`), empty for a one-machine build.
fn suffix(task: Option<Task>) -> String {
    task.map(|t| t.suffix()).unwrap_or_default()
}

/// Prefix of the shard names of `task` (`shard-`, or `shard-t0003-`).
pub fn shard_prefix(task: Option<Task>) -> String {
    match task {
        Some(w) => format!("shard{}-", w.suffix()),
        None => SHARD_PREFIX.to_string(),
    }
}

/// Name of shard number `index` of `task`.
pub fn shard_name(task: Option<Task>, index: usize) -> String {
    format!("{}{index:04}{SHARD_SUFFIX}", shard_prefix(task))
}

/// Whether `name` is a final shard file name (of any task).
pub fn is_shard_name(name: &str) -> bool {
    name.starts_with(SHARD_PREFIX) && name.ends_with(SHARD_SUFFIX) && is_plain_name(name)
}

/// Whether `name` is a shard of `task` (without tasks: `shard-NNNN.parquet` and task
/// shards alike, as a one-machine build's directory holds no others).
pub fn is_shard_of(name: &str, task: Option<Task>) -> bool {
    is_shard_name(name) && name.starts_with(&shard_prefix(task))
}

/// File name of the manifest a build of `task` writes: `manifest.json`, or the part
/// `manifest-wIII.json`.
pub fn manifest_name(task: Option<Task>) -> String {
    match task {
        Some(t) => part_file(t),
        None => MANIFEST_FILE.to_string(),
    }
}

/// File name of task `t`'s manifest part.
pub fn part_file(task: Task) -> String {
    format!("manifest{}.json", task.suffix())
}

/// The task index a manifest part's name gives (`manifest-t0007.json` → 7), or `None` when
/// `name` is not exactly a part's name (`manifest-w000.bak.json` is not).
pub fn part_index(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(PART_PREFIX)?.strip_suffix(".json")?;
    let all_digits = digits.len() >= 4 && digits.bytes().all(|b| b.is_ascii_digit());
    all_digits.then(|| digits.parse().ok()).flatten()
}

/// The work directory of a build of `task` in `out`.
pub fn work_dir(out: &Path, task: Option<Task>) -> PathBuf {
    out.join(format!("{WORK_DIR}{}", suffix(task)))
}

/// Where `finalize --rebalance` stages its shards and state in `out`.
pub fn finalize_dir(out: &Path) -> PathBuf {
    out.join(FINALIZE_DIR)
}

/// The task whose shard `name` is (`shard-t0003-0001.parquet` → 3).
pub fn shard_task(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(SHARD_PREFIX)?.strip_prefix('t')?;
    let (digits, _) = rest.split_once('-')?;
    (digits.len() >= 4 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The directory of `--claim` workers' claims in `out`.
pub fn claims_dir(out: &Path) -> PathBuf {
    out.join(CLAIMS_DIR)
}

/// The claim file of `task` in `out`.
pub fn claim_path(out: &Path, task: Task) -> PathBuf {
    claims_dir(out).join(format!("task-{:04}", task.index))
}

/// `state.json` in a work directory.
pub fn state_path(work_dir: &Path) -> PathBuf {
    work_dir.join(STATE_FILE)
}

/// Where standard input is spooled for a build of `task` in `out`.
pub fn stdin_spool(out: &Path, task: Option<Task>) -> PathBuf {
    out.join(format!("{STDIN_SPOOL}{}", suffix(task)))
}

/// The hidden name `path` is written under before it is renamed into place:
/// `.NAME.PID-N.tmp`, unique to this process and call, so that processes writing the same file
/// at once (workers sharing `tokenizer.json`) never write or rename each other's temporaries.
/// It is created with `create_new` (see [`create_new`]), so a name someone planted is never
/// written through.
pub fn temp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// Creates `path` for writing, failing if anything — a file, a directory, a symbolic link —
/// is already there: a file we write is one we made, never one we were pointed at.
pub fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Whether `name` is a plain file name — no directory part, not `.` or `..` — as every file
/// name a manifest or state file lists must be (it names a file inside its directory).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.contains('\\')
        && !name.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn parses_worker_specs() {
        let w = |index, count| Worker { index, count };
        assert_eq!(Worker::parse("2/8", env(&[])).unwrap(), w(2, 8));
        assert_eq!(
            Worker::parse("auto/4", env(&[("JOB_COMPLETION_INDEX", "3")])).unwrap(),
            w(3, 4)
        );
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ];
        assert_eq!(Worker::parse("auto", env(&slurm)).unwrap(), w(4, 8));
        for bad in ["8/8", "x/2", "3", "auto/2", "1/0"] {
            assert!(Worker::parse(bad, env(&[])).is_err(), "{bad}");
        }
        assert!(Worker::parse("auto", env(&[("JOB_COMPLETION_INDEX", "1")])).is_err());
    }

    #[test]
    fn names_every_file_of_a_task() {
        let w = Task { index: 3, count: 8 };
        assert_eq!(shard_name(Some(w), 12), "shard-t0003-0012.parquet");
        assert_eq!(shard_name(None, 12), "shard-0012.parquet");
        assert_eq!(shard_task("shard-t0003-0012.parquet"), Some(3));
        assert_eq!(shard_task("shard-0012.parquet"), None);
        assert!(is_shard_of("shard-t0003-0012.parquet", Some(w)));
        assert!(!is_shard_of("shard-t0004-0012.parquet", Some(w)));
        assert_eq!(manifest_name(Some(w)), "manifest-t0003.json");
        assert_eq!(part_index(&manifest_name(Some(w))), Some(3));
        assert_eq!(part_index("manifest-t0000.bak.json"), None);
        assert_eq!(part_index("manifest-t12345.json"), Some(12345));
        assert_eq!(
            work_dir(Path::new("o"), Some(w)),
            Path::new("o/.bertprep-work-t0003")
        );
        let tmp = temp_path(Path::new("o/manifest.json"));
        let name = tmp.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(".manifest.json.") && name.ends_with(".tmp"),
            "{name}"
        );
        assert_ne!(
            temp_path(Path::new("o/manifest.json")),
            tmp,
            "unique per call"
        );
        assert!(is_plain_name("shard-0000.parquet"));
        for bad in ["", ".", "..", "../x", "a/b", "/etc/passwd"] {
            assert!(!is_plain_name(bad), "{bad}");
        }
    }

    #[test]
    fn tasks_own_residue_classes_and_workers_run_them() {
        let t = Task { index: 1, count: 3 };
        let owned: Vec<u64> = (0..10).filter(|&p| t.owns(p)).collect();
        assert_eq!(owned, [1, 4, 7]);
        let w = Worker { index: 2, count: 4 };
        let tasks: Vec<u32> = w.tasks(11).map(|t| t.index).collect();
        assert_eq!(tasks, [2, 6, 10]);
        assert!(w.tasks(11).all(|t| t.count == 11));
        assert_eq!(Worker { index: 5, count: 8 }.tasks(3).count(), 0);
    }
}
