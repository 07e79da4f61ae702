//! Training data: bertprep shards streamed row group by row group.
//!
//! - [`shards`] — open a shard directory, read and check one row group.
//! - [`plan`] — epochs, shuffle windows, held-out rows, the resumable position.
//! - [`loader`] — the background thread that turns the plan into batches.

pub mod loader;
pub mod plan;
pub mod shards;

pub use loader::Loader;
pub use plan::{DataPosition, Plan, Selection};
pub use shards::{Limits, Rows, ShardSet};

/// Shards built from the repository's fixtures, for the trainer's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::{Path, PathBuf};

    use bertprep::build::progress::ProgressMode;
    use bertprep::build::{build, BuildOptions};
    use bertprep::config::{default_max_predictions, BuildConfig};
    use bertprep::tokenize::TokenizerSource;

    /// Builds `fixtures/` into `out` with rows of `max_seq_len`, small row groups and shards.
    pub fn build_fixture_shards(out: &Path, max_seq_len: usize, dupe_factor: usize) {
        let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let config = BuildConfig {
            max_seq_len,
            max_predictions: default_max_predictions(max_seq_len),
            dupe_factor,
            rows_per_shard: 100,
            row_group_rows: 16,
            ..BuildConfig::default()
        };
        build(&BuildOptions {
            inputs: vec![fixtures],
            out: out.to_path_buf(),
            config,
            tokenizer: TokenizerSource::Embedded,
            tokenizer_impl: bertprep::tokenize::TokenizerImpl::Auto,
            threads: 1,
            overwrite: true,
            progress: ProgressMode::Quiet,
            task: None,
        })
        .expect("build fixture shards");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::testing::build_fixture_shards;
    use super::*;
    use crate::batch::Batch;
    use bertprep::shard::read_shard;

    const LIMITS: Limits = Limits {
        vocab_size: 30522,
        type_vocab_size: 2,
        max_positions: 512,
    };

    /// A row's identity: its ids and labels (distinct rows differ in practice).
    fn key(ids: &[u32], labels: Vec<(u32, u32)>) -> String {
        format!("{ids:?}{labels:?}")
    }

    /// Keys of every row in `batches`.
    fn keys(batches: &[Batch]) -> Vec<String> {
        let mut out = Vec::new();
        for b in batches {
            for r in 0..b.rows {
                let ids: Vec<u32> = b.input_ids[r * b.seq_len..(r + 1) * b.seq_len]
                    .iter()
                    .copied()
                    .filter(|&t| t != 0)
                    .collect();
                let range = (r * b.seq_len) as u32..((r + 1) * b.seq_len) as u32;
                let labels = b
                    .mlm_positions
                    .iter()
                    .zip(&b.mlm_labels)
                    .filter(|(p, _)| range.contains(p))
                    .map(|(&p, &l)| (p - range.start, l))
                    .collect();
                out.push(key(&ids, labels));
            }
        }
        out
    }

    fn count(keys: &[String]) -> HashMap<&String, usize> {
        let mut m = HashMap::new();
        for k in keys {
            *m.entry(k).or_insert(0) += 1;
        }
        m
    }

    fn take(loader: &mut Loader, n: usize) -> (Vec<Batch>, DataPosition) {
        let mut batches = Vec::new();
        let mut pos = DataPosition::default();
        for _ in 0..n {
            let (b, p) = loader.next_batch().unwrap();
            batches.push(b);
            pos = p;
        }
        (batches, pos)
    }

    #[test]
    fn an_epoch_reads_every_row_once_in_a_seeded_order_and_resumes_exactly() {
        let dir = tempfile::tempdir().unwrap();
        build_fixture_shards(dir.path(), 64, 2);
        let set = Arc::new(ShardSet::open(dir.path()).unwrap());
        assert!(set.files.len() >= 2, "want several shards");
        let total = set.rows();
        // Every row of the shards, as read_shard sees them.
        let mut want = Vec::new();
        for f in &set.files {
            for row in read_shard(&f.path).unwrap().rows {
                let ids: Vec<u32> = row
                    .input_ids
                    .iter()
                    .map(|&t| t as u32)
                    .filter(|&t| t != 0)
                    .collect();
                let labels = row
                    .labels
                    .iter()
                    .enumerate()
                    .filter(|(_, &l)| l != -100)
                    .map(|(i, &l)| (i as u32, l as u32))
                    .collect();
                want.push(key(&ids, labels));
            }
        }
        assert_eq!(want.len(), total);
        let plan = Arc::new(Plan::new(set.clone(), Selection::All, 5, 40, LIMITS));
        // Batch size 1: the epoch's rows one by one.
        let mut loader = Loader::spawn(plan.clone(), DataPosition::default(), 1).unwrap();
        let (epoch0, pos) = take(&mut loader, total);
        let got = keys(&epoch0);
        assert_eq!(count(&got), count(&want));
        assert_ne!(got, want, "rows are shuffled");
        let (epoch1, _) = take(&mut loader, total);
        assert_ne!(keys(&epoch1), got, "each epoch has its own order");
        assert_eq!(count(&keys(&epoch1)), count(&want));
        assert_eq!(pos.epoch, 0);
        // The same seed gives the same stream; resuming at a position continues it exactly.
        let mut straight = Loader::spawn(plan.clone(), DataPosition::default(), 7).unwrap();
        let (first, _) = take(&mut straight, 30);
        let mut a = Loader::spawn(plan.clone(), DataPosition::default(), 7).unwrap();
        let (head, pos) = take(&mut a, 11);
        drop(a);
        let mut b = Loader::spawn(plan, pos, 7).unwrap();
        let (tail, _) = take(&mut b, 19);
        let resumed: Vec<Batch> = head.into_iter().chain(tail).collect();
        assert_eq!(resumed, first);
        // Batches are trimmed to a multiple of 8 no longer than the rows.
        for batch in &first {
            assert_eq!(batch.seq_len % 8, 0);
            assert!(batch.seq_len <= 64);
        }
    }

    #[test]
    fn held_out_rows_never_train() {
        let dir = tempfile::tempdir().unwrap();
        build_fixture_shards(dir.path(), 64, 1);
        let set = Arc::new(ShardSet::open(dir.path()).unwrap());
        let train = Plan::new(
            set.clone(),
            Selection::Train { fraction: 0.2 },
            3,
            50,
            LIMITS,
        );
        let held = Plan::new(
            set.clone(),
            Selection::Held { fraction: 0.2 },
            3,
            50,
            LIMITS,
        );
        assert_eq!(train.rows() + held.rows(), set.rows());
        let share = held.rows() as f64 / set.rows() as f64;
        assert!((0.1..0.3).contains(&share), "{share}");
        let eval = keys(&held.sequential_batches(8, usize::MAX).unwrap());
        assert_eq!(eval.len(), held.rows());
        let mut loader =
            Loader::spawn(Arc::new(train.clone()), DataPosition::default(), 1).unwrap();
        let (seen, _) = take(&mut loader, train.rows());
        let seen = keys(&seen);
        let seen = count(&seen);
        assert!(eval.iter().all(|k| !seen.contains_key(k)));
        // Capped evaluation.
        assert_eq!(held.sequential_batches(2, 3).unwrap().len(), 3);
    }

    #[test]
    fn bad_shards_and_small_models_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        build_fixture_shards(dir.path(), 64, 1);
        let set = ShardSet::open(dir.path()).unwrap();
        // A model vocabulary smaller than the tokenizer's.
        let small = Limits {
            vocab_size: 1000,
            ..LIMITS
        };
        let err = set.check(small).unwrap_err().to_string();
        assert!(
            err.contains("manifest.json") && err.contains("30522"),
            "{err}"
        );
        // Token ids past the model's vocabulary, found while reading.
        let err = set.read(0, 0, small).unwrap_err().to_string();
        assert!(
            err.contains("shard-0000.parquet") && err.contains("row group 0"),
            "{err}"
        );
        // Rows longer than the position table.
        let short = Limits {
            max_positions: 32,
            ..LIMITS
        };
        assert!(set
            .check(short)
            .unwrap_err()
            .to_string()
            .contains("positions"));
        // A file no manifest lists is not a shard of the set.
        std::fs::write(dir.path().join("shard-9999.parquet"), b"not parquet").unwrap();
        let set = ShardSet::open(dir.path()).unwrap();
        assert!(set
            .files
            .iter()
            .all(|f| !f.path.ends_with("shard-9999.parquet")));
        // A listed shard altered in place (same size): only --verify reads it whole.
        let first = dir.path().join("shard-0000.parquet");
        let mut bytes = std::fs::read(&first).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&first, &bytes).unwrap();
        let set = ShardSet::open(dir.path()).unwrap();
        let err = set.verify().unwrap_err().to_string();
        assert!(
            err.contains("shard-0000.parquet") && err.contains("SHA-256"),
            "{err}"
        );
        // A listed shard that is not Parquet at all, of the recorded size.
        std::fs::write(&first, vec![b'x'; bytes.len()]).unwrap();
        let err = ShardSet::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("shard-0000.parquet"), "{err}");
        // The tokenizer beside the shards is checked before any row is read.
        let tokenizer = dir.path().join("tokenizer.json");
        std::fs::remove_file(&tokenizer).unwrap();
        let err = ShardSet::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("tokenizer.json"), "{err}");
        // No manifest: not a finished build.
        let empty = tempfile::tempdir().unwrap();
        let err = ShardSet::open(empty.path()).unwrap_err().to_string();
        assert!(err.contains("manifest.json"), "{err}");
    }
}
