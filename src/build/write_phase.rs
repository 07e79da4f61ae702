//! Phase two of a build: each spill bucket in turn loaded, shuffled with its own stream and
//! appended to the shards, whose row groups are padded, encoded and compressed on the pool
//! while the calling thread loads the next bucket (up to `threads + 2` groups started,
//! appended in order; with one thread they are encoded inline). The state records every
//! finished shard.

use std::path::Path;

use super::spill::BucketBytes;
use super::state::BuildState;
use super::Phases;
use crate::error::{Error, Result};
use crate::instances::Instance;
use crate::output::manifest::ShardEntry;
use crate::rng::{Purpose, UnitRng};
use crate::shard::writer::{self, ShardWriter};
use crate::shard::ShardMeta;
use crate::tokenize::Tokenizer;

/// Row groups started and not yet appended, at most (each holds its padded columns in memory).
const MAX_GROUPS_IN_FLIGHT: usize = 8;

/// Phase two: buckets shuffled into shards; row groups are encoded on the pool.
pub(super) fn write_phase(
    phases: &mut Phases<'_>,
    meta: &ShardMeta,
    tokenizer: &Tokenizer,
    state: &mut BuildState,
) -> Result<Vec<ShardEntry>> {
    let Phases {
        opts,
        pool,
        work,
        spill_dir,
        progress,
    } = phases;
    let pool: &rayon::ThreadPool = pool;
    let mut skip: u64 = state.shards.iter().map(|s| s.rows).sum();
    let mut written = skip;
    progress.start_writing(state.counters.instances);
    // One thread encodes inline; more hand row groups to the pool, so that loading and
    // shuffling the next bucket and appending finished groups overlap their encoding.
    let threads = pool.current_num_threads();
    let (in_flight, encoder) = if threads == 1 {
        (1, writer::inline_encoder())
    } else {
        let encoder: writer::Encoder<'_> = Box::new(|job| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            pool.spawn(move || {
                let encoded =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.encode()))
                        .unwrap_or_else(|_| {
                            Err(Error::Internal("row-group encoding panicked".into()))
                        });
                let _ = tx.send(encoded);
            });
            rx
        });
        ((threads + 2).min(MAX_GROUPS_IN_FLIGHT), encoder)
    };
    // Shards are staged in the work directory; the build moves them into the output
    // directory once all are complete.
    let mut writer = ShardWriter::resume(work, meta, opts.task, state.shards.clone())?
        .with_encoder(in_flight, encoder)
        .with_total(state.counters.instances.saturating_sub(skip));
    let stream = opts.task.map_or(0, |w| u64::from(w.index));
    // The first bucket is decoded in parallel (nothing else runs yet); later ones on the
    // calling thread, beside the previous bucket's row groups encoding on the pool.
    let result = (|| {
        for b in 0..state.identity.buckets {
            let len = state.bucket_lengths[b];
            let mut instances = load_bucket(spill_dir, b, len, tokenizer, pool, b == 0)?;
            let mut rng = UnitRng::new(meta.config.seed, Purpose::Shuffle, b as u64, stream);
            rng.shuffle(&mut instances);
            for instance in instances {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                writer.push(instance)?;
                written += 1;
                if writer.finished().len() > state.shards.len() {
                    state.shards = writer.finished().to_vec();
                    state.write(work)?;
                }
            }
            progress.update(written, written);
        }
        Ok(())
    })();
    match result {
        Ok(()) => writer.finish(),
        Err(e) => {
            writer.abort();
            Err(e)
        }
    }
}

/// Reads and decodes spill bucket `b`; with `parallel`, decodes its pieces on the pool.
fn load_bucket(
    spill_dir: &Path,
    b: usize,
    len: u64,
    tokenizer: &Tokenizer,
    pool: &rayon::ThreadPool,
    parallel: bool,
) -> Result<Vec<Instance>> {
    use rayon::prelude::*;
    let bucket = BucketBytes::read(spill_dir, b, len, tokenizer.vocab_size())?;
    if !parallel || pool.current_num_threads() == 1 {
        return bucket.instances();
    }
    let pieces = bucket.pieces(4 * pool.current_num_threads())?;
    let parts: Vec<Result<Vec<Instance>>> =
        pool.install(|| pieces.par_iter().map(|p| bucket.decode(p)).collect());
    let mut instances = Vec::with_capacity(parts.iter().flatten().map(Vec::len).sum());
    for part in parts {
        instances.extend(part?);
    }
    Ok(instances)
}
