//! Criterion benchmark: BERT tokenization of English Wikipedia, the `tokenizers` crate against
//! the fast WordPiece, in one run, on one core.
//!
//! Input: the first `BERTPREP_BENCH_FILES` (default 4, about 4 MB) files of
//! `../shared/corpora/enwiki-2021/wiki/AA`, read and split into sentences exactly as the build
//! does; both implementations then encode sentence by sentence (as `tokenize_documents` calls
//! them), with the embedded BERT base uncased vocabulary. Throughput is in bytes of sentence
//! text. Before timing, the two are checked to give the same ids. After the group, the mean
//! MB/s of each and their ratio are printed.
//!
//! Run: `cargo bench --bench tokenize`.

mod common;
use common::corpus_files;

use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bertprep::input::{self, Format};
use bertprep::segment;
use bertprep::tokenize::{Tokenizer, TokenizerImpl};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// The sentences of `files`, as the build cuts them.
fn sentences(files: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    let mut ranges = Vec::new();
    for f in files {
        for doc in input::read(f, Format::Auto).unwrap().documents {
            segment::split_into(&doc.text, &mut ranges);
            out.extend(ranges.iter().map(|r| doc.text[r.clone()].to_string()));
        }
    }
    out
}

fn tokenize(c: &mut Criterion) {
    let Some(files) = corpus_files() else { return };
    let sentences = sentences(&files);
    let bytes: u64 = sentences.iter().map(|s| s.len() as u64).sum();
    let load = |imp| Tokenizer::embedded().unwrap().with_impl(imp).unwrap();
    let implementations = [
        ("crate", load(TokenizerImpl::Crate)),
        ("fast", load(TokenizerImpl::Fast)),
    ];
    for s in &sentences {
        let [(_, a), (_, b)] = &implementations;
        assert_eq!(a.encode(s).unwrap(), b.encode(s).unwrap(), "{s:?}");
    }

    let mut group = c.benchmark_group("tokenize");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let mut means = Vec::new();
    for (name, tok) in &implementations {
        let total = Cell::new((Duration::ZERO, 0u64));
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    for s in &sentences {
                        std::hint::black_box(tok.encode(s).unwrap());
                    }
                }
                let elapsed = start.elapsed();
                let (t, n) = total.get();
                total.set((t + elapsed, n + iters));
                elapsed
            })
        });
        let (t, n) = total.get();
        if n > 0 {
            means.push((*name, t.as_secs_f64() / n as f64));
        }
    }
    group.finish();

    let mb = bytes as f64 / 1e6;
    for (name, secs) in &means {
        println!(
            "tokenize/{name}: {:.2} MB/s (mean of every timed pass, {mb:.1} MB of sentences)",
            mb / secs
        );
    }
    if let [(_, slow), (_, fast)] = means[..] {
        println!("tokenize: fast / crate = {:.1}x", slow / fast);
    }
}

criterion_group!(benches, tokenize);
criterion_main!(benches);
