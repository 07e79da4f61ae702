//! Criterion benchmark: tokenization of English Wikipedia, the `tokenizers` crate against the
//! fast implementations, in one run, on one core — BERT's WordPiece (the embedded BERT base
//! uncased vocabulary) and a GPT-2/RoBERTa byte-level BPE.
//!
//! Input: the first `BERTPREP_BENCH_FILES` (default 4, about 4 MB) files of
//! `../shared/corpora/enwiki-2021/wiki/AA`, read and split into sentences exactly as the build
//! does; each implementation encodes sentence by sentence (as `tokenize_documents` calls it).
//! The byte-level BPE is trained first by `bertprep vocab --model bpe` on those same files,
//! with `BERTPREP_BENCH_BPE_VOCAB` entries (default 50,265, RoBERTa's size; the corpus may
//! stop the merges earlier). Throughput is in bytes of sentence text. Before timing, the two
//! implementations of each tokenizer are checked to give the same ids. After each group, the
//! mean MB/s of each and their ratio are printed.
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
use bertprep::vocab::{train_vocab, VocabModel, VocabOptions};
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

/// The `tokenizer.json` of a byte-level BPE trained on `files`.
fn trained_bpe(files: &[PathBuf], dir: &std::path::Path) -> PathBuf {
    let vocab_size = std::env::var("BERTPREP_BENCH_BPE_VOCAB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_265);
    let opts = VocabOptions::new(
        files.to_vec(),
        dir.to_path_buf(),
        VocabModel::Bpe,
        vocab_size,
    );
    let summary = train_vocab(&opts).unwrap();
    println!("byte-level BPE: {} entries", summary.vocab_size);
    dir.join("tokenizer.json")
}

/// Times the crate and the fast implementation of one tokenizer on `sentences`.
fn compare(
    c: &mut Criterion,
    group: &str,
    load: impl Fn(TokenizerImpl) -> Tokenizer,
    sentences: &[String],
) {
    let bytes: u64 = sentences.iter().map(|s| s.len() as u64).sum();
    let implementations = [
        ("crate", load(TokenizerImpl::Crate)),
        ("fast", load(TokenizerImpl::Fast)),
    ];
    for s in sentences {
        let [(_, a), (_, b)] = &implementations;
        assert_eq!(a.encode(s).unwrap(), b.encode(s).unwrap(), "{s:?}");
    }

    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    let mut means = Vec::new();
    for (name, tok) in &implementations {
        let total = Cell::new((Duration::ZERO, 0u64));
        g.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    for s in sentences {
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
    g.finish();

    let mb = bytes as f64 / 1e6;
    for (name, secs) in &means {
        println!(
            "{group}/{name}: {:.2} MB/s (mean of every timed pass, {mb:.1} MB of sentences)",
            mb / secs
        );
    }
    if let [(_, slow), (_, fast)] = means[..] {
        println!("{group}: fast / crate = {:.1}x", slow / fast);
    }
}

fn tokenize(c: &mut Criterion) {
    let Some(files) = corpus_files() else { return };
    let sentences = sentences(&files);
    let embedded = |imp| Tokenizer::embedded().unwrap().with_impl(imp).unwrap();
    compare(c, "tokenize", embedded, &sentences);

    let dir = tempfile::tempdir().unwrap();
    let json = trained_bpe(&files, dir.path());
    let bpe = |imp| {
        Tokenizer::from_json_file(&json)
            .unwrap()
            .with_impl(imp)
            .unwrap()
    };
    compare(c, "tokenize-bpe", bpe, &sentences);
}

criterion_group!(benches, tokenize);
criterion_main!(benches);
