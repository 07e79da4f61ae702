//! The build: streaming work units through a thread pool, a bounded-memory global shuffle,
//! checkpoints for resuming.
//!
//! This is the only module with concurrency. Files, one idea each:
//! - this one — the orchestration: decide what the output directory holds (nothing, this
//!   build finished or unfinished, another build), run the phases, write the tokenizer and
//!   the manifest, clean up on failure;
//! - [`tasks`] — the tasks of a `--tasks T` build, run by a worker (each a build of its own
//!   over the pieces the task owns);
//! - [`finalize`], [`rebalance`] — `bertprep finalize`: the tasks' parts joined, and with
//!   `--rebalance` their shards rewritten into equal ones;
//! - [`upload`] — an `--out` in object storage: built in a staging directory, then uploaded;
//! - [`units`] — the pure work of one unit, run as a pool task;
//! - [`spill_phase`], [`write_phase`] — the two phases below;
//! - [`spill`] — the bucket files; [`state`] — the checkpoint; [`existing`] — what an earlier
//!   build left in the output directory;
//! - [`memory`], [`limits`], [`progress`] — allocator settings, the open-file limit, progress
//!   on stderr.
//!
//! Two phases:
//!
//! 1. **Spill.** A reader thread cuts the pieces of the unit plan this build owns
//!    ([`crate::input::plan`]: all of them, or a task's) into work units
//!    ([`crate::input::units`]) and hands each unit to a rayon pool as a task; a unit may be
//!    read only when one of `2 × threads + 2` in-flight tokens is free (a slow unit holds up the in-order
//!    collection, and the others go on meanwhile), which bounds memory whatever the corpus
//!    size. Tasks run the pure stages — decode, parse, split sentences, tokenize, pair, mask —
//!    and draw a spill bucket for every instance and encode its record ([`units::process_unit`]); once
//!    the input is all read, the last units tokenize their documents in parallel, so threads
//!    left without a unit help. The calling thread takes the results back in unit order,
//!    appends the records to their buckets ([`spill`]) and checkpoints
//!    ([`state`]) at most every [`spill_phase::CHECKPOINT_INTERVAL`]; the end of the phase is
//!    recorded with the first finished shard.
//! 2. **Write.** Each bucket in turn is loaded (the first one decoded in parallel), shuffled
//!    with its own stream and appended to the shards, whose row groups are padded, encoded and
//!    compressed on the pool while the calling thread goes on loading (up to `threads + 2`
//!    groups started, appended in order; with one thread they are encoded inline); the state
//!    records every finished shard.
//!
//! Every random draw comes from streams keyed by (seed, unit or bucket, pass), and units are
//! spilled in unit order, so the bytes written do not depend on the thread count. A build killed
//! at any point and started again with the same arguments continues from its last checkpoint
//! and writes the same bytes. Shards are renamed into place only when complete; `tokenizer.json`
//! and then the manifest are written last, and the work directory is removed. On an error the
//! work directory and every shard of the build are removed, so a failed build leaves nothing.
//!
//! With `--on-error skip` an input error does not end the build: an error reading a file (the
//! reader's) drops the rest of that file, an error in a unit's stages (bad UTF-8, a format error)
//! drops that unit; either is recorded, in unit order, as a [`Skipped`] entry in the state and
//! the manifest. Both depend only on the input, so the output stays deterministic.

pub mod existing;
pub mod finalize;
pub mod limits;
pub mod memory;
pub mod progress;
pub mod rebalance;
pub mod spill;
pub mod spill_phase;
pub mod state;
pub mod tasks;
pub mod units;
pub mod upload;
pub mod write_phase;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use crate::config::{BuildConfig, Objective};
use crate::error::{Error, Result};
use crate::input::plan::Piece;
use crate::input::{self, InputFile};
use crate::instances::InstanceSettings;
use crate::output::layout::{self, Task, TOKENIZER_FILE};
use crate::output::manifest::{Manifest, TokenizerEntry};
use crate::shard::{ShardEntry, ShardMeta, SCHEMA_VERSION};
use crate::tokenize::{Tokenizer, TokenizerImpl, TokenizerSource};
use existing::Existing;
use progress::{Progress, ProgressMode};
use state::{BuildState, Identity, Phase};
use units::UnitContext;

pub use units::tokenize_documents;

/// Everything a build needs besides the config: where from, where to, how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Files and directories to read.
    pub inputs: Vec<PathBuf>,
    /// Output directory (created if missing).
    pub out: PathBuf,
    /// Settings that shape the output.
    pub config: BuildConfig,
    /// Tokenizer to load.
    pub tokenizer: TokenizerSource,
    /// Which implementation encodes text. Does not change the output.
    pub tokenizer_impl: TokenizerImpl,
    /// Worker threads; 0 uses every core. Does not change the output.
    pub threads: usize,
    /// Replace an existing build (finished or not) in `out`.
    pub overwrite: bool,
    /// How progress is shown on stderr.
    pub progress: ProgressMode,
    /// Build only this task's pieces of the unit plan (`--tasks T`, run by `--worker`).
    pub task: Option<Task>,
}

/// A build's inputs worked out once: the files, their unit plan and their estimated text
/// size. A worker running many tasks plans once and hands this to each.
#[derive(Debug, Clone)]
pub struct Planned {
    pub files: Vec<InputFile>,
    pub pieces: Vec<Piece>,
    /// [`spill::estimated_text_bytes`] of the files.
    pub text_bytes: u64,
}

impl Planned {
    /// Finds the files of `inputs` and plans them in pieces of `piece_bytes`; `read` counts the
    /// bytes the plan reads.
    pub fn of(inputs: &[PathBuf], piece_bytes: u64, read: &AtomicU64) -> Result<Planned> {
        let files = input::discover(inputs)?;
        let pieces = input::plan::plan(&files, piece_bytes, read)?;
        let text_bytes = spill::estimated_text_bytes(&files, read);
        Ok(Planned {
            files,
            pieces,
            text_bytes,
        })
    }
}

/// What a finished build reports.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    /// The manifest written (or found, when the build was already complete).
    pub manifest: Manifest,
    /// Where the manifest is.
    pub manifest_path: PathBuf,
    /// Wall-clock seconds of this run.
    pub seconds: f64,
    /// Threads used.
    pub threads: usize,
    /// The run continued an interrupted build.
    pub resumed: bool,
    /// The output already held this build; nothing was done.
    pub already_complete: bool,
}

/// What both phases share: the options, the pool, the work directory, progress.
struct Phases<'a> {
    opts: &'a BuildOptions,
    pool: rayon::ThreadPool,
    work: &'a Path,
    spill_dir: PathBuf,
    progress: Progress,
}

/// Runs a whole build (or resumes one). `--in -` reads standard input
/// ([`input::stdin`]).
pub fn build(opts: &BuildOptions) -> Result<BuildSummary> {
    build_planned(opts, None)
}

/// [`build`] with the unit plan of its inputs worked out already (a worker running many tasks
/// plans once).
pub(crate) fn build_planned(opts: &BuildOptions, plan: Option<&Planned>) -> Result<BuildSummary> {
    if input::remote::is_remote(&opts.out) {
        return upload::build_to_store(opts, plan);
    }
    memory::keep_freed_memory();
    existing::refuse_overlap(&opts.inputs, &opts.out)?;
    let spool_path = layout::stdin_spool(&opts.out, opts.task);
    let (inputs, spool) = input::stdin::spool(&opts.inputs, &opts.out, &spool_path)?;
    let result = build_from(opts, &inputs, plan);
    if let Some(path) = spool {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// A build ready to run: what it is and where it stands.
struct Prepared {
    config: BuildConfig,
    tokenizer: Tokenizer,
    files: Vec<InputFile>,
    /// The pieces of the unit plan this build reads.
    pieces: Vec<Piece>,
    threads: usize,
    manifest_path: PathBuf,
    work: PathBuf,
    state: BuildState,
    resumed: bool,
    /// The finished build this one replaces once complete (`--overwrite`).
    replacing: Option<Manifest>,
}

/// [`build`] with `inputs` in place of `opts.inputs`.
fn build_from(
    opts: &BuildOptions,
    inputs: &[PathBuf],
    plan: Option<&Planned>,
) -> Result<BuildSummary> {
    let start = Instant::now();
    let mut p = match prepare(opts, inputs, plan)? {
        Ok(prepared) => prepared,
        Err(mut done) => {
            done.seconds = start.elapsed().as_secs_f64();
            return Ok(done);
        }
    };
    let result = run(opts, &mut p).and_then(|shards| publish(opts, &p, shards));
    let Prepared {
        tokenizer,
        manifest_path,
        work,
        threads,
        resumed,
        ..
    } = p;
    // Freeing the tokenizer's tables takes milliseconds that nothing waits for (if no thread
    // can be started, the closure and the tokenizer are dropped here).
    let _ = std::thread::Builder::new()
        .name("bertprep-free".into())
        .spawn(move || drop(tokenizer));
    match result {
        Ok(manifest) => {
            existing::remove_work_dir(&work)?;
            Ok(BuildSummary {
                manifest,
                manifest_path,
                seconds: start.elapsed().as_secs_f64(),
                threads,
                resumed,
                already_complete: false,
            })
        }
        Err(e) => {
            // The staged shards go with the work directory; the output directory itself is
            // as it was (a build it replaces under --overwrite included).
            let _ = existing::remove_work_dir(&work);
            Err(e)
        }
    }
}

/// Loads the tokenizer, finds the inputs and decides what to do with the output directory:
/// `Err(summary)` when it already holds this build, finished; otherwise the build to run,
/// fresh or resumed (an earlier build replaced under `--overwrite`, refused without).
fn prepare(
    opts: &BuildOptions,
    inputs: &[PathBuf],
    planned: Option<&Planned>,
) -> Result<std::result::Result<Prepared, BuildSummary>> {
    let mut config = opts.config.clone();
    config.tokenizer = opts.tokenizer.origin();
    config.validate()?;
    if let Some(t) = opts.task {
        if t.count == 0 || t.index >= t.count {
            return Err(Error::Config(format!(
                "task {} of {}: the index must be below the count",
                t.index, t.count
            )));
        }
    }
    let names = config.special_names().map_err(Error::Config)?;
    let tokenizer = Tokenizer::load_named(&opts.tokenizer, opts.tokenizer_impl, &names)?;
    // Pairs take the tokenizer's layout (a row without a pair is the same in both).
    if config.objective != Objective::None {
        config.pair_layout = tokenizer.pair_layout();
    }
    let plan_read = AtomicU64::new(0);
    let planned = match planned {
        Some(planned) => planned.clone(),
        None => Planned::of(inputs, config.piece_bytes, &plan_read)?,
    };
    let Planned {
        files,
        pieces: plan,
        text_bytes,
    } = planned;
    let all_bytes: u64 = plan.iter().map(Piece::bytes).sum();
    let pieces: Vec<Piece> = plan
        .into_iter()
        .filter(|p| opts.task.is_none_or(|t| t.owns(p.position)))
        .collect();
    let own_bytes: u64 = pieces.iter().map(Piece::bytes).sum();
    // Buckets for this build's share of the (estimated) text.
    let own_text = match all_bytes {
        0 => text_bytes,
        all => (u128::from(text_bytes) * u128::from(own_bytes) / u128::from(all)) as u64,
    };
    let threads = limits::thread_count(opts.threads)?;
    let identity = Identity {
        config: config.clone(),
        task: opts.task,
        inputs: files
            .iter()
            .map(|f| (f.path.display().to_string(), f.bytes))
            .collect(),
        tokenizer_sha256: tokenizer.sha256().to_string(),
        buckets: spill::bucket_count(own_text, config.dupe_factor),
    };
    let out = opts.out.as_path();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let manifest_path = out.join(layout::manifest_name(opts.task));
    let work = layout::work_dir(out, opts.task);
    let replacing = match existing::finished_build(opts, &manifest_path, &identity)? {
        Existing::Finished(manifest) => {
            existing::remove_work_dir(&work)?;
            return Ok(Err(BuildSummary {
                manifest,
                manifest_path,
                seconds: 0.0,
                threads,
                resumed: false,
                already_complete: true,
            }));
        }
        Existing::Start { replacing } => replacing,
    };
    let (mut state, resumed) = existing::resume_or_start(opts, &work, identity, &files)?;
    state.bytes_read += plan_read.load(Ordering::Relaxed);
    std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    state.write(&work)?;
    Ok(Ok(Prepared {
        config,
        tokenizer,
        files,
        pieces,
        threads,
        manifest_path,
        work,
        state,
        resumed,
        replacing,
    }))
}

/// Moves the finished build from the work directory into the output directory
/// ([`existing::Publish`]): the shards, `tokenizer.json`, then the manifest listing `shards`.
fn publish(opts: &BuildOptions, p: &Prepared, shards: Vec<ShardEntry>) -> Result<Manifest> {
    let tokenizer = &p.tokenizer;
    let manifest = Manifest {
        producer: "bertprep".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        schema_version: SCHEMA_VERSION,
        config: p.config.clone(),
        task: opts.task,
        merged_tasks: None,
        bytes_read: opts.task.map(|_| p.state.bytes_read),
        rebalanced_rows: None,
        tokenizer: TokenizerEntry {
            file: TOKENIZER_FILE.into(),
            sha256: tokenizer.sha256().into(),
            vocab_size: tokenizer.vocab_size(),
            special_tokens: tokenizer.specials(),
        },
        inputs: p.state.inputs.clone(),
        shards,
        counters: p.state.counters.clone(),
        skipped: p.state.skipped.clone(),
    };
    existing::Publish {
        out: &opts.out,
        work: &p.work,
        shards: &manifest.shards,
        replacing: p.replacing.as_ref(),
        manifest_path: &p.manifest_path,
        tokenizer_json: tokenizer.json().as_bytes(),
    }
    .run(&manifest)?;
    Ok(manifest)
}

/// Both phases, from wherever `state` is.
fn run(opts: &BuildOptions, p: &mut Prepared) -> Result<Vec<ShardEntry>> {
    let Prepared {
        config,
        tokenizer,
        files,
        pieces,
        threads,
        work,
        state,
        ..
    } = p;
    let (config, tokenizer, threads, work) = (&*config, &*tokenizer, *threads, work.as_path());
    let pieces = std::mem::take(pieces);
    let ctx = UnitContext {
        config,
        tokenizer,
        settings: InstanceSettings::new(config, tokenizer),
        buckets: state.identity.buckets,
        input_read: AtomicBool::new(false),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("bertprep-worker-{i}"))
        .build()
        .map_err(|source| Error::Threads { threads, source })?;
    let mut phases = Phases {
        opts,
        pool,
        work,
        spill_dir: work.join("spill"),
        progress: Progress::new(opts.progress),
    };
    if state.phase == Phase::Spill {
        spill_phase::spill_phase(&mut phases, &ctx, files, pieces, state)?;
        // Recorded with the first finished shard: until then a resumed build redoes the units
        // after the last checkpoint, and the switch to writing waits for no file system work.
        state.phase = Phase::Write;
        // What the spill phase freed would stay resident beside the write phase's buffers,
        // whose sizes differ; over a long spill phase that grew with the corpus.
        memory::release_free_memory();
    }
    let meta = ShardMeta {
        config: config.clone(),
        tokenizer_sha256: tokenizer.sha256().to_string(),
        specials: tokenizer.specials(),
    };
    let shards = write_phase::write_phase(&mut phases, &meta, tokenizer, state);
    phases.progress.finish();
    shards
}
