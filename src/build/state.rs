//! The resumable state of a build in progress.
//!
//! A build keeps `OUT/.bertprep-work/` (one per task: `.bertprep-work-tNNNN/`) while it runs:
//! the spill buckets and `state.json`, rewritten atomically at every checkpoint. The state names
//! what the build is (config, task, inputs with their sizes, tokenizer hash, bucket count) and
//! how far it got (phase, units spilled with the bucket lengths at that point, counters, shards
//! finished). A build started again with the same arguments finds its state and continues from
//! the last checkpoint; with different arguments it is refused unless `--overwrite`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::BuildConfig;
use crate::error::{Error, Result};
use crate::input::small::{read_bounded, MAX_METADATA_BYTES};
use crate::instances::Counters;
use crate::output::atomic::write_replacing;
use crate::output::layout::{self, state_path, Task};
use crate::output::manifest::InputEntry;
use crate::shard::ShardEntry;

/// Version of the state file layout.
pub const STATE_VERSION: u32 = 2;

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
    pub task: Option<Task>,
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
    /// Units whose key is below this are spilled.
    pub next_unit: u64,
    /// Bytes read from the inputs so far (the plan's reads included), over every run.
    #[serde(default)]
    pub bytes_read: u64,
    /// Bucket file lengths at the checkpoint.
    pub bucket_lengths: Vec<u64>,
    /// Totals of the units spilled.
    pub counters: Counters,
    /// Input skipped under `--on-error skip` so far.
    #[serde(default)]
    pub skipped: Vec<crate::output::manifest::Skipped>,
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
            bytes_read: 0,
            counters: Counters::default(),
            skipped: Vec::new(),
            inputs,
            shards: Vec::new(),
        }
    }

    /// Reads the state in `work_dir`, if there is one. A state file that does not parse (corrupt,
    /// or from another version) is an error naming it; one that lists a shard by anything but
    /// this build's shard names is refused (a build removes the shards its state lists).
    pub fn read(work_dir: &Path) -> Result<Option<BuildState>> {
        let path = state_path(work_dir);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let bytes = read_bounded(&path, MAX_METADATA_BYTES)?;
        let state = Self::parse(&bytes).map_err(|e| {
            Error::output(
                &path,
                format!(
                    "the state file of an interrupted build is corrupt or from another version                      ({e}); pass --overwrite to start afresh"
                ),
            )
        })?;
        if let Some(bad) = state
            .shards
            .iter()
            .find(|s| !layout::is_shard_of(&s.file, state.identity.task))
        {
            return Err(Error::output(
                &path,
                format!(
                    "lists {:?} as a finished shard, which is not a shard name of this build;                      pass --overwrite to start afresh",
                    bad.file
                ),
            ));
        }
        Ok(Some(state))
    }

    /// Parses a state file's JSON (no checks beyond the format; see [`BuildState::read`]).
    pub fn parse(bytes: &[u8]) -> std::result::Result<BuildState, serde_json::Error> {
        serde_json::from_slice(bytes)
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
