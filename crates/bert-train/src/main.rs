//! `bert-train`: pre-train BERT (masked LM + next sentence) on bertprep shards.
//!
//! Thin binary: parse flags (clap refuses a fresh run's settings beside `--resume`, which takes
//! them from the run), turn them into a validated [`TrainConfig`] (or the overrides of a resumed
//! run), call the library, print progress, map errors to a one-line message and a
//! non-zero exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bert_train::metrics::progress_line;
use bert_train::trainer::{Event, ResumeOverrides, RunSummary};
use bert_train::{TrainConfig, Trainer};
use bertprep::build::limits;
use bertprep::error::one_line;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "bert-train",
    version,
    about = "Pre-train BERT (masked LM + next sentence) on bertprep shards; checkpoints load in \
             transformers as BertForPreTraining"
)]
struct Cli {
    /// Directory written by `bertprep build` (shards, manifest.json, tokenizer.json), or an
    /// s3://, gs://, az:// location of one (copied to a local directory first).
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "resume",
        conflicts_with = "resume"
    )]
    shards: Option<PathBuf>,
    /// Run directory for checkpoints and metrics.
    #[arg(
        long,
        value_name = "RUN_DIR",
        required_unless_present = "resume",
        conflicts_with = "resume"
    )]
    out: Option<PathBuf>,
    /// Model preset: tiny, mini, small, medium, base, large [default: base].
    #[arg(long, conflicts_with = "config", conflicts_with = "resume")]
    model: Option<String>,
    /// Hugging Face config.json of the model instead of a preset.
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    config: Option<PathBuf>,
    /// Rows per micro-batch [default: 32].
    #[arg(long, conflicts_with = "resume")]
    batch_size: Option<usize>,
    /// Micro-batches accumulated per optimiser step [default: 1].
    #[arg(long, conflicts_with = "resume")]
    grad_accum: Option<usize>,
    /// Peak learning rate [default: 1e-4].
    #[arg(long, conflicts_with = "resume")]
    lr: Option<f64>,
    /// Linear warm-up steps [default: 1% of the run].
    #[arg(long, conflicts_with = "resume")]
    warmup_steps: Option<u64>,
    /// Optimiser steps (the schedule decays to 0 there).
    #[arg(long, conflicts_with = "epochs")]
    max_steps: Option<u64>,
    /// Passes over the training rows, when --max-steps is not given [default: 1].
    #[arg(long, conflicts_with = "resume")]
    epochs: Option<f64>,
    /// Optimiser: adamw, or lamb (AdamW's step scaled per tensor by the ratio of the weights'
    /// norm to the update's; NVIDIA's large-batch BERT recipe) [default: adamw].
    #[arg(long, conflicts_with = "resume")]
    optimizer: Option<bert_train::optim::OptimizerKind>,
    /// Weight decay (not on biases and LayerNorm) [default: 0.01].
    #[arg(long, conflicts_with = "resume")]
    weight_decay: Option<f64>,
    /// Clip the global gradient norm to this (0 = no clipping) [default: 1.0].
    #[arg(long, conflicts_with = "resume")]
    max_grad_norm: Option<f64>,
    /// Seed of the initial weights, dropout, data order and held-out rows [default: 42].
    #[arg(long, conflicts_with = "resume")]
    seed: Option<u64>,
    /// Evaluate on this shard directory.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "eval_fraction",
        conflicts_with = "resume"
    )]
    eval_shards: Option<PathBuf>,
    /// Hold out this share of the training rows for evaluation.
    #[arg(long, conflicts_with = "resume")]
    eval_fraction: Option<f64>,
    /// Evaluate every N steps (0 = at the end only) [default: 0].
    #[arg(long)]
    eval_every: Option<u64>,
    /// Batches per evaluation, at most [default: 100].
    #[arg(long, conflicts_with = "resume")]
    eval_batches: Option<usize>,
    /// Checkpoint every N steps (0 = at the end only) [default: 1000].
    #[arg(long)]
    save_every: Option<u64>,
    /// Write a metrics line (and progress) every N steps [default: 10].
    #[arg(long)]
    log_every: Option<u64>,
    /// Rows per shuffle window [default: 10000].
    #[arg(long, conflicts_with = "resume")]
    shuffle_rows: Option<usize>,
    /// Continue the run in RUN_DIR from its latest checkpoint (or from a checkpoint directory).
    #[arg(long, value_name = "RUN_DIR")]
    resume: Option<PathBuf>,
    /// Stop after this step with a checkpoint, keeping the full run's schedule.
    #[arg(long)]
    stop_at: Option<u64>,
    /// Compute threads [default: all cores].
    #[arg(long)]
    threads: Option<usize>,
    /// cpu, or cuda (needs a build with `--features cuda`) [default: cpu].
    #[arg(long, conflicts_with = "resume")]
    device: Option<String>,
    /// Before the first step, check every shard's SHA-256 against the manifest (reads all
    /// shards once; sizes, schemas and the tokenizer are always checked).
    #[arg(long, conflicts_with = "resume")]
    verify: bool,
    /// Share of tokens masked in training, for shards built with --masking dynamic [default:
    /// the build's --masked-lm-prob].
    #[arg(long, value_name = "P", conflicts_with = "resume")]
    mlm_probability: Option<f64>,
    /// Recompute each encoder layer's activations in the backward pass instead of keeping
    /// them: far less memory for one more forward pass of the encoder.
    #[arg(long, conflicts_with = "resume")]
    recompute: bool,
    /// What matrix products are computed in: fp32, or bf16 (as torch.autocast does: bf16
    /// operands, f32 weights, LayerNorm, softmax and loss; pays on GPUs, not on CPUs without
    /// bf16 matrix kernels) [default: fp32].
    #[arg(long, conflicts_with = "resume")]
    precision: Option<bert_train::model::Precision>,
    /// No progress on stderr.
    #[arg(long, short)]
    quiet: bool,
}

impl Cli {
    fn train_config(&self) -> anyhow::Result<TrainConfig> {
        let d = TrainConfig::default();
        let config = TrainConfig {
            // Shards in object storage are copied to a local directory first.
            shards: bertprep::input::remote::local_copy(&self.shards.clone().unwrap_or_default())?,
            out: self.out.clone().unwrap_or_default(),
            model: self.model.clone().unwrap_or(d.model),
            model_config: self.config.clone(),
            batch_size: self.batch_size.unwrap_or(d.batch_size),
            grad_accum: self.grad_accum.unwrap_or(d.grad_accum),
            lr: self.lr.unwrap_or(d.lr),
            warmup_steps: self.warmup_steps,
            max_steps: self.max_steps,
            epochs: self.epochs,
            optimizer: self.optimizer.unwrap_or(d.optimizer),
            weight_decay: self.weight_decay.unwrap_or(d.weight_decay),
            max_grad_norm: self.max_grad_norm.unwrap_or(d.max_grad_norm),
            seed: self.seed.unwrap_or(d.seed),
            eval_shards: match &self.eval_shards {
                Some(path) => Some(bertprep::input::remote::local_copy(path)?),
                None => None,
            },
            eval_fraction: self.eval_fraction.unwrap_or(d.eval_fraction),
            eval_every: self.eval_every.unwrap_or(d.eval_every),
            eval_batches: self.eval_batches.unwrap_or(d.eval_batches),
            save_every: self.save_every.unwrap_or(d.save_every),
            log_every: self.log_every.unwrap_or(d.log_every),
            shuffle_rows: self.shuffle_rows.unwrap_or(d.shuffle_rows),
            stop_at: self.stop_at,
            device: self.device.clone().unwrap_or(d.device),
            verify: self.verify,
            mlm_probability: self.mlm_probability,
            recompute: self.recompute,
            precision: self.precision.unwrap_or_default(),
        };
        config.validate()?;
        Ok(config)
    }
}

fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    let Some(n) = threads.filter(|&n| n > 0) else {
        return Ok(());
    };
    let n = limits::thread_count(n)?;
    // candle's matmul asks rayon's pool and reads RAYON_NUM_THREADS for its split.
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .context("cannot set the thread count")
}

/// Starts or resumes the run, trains it and prints progress (unless `--quiet`).
fn run(cli: Cli) -> anyhow::Result<()> {
    set_threads(cli.threads)?;
    let mut trainer = open_trainer(&cli)?;
    let quiet = cli.quiet;
    if !quiet {
        print_start(&trainer);
    }
    let progress = Progress {
        total: trainer.spec.total_steps,
        tty: std::io::stderr().is_terminal(),
    };
    let mut observe = |event: Event<'_>| {
        if !quiet {
            progress.show(event);
        }
    };
    let summary = trainer.run(&mut observe).context("training failed")?;
    if !quiet {
        print_done(&summary);
    }
    Ok(())
}

/// The trainer of `--resume RUN_DIR` (with the flags that may change), or of a fresh run.
fn open_trainer(cli: &Cli) -> anyhow::Result<Trainer> {
    match &cli.resume {
        Some(dir) => {
            let overrides = ResumeOverrides {
                max_steps: cli.max_steps,
                stop_at: cli.stop_at,
                save_every: cli.save_every,
                eval_every: cli.eval_every,
                log_every: cli.log_every,
            };
            Trainer::resume(dir, &overrides)
                .with_context(|| format!("cannot resume {}", dir.display()))
        }
        None => Trainer::start(cli.train_config()?).context("cannot start training"),
    }
}

/// The opening line: model size, steps and where the run goes.
fn print_start(trainer: &Trainer) {
    eprintln!(
        "bert-train: {} parameters ({} layers, hidden {}), {} steps of {} from step {}, {} \
         training rows per epoch -> {}",
        trainer.model.num_parameters(),
        trainer.spec.model.num_hidden_layers,
        trainer.spec.model.hidden_size,
        trainer.spec.total_steps,
        match trainer.spec.config.optimizer {
            bert_train::optim::OptimizerKind::AdamW => "AdamW",
            bert_train::optim::OptimizerKind::Lamb => "LAMB",
        },
        trainer.step(),
        trainer.spec.train_rows,
        trainer.spec.config.out.display()
    );
}

/// Progress on stderr: train lines redrawn in place on a terminal, one per line otherwise.
struct Progress {
    /// Steps of the whole run.
    total: u64,
    /// Whether stderr is a terminal.
    tty: bool,
}

impl Progress {
    /// Prints one event of the run.
    fn show(&self, event: Event<'_>) {
        match event {
            Event::Train(line, eta) => {
                let text = progress_line(line, self.total, eta);
                if self.tty {
                    eprint!("\r{text}\x1b[K");
                } else {
                    eprintln!("{text}");
                }
            }
            Event::Eval(line) => {
                if self.tty {
                    eprintln!();
                }
                eprintln!(
                    "eval at step {}: loss {:.4} (mlm {:.4}, nsp {:.4}), mlm accuracy {:.3}, \
                     nsp accuracy {:.3} over {} sequences",
                    line.step,
                    line.loss,
                    line.mlm_loss,
                    line.nsp_loss,
                    line.mlm_accuracy,
                    line.nsp_accuracy,
                    line.sequences
                );
            }
            Event::Checkpoint(dir) => {
                if self.tty {
                    eprintln!();
                }
                eprintln!("checkpoint {}", dir.display());
            }
        }
    }
}

/// The closing lines: the step reached, time taken, checkpoint and loss curve.
fn print_done(summary: &RunSummary) {
    eprintln!(
        "bert-train: done: step {}/{} in {:.1} s -> {}",
        summary.step,
        summary.total_steps,
        summary.seconds,
        summary.checkpoint.display()
    );
    if let Some(plot) = &summary.plot {
        eprintln!("bert-train: loss curve {}", plot.display());
    }
}

/// Large tensor buffers are kept for reuse ([`bert_train::heap`]).
#[global_allocator]
static ALLOCATOR: bert_train::heap::BufferCache = bert_train::heap::BufferCache;

fn main() -> ExitCode {
    bert_train::heap::keep_freed_buffers();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bert-train: error: {}", one_line(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}
