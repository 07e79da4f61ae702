//! The build: work units on a thread pool, shards written in unit order.
//!
//! This is the only module with concurrency. A work unit is one input file; units are numbered
//! in the order [`crate::input::discover`] lists them. For each window of units, a rayon pool
//! runs the pure per-unit stages in parallel — read and parse, split sentences, tokenize, pair,
//! mask, shuffle within the unit ([`process_unit`]) — while a writer thread appends the previous
//! window's instances, in unit order, to the shards. Every random draw comes from streams keyed by
//! (seed, unit, pass), so the bytes written do not depend on the thread count, and memory is
//! bounded by the window (a few units per thread) rather than by the corpus.
//!
//! The output directory receives `shard-NNNN.parquet` files (each renamed into place only when
//! complete), then `tokenizer.json` and, last, `manifest.json`. On error every shard this run
//! wrote is removed and no manifest is written: a failed build leaves the directory as it found
//! it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::config::BuildConfig;
use crate::error::{Error, Result};
use crate::input::{self, InputFile};
use crate::instance::{self, Counters, Instance, InstanceSettings, TokenizedDocument};
use crate::manifest::{self, InputEntry, Manifest, TokenizerEntry, MANIFEST_FILE, TOKENIZER_FILE};
use crate::masking::{MaskSettings, MaskVocab};
use crate::pairs::PairSettings;
use crate::segment;
use crate::shard::{self, ShardMeta, ShardWriter};
use crate::tokenize::{Tokenizer, TokenizerSource};

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
    /// Worker threads; 0 uses every core. Does not change the output.
    pub threads: usize,
    /// Replace an existing build in `out`.
    pub overwrite: bool,
    /// No progress lines on stderr.
    pub quiet: bool,
}

/// What a finished build reports.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    /// The manifest written.
    pub manifest: Manifest,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Threads used.
    pub threads: usize,
}

/// One unit's result.
struct UnitOutput {
    entry: InputEntry,
    counters: Counters,
    instances: Vec<Instance>,
}

/// Shared, read-only state of the per-unit stages.
struct UnitContext<'a> {
    config: &'a BuildConfig,
    tokenizer: &'a Tokenizer,
    settings: InstanceSettings<'a>,
}

/// Runs a whole build.
pub fn build(opts: &BuildOptions) -> Result<BuildSummary> {
    let start = Instant::now();
    let mut config = opts.config.clone();
    config.tokenizer = opts.tokenizer.origin();
    config.validate()?;
    let tokenizer = Tokenizer::load(&opts.tokenizer)?;
    let files = input::discover(&opts.inputs)?;
    if files.len() > u32::MAX as usize {
        return Err(Error::Config("more than 2^32 input files".into()));
    }
    prepare_out_dir(&opts.out, opts.overwrite)?;

    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("bertprep-worker-{i}"))
        .build()
        .map_err(|e| Error::Config(format!("cannot start {threads} threads: {e}")))?;

    let settings = InstanceSettings {
        seed: config.seed,
        dupe_factor: config.dupe_factor,
        pairs: PairSettings {
            max_num_tokens: config.max_num_tokens(),
            short_seq_prob: config.short_seq_prob,
        },
        mask: MaskSettings {
            masked_lm_prob: config.masked_lm_prob,
            max_predictions: config.max_predictions,
            whole_word_mask: config.whole_word_mask,
        },
        vocab: MaskVocab::new(&tokenizer),
    };
    let ctx = UnitContext {
        config: &config,
        tokenizer: &tokenizer,
        settings,
    };
    let meta = ShardMeta {
        config: config.clone(),
        tokenizer_sha256: tokenizer.sha256().to_string(),
        specials: tokenizer.specials(),
    };
    let writer = ShardWriter::new(&opts.out, &meta)?;
    let total_bytes: u64 = files.iter().map(|f| f.bytes).sum();
    let mut progress = Progress::new(opts.quiet, files.len(), total_bytes);

    let window = (threads * 2).max(2);
    let (tx, rx) = crossbeam_channel::bounded::<Vec<UnitOutput>>(1);
    let (entries, counters, shards) = std::thread::scope(|scope| -> Result<_> {
        let writer_thread = scope.spawn(move || write_units(writer, rx));
        let mut failure = None;
        for (w, chunk) in files.chunks(window).enumerate() {
            let first = w * window;
            let outputs: Vec<Result<UnitOutput>> = pool.install(|| {
                chunk
                    .par_iter()
                    .enumerate()
                    .map(|(i, file)| process_unit(first + i, file, &ctx))
                    .collect()
            });
            match outputs.into_iter().collect::<Result<Vec<UnitOutput>>>() {
                Ok(outputs) => {
                    progress.advance(&outputs);
                    if tx.send(outputs).is_err() {
                        break; // The writer failed; its error is reported below.
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        let (writer, written) = writer_thread
            .join()
            .map_err(|_| Error::Config("shard writer thread panicked".into()))?;
        match (failure, written) {
            (None, Ok((entries, counters))) => {
                let shards = writer.finish()?;
                Ok((entries, counters, shards))
            }
            (Some(e), _) | (None, Err(e)) => {
                writer.abort();
                Err(e)
            }
        }
    })?;

    manifest::write_atomic(&opts.out.join(TOKENIZER_FILE), tokenizer.json().as_bytes())?;
    let manifest = Manifest {
        producer: "bertprep".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        schema_version: shard::SCHEMA_VERSION,
        config,
        tokenizer: TokenizerEntry {
            file: TOKENIZER_FILE.into(),
            sha256: tokenizer.sha256().into(),
            vocab_size: tokenizer.vocab_size(),
            special_tokens: tokenizer.specials(),
        },
        inputs: entries,
        shards,
        counters,
    };
    manifest.write(&opts.out)?;
    Ok(BuildSummary {
        manifest,
        seconds: start.elapsed().as_secs_f64(),
        threads,
    })
}

/// The writer thread: appends each window's instances in unit order. Hands the writer back
/// so the caller can finish or abort it.
fn write_units(
    mut writer: ShardWriter,
    rx: crossbeam_channel::Receiver<Vec<UnitOutput>>,
) -> (ShardWriter, Result<(Vec<InputEntry>, Counters)>) {
    let mut entries = Vec::new();
    let mut counters = Counters::default();
    for window in rx {
        for unit in window {
            for instance in unit.instances {
                if let Err(e) = writer.push(instance) {
                    return (writer, Err(e));
                }
            }
            counters.add(&unit.counters);
            entries.push(unit.entry);
        }
    }
    (writer, Ok((entries, counters)))
}

/// Reads one input file and turns it into shuffled instances.
fn process_unit(unit: usize, file: &InputFile, ctx: &UnitContext<'_>) -> Result<UnitOutput> {
    let parsed = input::read(&file.path, ctx.config.format)?;
    let mut counters = Counters {
        text_bytes: parsed.text_bytes,
        documents: parsed.documents.len() as u64,
        empty_documents: parsed.empty_documents,
        unclosed_documents: parsed.unclosed_documents,
        ..Counters::default()
    };
    let docs = tokenize_documents(
        &file.path,
        unit as u32,
        &parsed.documents,
        ctx.config.presplit,
        ctx.tokenizer,
        &mut counters,
    )?;
    let instances = instance::create_instances(&docs, unit as u64, &ctx.settings, &mut counters);
    let entry = InputEntry {
        path: file.path.display().to_string(),
        bytes: file.bytes,
        text_bytes: parsed.text_bytes,
        format: parsed.format.unwrap_or_default(),
        compression: parsed.compression,
        documents: parsed.documents.len() as u64,
        empty_documents: parsed.empty_documents,
        instances: instances.len() as u64,
    };
    Ok(UnitOutput {
        entry,
        counters,
        instances,
    })
}

/// Splits each document into sentences and tokenizes them; drops token-less sentences and
/// documents.
pub fn tokenize_documents(
    path: &Path,
    file_index: u32,
    documents: &[input::Document],
    presplit: bool,
    tokenizer: &Tokenizer,
    counters: &mut Counters,
) -> Result<Vec<TokenizedDocument>> {
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
    Ok(out)
}

/// Creates `out`, refusing to mix with an earlier build unless `overwrite`.
fn prepare_out_dir(out: &Path, overwrite: bool) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    let mut previous = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale_tmp = name.starts_with('.') && name.ends_with(".tmp");
        if stale_tmp {
            let _ = std::fs::remove_file(entry.path());
        } else if name == MANIFEST_FILE || name == TOKENIZER_FILE || shard::is_shard_name(&name) {
            previous.push(entry.path());
        }
    }
    if previous.is_empty() {
        return Ok(());
    }
    if !overwrite {
        return Err(Error::Config(format!(
            "output directory {} already holds a build ({} files: manifest.json, tokenizer.json \
             or shard-*.parquet); pass --overwrite to replace it",
            out.display(),
            previous.len()
        )));
    }
    for path in previous {
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// Periodic progress lines on stderr.
struct Progress {
    quiet: bool,
    start: Instant,
    last: Instant,
    files: usize,
    done: usize,
    total_bytes: u64,
    bytes: u64,
    instances: u64,
}

impl Progress {
    fn new(quiet: bool, files: usize, total_bytes: u64) -> Self {
        let now = Instant::now();
        Progress {
            quiet,
            start: now,
            last: now,
            files,
            done: 0,
            total_bytes,
            bytes: 0,
            instances: 0,
        }
    }

    fn advance(&mut self, outputs: &[UnitOutput]) {
        self.done += outputs.len();
        self.bytes += outputs.iter().map(|o| o.entry.bytes).sum::<u64>();
        self.instances += outputs
            .iter()
            .map(|o| o.instances.len() as u64)
            .sum::<u64>();
        if self.quiet || (self.last.elapsed().as_secs_f64() < 2.0 && self.done < self.files) {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        eprintln!(
            "bertprep: {}/{} inputs, {:.1}/{:.1} MB, {} instances, {:.2} MB/s",
            self.done,
            self.files,
            self.bytes as f64 / 1e6,
            self.total_bytes as f64 / 1e6,
            self.instances,
            self.bytes as f64 / 1e6 / secs
        );
    }
}
