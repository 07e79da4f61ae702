//! Criterion benchmark of `bertprep inspect`: rows per second through the streaming reader,
//! statistics alone and with `--check` (every invariant, plus SHA-256 of every shard).
//!
//! Input: a build (max_seq_len 512, dupe factor 2) of the first `BERTPREP_BENCH_FILES` (default 4,
//! about 4 MB) files of `../shared/corpora/enwiki-2021/wiki/AA`, made once before measuring;
//! skipped with a message when the corpus is absent.
//!
//! Run: `cargo bench --bench inspect`.

mod common;
use common::corpus_files;

use std::time::Duration;

use bertprep::build::{self, BuildOptions};
use bertprep::inspect::{inspect, InspectOptions, Show};
use bertprep::tokenize::TokenizerSource;
use bertprep::BuildConfig;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench_inspect(c: &mut Criterion) {
    let Some(files) = corpus_files() else { return };
    let out = tempfile::tempdir().unwrap();
    let opts = BuildOptions {
        inputs: files,
        out: out.path().to_path_buf(),
        config: BuildConfig {
            dupe_factor: 2,
            rows_per_shard: 10_000,
            ..BuildConfig::default()
        },
        tokenizer: TokenizerSource::Embedded,
        tokenizer_impl: bertprep::tokenize::TokenizerImpl::Auto,
        threads: 0,
        overwrite: false,
        progress: bertprep::build::progress::ProgressMode::Quiet,
        task: None,
    };
    let rows = build::build(&opts).unwrap().manifest.counters.instances;
    let mut group = c.benchmark_group("inspect");
    group.throughput(Throughput::Elements(rows));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for check in [false, true] {
        let name = if check { "512/check" } else { "512/stats" };
        group.bench_function(name, |b| {
            b.iter(|| {
                let report = inspect(&InspectOptions {
                    path: out.path().to_path_buf(),
                    show: Show::First(3),
                    check,
                    ..InspectOptions::default()
                })
                .unwrap();
                assert!(!report.check_failed());
                report.stats.rows
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_inspect);
criterion_main!(benches);
