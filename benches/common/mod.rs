//! What the benchmarks share: the corpus they read.

use std::path::PathBuf;

/// The first `BERTPREP_BENCH_FILES` (default 4, about 4 MB) files of
/// `../shared/corpora/enwiki-2021/wiki/AA`, or `None` with a message when the corpus is absent.
pub fn corpus_files() -> Option<Vec<PathBuf>> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/enwiki-2021/wiki/AA");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: {} not found", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let n = std::env::var("BERTPREP_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    files.truncate(n);
    Some(files)
}
