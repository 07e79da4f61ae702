//! End to end: the whole `bertprep build` against bare tokenization of the same text, in one
//! run, on the same threads.
//!
//! For `--max-seq-len` 128 and 512 and 1 and 2 threads, times (a) bare tokenization of every
//! non-blank line of the corpus's documents with the tokenizer the build uses, on the same
//! threads (no sentence splitting, no pairing, no output; the `tokenizers` crate's
//! `encode_batch` is printed beside it for reference) and (b) `build::build` of the same
//! files, and prints MB/s of both and their ratio; then the build's scaling from 1 to 2
//! threads. Tokenization is the irreducible core of a build; the ratio shows what everything
//! else costs on top. At 128 it also times the build with `--tokenizer-impl crate` against the
//! crate's own `encode_batch`: the same comparison for the slower tokenizer.
//!
//! Run: `cargo bench --bench build_vs_tokenize` (corpus: ../shared/corpora/enwiki-2021, or the
//! directory in `BERTPREP_BENCH_CORPUS`; `BERTPREP_BENCH_REPEAT` runs per measurement, best
//! taken, default 2).

use std::path::PathBuf;
use std::time::Instant;

use bertprep::build::progress::ProgressMode;
use bertprep::build::{self, BuildOptions};
use bertprep::input::{self, Format};
use bertprep::tokenize::{Tokenizer, TokenizerImpl, TokenizerSource};
use bertprep::BuildConfig;
use rayon::prelude::*;

fn main() {
    let corpus = std::env::var("BERTPREP_BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/enwiki-2021/wiki")
        });
    if !corpus.exists() {
        eprintln!("SKIPPED: corpus {} not found", corpus.display());
        return;
    }
    let repeat: usize = std::env::var("BERTPREP_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let files = input::discover(std::slice::from_ref(&corpus)).unwrap();
    let bytes: u64 = files.iter().map(|f| f.bytes).sum();
    let tok = Tokenizer::embedded().unwrap();
    let lines: Vec<String> = files
        .iter()
        .flat_map(|f| input::read(&f.path, Format::Auto).unwrap().documents)
        .flat_map(|d| {
            d.text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mb = bytes as f64 / 1e6;
    println!(
        "corpus {} ({mb:.1} MB, {} lines)",
        corpus.display(),
        lines.len()
    );
    let best = |f: &mut dyn FnMut()| {
        (0..repeat)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let mut build_secs = std::collections::HashMap::new();
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let crate_secs = best(&mut || {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let encoded = pool.install(|| tok.crate_tokenizer().encode_batch(refs, false).unwrap());
            assert_eq!(encoded.len(), lines.len());
        });
        // The tokenizer the build itself uses (the fast WordPiece for BERT vocabularies).
        let tok_secs = best(&mut || {
            let encoded: Vec<Vec<u32>> =
                pool.install(|| lines.par_iter().map(|l| tok.encode(l).unwrap()).collect());
            assert_eq!(encoded.len(), lines.len());
        });
        println!(
            "threads {threads}: bare tokenization: crate encode_batch {:.2} MB/s, build's tokenizer ({}) {:.2} MB/s",
            mb / crate_secs,
            tok.implementation(),
            mb / tok_secs
        );
        let build = |max_seq_len: usize, tokenizer_impl: TokenizerImpl| {
            let out = tempfile::tempdir().unwrap();
            let opts = BuildOptions {
                inputs: vec![corpus.clone()],
                out: out.path().to_path_buf(),
                config: BuildConfig::with_max_seq_len(max_seq_len),
                tokenizer: TokenizerSource::Embedded,
                tokenizer_impl,
                threads,
                overwrite: false,
                progress: ProgressMode::Quiet,
                task: None,
            };
            build::build(&opts).unwrap();
        };
        let secs = best(&mut || build(128, TokenizerImpl::Crate));
        println!(
            "threads {threads} seq 128, tokenizers crate: bare encode_batch {:.2} MB/s, build {:.2} MB/s, build/tokenize {:.2}",
            mb / crate_secs,
            mb / secs,
            crate_secs / secs
        );
        for max_seq_len in [128usize, 512] {
            let secs = best(&mut || build(max_seq_len, TokenizerImpl::Auto));
            build_secs.insert((threads, max_seq_len), secs);
            println!(
                "threads {threads} seq {max_seq_len}: bare tokenization {:.2} MB/s, build {:.2} MB/s, build/tokenize {:.2}",
                mb / tok_secs,
                mb / secs,
                tok_secs / secs
            );
        }
    }
    for max_seq_len in [128usize, 512] {
        println!(
            "seq {max_seq_len}: build with 2 threads / 1 thread = {:.2}x",
            build_secs[&(1, max_seq_len)] / build_secs[&(2, max_seq_len)]
        );
    }
}
