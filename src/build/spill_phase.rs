//! Phase one of a build: work units in, instances spilled to buckets in unit order.
//!
//! A reader thread cuts the inputs into units and hands each unit this process owns to the
//! pool as a task ([`super::units::run_unit`]); at most `2 × threads + 2` units are in flight.
//! The calling thread takes the results back in unit order, appends their records to the spill
//! buckets and checkpoints the state at most every [`CHECKPOINT_INTERVAL`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::spill::SpillWriter;
use super::state::BuildState;
use super::units::{run_unit, UnitContext, UnitOutput};
use super::Phases;
use crate::config::OnError;
use crate::error::Result;
use crate::input::{InputFile, UnitReader};
use crate::output::manifest::Skipped;

/// Time between checkpoints of the spill phase, at least: a killed build redoes the units
/// finished in that time (and those in flight), and writing the state after every unit would
/// cost more I/O than it saves.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// Phase one: units in, instances spilled to buckets in unit order.
pub(super) fn spill_phase(
    phases: &mut Phases<'_>,
    ctx: &UnitContext<'_>,
    files: &[InputFile],
    state: &mut BuildState,
) -> Result<()> {
    let Phases {
        opts,
        pool,
        work,
        spill_dir,
        progress,
    } = phases;
    let work: &Path = work;
    let threads = pool.current_num_threads();
    super::limits::ensure_open_files(state.bucket_lengths.len() as u64)?;
    let mut spill = SpillWriter::open(spill_dir, &state.bucket_lengths)?;
    let mut reader =
        UnitReader::with_target(files.to_vec(), ctx.config.format, ctx.config.unit_bytes)
            .with_text_column(&ctx.config.text_column);
    let bytes_read = reader.disk_bytes_counter();
    progress.start_reading(files.iter().map(|f| f.bytes).sum());
    let in_flight = 2 * threads + 2;
    let (token_tx, token_rx) = crossbeam_channel::bounded::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = token_tx.send(());
    }
    let (result_tx, result_rx) = crossbeam_channel::unbounded::<(u64, Result<UnitOutput>)>();
    let first_unit = state.next_unit;
    let worker = opts.worker;
    let skip = ctx.config.on_error == OnError::Skip;

    pool.in_place_scope(|s| {
        std::thread::scope(|scope| {
            // The reader hands each unit to the pool as a task of its own, so that a thread
            // without a unit can take part of another's (the stages split their work).
            scope.spawn(move || {
                let mut seq = 0u64;
                let mut have_token = false;
                loop {
                    if !have_token {
                        if token_rx.recv().is_err() {
                            break; // The writer stopped.
                        }
                        have_token = true;
                    }
                    match reader.next_unit() {
                        Ok(None) => {
                            ctx.input_read.store(true, Ordering::Relaxed);
                            break;
                        }
                        Ok(Some(unit)) => {
                            let mine = worker.is_none_or(|w| w.owns(unit.index));
                            if unit.index < first_unit || !mine {
                                continue; // Keep the token for the next unit.
                            }
                            have_token = false;
                            let results = result_tx.clone();
                            s.spawn(move |_| {
                                let _ = results.send((seq, run_unit(unit, ctx, skip)));
                            });
                            seq += 1;
                        }
                        Err(e) => {
                            let failure = reader.take_failure();
                            let (true, Some(failure)) = (skip, failure) else {
                                let _ = result_tx.send((seq, Err(e)));
                                break;
                            };
                            // Recorded by the worker owning the next unit, so exactly once.
                            if !worker.is_none_or(|w| w.owns(reader.next_index())) {
                                continue;
                            }
                            let skipped = Skipped {
                                path: failure.path.display().to_string(),
                                file_index: failure.file_index,
                                offset: failure.offset,
                                bytes: None,
                                reason: e.to_string(),
                            };
                            have_token = false;
                            let output = UnitOutput::skipped(None, skipped);
                            if result_tx.send((seq, Ok(output))).is_err() {
                                break;
                            }
                            seq += 1;
                        }
                    }
                }
            });
            // Dropped on return, so that a reader waiting for a token stops after an error.
            let token_tx = token_tx;
            let mut pending: BTreeMap<u64, Result<UnitOutput>> = BTreeMap::new();
            let mut next_seq = 0u64;
            let mut last_checkpoint = Instant::now();
            for (seq, output) in result_rx {
                pending.insert(seq, output);
                while let Some(output) = pending.remove(&next_seq) {
                    let output = output?;
                    for (b, records) in output.spill.iter().enumerate() {
                        if !records.is_empty() {
                            spill.append(b, records)?;
                        }
                    }
                    state.counters.add(&output.counters);
                    if let Some(entry) = state.inputs.get_mut(output.file_index as usize) {
                        entry.add(&output.entry);
                    }
                    if let Some(s) = output.skipped {
                        // A resumed run meets the reader's errors again; record each once.
                        let key = (s.file_index, s.offset);
                        if !state
                            .skipped
                            .iter()
                            .any(|k| (k.file_index, k.offset) == key)
                        {
                            state.skipped.push(s);
                            state.counters.skipped += 1;
                        }
                    }
                    if let Some(unit) = output.unit {
                        state.next_unit = unit + 1;
                    }
                    if last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL {
                        state.bucket_lengths = spill.checkpoint()?;
                        state.write(work)?;
                        last_checkpoint = Instant::now();
                    }
                    next_seq += 1;
                    let _ = token_tx.send(());
                    progress.update(bytes_read.load(Ordering::Relaxed), state.counters.instances);
                }
            }
            // A gap can only be an error reported for a unit that was never dispatched.
            if let Some((_, output)) = pending.pop_first() {
                output?;
            }
            state.bucket_lengths = spill.checkpoint()?;
            Ok(())
        })
    })
}
