//! `bertprep`: build BERT pre-training shards from a text corpus.
//!
//! Thin binary: parse flags, turn them into a validated [`BuildConfig`], call the library, map
//! errors to a one-line message and a non-zero exit code (a closed stdout exits 0 quietly).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bertprep::build::progress::ProgressMode;
use bertprep::build::tasks::Schedule;
use bertprep::build::{self, BuildOptions};
use bertprep::config::{
    default_max_predictions_at, default_row_group_rows, Masking, Objective, OnError, Padding,
};
use bertprep::error::one_line;
use bertprep::export::{Compression, ExportOptions, Target};
use bertprep::input::Format;
use bertprep::inspect::{render, InspectOptions, Show};
use bertprep::output::Worker;
use bertprep::sentences::{self, ReadSettings, Source};
use bertprep::tokenize::roles::SpecialNames;
use bertprep::tokenize::{TokenizerImpl, TokenizerSource};
use bertprep::vocab::{VocabModel, VocabOptions};
use bertprep::BuildConfig;
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "bertprep",
    version,
    about = "BERT pre-training data (masked LM + next sentence) from raw text, as Parquet shards"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read a corpus and write shards of masked-LM + next-sentence instances.
    Build(Box<BuildArgs>),
    /// Check that every task of a `--tasks` build is complete and from the same build, and
    /// join their manifest parts into manifest.json.
    #[command(alias = "merge-manifest")]
    Finalize {
        /// The shared output directory of the tasks.
        dir: PathBuf,
        /// Rewrite the shards into shards of exactly R rows (the last one shorter), each drawn
        /// evenly from every task, so that every rank of a multi-rank loader gets equal work.
        #[arg(long, value_name = "R")]
        rebalance: Option<u64>,
    },
    /// Show what a shard or an output directory holds; --check validates it.
    ///
    /// Exit status: 0 success (and, with --check, every invariant holds); 1 --check found
    /// violations; 2 the path cannot be inspected (missing, not Parquet, not a shard, truncated)
    /// or the flags are wrong.
    Inspect(InspectArgs),
    /// Print one sentence per line, a blank line between documents (Google's
    /// create_pretraining_data.py input format).
    Sentences(SentencesArgs),
    /// Write the articles of MediaWiki XML dumps as WikiExtractor files (OUT/AA/wiki_00, ...:
    /// `<doc id= url= title=>` blocks, or JSON lines with --json).
    Extract(ExtractArgs),
    /// Rewrite a finished build for another trainer: NVIDIA's HDF5, Google's TFRecord or
    /// MosaicML's MDS (one output file per shard, export-manifest.json with checksums;
    /// rerunning resumes an interrupted export).
    Export(ExportArgs),
    /// Train a vocabulary on your corpus (WordPiece, byte-level BPE or Unigram) with the
    /// `tokenizers` trainers: DIR/tokenizer.json for `build --tokenizer` and `transformers`.
    Vocab(VocabArgs),
}

/// How inputs are read: the flags `build`, `vocab` and `sentences` share.
#[derive(Args, Debug)]
struct InputArgs {
    /// Input format: auto, wiki (WikiExtractor), jsonl (JSON lines with "text"), text, parquet,
    /// mediawiki (an XML dump; found by its <mediawiki> root under auto).
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    format: Format,
    /// Namespaces of a MediaWiki dump whose pages become documents, comma-separated (0:
    /// articles). Changes the output.
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_value = "0")]
    namespaces: Vec<i32>,
    /// Column of Parquet input that holds the text.
    #[arg(long, value_name = "NAME", default_value = "text")]
    text_column: String,
    /// Each input line is already one sentence (Google's input format).
    #[arg(long)]
    presplit: bool,
    /// What a bad input file does: stop (fail, naming the file) or skip (leave it out, say so,
    /// go on; a build records it in manifest.json's "skipped" list).
    #[arg(long, value_name = "stop|skip", default_value = "stop", value_parser = parse_on_error)]
    on_error: OnError,
}

impl InputArgs {
    fn settings(self) -> ReadSettings {
        ReadSettings {
            format: self.format,
            namespaces: self.namespaces,
            text_column: self.text_column,
            presplit: self.presplit,
            on_error: self.on_error,
        }
    }
}

#[derive(Args, Debug)]
struct VocabArgs {
    /// Input files or directories, or s3://, gs://, az://, https:// locations, read as `build`
    /// reads them; `-` reads standard input.
    #[arg(long = "in", value_name = "PATH", required = true, num_args = 1..)]
    inputs: Vec<PathBuf>,
    /// Output directory: tokenizer.json (and vocab.txt for WordPiece).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Entries of the vocabulary, special tokens included [default: 30522 (BERT's); 50265
    /// (RoBERTa's) for bpe].
    #[arg(long)]
    vocab_size: Option<usize>,
    /// wordpiece (BERT), bpe (byte-level, RoBERTa) or unigram (SentencePiece, ALBERT).
    #[arg(long, default_value = "wordpiece", value_parser = parse_vocab_model)]
    model: VocabModel,
    /// Keep case and accents (WordPiece; uncased by default, as BERT's).
    #[arg(long)]
    cased: bool,
    /// Fewest occurrences of a pair or word to be learned.
    #[arg(long, default_value_t = 2)]
    min_frequency: u64,
    /// Respell special tokens by role (pad, unk, cls, sep, mask), e.g. cls=<cls> [default:
    /// [PAD] [UNK] [CLS] [SEP] [MASK]; <s> <pad> </s> <unk> <mask> for bpe; <pad> <unk> [CLS]
    /// [SEP] [MASK] for unigram].
    #[arg(long, value_name = "ROLE=TOKEN,...", value_parser = parse_special_names)]
    special_tokens: Option<SpecialNames>,
    #[command(flatten)]
    read: InputArgs,
    /// Replace a tokenizer.json already in --out.
    #[arg(long)]
    overwrite: bool,
}

#[derive(Args, Debug)]
struct ExportArgs {
    /// The output directory of a complete `bertprep build`.
    #[arg(value_name = "BUILD_DIR")]
    build: PathBuf,
    /// Format: hdf5 (NVIDIA DeepLearningExamples BERT), tfrecord (Google BERT,
    /// run_pretraining.py), mds (MosaicML Streaming).
    #[arg(long = "to", value_name = "FORMAT", value_parser = parse_target)]
    target: Target,
    /// Output directory (new, empty, or an unfinished export of the same build to resume).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// none, gzip (HDF5's default; TFRecord) or zstd (MDS) [default: gzip for hdf5, none
    /// otherwise].
    #[arg(long, value_name = "CODEC", value_parser = parse_compression)]
    compression: Option<Compression>,
    /// MDS shard size limit in bytes (MDSWriter's default).
    #[arg(long, value_name = "BYTES", default_value_t = bertprep::export::mds::DEFAULT_SIZE_LIMIT)]
    mds_size_limit: u64,
    /// Threads (0 = all cores): shards exported side by side, row groups within each; the
    /// output does not depend on it. Memory grows linearly with it: about 6 row groups per
    /// thread in flight, plus an MDS shard per shard in flight for --to mds.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print nothing but errors (no line per shard, no summary).
    #[arg(long)]
    quiet: bool,
}

fn parse_target(s: &str) -> Result<Target, String> {
    match s {
        "hdf5" => Ok(Target::Hdf5),
        "tfrecord" => Ok(Target::Tfrecord),
        "mds" => Ok(Target::Mds),
        _ => Err(format!("unknown format {s:?}: hdf5, tfrecord or mds")),
    }
}

fn parse_compression(s: &str) -> Result<Compression, String> {
    match s {
        "none" => Ok(Compression::None),
        "gzip" => Ok(Compression::Gzip),
        "zstd" => Ok(Compression::Zstd),
        _ => Err(format!("unknown compression {s:?}: none, gzip or zstd")),
    }
}

#[derive(Args, Debug)]
struct ExtractArgs {
    /// MediaWiki XML dumps (plain, .gz, .bz2 single- or multi-stream, .zst, .xz), or
    /// directories of them.
    #[arg(value_name = "DUMP", required = true)]
    inputs: Vec<PathBuf>,
    /// Output directory (new or empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// One JSON object per line (id, url, title, text) instead of <doc> blocks.
    #[arg(long)]
    json: bool,
    /// Namespaces whose pages are extracted, comma-separated [default: 0, articles].
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_value = "0")]
    namespaces: Vec<i32>,
    /// Bytes per output file before the next one starts.
    #[arg(long, value_name = "N", default_value_t = 1 << 20)]
    bytes: usize,
    /// Threads decompressing a multi-stream bzip2 dump (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Args, Debug)]
struct SentencesArgs {
    /// Input files or directories (as for build); `-` or nothing reads standard input.
    #[arg(value_name = "PATH")]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    read: InputArgs,
}

#[derive(Args, Debug)]
struct InspectArgs {
    /// A shard (.parquet) or an output directory of `bertprep build`.
    #[arg(value_name = "PATH")]
    path: PathBuf,
    /// Decode the first N rows.
    #[arg(long, value_name = "N", default_value_t = 3)]
    rows: u64,
    /// Decode only row K (0-based, counted across the shards of a directory).
    #[arg(long, value_name = "K", conflicts_with = "rows")]
    row: Option<u64>,
    /// Print the whole report as one JSON document.
    #[arg(long)]
    json: bool,
    /// Validate every row's invariants and, for a directory, manifest.json's row counts,
    /// sizes and SHA-256 checksums; exit 1 when any fails.
    #[arg(long)]
    check: bool,
    /// Decode with this tokenizer.json instead of the one beside the shards.
    #[arg(long, value_name = "FILE")]
    tokenizer: Option<PathBuf>,
    /// Violations listed at most (all are counted).
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_violations: usize,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    color: ColorChoice,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Runs `inspect`, prints the report, and returns the documented exit status.
fn inspect(args: InspectArgs) -> u8 {
    use std::io::{IsTerminal, Write};
    let path = match bertprep::input::remote::local_copy(&args.path) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("bertprep: error: {e:#}");
            return 2;
        }
    };
    let opts = InspectOptions {
        path,
        show: args.row.map_or(Show::First(args.rows), Show::Row),
        check: args.check,
        tokenizer: args.tokenizer,
        max_violations: args.max_violations,
    };
    let report = match bertprep::inspect::inspect(&opts) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("bertprep: error: {e:#}");
            return 2;
        }
    };
    let stdout = std::io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let text = if args.json {
        report.to_json()
    } else {
        render::text(&report, color)
    };
    let mut out = stdout.lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        // `inspect ... | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("bertprep: error: writing the report: {e}");
            return 2;
        }
    }
    u8::from(report.check_failed())
}

#[derive(Args, Debug)]
struct BuildArgs {
    /// Input files or directories (walked recursively, sorted, hidden entries skipped), or
    /// s3://, gs://, az://, https:// locations (an object, or every object under a prefix).
    #[arg(long = "in", value_name = "PATH", required = true, num_args = 1..)]
    inputs: Vec<PathBuf>,
    /// Output directory for shards, manifest.json and tokenizer.json, or an s3://, gs://,
    /// az:// location or a WebDAV https:// one the finished build is uploaded to (built first
    /// in a local staging directory under the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Length every instance is padded to, special tokens included.
    #[arg(long, default_value_t = 512)]
    max_seq_len: usize,
    /// Passes over the corpus, each with fresh pairs and masks.
    #[arg(long, default_value_t = 1)]
    dupe_factor: usize,
    /// Share of tokens to predict.
    #[arg(long, default_value_t = 0.15)]
    masked_lm_prob: f64,
    /// Cap on predictions per instance [default: round(max_seq_len * max(0.15,
    /// masked_lm_prob))].
    #[arg(long)]
    max_predictions: Option<usize>,
    /// Probability of a shorter, random target length.
    #[arg(long, default_value_t = 0.1)]
    short_seq_prob: f64,
    /// Seed of every random decision.
    #[arg(long, default_value_t = 12345)]
    seed: u64,
    /// Mask all WordPieces of a word together.
    #[arg(long)]
    whole_word_mask: bool,
    /// Mask SpanBERT's spans of whole words (geometric lengths, p = 0.2, at most 10 words).
    #[arg(long)]
    mask_spans: bool,
    /// Sentence-pair objective: nsp (BERT's next sentence), sop (ALBERT's sentence order,
    /// column sentence_order_label) or none (RoBERTa: rows of whole sentences, no pair label).
    #[arg(long, default_value = "nsp", value_parser = parse_objective)]
    objective: Objective,
    /// With --objective none: end rows with each document (DOC-SENTENCES) instead of running on
    /// across documents with [SEP] between them (FULL-SENTENCES).
    #[arg(long)]
    no_cross_document: bool,
    /// static: mask at build time (labels); dynamic: store unmasked ids and
    /// special_tokens_mask, for masks drawn at training time.
    #[arg(long, default_value = "static", value_parser = parse_masking)]
    masking: Masking,
    /// max: pad every row to --max-seq-len; none: store each row at its real length.
    #[arg(long, default_value = "max", value_parser = parse_padding)]
    padding: Padding,
    /// Hugging Face tokenizer.json to use instead of the embedded BERT base uncased.
    #[arg(long, value_name = "FILE", conflicts_with = "vocab")]
    tokenizer: Option<PathBuf>,
    /// BERT vocab.txt to use instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    vocab: Option<PathBuf>,
    /// With --vocab: keep case and accents (cased model).
    #[arg(long, requires = "vocab")]
    cased: bool,
    /// Name special tokens by role where the tokenizer's post-processor and spellings do not
    /// say (roles pad, unk, cls, sep, mask), e.g. cls=<s>,sep=</s>.
    #[arg(long, value_name = "ROLE=TOKEN,...", value_delimiter = ',')]
    special_tokens: Vec<String>,
    /// Tokenizer implementation: fast (exact re-implementations of BERT's WordPiece and of
    /// GPT-2/RoBERTa's byte-level BPE), crate (the Hugging Face `tokenizers` crate), or auto
    /// (fast whenever one reproduces the tokenizer). All give the same ids.
    #[arg(long, default_value = "auto", value_parser = parse_tokenizer_impl)]
    tokenizer_impl: TokenizerImpl,
    #[command(flatten)]
    read: InputArgs,
    /// Rows per Parquet shard.
    #[arg(long, default_value_t = 100_000)]
    rows_per_shard: usize,
    /// Rows per Parquet row group [default: 262144 / max-seq-len, e.g. 2048 at 128, 512 at
    /// 512].
    #[arg(long)]
    row_group_rows: Option<usize>,
    /// zstd compression level of the shards (1-22).
    #[arg(long, default_value_t = 3)]
    zstd_level: i32,
    /// Bytes of text per work unit (files are cut at the next document boundary after it);
    /// random-next segments come from the same unit. Changes the output.
    #[arg(long, default_value_t = bertprep::input::units::UNIT_TARGET_BYTES)]
    unit_bytes: usize,
    /// Worker threads (0 = all cores); the output does not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Replace an existing build (finished or not) in the output directory.
    #[arg(long)]
    overwrite: bool,
    /// Bytes on disk per piece of the unit plan: larger uncompressed and multi-stream bzip2
    /// files are cut into pieces of this size, which tasks share out. Changes the output.
    #[arg(long, default_value_t = bertprep::input::plan::DEFAULT_PIECE_BYTES)]
    piece_bytes: u64,
    /// Split the build into T fixed tasks, each writing its own shards and manifest part
    /// (joined by `bertprep finalize`); the output depends on T, never on the workers
    /// [default with --worker or --claim: one task per 32 MiB of input, at most 4096].
    #[arg(long, value_name = "T")]
    tasks: Option<u32>,
    /// Run the tasks t with t % N == I: `I/N`, or `auto[/N]` to take I from
    /// JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm).
    #[arg(long, value_name = "I/N|auto[/N]", conflicts_with = "claim")]
    worker: Option<String>,
    /// Run whichever tasks no other worker holds, claimed by files in the output directory.
    #[arg(long)]
    claim: bool,
    /// Seconds a --claim worker's claim may go without a heartbeat before another worker
    /// takes the task over.
    #[arg(long, value_name = "SECS", default_value_t = 600, requires = "claim")]
    claim_timeout: u64,
    /// Progress as plain periodic lines even on a terminal.
    #[arg(long, conflicts_with = "quiet")]
    progress_lines: bool,
    /// No progress or summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_tokenizer_impl(s: &str) -> Result<TokenizerImpl, String> {
    s.parse()
}

fn parse_on_error(s: &str) -> Result<OnError, String> {
    s.parse()
}

fn parse_objective(s: &str) -> Result<Objective, String> {
    s.parse()
}

fn parse_masking(s: &str) -> Result<Masking, String> {
    s.parse()
}

fn parse_padding(s: &str) -> Result<Padding, String> {
    s.parse()
}

/// A `--tasks` build's task count (`None`: the default) and this worker's schedule.
type TaskRun = (Option<u32>, Schedule);

impl BuildArgs {
    /// The build's options, and for a `--tasks` build the task count and this worker's
    /// schedule.
    fn into_options(self) -> anyhow::Result<(BuildOptions, Option<TaskRun>)> {
        let tokenizer = match (self.tokenizer, self.vocab) {
            (Some(path), _) => TokenizerSource::Json(path),
            (None, Some(path)) => TokenizerSource::Vocab {
                path,
                cased: self.cased,
            },
            (None, None) => TokenizerSource::Embedded,
        };
        let config = BuildConfig {
            max_seq_len: self.max_seq_len,
            dupe_factor: self.dupe_factor,
            masked_lm_prob: self.masked_lm_prob,
            max_predictions: self.max_predictions.unwrap_or_else(|| {
                default_max_predictions_at(self.max_seq_len, self.masked_lm_prob)
            }),
            short_seq_prob: self.short_seq_prob,
            seed: self.seed,
            whole_word_mask: self.whole_word_mask,
            mask_spans: self.mask_spans,
            objective: self.objective,
            cross_document: !self.no_cross_document,
            masking: self.masking,
            padding: self.padding,
            presplit: self.read.presplit,
            format: self.read.format,
            rows_per_shard: self.rows_per_shard,
            row_group_rows: self
                .row_group_rows
                .unwrap_or_else(|| default_row_group_rows(self.max_seq_len)),
            zstd_level: self.zstd_level,
            unit_bytes: self.unit_bytes,
            piece_bytes: self.piece_bytes,
            on_error: self.read.on_error,
            text_column: self.read.text_column,
            namespaces: self.read.namespaces,
            tokenizer: tokenizer.origin(),
            special_tokens: self.special_tokens,
            pair_layout: Default::default(),
        };
        config.validate()?;
        let schedule = match (&self.worker, self.claim) {
            (Some(spec), _) => Some(Schedule::Worker(Worker::parse(spec, |k| {
                std::env::var(k).ok()
            })?)),
            (None, true) => Some(Schedule::Claim {
                timeout: std::time::Duration::from_secs(self.claim_timeout),
            }),
            (None, false) if self.tasks.is_some() => {
                Some(Schedule::Worker(Worker { index: 0, count: 1 }))
            }
            (None, false) => None,
        };
        let progress = if self.quiet {
            ProgressMode::Quiet
        } else if self.progress_lines {
            ProgressMode::Lines
        } else {
            ProgressMode::Auto
        };
        let opts = BuildOptions {
            inputs: self.inputs,
            out: self.out,
            config,
            tokenizer,
            tokenizer_impl: self.tokenizer_impl,
            threads: self.threads,
            overwrite: self.overwrite,
            progress,
            task: None,
        };
        Ok((opts, schedule.map(|s| (self.tasks, s))))
    }
}

/// Runs `build` and prints its warnings and summary (unless `--quiet`).
fn build_command(args: BuildArgs) -> anyhow::Result<()> {
    let (opts, tasks) = args.into_options()?;
    if let Some((count, schedule)) = tasks {
        return tasks_command(&opts, count, schedule);
    }
    let summary = build::build(&opts).context("build failed")?;
    if opts.progress == ProgressMode::Quiet {
        return Ok(());
    }
    let c = &summary.manifest.counters;
    if summary.already_complete {
        eprintln!(
            "bertprep: {} already holds this build ({} instances in {} shards); nothing to do",
            opts.out.display(),
            c.instances,
            summary.manifest.shards.len()
        );
        return Ok(());
    }
    if c.unclosed_documents > 0 {
        eprintln!(
            "bertprep: warning: {} <doc> block(s) never closed (input truncated?); kept \
             what was there",
            c.unclosed_documents
        );
    }
    for input in &summary.manifest.inputs {
        if let Some(what) = &input.looks_like {
            eprintln!(
                "bertprep: warning: {} was read as plain text but looks like {what} \
                 markup (a MediaWiki dump needs no --format; HTML pages need extracting \
                 first)",
                input.path
            );
        }
    }
    let p = &c.pages;
    if !p.is_zero() {
        eprintln!(
            "bertprep: dump pages: {} read, {} articles ({} empty after cleaning), {} \
             redirects and {} of other namespaces skipped",
            p.pages, p.articles, p.empty, p.redirects, p.other_namespaces
        );
    }
    for s in &summary.manifest.skipped {
        eprintln!(
            "bertprep: skipped {} from byte {}: {}",
            s.path, s.offset, s.reason
        );
    }
    let mb = c.text_bytes as f64 / 1e6;
    let secs = summary.seconds.max(1e-9);
    eprintln!(
        "bertprep: done{}: {} documents, {} instances, {} tokens, {} shards in {:.2} s \
         ({:.2} MB/s, {:.0} instances/s, {} threads) -> {}",
        if summary.resumed { " (resumed)" } else { "" },
        c.documents,
        c.instances,
        c.tokens,
        summary.manifest.shards.len(),
        summary.seconds,
        mb / secs,
        c.instances as f64 / secs,
        summary.threads,
        summary.manifest_path.display()
    );
    Ok(())
}

/// Runs this worker's tasks of a `--tasks` build and says what it did.
fn tasks_command(
    opts: &BuildOptions,
    count: Option<u32>,
    schedule: Schedule,
) -> anyhow::Result<()> {
    let summary = build::tasks::run_tasks(opts, count, schedule).context("build failed")?;
    if opts.progress == ProgressMode::Quiet {
        return Ok(());
    }
    let instances: u64 = summary
        .ran
        .iter()
        .map(|(_, s)| s.manifest.counters.instances)
        .sum();
    let others = match summary.finished_by_others {
        0 => String::new(),
        n => format!(", {n} finished by other workers"),
    };
    eprintln!(
        "bertprep: ran {} of {} tasks ({} already complete{others}): {instances} instances, \
         {} bytes of input read, in {:.2} s -> {} (then `bertprep finalize {}`)",
        summary.ran.len(),
        summary.tasks,
        summary.complete,
        summary.bytes_read,
        summary.seconds,
        opts.out.display(),
        opts.out.display()
    );
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        // Its own exit statuses (0, 1 for --check failures, 2 for errors); output is flushed.
        Command::Inspect(args) => std::process::exit(i32::from(inspect(args))),
        Command::Build(args) => build_command(*args),
        Command::Finalize { dir, rebalance } => {
            let merged = build::finalize::finalize(&dir, rebalance).context("finalize failed")?;
            eprintln!(
                "bertprep: finalized {} tasks: {} instances in {} shards -> {}",
                merged.merged_tasks.unwrap_or(0),
                merged.counters.instances,
                merged.shards.len(),
                dir.join(bertprep::output::layout::MANIFEST_FILE).display()
            );
            Ok(())
        }
        Command::Extract(args) => extract(args),
        Command::Export(args) => export(args),
        Command::Vocab(args) => vocab(args),
        Command::Sentences(args) => {
            let sources: Vec<Source> = args.inputs.into_iter().map(Source::from_arg).collect();
            let stdout = std::io::stdout().lock();
            let out = std::io::BufWriter::with_capacity(1 << 16, stdout);
            let summary = sentences::write_sentences(
                &sources,
                &args.read.settings(),
                &mut std::io::stdin().lock(),
                out,
                "<stdout>",
            )?;
            say_skipped(&summary.skipped);
            Ok(())
        }
    }
}

/// Runs `export` and prints its summary.
fn export(args: ExportArgs) -> anyhow::Result<()> {
    let opts = ExportOptions {
        build: bertprep::input::remote::local_copy(&args.build).context("export failed")?,
        out: args.out,
        target: args.target,
        compression: args.compression,
        mds_size_limit: args.mds_size_limit,
        threads: build::limits::thread_count(args.threads)?,
        progress: !args.quiet,
    };
    let summary = bertprep::export::export(&opts).context("export failed")?;
    if args.quiet {
        return Ok(());
    }
    let m = &summary.manifest;
    let data_files = m.files.iter().filter(|f| !f.source.is_empty()).count();
    if summary.already_complete {
        eprintln!(
            "bertprep: {} already holds this export ({} rows in {data_files} files); nothing \
             to do",
            opts.out.display(),
            m.rows
        );
        return Ok(());
    }
    let secs = summary.seconds.max(1e-9);
    eprintln!(
        "bertprep: exported {} rows as {} into {data_files} files, {:.1} MB in {:.2} s \
         ({:.1} MB/s){} -> {}",
        m.rows,
        m.format.name(),
        m.bytes as f64 / 1e6,
        summary.seconds,
        m.bytes as f64 / 1e6 / secs,
        if summary.resumed_shards > 0 {
            format!(
                ", {} shards kept from an interrupted run",
                summary.resumed_shards
            )
        } else {
            String::new()
        },
        opts.out.join(bertprep::export::EXPORT_MANIFEST).display()
    );
    Ok(())
}

/// Runs `vocab` and prints its summary.
fn vocab(args: VocabArgs) -> anyhow::Result<()> {
    let opts = VocabOptions {
        inputs: args.inputs,
        out: args.out,
        vocab_size: args
            .vocab_size
            .unwrap_or_else(|| args.model.default_vocab_size()),
        model: args.model,
        cased: args.cased,
        min_frequency: args.min_frequency,
        special_tokens: args.special_tokens.unwrap_or_default(),
        read: args.read.settings(),
        overwrite: args.overwrite,
    };
    let started = std::time::Instant::now();
    let summary = bertprep::vocab::train_vocab(&opts).context("vocab failed")?;
    say_skipped(&summary.skipped);
    eprintln!(
        "bertprep: trained a vocabulary of {} entries (--vocab-size {}) on {} sentences of {} \
         documents ({} files) in {:.1} s -> {}",
        summary.vocab_size,
        opts.vocab_size,
        summary.sentences,
        summary.documents,
        summary.files,
        started.elapsed().as_secs_f64(),
        summary
            .written
            .iter()
            .map(|f| opts.out.join(f).display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// Warns of the inputs `--on-error skip` left out.
fn say_skipped(skipped: &[String]) {
    for what in skipped {
        eprintln!("bertprep: warning: skipped {what}");
    }
}

fn parse_vocab_model(s: &str) -> Result<VocabModel, String> {
    s.parse()
}

fn parse_special_names(s: &str) -> Result<SpecialNames, String> {
    s.parse()
}

/// Runs `extract` and prints its summary.
fn extract(args: ExtractArgs) -> anyhow::Result<()> {
    let opts = bertprep::extract::ExtractOptions {
        inputs: args.inputs,
        out: args.out,
        json: args.json,
        namespaces: args.namespaces,
        max_file_bytes: args.bytes,
        threads: build::limits::thread_count(args.threads)?,
    };
    let summary = bertprep::extract::extract(&opts).context("extract failed")?;
    let p = &summary.pages;
    eprintln!(
        "bertprep: extracted {} articles into {} files ({} pages read; {} redirects, {} of \
         other namespaces and {} empty after cleaning skipped) -> {}",
        summary.documents,
        summary.files,
        p.pages,
        p.redirects,
        p.other_namespaces,
        p.empty,
        opts.out.display()
    );
    Ok(())
}

/// Whether the error is a closed output pipe (`bertprep sentences | head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bertprep: error: {}", one_line(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}
