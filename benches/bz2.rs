//! Criterion benchmark of bzip2 decoding: `MultiBzDecoder` against `ParallelBzReader`.
//!
//! Input: the MediaWiki samples in `../shared/corpora/mediawiki`, decompressed and repeated
//! to about 50 MB, written to a temporary directory twice: as a multi-stream file (each ~900 kB
//! piece its own stream, like a Wikimedia `-multistream` dump) and as a single stream. Skipped
//! with a message when the samples are absent. Throughput is in bytes of decompressed output.
//! Measurements, for each file:
//! - `multibz` — `bzip2::bufread::MultiBzDecoder`, sequential;
//! - `parallel-1`, `parallel-2` — `ParallelBzReader` with one and two decoding threads.
//!
//! A single-stream file cannot be decoded in parallel: `ParallelBzReader` decodes it in
//! sequence, and the `single-stream` group shows its overhead over `MultiBzDecoder`.
//!
//! Run: `cargo bench --bench bz2`.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bertprep::input::bz2par::ParallelBzReader;
use bzip2::bufread::MultiBzDecoder;
use bzip2::write::BzEncoder;
use bzip2::Compression;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/mediawiki");
const TARGET_BYTES: usize = 50_000_000;
const PIECE_BYTES: usize = 900_000;

/// About 50 MB of dump text: the samples decompressed, repeated.
fn dump_text() -> Option<Vec<u8>> {
    let dir = Path::new(SAMPLES);
    if !dir.exists() {
        eprintln!("SKIPPED: {SAMPLES} not found");
        return None;
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list the samples")
        .map(|e| e.expect("list the samples").path())
        .filter(|p| p.to_string_lossy().ends_with(".xml.bz2"))
        .collect();
    paths.sort();
    let mut samples = Vec::new();
    for path in paths {
        let file = BufReader::new(File::open(&path).expect("open a sample"));
        MultiBzDecoder::new(file)
            .read_to_end(&mut samples)
            .expect("decompress a sample");
    }
    let mut text = Vec::with_capacity(TARGET_BYTES + samples.len());
    while text.len() < TARGET_BYTES {
        text.extend_from_slice(&samples);
    }
    text.truncate(TARGET_BYTES);
    Some(text)
}

fn compress(data: &[u8]) -> Vec<u8> {
    let mut encoder = BzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data).expect("compress in memory");
    encoder.finish().expect("compress in memory")
}

fn decode_multibz(path: &Path) -> u64 {
    let file = BufReader::with_capacity(1 << 20, File::open(path).expect("open"));
    io::copy(&mut MultiBzDecoder::new(file), &mut io::sink()).expect("decode")
}

fn decode_parallel(path: &Path, threads: usize) -> u64 {
    let mut reader = ParallelBzReader::open(path, threads, None).expect("open");
    io::copy(&mut reader, &mut io::sink()).expect("decode")
}

fn bench(c: &mut Criterion) {
    let Some(text) = dump_text() else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let streams: Vec<Vec<u8>> = text.par_chunks(PIECE_BYTES).map(compress).collect();
    let multi = dir.path().join("multistream.xml.bz2");
    std::fs::write(&multi, streams.concat()).expect("write the multi-stream file");
    let single = dir.path().join("single.xml.bz2");
    std::fs::write(&single, compress(&text)).expect("write the single-stream file");
    eprintln!(
        "{} MB of text; multi-stream file {} MB in {} streams; single-stream file {} MB",
        text.len() / 1_000_000,
        std::fs::metadata(&multi).map_or(0, |m| m.len() / 1_000_000),
        streams.len(),
        std::fs::metadata(&single).map_or(0, |m| m.len() / 1_000_000),
    );
    for (name, path) in [("multistream", &multi), ("single-stream", &single)] {
        assert_eq!(decode_parallel(path, 2), text.len() as u64);
        let mut group = c.benchmark_group(name);
        group
            .throughput(Throughput::Bytes(text.len() as u64))
            .sample_size(10)
            .warm_up_time(Duration::from_secs(2))
            .measurement_time(Duration::from_secs(20));
        group.bench_function("multibz", |b| b.iter(|| decode_multibz(path)));
        for threads in [1, 2] {
            group.bench_function(format!("parallel-{threads}"), |b| {
                b.iter(|| decode_parallel(path, threads))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
