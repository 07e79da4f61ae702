//! Criterion benchmarks: one per stage, plus the whole build, on English Wikipedia text.
//!
//! Input: the first `BERTPREP_BENCH_FILES` (default 4, about 4 MB) files of
//! `../shared/corpora/enwiki-2021/wiki/AA`; skipped with a message when the corpus is absent.
//! Every group reports throughput in bytes of input text, so stages compare directly.
//!
//! Run: `cargo bench --bench pipeline` (or `-- segment` for one group).

mod common;
use common::corpus_files;

use std::time::Duration;

use bertprep::build::{self, tokenize_documents, BuildOptions};
use bertprep::input::{self, Format};
use bertprep::instances::{create_instances, Counters, InstanceSettings, TokenizedDocument};
use bertprep::shard::{ShardMeta, ShardWriter};
use bertprep::tokenize::{Tokenizer, TokenizerImpl, TokenizerSource};
use bertprep::{segment, BuildConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn stages(c: &mut Criterion) {
    let Some(files) = corpus_files() else { return };
    let tok = Tokenizer::embedded().unwrap();
    let parsed: Vec<input::ParsedFile> = files
        .iter()
        .map(|f| input::read(f, Format::Auto).unwrap())
        .collect();
    let bytes: u64 = parsed.iter().map(|p| p.text_bytes).sum();
    let texts: Vec<&str> = parsed
        .iter()
        .flat_map(|p| p.documents.iter().map(|d| d.text.as_str()))
        .collect();

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("read+parse", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| input::read(f, Format::Auto).unwrap().documents.len())
                .sum::<usize>()
        })
    });
    group.bench_function("segment", |b| {
        let mut ranges = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for t in &texts {
                segment::split_into(t, &mut ranges);
                n += ranges.len();
            }
            n
        })
    });
    let tokenize_all = |counters: &mut Counters| -> Vec<Vec<TokenizedDocument>> {
        parsed
            .iter()
            .enumerate()
            .map(|(i, p)| {
                tokenize_documents(
                    &files[i],
                    bertprep::instances::source_id(i as u32, 0, 0),
                    &p.documents,
                    false,
                    &tok,
                    false,
                    counters,
                )
                .unwrap()
            })
            .collect()
    };
    group.bench_function("segment+tokenize", |b| {
        b.iter(|| {
            tokenize_all(&mut Counters::default())
                .iter()
                .map(Vec::len)
                .sum::<usize>()
        })
    });
    let docs = tokenize_all(&mut Counters::default());
    for max_seq_len in [128, 512] {
        let config = BuildConfig::with_max_seq_len(max_seq_len);
        let s = InstanceSettings::new(&config, &tok);
        group.bench_function(format!("pair+mask/{max_seq_len}"), |b| {
            b.iter(|| {
                let mut counters = Counters::default();
                docs.iter()
                    .enumerate()
                    .map(|(u, d)| create_instances(d, u as u64, &s, &mut counters).len())
                    .sum::<usize>()
            })
        });
        let instances: Vec<_> = docs
            .iter()
            .enumerate()
            .flat_map(|(u, d)| create_instances(d, u as u64, &s, &mut Counters::default()))
            .collect();
        let meta = ShardMeta {
            config: config.clone(),
            tokenizer_sha256: tok.sha256().to_string(),
            specials: tok.specials(),
        };
        group.bench_function(format!("write/{max_seq_len}"), |b| {
            b.iter(|| {
                let dir = tempfile::tempdir().unwrap();
                let mut writer = ShardWriter::new(dir.path(), &meta).unwrap();
                for inst in instances.iter().cloned() {
                    writer.push(inst).unwrap();
                }
                writer.finish().unwrap().len()
            })
        });
    }
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let Some(files) = corpus_files() else { return };
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let mut group = c.benchmark_group("build");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for max_seq_len in [128, 512] {
        for threads in [1, 2] {
            group.bench_function(format!("{max_seq_len}/threads={threads}"), |b| {
                b.iter(|| {
                    let out = tempfile::tempdir().unwrap();
                    let opts = BuildOptions {
                        inputs: files.clone(),
                        out: out.path().to_path_buf(),
                        config: BuildConfig::with_max_seq_len(max_seq_len),
                        tokenizer: TokenizerSource::Embedded,
                        tokenizer_impl: TokenizerImpl::Auto,
                        threads,
                        overwrite: false,
                        progress: bertprep::build::progress::ProgressMode::Quiet,
                        task: None,
                    };
                    build::build(&opts).unwrap().manifest.counters.instances
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, stages, end_to_end);
criterion_main!(benches);
