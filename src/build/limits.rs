//! Process limits a build needs: an open file per spill bucket, and a thread count the machine
//! can use ([`thread_count`], which `bert-train` applies too).
//!
//! The spill phase keeps every bucket file open, and the bucket count grows with the corpus
//! (one per ~8 MB of text: an English Wikipedia needs ~2,500), past the soft limit of open
//! files many systems start processes with (1,024). [`ensure_open_files`] raises the soft limit
//! when it is too low, up to the hard limit, as programs with many open files do; when even
//! the hard limit is too low, the build stops before it starts, saying what to raise.
//! `finalize --rebalance` holds a shard of every task open at once
//! ([`ensure_open_task_shards`]).

use crate::error::{Error, Result};

/// Files a build opens besides its buckets, at most: inputs, shards, state, standard streams.
const OTHER_FILES: u64 = 256;

/// Makes sure this process may hold `spill_buckets` bucket files open besides its others.
pub fn ensure_open_files(spill_buckets: u64) -> Result<()> {
    raise_limit(
        spill_buckets.saturating_add(OTHER_FILES),
        &format!("{spill_buckets} spill buckets"),
    )
}

/// Makes sure this process may hold one shard of each of `tasks` tasks open besides its
/// others (`finalize --rebalance` reads every task at once).
pub fn ensure_open_task_shards(tasks: u64) -> Result<()> {
    raise_limit(
        tasks.saturating_add(OTHER_FILES),
        &format!("a shard of each of {tasks} tasks"),
    )
}

/// Makes sure this process may hold `needed` files open, `many` of them (`many` says which).
fn raise_limit(needed: u64, many: &str) -> Result<()> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct it is given, which lives for the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return Ok(()); // Unknown: opening the files reports any shortage.
        }
        #[allow(clippy::useless_conversion)] // rlim_t is narrower on some targets.
        let (soft, hard) = (u64::from(limit.rlim_cur), u64::from(limit.rlim_max));
        if soft >= needed || limit.rlim_cur == libc::RLIM_INFINITY {
            return Ok(());
        }
        let too_low = |what: &str| {
            Error::Config(format!(
                "bertprep may keep {needed} files open ({many} and the rest), but {what}: \
                 raise the limit (`ulimit -n {needed}`) and run it again"
            ))
        };
        if hard < needed && limit.rlim_max != libc::RLIM_INFINITY {
            return Err(too_low(&format!(
                "the open-file limit is {soft} (at most {hard})"
            )));
        }
        limit.rlim_cur = needed as libc::rlim_t;
        // SAFETY: setrlimit reads the struct it is given, which lives for the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(too_low(&format!(
                "the open-file limit is {soft} and cannot be raised"
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (needed, many);
    Ok(())
}

/// Threads per core a build or a training run may ask for, at most.
pub const MAX_THREADS_PER_CORE: usize = 8;

/// Threads anyone may ask for, whatever the core count.
pub const MIN_THREAD_CAP: usize = 64;

/// The thread count for `--threads requested` (0: one per core). More than
/// [`MAX_THREADS_PER_CORE`] per core (and more than [`MIN_THREAD_CAP`]) is refused: such a pool
/// only spends its time starting threads.
pub fn thread_count(requested: usize) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = (MAX_THREADS_PER_CORE * cores).max(MIN_THREAD_CAP);
    match requested {
        0 => Ok(cores),
        n if n > cap => Err(Error::Config(format!(
            "--threads {n} is more than this machine can use ({cores} cores; at most {cap}); \
             leave --threads out to use one per core"
        ))),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The soft and hard limits; `None` for an unlimited hard one.
    fn limits() -> (u64, Option<u64>) {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        #[allow(clippy::useless_conversion)]
        let (soft, hard) = (u64::from(limit.rlim_cur), u64::from(limit.rlim_max));
        (
            soft,
            (limit.rlim_max != libc::RLIM_INFINITY).then_some(hard),
        )
    }

    #[test]
    fn raises_the_soft_limit_up_to_the_hard_one() {
        let (soft, hard) = limits();
        raise_limit(soft, "1 file").unwrap();
        assert_eq!(limits().0, soft, "a limit high enough is left alone");
        let want = hard.map_or(soft, |h| soft.saturating_add(16).min(h));
        raise_limit(want, "1 file").unwrap();
        assert_eq!(limits().0, want.max(soft));
        if let Some(hard) = hard {
            let err = raise_limit(hard + 1, "7 files").unwrap_err().to_string();
            assert!(err.contains(&format!("ulimit -n {}", hard + 1)), "{err}");
            assert!(err.contains("(7 files and the rest)"), "{err}");
        }
    }
}
