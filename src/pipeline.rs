//! The build: streaming work units through a thread pool, a bounded-memory global shuffle,
//! checkpoints for resuming.
//!
//! This is the only module with concurrency. Two phases:
//!
//! 1. **Spill.** A reader thread cuts the inputs into work units ([`crate::input::units`]) and
//!    hands each unit this process owns to a rayon pool as a task; a unit may be read only when
//!    one of `2 × threads + 2` in-flight tokens is free (a slow unit holds up the in-order
//!    collection, and the others go on meanwhile), which bounds memory whatever the corpus
//!    size. Tasks run the pure stages — decode, parse, split sentences, tokenize, pair, mask —
//!    and draw a spill bucket for every instance and encode its record ([`process_unit`]); once
//!    the input is all read, the last units tokenize their documents in parallel, so threads
//!    left without a unit help. The calling thread takes the results back in unit order,
//!    appends the records to their buckets ([`crate::spill`]) and checkpoints
//!    ([`crate::state`]) at most every [`CHECKPOINT_INTERVAL`]; the end of the phase is
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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::config::{BuildConfig, OnError};
use crate::error::{Error, Result};
use crate::input::{self, decode, formats, Compression, InputFile, Unit, UnitReader};
use crate::instance::{self, Counters, Instance, InstanceSettings, TokenizedDocument};
use crate::manifest::{
    self, InputEntry, Manifest, Skipped, TokenizerEntry, MANIFEST_FILE, TOKENIZER_FILE,
};
use crate::progress::{Progress, ProgressMode};
use crate::rng::{Purpose, UnitRng};
use crate::segment;
use crate::shard::{self, ShardEntry, ShardMeta, ShardWriter};
use crate::spill::{self, SpillWriter};
use crate::state::{self, BuildState, Identity, Phase, Worker};
use crate::tokenize::{Tokenizer, TokenizerImpl, TokenizerSource};

/// Time between checkpoints of the spill phase, at least: a killed build redoes the units
/// finished in that time (and those in flight), and writing the state after every unit would
/// cost more I/O than it saves.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Row groups started and not yet appended in the write phase, at most (each holds its padded
/// columns in memory).
const MAX_GROUPS_IN_FLIGHT: usize = 8;

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
    /// Build only the units `u % count == index` (`--worker i/N`).
    pub worker: Option<Worker>,
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

/// One unit's result.
struct UnitOutput {
    /// The unit, or `None` for a file the reader gave up on (no unit was made).
    unit: Option<u64>,
    /// What `--on-error skip` left out instead of failing.
    skipped: Option<Skipped>,
    file_index: u32,
    entry: InputEntry,
    counters: Counters,
    /// The unit's instances as spill records, one byte string per bucket.
    spill: Vec<Vec<u8>>,
}

/// Shared, read-only state of the per-unit stages.
struct UnitContext<'a> {
    config: &'a BuildConfig,
    tokenizer: &'a Tokenizer,
    settings: InstanceSettings<'a>,
    buckets: usize,
    /// Set once the reader has made its last unit: the units still running are the last ones,
    /// and threads without a unit may help tokenize theirs.
    input_read: AtomicBool,
}

/// Runs a whole build (or resumes one). `--in -` reads standard input
/// ([`input::stdin`]).
pub fn build(opts: &BuildOptions) -> Result<BuildSummary> {
    crate::memory::keep_freed_memory();
    let suffix = opts.worker.map(|w| w.suffix()).unwrap_or_default();
    let spool_name = format!(".bertprep-stdin{suffix}");
    let (inputs, spool) = input::stdin::spool(&opts.inputs, &opts.out, &spool_name)?;
    let result = build_from(opts, &inputs);
    if let Some(path) = spool {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// [`build`] with `inputs` in place of `opts.inputs`.
fn build_from(opts: &BuildOptions, inputs: &[PathBuf]) -> Result<BuildSummary> {
    let start = Instant::now();
    let mut config = opts.config.clone();
    config.tokenizer = opts.tokenizer.origin();
    config.validate()?;
    if let Some(w) = opts.worker {
        if w.count == 0 || w.index >= w.count {
            return Err(Error::Config(format!(
                "--worker {}/{}: the index must be below the count",
                w.index, w.count
            )));
        }
    }
    let tokenizer = Tokenizer::load_with(&opts.tokenizer, opts.tokenizer_impl)?;
    let files = input::discover(inputs)?;
    if files.len() > u32::MAX as usize {
        return Err(Error::Config("more than 2^32 input files".into()));
    }
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let identity = Identity {
        config: config.clone(),
        worker: opts.worker,
        inputs: files
            .iter()
            .map(|f| (f.path.display().to_string(), f.bytes))
            .collect(),
        tokenizer_sha256: tokenizer.sha256().to_string(),
        buckets: spill::bucket_count(estimated_text_bytes(&files)?, config.dupe_factor),
    };
    let out = opts.out.as_path();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let manifest_path = match opts.worker {
        Some(w) => out.join(manifest::part_file(w)),
        None => out.join(MANIFEST_FILE),
    };
    let work = state::work_dir(out, opts.worker);

    if manifest_path.exists() {
        let found = Manifest::read_file(&manifest_path).ok();
        let same = found.as_ref().is_some_and(|m| same_build(m, &identity));
        match (found, same, opts.overwrite) {
            (Some(manifest), true, false) => {
                let _ = std::fs::remove_dir_all(&work);
                return Ok(BuildSummary {
                    manifest,
                    manifest_path,
                    seconds: start.elapsed().as_secs_f64(),
                    threads,
                    resumed: false,
                    already_complete: true,
                });
            }
            (_, _, false) => {
                return Err(Error::Config(format!(
                    "{} holds a different build (other inputs, settings or tokenizer); pass \
                     --overwrite to replace it",
                    out.display()
                )))
            }
            (_, _, true) => remove_build(out, opts.worker)?,
        }
    }

    let previous = BuildState::read(&work)?;
    let resumable = previous
        .as_ref()
        .is_some_and(|s| s.identity == identity && s.version == state::STATE_VERSION);
    let (mut state, resumed) = match previous {
        Some(s) if resumable && !opts.overwrite => (s, true),
        _ => {
            if !opts.overwrite && (work.exists() || has_shards(out, opts.worker)?) {
                return Err(Error::Config(format!(
                    "{} holds shards or an unfinished build with other inputs, settings or \
                     tokenizer; pass --overwrite to replace it",
                    out.display()
                )));
            }
            remove_build(out, opts.worker)?;
            let entries = files
                .iter()
                .map(|f| InputEntry::new(f.path.display().to_string(), f.bytes))
                .collect();
            (BuildState::new(identity, entries), false)
        }
    };
    remove_stale_temporaries(out)?;
    std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    state.write(&work)?;

    let mut wrote_tokenizer = false;
    let mut finished = Vec::new();
    let result = run(
        opts, &config, &tokenizer, &files, threads, &work, &mut state,
    )
    .and_then(|shards| {
        finished.clone_from(&shards);
        wrote_tokenizer = true;
        manifest::write_atomic(&out.join(TOKENIZER_FILE), tokenizer.json().as_bytes())?;
        let manifest = Manifest {
            producer: "bertprep".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            schema_version: shard::SCHEMA_VERSION,
            config,
            worker: opts.worker,
            merged_workers: None,
            tokenizer: TokenizerEntry {
                file: TOKENIZER_FILE.into(),
                sha256: tokenizer.sha256().into(),
                vocab_size: tokenizer.vocab_size(),
                special_tokens: tokenizer.specials(),
            },
            inputs: state.inputs.clone(),
            shards,
            counters: state.counters.clone(),
            skipped: state.skipped.clone(),
        };
        manifest.write_file(&manifest_path)?;
        Ok(manifest)
    });
    // Freeing the tokenizer's tables takes milliseconds that nothing waits for (if no thread
    // can be started, the closure and the tokenizer are dropped here).
    let _ = std::thread::Builder::new()
        .name("bertprep-free".into())
        .spawn(move || drop(tokenizer));
    match result {
        Ok(manifest) => {
            std::fs::remove_dir_all(&work).map_err(|e| Error::io(&work, e))?;
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
            for shard in state.shards.iter().chain(&finished) {
                let _ = std::fs::remove_file(out.join(&shard.file));
            }
            // Workers share tokenizer.json; only a whole build removes the one it wrote.
            if wrote_tokenizer && opts.worker.is_none() {
                let _ = std::fs::remove_file(out.join(TOKENIZER_FILE));
            }
            let _ = std::fs::remove_dir_all(&work);
            Err(e)
        }
    }
}

/// Both phases, from wherever `state` is.
fn run(
    opts: &BuildOptions,
    config: &BuildConfig,
    tokenizer: &Tokenizer,
    files: &[InputFile],
    threads: usize,
    work: &Path,
    state: &mut BuildState,
) -> Result<Vec<ShardEntry>> {
    let ctx = UnitContext {
        config,
        tokenizer,
        settings: InstanceSettings::new(config, tokenizer),
        buckets: state.identity.buckets,
        input_read: AtomicBool::new(false),
    };
    let mut progress = Progress::new(opts.progress);
    let spill_dir = work.join("spill");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("bertprep-worker-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("cannot start {threads} threads: {e}")))?;
    if state.phase == Phase::Spill {
        spill_phase(
            opts,
            &ctx,
            files,
            &pool,
            work,
            &spill_dir,
            state,
            &mut progress,
        )?;
        // Recorded with the first finished shard: until then a resumed build redoes the units
        // after the last checkpoint, and the switch to writing waits for no file system work.
        state.phase = Phase::Write;
        // What the spill phase freed would stay resident beside the write phase's buffers,
        // whose sizes differ; over a long spill phase that grew with the corpus.
        crate::memory::release_free_memory();
    }
    let meta = ShardMeta {
        config: config.clone(),
        tokenizer_sha256: tokenizer.sha256().to_string(),
        specials: tokenizer.specials(),
    };
    let shards = write_phase(
        opts,
        &meta,
        tokenizer,
        &pool,
        work,
        &spill_dir,
        state,
        &mut progress,
    );
    progress.finish();
    shards
}

/// Phase one: units in, instances spilled to buckets in unit order.
#[allow(clippy::too_many_arguments)]
fn spill_phase(
    opts: &BuildOptions,
    ctx: &UnitContext<'_>,
    files: &[InputFile],
    pool: &rayon::ThreadPool,
    work: &Path,
    spill_dir: &Path,
    state: &mut BuildState,
    progress: &mut Progress,
) -> Result<()> {
    let threads = pool.current_num_threads();
    crate::limits::ensure_open_files(state.bucket_lengths.len() as u64)?;
    let mut spill = SpillWriter::open(spill_dir, &state.bucket_lengths)?;
    let mut reader =
        UnitReader::with_target(files.to_vec(), ctx.config.format, ctx.config.unit_bytes)
            .with_text_column(&ctx.config.text_column);
    let bytes_read = reader.disk_bytes_counter();
    progress.start_reading(files.iter().map(|f| f.bytes).sum());
    let in_flight = 2 * threads + 2;
    let (token_tx, token_rx) = crossbeam_channel::bounded::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = token_tx.send(());
    }
    let (result_tx, result_rx) = crossbeam_channel::unbounded::<(u64, Result<UnitOutput>)>();
    let first_unit = state.next_unit;
    let worker = opts.worker;
    let skip = ctx.config.on_error == OnError::Skip;

    pool.in_place_scope(|s| {
        std::thread::scope(|scope| {
            // The reader hands each unit to the pool as a task of its own, so that a thread
            // without a unit can take part of another's (the stages split their work).
            scope.spawn(move || {
                let mut seq = 0u64;
                let mut have_token = false;
                loop {
                    if !have_token {
                        if token_rx.recv().is_err() {
                            break; // The writer stopped.
                        }
                        have_token = true;
                    }
                    match reader.next_unit() {
                        Ok(None) => {
                            ctx.input_read.store(true, Ordering::Relaxed);
                            break;
                        }
                        Ok(Some(unit)) => {
                            let mine = worker.is_none_or(|w| w.owns(unit.index));
                            if unit.index < first_unit || !mine {
                                continue; // Keep the token for the next unit.
                            }
                            have_token = false;
                            let results = result_tx.clone();
                            s.spawn(move |_| {
                                let _ = results.send((seq, run_unit(unit, ctx, skip)));
                            });
                            seq += 1;
                        }
                        Err(e) => {
                            let failure = reader.take_failure();
                            let (true, Some(failure)) = (skip, failure) else {
                                let _ = result_tx.send((seq, Err(e)));
                                break;
                            };
                            // Recorded by the worker owning the next unit, so exactly once.
                            if !worker.is_none_or(|w| w.owns(reader.next_index())) {
                                continue;
                            }
                            let skipped = Skipped {
                                path: failure.path.display().to_string(),
                                file_index: failure.file_index,
                                offset: failure.offset,
                                bytes: None,
                                reason: e.to_string(),
                            };
                            have_token = false;
                            let output = UnitOutput::skipped(None, skipped);
                            if result_tx.send((seq, Ok(output))).is_err() {
                                break;
                            }
                            seq += 1;
                        }
                    }
                }
            });
            // Dropped on return, so that a reader waiting for a token stops after an error.
            let token_tx = token_tx;
            let mut pending: BTreeMap<u64, Result<UnitOutput>> = BTreeMap::new();
            let mut next_seq = 0u64;
            let mut last_checkpoint = Instant::now();
            for (seq, output) in result_rx {
                pending.insert(seq, output);
                while let Some(output) = pending.remove(&next_seq) {
                    let output = output?;
                    for (b, records) in output.spill.iter().enumerate() {
                        if !records.is_empty() {
                            spill.append(b, records)?;
                        }
                    }
                    state.counters.add(&output.counters);
                    if let Some(entry) = state.inputs.get_mut(output.file_index as usize) {
                        entry.add(&output.entry);
                    }
                    if let Some(s) = output.skipped {
                        // A resumed run meets the reader's errors again; record each once.
                        let key = (s.file_index, s.offset);
                        if !state
                            .skipped
                            .iter()
                            .any(|k| (k.file_index, k.offset) == key)
                        {
                            state.skipped.push(s);
                            state.counters.skipped += 1;
                        }
                    }
                    if let Some(unit) = output.unit {
                        state.next_unit = unit + 1;
                    }
                    if last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL {
                        state.bucket_lengths = spill.checkpoint()?;
                        state.write(work)?;
                        last_checkpoint = Instant::now();
                    }
                    next_seq += 1;
                    let _ = token_tx.send(());
                    progress.update(bytes_read.load(Ordering::Relaxed), state.counters.instances);
                }
            }
            // A gap can only be an error reported for a unit that was never dispatched.
            if let Some((_, output)) = pending.pop_first() {
                output?;
            }
            state.bucket_lengths = spill.checkpoint()?;
            Ok(())
        })
    })
}

/// Phase two: buckets shuffled into shards; row groups are encoded on the pool.
#[allow(clippy::too_many_arguments)]
fn write_phase(
    opts: &BuildOptions,
    meta: &ShardMeta,
    tokenizer: &Tokenizer,
    pool: &rayon::ThreadPool,
    work: &Path,
    spill_dir: &Path,
    state: &mut BuildState,
    progress: &mut Progress,
) -> Result<Vec<ShardEntry>> {
    let prefix = match opts.worker {
        Some(w) => format!("shard{}-", w.suffix()),
        None => "shard-".to_string(),
    };
    let mut skip: u64 = state.shards.iter().map(|s| s.rows).sum();
    let mut written = skip;
    progress.start_writing(state.counters.instances);
    // One thread encodes inline; more hand row groups to the pool, so that loading and
    // shuffling the next bucket and appending finished groups overlap their encoding.
    let threads = pool.current_num_threads();
    let (in_flight, encoder) = if threads == 1 {
        (1, shard::inline_encoder())
    } else {
        let encoder: shard::Encoder<'_> = Box::new(|job| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            pool.spawn(move || {
                let encoded =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.encode()))
                        .unwrap_or_else(|_| Err("row-group encoding panicked".to_string()));
                let _ = tx.send(encoded);
            });
            rx
        });
        ((threads + 2).min(MAX_GROUPS_IN_FLIGHT), encoder)
    };
    let mut writer = ShardWriter::resume(&opts.out, meta, &prefix, state.shards.clone())?
        .with_encoder(in_flight, encoder)
        .with_total(state.counters.instances.saturating_sub(skip));
    let stream = opts.worker.map_or(0, |w| u64::from(w.index));
    // The first bucket is decoded in parallel (nothing else runs yet); later ones on the
    // calling thread, beside the previous bucket's row groups encoding on the pool.
    let result = (|| {
        for b in 0..state.identity.buckets {
            let len = state.bucket_lengths[b];
            let mut instances = load_bucket(spill_dir, b, len, tokenizer, pool, b == 0)?;
            let mut rng = UnitRng::new(meta.config.seed, Purpose::Shuffle, b as u64, stream);
            rng.shuffle(&mut instances);
            for instance in instances {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                writer.push(instance)?;
                written += 1;
                if writer.finished().len() > state.shards.len() {
                    state.shards = writer.finished().to_vec();
                    state.write(work)?;
                }
            }
            progress.update(written, written);
        }
        Ok(())
    })();
    match result {
        Ok(()) => writer.finish(),
        Err(e) => {
            writer.abort();
            Err(e)
        }
    }
}

/// Reads and decodes spill bucket `b`; with `parallel`, decodes its pieces on the pool.
fn load_bucket(
    spill_dir: &Path,
    b: usize,
    len: u64,
    tokenizer: &Tokenizer,
    pool: &rayon::ThreadPool,
    parallel: bool,
) -> Result<Vec<Instance>> {
    use rayon::prelude::*;
    let bucket = spill::BucketBytes::read(spill_dir, b, len, tokenizer.vocab_size())?;
    if !parallel || pool.current_num_threads() == 1 {
        return bucket.instances();
    }
    let pieces = bucket.pieces(4 * pool.current_num_threads())?;
    let parts: Vec<Result<Vec<Instance>>> =
        pool.install(|| pieces.par_iter().map(|p| bucket.decode(p)).collect());
    let mut instances = Vec::with_capacity(parts.iter().flatten().map(Vec::len).sum());
    for part in parts {
        instances.extend(part?);
    }
    Ok(instances)
}

impl UnitOutput {
    /// The output of a skipped unit (or of a file the reader gave up on).
    fn skipped(unit: Option<u64>, skipped: Skipped) -> Self {
        UnitOutput {
            unit,
            file_index: skipped.file_index,
            entry: InputEntry::new(skipped.path.clone(), 0),
            skipped: Some(skipped),
            counters: Counters::default(),
            spill: Vec::new(),
        }
    }
}

/// [`process_unit`], with `--on-error skip` turning a failed unit into a [`Skipped`] entry.
fn run_unit(unit: Unit, ctx: &UnitContext<'_>, skip: bool) -> Result<UnitOutput> {
    let (index, file_index, offset, bytes) = (
        unit.index,
        unit.file_index,
        unit.byte_offset,
        unit.bytes.len() as u64,
    );
    let path = skip.then(|| unit.path.display().to_string());
    match (process_unit(unit, ctx), path) {
        (Err(e), Some(path)) => {
            let skipped = Skipped {
                path,
                file_index,
                offset,
                bytes: Some(bytes),
                reason: e.to_string(),
            };
            Ok(UnitOutput::skipped(Some(index), skipped))
        }
        (output, _) => output,
    }
}

/// Turns one unit into instances, draws their buckets and encodes them as spill records.
fn process_unit(unit: Unit, ctx: &UnitContext<'_>) -> Result<UnitOutput> {
    let Unit {
        index,
        file_index,
        path,
        format,
        compression,
        first_doc,
        first_line,
        byte_offset,
        bytes,
        ..
    } = unit;
    let text = decode::to_text_at(&path, bytes, byte_offset)?;
    let parsed = formats::parse_at(&path, &text, format, first_doc, first_line)?;
    let mut counters = Counters {
        text_bytes: text.len() as u64,
        documents: parsed.documents.len() as u64,
        empty_documents: parsed.empty_documents,
        unclosed_documents: parsed.unclosed_documents,
        ..Counters::default()
    };
    drop(text);
    let docs = tokenize_documents(
        &path,
        file_index,
        &parsed.documents,
        ctx.config.presplit,
        ctx.tokenizer,
        ctx.input_read.load(Ordering::Relaxed),
        &mut counters,
    )?;
    drop(parsed.documents);
    let instances = instance::create_instances(&docs, index, &ctx.settings, &mut counters);
    let mut rng = UnitRng::new(ctx.config.seed, Purpose::Bucket, index, 0);
    let buckets: Vec<u32> = instances
        .iter()
        .map(|_| rng.index(ctx.buckets) as u32)
        .collect();
    let spill = spill::encode_by_bucket(
        &instances,
        &buckets,
        ctx.buckets,
        ctx.tokenizer.vocab_size(),
    );
    let entry = InputEntry {
        path: path.display().to_string(),
        bytes: 0,
        text_bytes: counters.text_bytes,
        format,
        compression,
        documents: counters.documents,
        empty_documents: counters.empty_documents,
        instances: instances.len() as u64,
    };
    Ok(UnitOutput {
        unit: Some(index),
        skipped: None,
        file_index,
        entry,
        counters,
        spill,
    })
}

/// Documents per task when a unit's documents are tokenized in parallel.
const DOCUMENTS_PER_TASK: usize = 16;

/// Splits each document into sentences and tokenizes them; drops token-less sentences and
/// documents. With `parallel`, runs on the current rayon pool in tasks of
/// [`DOCUMENTS_PER_TASK`] documents, so that idle threads can take part of the work (the
/// build asks for it for the last units only: rayon's idle threads steal split work before
/// queued tasks, which would interleave units that are better run whole). Either way the
/// result is in document order, and an error is the first in that order.
pub fn tokenize_documents(
    path: &Path,
    file_index: u32,
    documents: &[input::Document],
    presplit: bool,
    tokenizer: &Tokenizer,
    parallel: bool,
    counters: &mut Counters,
) -> Result<Vec<TokenizedDocument>> {
    use rayon::prelude::*;
    let task = |chunk| tokenize_chunk(path, file_index, chunk, presplit, tokenizer);
    let parts: Vec<Result<(Vec<TokenizedDocument>, Counters)>> = if parallel {
        documents.par_chunks(DOCUMENTS_PER_TASK).map(task).collect()
    } else {
        documents.chunks(DOCUMENTS_PER_TASK).map(task).collect()
    };
    let mut out = Vec::with_capacity(documents.len());
    for part in parts {
        let (docs, part_counters) = part?;
        out.extend(docs);
        counters.tokenless_documents += part_counters.tokenless_documents;
        counters.sentences += part_counters.sentences;
    }
    Ok(out)
}

/// [`tokenize_documents`] for one task's documents, counting token-less documents and
/// sentences.
fn tokenize_chunk(
    path: &Path,
    file_index: u32,
    documents: &[input::Document],
    presplit: bool,
    tokenizer: &Tokenizer,
) -> Result<(Vec<TokenizedDocument>, Counters)> {
    let mut counters = Counters::default();
    let mut out = Vec::with_capacity(documents.len());
    let mut ranges = Vec::new();
    for doc in documents {
        let mut sentences = Vec::new();
        let mut push = |text: &str| -> Result<()> {
            let ids = tokenizer.encode(text).map_err(|e| Error::Tokenizer {
                origin: path.display().to_string(),
                message: e.to_string(),
            })?;
            if !ids.is_empty() {
                sentences.push(ids);
            }
            Ok(())
        };
        if presplit {
            for line in doc.text.lines().filter(|l| !l.trim().is_empty()) {
                push(line)?;
            }
        } else {
            segment::split_into(&doc.text, &mut ranges);
            for r in &ranges {
                push(&doc.text[r.clone()])?;
            }
        }
        if sentences.is_empty() {
            counters.tokenless_documents += 1;
            continue;
        }
        counters.sentences += sentences.len() as u64;
        out.push(TokenizedDocument {
            source: instance::source_id(file_index, doc.index),
            sentences,
        });
    }
    Ok((out, counters))
}

/// Input text size estimate for choosing the bucket count: sizes on disk, compressed files
/// counted four times. A file that cannot be opened counts its size; the reader reports it.
fn estimated_text_bytes(files: &[InputFile]) -> Result<u64> {
    let mut total = 0u64;
    for f in files {
        let mut head = [0u8; 4];
        let n = std::fs::File::open(&f.path)
            .and_then(|mut file| std::io::Read::read(&mut file, &mut head))
            .unwrap_or(0);
        let factor = match Compression::sniff(&head[..n]) {
            Compression::None => 1,
            _ => 4,
        };
        total = total.saturating_add(f.bytes.saturating_mul(factor));
    }
    Ok(total)
}

/// Whether a finished manifest is the build `identity` describes.
fn same_build(m: &Manifest, identity: &Identity) -> bool {
    m.config == identity.config
        && m.worker == identity.worker
        && m.tokenizer.sha256 == identity.tokenizer_sha256
        && m.has_inputs(identity.inputs.iter().map(|(p, b)| (p.as_str(), *b)))
}

/// Whether `out` holds shards of this worker (or any shards, without workers).
fn has_shards(out: &Path, worker: Option<Worker>) -> Result<bool> {
    Ok(!build_files(out, worker)?.is_empty())
}

/// The files of a build of `worker` in `out`: its shards, manifest and the tokenizer.
fn build_files(out: &Path, worker: Option<Worker>) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(Error::io(out, e)),
    };
    let (shard_prefix, manifest_name) = match worker {
        Some(w) => (format!("shard{}-", w.suffix()), manifest::part_file(w)),
        None => ("shard-".to_string(), MANIFEST_FILE.to_string()),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let shard = shard::is_shard_name(&name) && name.starts_with(&shard_prefix);
        if shard || name == manifest_name {
            found.push(entry.path());
        }
    }
    Ok(found)
}

/// Removes an earlier build of `worker` from `out` (for `--overwrite`).
fn remove_build(out: &Path, worker: Option<Worker>) -> Result<()> {
    for path in build_files(out, worker)? {
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    }
    let work = state::work_dir(out, worker);
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    }
    Ok(())
}

/// Removes hidden temporary files a killed run left (`.shard-0003.parquet.tmp`).
fn remove_stale_temporaries(out: &Path) -> Result<()> {
    let entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_tokenizing_gives_the_sequential_result() {
        let tokenizer = Tokenizer::embedded().unwrap();
        let documents: Vec<input::Document> = (0..100u32)
            .map(|index| input::Document {
                index,
                text: match index % 7 {
                    0 => String::new(),
                    1 => "   \n\n".into(),
                    _ => format!("Document {index} opens here. It has a second sentence.\nAnd a paragraph {}.", index * 3),
                },
            })
            .collect();
        let run = |parallel| {
            let mut counters = Counters::default();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap();
            let docs = pool
                .install(|| {
                    tokenize_documents(
                        Path::new("docs.txt"),
                        5,
                        &documents,
                        false,
                        &tokenizer,
                        parallel,
                        &mut counters,
                    )
                })
                .unwrap();
            (docs, counters.sentences, counters.tokenless_documents)
        };
        let (docs, sentences, tokenless) = run(true);
        assert_eq!(docs.len(), 70);
        assert_eq!((sentences, tokenless), (70 * 3, 30));
        assert_eq!(docs[0].source, instance::source_id(5, 2));
        assert_eq!(run(false), (docs, sentences, tokenless));
    }
}
