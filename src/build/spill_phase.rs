//! Phase one of a build: work units in, instances spilled to buckets in unit order.
//!
//! A reader thread cuts the pieces of the inputs this build owns into units and hands each
//! unit to the pool as a task ([`super::units::run_unit`]); at most `2 × threads + 2` units are in flight.
//! The calling thread takes the results back in unit order, appends their records to the spill
//! buckets and checkpoints the state at most every [`CHECKPOINT_INTERVAL`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::spill::SpillWriter;
use super::state::BuildState;
use super::units::{run_unit, UnitContext, UnitOutput};
use super::Phases;
use crate::config::OnError;
use crate::error::{Error, Result};
use crate::input::plan::Piece;
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
    pieces: Vec<Piece>,
    state: &mut BuildState,
) -> Result<()> {
    let Phases {
        opts: _,
        pool,
        work,
        spill_dir,
        progress,
    } = phases;
    let work: &Path = work;
    let threads = pool.current_num_threads();
    super::limits::ensure_open_files(state.bucket_lengths.len() as u64)?;
    let mut spill = SpillWriter::open(spill_dir, &state.bucket_lengths)?;
    progress.start_reading(pieces.iter().map(|p| p.bytes()).sum());
    let reader = UnitReader::with_target(files.to_vec(), ctx.config.format, ctx.config.unit_bytes)
        .with_pieces(pieces, state.next_unit)
        .with_text_column(&ctx.config.text_column)
        .with_decode_threads(threads);
    let bytes_read = reader.disk_bytes_counter();
    let read_before = state.bytes_read;
    let in_flight = 2 * threads + 2;
    let (token_tx, token_rx) = crossbeam_channel::bounded::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = token_tx.send(());
    }
    let (result_tx, result_rx) = crossbeam_channel::unbounded::<(u64, Result<UnitOutput>)>();
    let dispatcher = Dispatcher {
        tokens: token_rx,
        results: result_tx,
        first_unit: state.next_unit,
        skip: ctx.config.on_error == OnError::Skip,
    };

    pool.in_place_scope(|s| {
        std::thread::scope(|scope| {
            scope.spawn(move || dispatcher.run(s, reader, ctx));
            // Dropped on return, so that a reader waiting for a token stops after an error.
            let token_tx = token_tx;
            let mut pending: BTreeMap<u64, Result<UnitOutput>> = BTreeMap::new();
            let mut next_seq = 0u64;
            let mut last_checkpoint = Instant::now();
            for (seq, output) in result_rx {
                pending.insert(seq, output);
                while let Some(output) = pending.remove(&next_seq) {
                    record_unit(state, &mut spill, output?)?;
                    if last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL {
                        state.bucket_lengths = spill.checkpoint()?;
                        state.write(work)?;
                        last_checkpoint = Instant::now();
                    }
                    next_seq += 1;
                    let _ = token_tx.send(());
                    let read = bytes_read.load(Ordering::Relaxed);
                    state.bytes_read = read_before + read;
                    progress.update(read, state.counters.instances);
                }
            }
            // A gap can only be an error reported for a unit that was never dispatched.
            if let Some((_, output)) = pending.pop_first() {
                output?;
            }
            state.bucket_lengths = spill.checkpoint()?;
            state.bytes_read = read_before + bytes_read.load(Ordering::Relaxed);
            Ok(())
        })
    })
}

/// The reader's side of the spill phase: cuts units and hands each one this process owns to
/// the pool, one in-flight token per unit.
struct Dispatcher {
    /// Free in-flight slots; closed when the collecting side stops.
    tokens: Receiver<()>,
    /// Unit results, numbered in dispatch order.
    results: Sender<(u64, Result<UnitOutput>)>,
    /// First unit not yet recorded (units before it were done before a resume).
    first_unit: u64,
    /// `--on-error skip`: a file the reader gives up on is recorded, not fatal.
    skip: bool,
}

impl Dispatcher {
    /// Runs until the input ends, the collector stops or an error is sent. Each unit becomes a
    /// pool task of its own, so that a thread without a unit can take part of another's (the
    /// stages split their work).
    fn run<'s>(self, s: &rayon::Scope<'s>, mut reader: UnitReader, ctx: &'s UnitContext<'s>) {
        let mut seq = 0u64;
        let mut have_token = false;
        loop {
            if !have_token {
                if self.tokens.recv().is_err() {
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
                    if unit.index < self.first_unit {
                        continue; // Keep the token for the next unit.
                    }
                    have_token = false;
                    let results = self.results.clone();
                    let skip = self.skip;
                    s.spawn(move |_| {
                        let _ = results.send((seq, run_unit(unit, ctx, skip)));
                    });
                    seq += 1;
                }
                Err(e) => match self.reader_failed(&mut reader, e) {
                    Failure::Stop(e) => {
                        let _ = self.results.send((seq, Err(e)));
                        break;
                    }
                    Failure::Skipped(output) => {
                        have_token = false;
                        if self.results.send((seq, Ok(*output))).is_err() {
                            break;
                        }
                        seq += 1;
                    }
                },
            }
        }
    }

    /// What a reader error means: the end of the build, or (with `--on-error skip`) the rest of
    /// a piece to record as skipped.
    fn reader_failed(&self, reader: &mut UnitReader, e: Error) -> Failure {
        let failure = reader.take_failure();
        let (true, Some(failure)) = (self.skip, failure) else {
            return Failure::Stop(e);
        };
        let skipped = Skipped {
            path: failure.path.display().to_string(),
            file_index: failure.file_index,
            offset: failure.offset,
            bytes: None,
            reason: e.to_string(),
        };
        Failure::Skipped(Box::new(UnitOutput::skipped(None, skipped)))
    }
}

/// See [`Dispatcher::reader_failed`].
enum Failure {
    Stop(Error),
    Skipped(Box<UnitOutput>),
}

/// Takes one unit's output into the build: its records to their buckets, its counts and its
/// input's progress to the state.
fn record_unit(state: &mut BuildState, spill: &mut SpillWriter, output: UnitOutput) -> Result<()> {
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
        // Offsets count from a piece's start: its label in `path` tells pieces apart.
        let key = (s.file_index, s.offset, s.path.as_str());
        if !state
            .skipped
            .iter()
            .any(|k| (k.file_index, k.offset, k.path.as_str()) == key)
        {
            state.skipped.push(s);
            state.counters.skipped += 1;
        }
    }
    if let Some(unit) = output.unit {
        state.next_unit = unit + 1;
    }
    Ok(())
}
