//! Criterion benchmark of the sentence splitter on English Wikipedia text, single-threaded.
//!
//! Input: every document of `../shared/corpora/enwiki-2021/wiki` (WikiExtractor output, about
//! 32 MB), read as `build` reads it; skipped with a message when the corpus is absent.
//! Throughput is in bytes of document text. Two measurements:
//! - `split` — [`segment::split_into`] over every document (the pipeline's use);
//! - `sentences` — the `bertprep sentences` writer, splitting and writing lines to a sink.
//!
//! Run: `cargo bench --bench segment`.

use std::path::PathBuf;
use std::time::Duration;

use bertprep::input::{self, Format};
use bertprep::segment;
use bertprep::sentences::SentenceWriter;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn corpus() -> Option<Vec<String>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/enwiki-2021/wiki");
    if !dir.exists() {
        eprintln!("SKIPPED: {} not found", dir.display());
        return None;
    }
    let files = input::discover(&[dir]).expect("list the corpus");
    let mut docs = Vec::new();
    for file in files {
        let parsed = input::read(&file.path, Format::Auto).expect("read the corpus");
        docs.extend(parsed.documents.into_iter().map(|d| d.text));
    }
    Some(docs)
}

fn bench(c: &mut Criterion) {
    let Some(docs) = corpus() else { return };
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut group = c.benchmark_group("segment");
    group
        .throughput(Throughput::Bytes(bytes as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("split", |b| {
        let mut ranges = Vec::new();
        b.iter(|| {
            let mut sentences = 0;
            for doc in &docs {
                segment::split_into(doc, &mut ranges);
                sentences += ranges.len();
            }
            sentences
        })
    });
    group.bench_function("sentences", |b| {
        b.iter(|| {
            let mut writer = SentenceWriter::new(std::io::sink(), "<sink>");
            for doc in &docs {
                writer.write_document(doc).expect("write to a sink");
            }
            writer.finish().expect("flush a sink").sentences
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
