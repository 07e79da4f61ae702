//! The resumable state of a build in progress.
//!
//! A build keeps `OUT/.bertprep-work/` (one per worker: `.bertprep-work-wNNN/`) while it runs:
//! the spill buckets and `state.json`, rewritten atomically at every checkpoint. The state names
//! what the build is (config, worker, inputs with their sizes, tokenizer hash, bucket count) and
//! how far it got (phase, units spilled with the bucket lengths at that point, counters, shards
//! finished). A build started again with the same arguments finds its state and continues from
//! the last checkpoint; with different arguments it is refused unless `--overwrite`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::BuildConfig;
use crate::error::{Error, Result};
use crate::instance::Counters;
use crate::manifest::{write_replacing, InputEntry};
use crate::shard::ShardEntry;

/// Version of the state file layout.
pub const STATE_VERSION: u32 = 1;

/// Which slice of the work units a process builds (`--worker i/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    /// This worker's index, `0..count`.
    pub index: u32,
    /// Number of workers.
    pub count: u32,
}

impl Worker {
    /// Whether unit `u` belongs to this worker.
    pub fn owns(&self, unit: u64) -> bool {
        unit % u64::from(self.count) == u64::from(self.index)
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

    /// Suffix of this worker's files, e.g. `-w003`.
    pub fn suffix(&self) -> String {
        format!("-w{:03}", self.index)
    }
}

/// Where a build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Reading units and spilling instances to buckets.
    Spill,
    /// Shuffling buckets into shards.
    Write,
}

/// What identifies a build: the same identity means the same output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub config: BuildConfig,
    pub worker: Option<Worker>,
    /// `(path, bytes on disk)` of every input, in order.
    pub inputs: Vec<(String, u64)>,
    pub tokenizer_sha256: String,
    pub buckets: usize,
}

/// The checkpointed state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildState {
    pub version: u32,
    pub identity: Identity,
    pub phase: Phase,
    /// Units below this index are spilled (or were not this worker's).
    pub next_unit: u64,
    /// Bucket file lengths at the checkpoint.
    pub bucket_lengths: Vec<u64>,
    /// Totals of the units spilled.
    pub counters: Counters,
    /// Input skipped under `--on-error skip` so far.
    #[serde(default)]
    pub skipped: Vec<crate::manifest::Skipped>,
    /// Per input file, totals of the units spilled.
    pub inputs: Vec<InputEntry>,
    /// Shards finished in the write phase.
    pub shards: Vec<ShardEntry>,
}

impl BuildState {
    /// A fresh state for `identity`.
    pub fn new(identity: Identity, inputs: Vec<InputEntry>) -> Self {
        BuildState {
            version: STATE_VERSION,
            bucket_lengths: vec![0; identity.buckets],
            identity,
            phase: Phase::Spill,
            next_unit: 0,
            counters: Counters::default(),
            skipped: Vec::new(),
            inputs,
            shards: Vec::new(),
        }
    }

    /// Reads the state in `work_dir`, if there is one.
    pub fn read(work_dir: &Path) -> Result<Option<BuildState>> {
        let path = state_path(work_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        // A state from another version is treated as foreign (refused unless --overwrite).
        Ok(serde_json::from_str(&text).ok())
    }

    /// Replaces the state atomically (not synced: it is rewritten after every unit, and a
    /// killed process loses nothing; only shards and the manifest are synced).
    pub fn write(&self, work_dir: &Path) -> Result<()> {
        let path = state_path(work_dir);
        let text = serde_json::to_vec(self).map_err(|source| Error::Json {
            path: path.clone(),
            source,
        })?;
        write_replacing(&path, &text, false)
    }
}

/// `state.json` in a work directory.
pub fn state_path(work_dir: &Path) -> PathBuf {
    work_dir.join("state.json")
}

/// The work directory of a build in `out`.
pub fn work_dir(out: &Path, worker: Option<Worker>) -> PathBuf {
    let suffix = worker.map(|w| w.suffix()).unwrap_or_default();
    out.join(format!(".bertprep-work{suffix}"))
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
    fn owns_its_residue_class() {
        let w = Worker { index: 1, count: 3 };
        let owned: Vec<u64> = (0..10).filter(|&u| w.owns(u)).collect();
        assert_eq!(owned, [1, 4, 7]);
    }
}
