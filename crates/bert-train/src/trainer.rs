//! A training run: settings, start or resume, the loop, evaluation and checkpoints.
//!
//! [`TrainConfig`] holds every setting (the binary converts its flags into one). [`Trainer::start`]
//! opens the shards, resolves the model (a preset sized to the shards' vocabulary, or a
//! `config.json`), checks shards against model, initialises the weights from the seed and
//! writes `RUN_DIR/run.json` (the settings, resolved model and step count). [`Trainer::resume`]
//! reads `run.json` and the latest checkpoint back — weights, optimiser moments, step, data
//! position — so that the rest of the run is the one a straight run would have done: the
//! schedule is a function of the step, dropout masks a function of (seed, step), and the data
//! order a function of (seed, epoch, window). [`Trainer::run`] then trains to the last step
//! (or `stop_at`), logging to `metrics.jsonl`, evaluating every `eval_every` steps and
//! checkpointing every `save_every` steps and at the end, then draws `loss.png`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::batch::Batch;
use crate::checkpoint::{self, CheckpointData, TrainerState, STATE_FILE};
use crate::config::ModelConfig;
use crate::data::{DataPosition, Limits, Loader, Plan, Selection, ShardSet};
use crate::error::{Error, Result};
use crate::metrics::{MetricsLine, MetricsLog};
use crate::model::{BertForPreTraining, Precision};
use crate::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use crate::plot;
use crate::schedule::LinearSchedule;
use crate::step::{evaluate, train_step, StepOutcome, Tally};
use bertprep::output::atomic::write_atomic;

/// File in the run directory holding the run's settings.
pub const RUN_FILE: &str = "run.json";

/// Every setting of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Directory of a `bertprep build` (shards, manifest.json, tokenizer.json).
    pub shards: PathBuf,
    /// Run directory (checkpoints, metrics).
    pub out: PathBuf,
    /// Preset name (tiny, mini, small, medium, base, large); ignored with `model_config`.
    pub model: String,
    /// A Hugging Face `config.json` to use instead of a preset.
    pub model_config: Option<PathBuf>,
    /// Rows per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimiser step.
    pub grad_accum: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warm-up steps; `None` = 1% of the run.
    pub warmup_steps: Option<u64>,
    /// Optimiser steps; `None` = from `epochs`.
    pub max_steps: Option<u64>,
    /// Passes over the training rows when `max_steps` is not set (default 1).
    pub epochs: Option<f64>,
    /// AdamW (default) or LAMB.
    #[serde(default)]
    pub optimizer: OptimizerKind,
    pub weight_decay: f64,
    /// Global gradient-norm clip; 0 disables clipping.
    pub max_grad_norm: f64,
    pub seed: u64,
    /// A separate shard directory to evaluate on.
    pub eval_shards: Option<PathBuf>,
    /// Share of the training shards' rows held out for evaluation (0 = none).
    pub eval_fraction: f64,
    /// Evaluate every N steps (0 = only at the end, when there is evaluation data).
    pub eval_every: u64,
    /// Batches evaluated each time (at most).
    pub eval_batches: usize,
    /// Checkpoint every N steps (0 = only at the end).
    pub save_every: u64,
    /// Write a train metrics line every N steps.
    pub log_every: u64,
    /// Rows per shuffle window.
    pub shuffle_rows: usize,
    /// Stop after this step (checkpointed), keeping the schedule of the full run.
    pub stop_at: Option<u64>,
    /// `cpu` or `cuda` (needs the `cuda` feature).
    pub device: String,
    /// Before the first step, hold every shard to the SHA-256 its manifest records (reads
    /// them all once).
    #[serde(default)]
    pub verify: bool,
    /// Share of tokens masked in training for a `--masking dynamic` build, instead of the
    /// build's `--masked-lm-prob`.
    #[serde(default)]
    pub mlm_probability: Option<f64>,
    /// Recompute each encoder layer's activations in the backward pass instead of keeping
    /// them: one layer's activations in memory instead of all, for one more forward pass.
    #[serde(default)]
    pub recompute: bool,
    /// What matrix products are computed in (`bf16`: as `torch.autocast` does; weights,
    /// LayerNorm, softmax and loss stay f32).
    #[serde(default)]
    pub precision: Precision,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            shards: PathBuf::new(),
            out: PathBuf::new(),
            model: "base".into(),
            model_config: None,
            batch_size: 32,
            grad_accum: 1,
            lr: 1e-4,
            warmup_steps: None,
            max_steps: None,
            epochs: None,
            optimizer: OptimizerKind::AdamW,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            seed: 42,
            eval_shards: None,
            eval_fraction: 0.0,
            eval_every: 0,
            eval_batches: 100,
            save_every: 1000,
            log_every: 10,
            shuffle_rows: 10_000,
            stop_at: None,
            device: "cpu".into(),
            verify: false,
            mlm_probability: None,
            recompute: false,
            precision: Precision::Fp32,
        }
    }
}

impl TrainConfig {
    /// Checks the settings that need no files.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: &str| Err(Error::Config(m.to_string()));
        if self.batch_size == 0 || self.grad_accum == 0 {
            return fail("--batch-size and --grad-accum must be positive");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return fail("--lr must be positive");
        }
        if !(0.0..1.0).contains(&self.eval_fraction) {
            return fail("--eval-fraction must be in [0, 1)");
        }
        if self.eval_fraction > 0.0 && self.eval_shards.is_some() {
            return fail("give --eval-shards or --eval-fraction, not both");
        }
        if self.max_steps == Some(0) || self.epochs.is_some_and(|e| !(e > 0.0 && e.is_finite())) {
            return fail("--max-steps and --epochs must be positive");
        }
        if self.max_steps.is_some() && self.epochs.is_some() {
            return fail("give --max-steps or --epochs, not both");
        }
        if self.weight_decay < 0.0 || self.max_grad_norm < 0.0 {
            return fail("--weight-decay and --max-grad-norm must not be negative");
        }
        if self.log_every == 0 || self.eval_batches == 0 || self.shuffle_rows == 0 {
            return fail("--log-every, --eval-batches and --shuffle-rows must be positive");
        }
        if self.mlm_probability.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
            return fail("--mlm-probability must be in (0, 1]");
        }
        if !matches!(self.device.as_str(), "cpu" | "cuda") {
            return fail("--device must be cpu or cuda");
        }
        Ok(())
    }

    fn device(&self) -> Result<Device> {
        match self.device.as_str() {
            "cuda" => Device::new_cuda(0).map_err(|e| {
                Error::Config(format!(
                    "cannot use CUDA (build with `--features cuda` on a machine with CUDA): {e}"
                ))
            }),
            _ => Ok(Device::Cpu),
        }
    }
}

/// What `run.json` holds: the settings and what was resolved from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub config: TrainConfig,
    pub model: ModelConfig,
    pub total_steps: u64,
    pub warmup_steps: u64,
    /// Training rows per epoch.
    pub train_rows: u64,
}

/// Settings a resumed run may change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumeOverrides {
    pub max_steps: Option<u64>,
    pub stop_at: Option<u64>,
    pub save_every: Option<u64>,
    pub eval_every: Option<u64>,
    pub log_every: Option<u64>,
}

/// What the loop reports as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// A train metrics line and the estimated seconds left.
    Train(&'a MetricsLine, f64),
    /// An eval metrics line.
    Eval(&'a MetricsLine),
    /// A checkpoint written.
    Checkpoint(&'a Path),
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub step: u64,
    pub total_steps: u64,
    pub checkpoint: PathBuf,
    /// The loss curve drawn at the end (`None` when no training line was logged).
    pub plot: Option<PathBuf>,
    pub last_train: Option<MetricsLine>,
    pub last_eval: Option<MetricsLine>,
    pub seconds: f64,
}

/// A run in progress.
pub struct Trainer {
    pub spec: RunSpec,
    pub model: BertForPreTraining,
    optimizer: Optimizer,
    schedule: LinearSchedule,
    shards: Arc<ShardSet>,
    loader: Loader,
    eval_plan: Option<Plan>,
    eval_cache: Option<Vec<Batch>>,
    metrics: MetricsLog,
    state: TrainerState,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("run", &self.spec.config.out)
            .field("step", &self.state.step)
            .finish_non_exhaustive()
    }
}

fn limits(model: &ModelConfig) -> Limits {
    Limits {
        vocab_size: model.vocab_size,
        type_vocab_size: model.type_vocab_size,
        max_positions: model.max_position_embeddings,
    }
}

/// The training and evaluation plans of a run.
fn plans(spec: &RunSpec, shards: &Arc<ShardSet>) -> Result<(Plan, Option<Plan>)> {
    let c = &spec.config;
    let lim = limits(&spec.model);
    let (train_sel, eval) = if c.eval_fraction > 0.0 {
        let f = c.eval_fraction;
        let held = Plan::new(
            shards.clone(),
            Selection::Held { fraction: f },
            c.seed,
            1,
            lim,
        );
        (Selection::Train { fraction: f }, Some(held))
    } else if let Some(dir) = &c.eval_shards {
        let mut set = ShardSet::open(dir)?;
        if let Some(p) = c.mlm_probability {
            set = set.with_mlm_probability(p);
        }
        if set.has_pair_label() == spec.model.mlm_only {
            return Err(Error::shards(
                dir,
                "the evaluation shards and the training shards differ in their sentence-pair \
                 objective (one has a pair label, the other none)",
            ));
        }
        let set = Arc::new(set);
        set.check(lim)?;
        (
            Selection::All,
            Some(Plan::new(set, Selection::All, c.seed, 1, lim)),
        )
    } else {
        (Selection::All, None)
    };
    let train = Plan::new(shards.clone(), train_sel, c.seed, c.shuffle_rows, lim);
    Ok((train, eval))
}

/// The training shards, with dynamic masks at `--mlm-probability` when it is given.
fn open_shards(config: &TrainConfig) -> Result<ShardSet> {
    let shards = ShardSet::open(&config.shards)?;
    Ok(match config.mlm_probability {
        Some(p) => shards.with_mlm_probability(p),
        None => shards,
    })
}

impl Trainer {
    /// Starts a fresh run in `config.out` (which must hold no checkpoint: a run there is
    /// continued with [`Trainer::resume`]).
    pub fn start(config: TrainConfig) -> Result<Trainer> {
        config.validate()?;
        let shards = Arc::new(open_shards(&config)?);
        if config.verify {
            shards.verify()?;
        }
        let mut model_config = match &config.model_config {
            Some(path) => ModelConfig::read(path)?,
            None => ModelConfig::preset(&config.model, shards.vocab_size())?,
        };
        // Shards without a sentence pair train `BertForMaskedLM`, whatever the config says.
        model_config.mlm_only = !shards.has_pair_label();
        shards.check(limits(&model_config))?;
        let device = config.device()?;
        let out = &config.out;
        // A run directory with no checkpoint holds nothing to resume (a run that stopped before
        // its first checkpoint): it starts afresh, its run.json and metrics replaced.
        if !checkpoint::list(out)?.is_empty() {
            return Err(Error::Config(format!(
                "{} already holds a training run: use --resume {} or another --out",
                out.display(),
                out.display()
            )));
        }
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let mut spec = RunSpec {
            config: config.clone(),
            model: model_config,
            total_steps: 0,
            warmup_steps: 0,
            train_rows: 0,
        };
        let (train, eval) = plans(&spec, &shards)?;
        spec.train_rows = train.rows() as u64;
        let per_step = (config.batch_size * config.grad_accum) as f64;
        spec.total_steps = match config.max_steps {
            Some(n) => n,
            None => {
                let epochs = config.epochs.unwrap_or(1.0);
                ((epochs * spec.train_rows as f64 / per_step).ceil() as u64).max(1)
            }
        };
        spec.warmup_steps = config.warmup_steps.unwrap_or(spec.total_steps / 100);
        let model = BertForPreTraining::init(&spec.model, config.seed, &device)?;
        let optimizer = Optimizer::new(&model.params, optimizer_config(&config))?;
        let run_json = serde_json::to_string_pretty(&spec).unwrap_or_default() + "\n";
        write_atomic(&out.join(RUN_FILE), run_json.as_bytes())?;
        let metrics = MetricsLog::open(out, None)?;
        let state = TrainerState {
            step: 0,
            data_position: DataPosition::default(),
            seed: config.seed,
            tokens_seen: 0,
        };
        Trainer::assemble(
            spec,
            model,
            optimizer,
            shards,
            (train, eval),
            metrics,
            state,
        )
    }

    /// Resumes the run in `path` (a run directory: its latest checkpoint; or one checkpoint
    /// directory inside it).
    pub fn resume(path: &Path, overrides: &ResumeOverrides) -> Result<Trainer> {
        let (run, ckpt) = if path.join(STATE_FILE).is_file() {
            let run = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            (run, path.to_path_buf())
        } else {
            let latest = checkpoint::list(path)?.pop().ok_or_else(|| {
                Error::Config(format!("{} holds no checkpoint to resume", path.display()))
            })?;
            (path.to_path_buf(), latest.1)
        };
        let run_path = run.join(RUN_FILE);
        let text = std::fs::read_to_string(&run_path).map_err(|e| Error::io(&run_path, e))?;
        let mut spec: RunSpec = serde_json::from_str(&text).map_err(|source| Error::Json {
            path: run_path.clone(),
            source,
        })?;
        spec.config.out = run.clone();
        let c = &mut spec.config;
        if let Some(n) = overrides.max_steps {
            c.max_steps = Some(n);
            spec.total_steps = n;
        }
        c.stop_at = overrides.stop_at;
        if let Some(n) = overrides.save_every {
            c.save_every = n;
        }
        if let Some(n) = overrides.eval_every {
            c.eval_every = n;
        }
        if let Some(n) = overrides.log_every {
            c.log_every = n;
        }
        spec.config.validate()?;
        let device = spec.config.device()?;
        let shards = Arc::new(open_shards(&spec.config)?);
        spec.model.mlm_only = !shards.has_pair_label();
        shards.check(limits(&spec.model))?;
        let model = checkpoint::load_model(&ckpt, &device)?;
        if model.config != spec.model {
            return Err(Error::checkpoint(
                ckpt.join(checkpoint::CONFIG_FILE),
                "the checkpoint's model differs from the run's",
            ));
        }
        let mut optimizer = Optimizer::new(&model.params, optimizer_config(&spec.config))?;
        let state = checkpoint::load_training_state(&ckpt, &model, &mut optimizer)?;
        let (train, eval) = plans(&spec, &shards)?;
        let metrics = MetricsLog::open(&run, Some(state.step))?;
        Trainer::assemble(
            spec,
            model,
            optimizer,
            shards,
            (train, eval),
            metrics,
            state,
        )
    }

    /// The trainer of a started or resumed run, its loader reading from `state`'s position.
    fn assemble(
        spec: RunSpec,
        model: BertForPreTraining,
        optimizer: Optimizer,
        shards: Arc<ShardSet>,
        (train, eval): (Plan, Option<Plan>),
        metrics: MetricsLog,
        state: TrainerState,
    ) -> Result<Trainer> {
        let mut model = model;
        model.set_precision(spec.config.precision);
        let loader = Loader::spawn(Arc::new(train), state.data_position, spec.config.batch_size)?;
        Ok(Trainer {
            schedule: schedule(&spec),
            spec,
            model,
            optimizer,
            shards,
            loader,
            eval_plan: eval,
            eval_cache: None,
            metrics,
            state,
        })
    }

    /// Optimiser steps done.
    pub fn step(&self) -> u64 {
        self.state.step
    }

    /// Trains to the end of the run (or `stop_at`), reporting through `observe`.
    pub fn run(&mut self, observe: &mut dyn FnMut(Event<'_>)) -> Result<RunSummary> {
        let start = Instant::now();
        let c = self.spec.config.clone();
        let total = self.spec.total_steps;
        let end = c.stop_at.map_or(total, |s| s.min(total));
        let first_step = self.state.step;
        let mut interval = Interval::new();
        let mut last_train = None;
        let mut last_eval = None;
        let mut saved_at = None;
        let mut evaluated_at = None;
        while self.state.step < end {
            let (outcome, lr) = self.optimizer_step(&c)?;
            interval.add(&outcome);
            let step = self.state.step;
            if step.is_multiple_of(c.log_every) || step == end {
                let line = interval.line(lr, step, self.epochs_done());
                self.metrics.write(&line)?;
                let per_step = start.elapsed().as_secs_f64() / (step - first_step) as f64;
                observe(Event::Train(&line, per_step * (end - step) as f64));
                last_train = Some(line);
                interval = Interval::new();
            }
            if c.eval_every > 0 && step.is_multiple_of(c.eval_every) && self.eval_plan.is_some() {
                let line = self.evaluate()?;
                observe(Event::Eval(&line));
                last_eval = Some(line);
                evaluated_at = Some(step);
            }
            if c.save_every > 0 && step.is_multiple_of(c.save_every) {
                let dir = self.save()?;
                observe(Event::Checkpoint(&dir));
                saved_at = Some(step);
            }
        }
        let step = self.state.step;
        if step == total && self.eval_plan.is_some() && evaluated_at != Some(step) {
            let line = self.evaluate()?;
            observe(Event::Eval(&line));
            last_eval = Some(line);
        }
        let checkpoint = if saved_at == Some(step) {
            checkpoint::checkpoint_dir(&c.out, step)
        } else {
            let dir = self.save()?;
            observe(Event::Checkpoint(&dir));
            dir
        };
        let plot = plot::write_loss_curve(&c.out)?;
        Ok(RunSummary {
            step,
            total_steps: total,
            checkpoint,
            plot,
            last_train,
            last_eval,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// One optimiser step over `grad_accum` micro-batches from the loader; returns its outcome
    /// and learning rate, or an error when the loss or gradient norm is no longer finite.
    fn optimizer_step(&mut self, c: &TrainConfig) -> Result<(StepOutcome, f64)> {
        let mut micro = Vec::with_capacity(c.grad_accum);
        for _ in 0..c.grad_accum {
            let (batch, pos) = self.loader.next_batch()?;
            micro.push(batch);
            self.state.data_position = pos;
        }
        let lr = self.schedule.lr(self.state.step);
        let outcome = train_step(
            &self.model,
            &mut self.optimizer,
            &micro,
            c.seed,
            lr,
            c.max_grad_norm,
            c.recompute,
        )?;
        let loss = outcome.tally.mean_loss();
        if !loss.is_finite() || !outcome.grad_norm.is_finite() {
            return Err(Error::Config(format!(
                "training diverged at step {}: loss {loss}, gradient norm {} \
                 (try a lower --lr or more --warmup-steps)",
                self.state.step + 1,
                outcome.grad_norm
            )));
        }
        self.state.step += 1;
        self.state.tokens_seen += outcome.tally.tokens as u64;
        Ok((outcome, lr))
    }

    fn epochs_done(&self) -> f64 {
        let c = &self.spec.config;
        let rows = self.state.step as f64 * (c.batch_size * c.grad_accum) as f64;
        rows / self.spec.train_rows.max(1) as f64
    }

    /// Evaluates on the held-out rows or evaluation shards (no dropout) and logs the line.
    pub fn evaluate(&mut self) -> Result<MetricsLine> {
        let c = &self.spec.config;
        if self.eval_cache.is_none() {
            let plan = self
                .eval_plan
                .as_ref()
                .ok_or_else(|| Error::Config("no evaluation data".into()))?;
            let batches = plan.sequential_batches(c.batch_size, c.eval_batches)?;
            if batches.is_empty() {
                return Err(Error::Config("the evaluation set is empty".into()));
            }
            self.eval_cache = Some(batches);
        }
        let mut tally = Tally::default();
        for batch in self.eval_cache.iter().flatten() {
            let (_, t) = evaluate(&self.model, batch, None)?;
            tally.add(&t);
        }
        let line = metrics_line("eval", self.state.step, self.epochs_done(), &tally);
        self.metrics.write(&line)?;
        Ok(line)
    }

    /// Writes `checkpoint-STEP` now.
    pub fn save(&self) -> Result<PathBuf> {
        checkpoint::save(
            &self.spec.config.out,
            &CheckpointData {
                model: &self.model,
                optimizer: &self.optimizer,
                state: &self.state,
                tokenizer: &self.shards.tokenizer_path(),
            },
        )
    }
}

/// A metrics line of `tally`'s means; the training-only fields (lr, gradient norm, speed) empty.
/// The steps since the last train metrics line: their tallies, gradient norms and time.
struct Interval {
    tally: Tally,
    grad_norms: f64,
    steps: u64,
    start: Instant,
}

impl Interval {
    /// An empty interval starting now.
    fn new() -> Interval {
        Interval {
            tally: Tally::default(),
            grad_norms: 0.0,
            steps: 0,
            start: Instant::now(),
        }
    }

    /// Counts one optimiser step.
    fn add(&mut self, outcome: &StepOutcome) {
        self.tally.add(&outcome.tally);
        self.grad_norms += outcome.grad_norm;
        self.steps += 1;
    }

    /// The train metrics line of the interval, ending at `step` with learning rate `lr`.
    fn line(&self, lr: f64, step: u64, epoch: f64) -> MetricsLine {
        let seconds = self.start.elapsed().as_secs_f64().max(1e-9);
        MetricsLine {
            lr: Some(lr),
            grad_norm: Some(self.grad_norms / self.steps as f64),
            tokens_per_s: Some(self.tally.tokens as f64 / seconds),
            sequences_per_s: Some(self.tally.sequences as f64 / seconds),
            ..metrics_line("train", step, epoch, &self.tally)
        }
    }
}

fn metrics_line(split: &str, step: u64, epoch: f64, tally: &Tally) -> MetricsLine {
    MetricsLine {
        split: split.into(),
        step,
        epoch,
        loss: tally.mean_loss(),
        mlm_loss: tally.mean_mlm_loss(),
        nsp_loss: tally.mean_nsp_loss(),
        mlm_accuracy: tally.mlm_accuracy(),
        nsp_accuracy: tally.nsp_accuracy(),
        lr: None,
        grad_norm: None,
        tokens_per_s: None,
        sequences_per_s: None,
        sequences: tally.sequences as u64,
    }
}

fn optimizer_config(c: &TrainConfig) -> OptimizerConfig {
    OptimizerConfig {
        kind: c.optimizer,
        weight_decay: c.weight_decay,
        ..OptimizerConfig::default()
    }
}

fn schedule(spec: &RunSpec) -> LinearSchedule {
    LinearSchedule {
        peak: spec.config.lr,
        warmup: spec.warmup_steps,
        total: spec.total_steps,
    }
}
