//! Criterion benchmarks of the trainer: the shard loader alone, and one training step of the
//! tiny model, both at sequence length 128 with batches of 32 (throughput in sequences).
//!
//! Input: shards built (into a temporary directory) from `../shared/corpora/enwiki-2019-small`
//! at `--max-seq-len 128` with the embedded BERT base uncased vocabulary; skipped with a
//! message when the corpus is absent. The loader must deliver at least 20 times the batches the
//! tiny model consumes. Larger models and the PyTorch comparison: `scripts/bench_train.sh`.
//!
//! Run: `cargo bench --bench train` (or `-- loader` for one group).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bert_train::data::{DataPosition, Limits, Loader, Plan, Selection, ShardSet};
use bert_train::optim::{Optimizer, OptimizerConfig};
use bert_train::step::train_step;
use bert_train::{BertForPreTraining, ModelConfig};
use bertprep::build::progress::ProgressMode;
use bertprep::build::{build, BuildOptions};
use bertprep::config::{default_max_predictions, BuildConfig};
use bertprep::tokenize::TokenizerSource;
use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const BATCH: usize = 32;

fn shards(dir: &std::path::Path) -> Option<Arc<ShardSet>> {
    let corpus =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/enwiki-2019-small");
    if !corpus.exists() {
        eprintln!("SKIPPED: {} not found", corpus.display());
        return None;
    }
    let config = BuildConfig {
        max_seq_len: 128,
        max_predictions: default_max_predictions(128),
        ..BuildConfig::default()
    };
    build(&BuildOptions {
        inputs: vec![corpus],
        out: dir.to_path_buf(),
        config,
        tokenizer: TokenizerSource::Embedded,
        tokenizer_impl: bertprep::tokenize::TokenizerImpl::Auto,
        threads: 0,
        overwrite: true,
        progress: ProgressMode::Quiet,
        task: None,
    })
    .expect("build shards");
    Some(Arc::new(ShardSet::open(dir).expect("open shards")))
}

fn loader(set: &Arc<ShardSet>, model: &ModelConfig) -> Loader {
    let limits = Limits {
        vocab_size: model.vocab_size,
        type_vocab_size: model.type_vocab_size,
        max_positions: model.max_position_embeddings,
    };
    let plan = Plan::new(set.clone(), Selection::All, 1, 10_000, limits);
    Loader::spawn(Arc::new(plan), DataPosition::default(), BATCH).expect("loader")
}

fn trainer(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(set) = shards(dir.path()) else {
        return;
    };
    let config = ModelConfig::preset("tiny", set.vocab_size()).expect("preset");

    let mut group = c.benchmark_group("loader");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut stream = loader(&set, &config);
    group.bench_function("batch32_seq128", |b| {
        b.iter(|| stream.next_batch().expect("batch"))
    });
    group.finish();

    let mut group = c.benchmark_group("step");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(BATCH as u64));
    let model = BertForPreTraining::init(&config, 1, &Device::Cpu).expect("model");
    let mut optimizer = Optimizer::new(&model.params, OptimizerConfig::default()).expect("adamw");
    let mut stream = loader(&set, &config);
    let batch = stream.next_batch().expect("batch").0;
    group.bench_function("tiny_batch32_seq128", |b| {
        b.iter(|| {
            train_step(
                &model,
                &mut optimizer,
                std::slice::from_ref(&batch),
                1,
                1e-4,
                1.0,
                false,
            )
            .expect("step")
        })
    });
    group.finish();
}

criterion_group!(benches, trainer);
criterion_main!(benches);
