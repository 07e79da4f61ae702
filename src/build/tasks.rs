//! The tasks of a distributed build, run by workers.
//!
//! A `--tasks T` build is `T` fixed tasks over one unit plan ([`crate::input::plan`]): task `t`
//! builds the pieces at plan positions `p % T == t` into its own shards
//! (`shard-tTTTT-NNNN.parquet`) and, when complete, its manifest part (`manifest-tTTTT.json`),
//! the task's completion marker. What a task writes depends on the inputs, the config, `T` and
//! `t` only; `bertprep finalize` joins the parts.
//!
//! A worker runs some of the tasks, each as a build of its own ([`super::build`]), planning the
//! inputs once:
//! - [`Schedule::Worker`] (`--worker I/N`): the tasks `t % N == I`, in order;
//! - [`Schedule::Claim`] (`--claim`): any task no one else holds, taken by creating its claim
//!   file `.bertprep-claims/task-TTTT` with `create_new` (one creator wins). While the task
//!   runs, a thread refreshes the claim's modification time every `timeout / 8`; a claim not
//!   refreshed for `timeout` belongs to a worker that died, and is taken over by renaming it
//!   away (one renamer wins; a claim found fresh after the rename is put back). A worker that
//!   finds its own claim taken over stops at once, as if killed, for the new owner resumes the
//!   task from its checkpoint. A worker with nothing left to claim waits for the tasks others
//!   hold, looking again every `timeout / 8` (0.1–5 s), and takes over any whose claim goes
//!   stale: it exits when every task is complete, so the build finishes while one worker
//!   lives.
//!
//! A task already complete is not run again, so rerunning any worker, or other workers with
//! another `N`, does only what is left.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::{build_planned, BuildOptions, BuildSummary, Planned};
use crate::error::{Error, Result};
use crate::input::{self, plan};
use crate::output::layout::{self, Task, Worker};

/// Input bytes per task when `--tasks` is not given.
pub const TASK_TARGET_BYTES: u64 = 32 << 20;

/// Most tasks a build may have.
pub const MAX_TASKS: u32 = 1 << 16;

/// Default number of tasks chosen from the corpus.
const MAX_DEFAULT_TASKS: u64 = 4096;

/// Which tasks a worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// The tasks of `--worker I/N`.
    Worker(Worker),
    /// Any unclaimed task (`--claim`); a claim older than the timeout is taken over.
    Claim {
        /// How long a claim may go without a heartbeat before it is taken over.
        timeout: Duration,
    },
}

/// What a worker did.
#[derive(Debug, Clone)]
pub struct TasksSummary {
    /// The build's task count.
    pub tasks: u32,
    /// Tasks this worker built, with their summaries.
    pub ran: Vec<(Task, BuildSummary)>,
    /// Tasks of this worker found complete already.
    pub complete: u32,
    /// Tasks other workers held when this one came to them, finished by them while this one
    /// waited.
    pub finished_by_others: u32,
    /// Bytes this worker read from the inputs (its plan and its tasks' runs).
    pub bytes_read: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The task count chosen when `--tasks` is not given: one per [`TASK_TARGET_BYTES`] of input,
/// at most 4,096 and at most one per piece of the plan.
pub fn default_task_count(pieces: &[plan::Piece]) -> u32 {
    let bytes: u64 = pieces.iter().map(plan::Piece::bytes).sum();
    bytes
        .div_ceil(TASK_TARGET_BYTES)
        .clamp(1, MAX_DEFAULT_TASKS)
        .min(pieces.len().max(1) as u64) as u32
}

/// Runs this worker's share of a `tasks`-task build (the default count when `None`) of `opts`
/// (whose `task` is ignored).
pub fn run_tasks(
    opts: &BuildOptions,
    tasks: Option<u32>,
    schedule: Schedule,
) -> Result<TasksSummary> {
    let start = Instant::now();
    if opts
        .inputs
        .iter()
        .any(|p| p.as_os_str() == input::stdin::STDIN_ARG)
    {
        return Err(Error::Config(
            "a --tasks build cannot read standard input (every worker needs the same inputs): \
             save it to a file first"
                .into(),
        ));
    }
    if matches!(schedule, Schedule::Claim { .. }) && input::remote::is_remote(&opts.out) {
        return Err(Error::Config(
            "--claim needs a shared directory for its claims, not object storage: use \
             --worker with an --out in object storage"
                .into(),
        ));
    }
    // Planned once for all this worker's tasks: no task lists, sniffs or plans the inputs again.
    let read = AtomicU64::new(0);
    let planned = Planned::of(&opts.inputs, opts.config.piece_bytes, &read)?;
    let pieces = &planned.pieces;
    let count = match tasks {
        Some(t) if t == 0 || t > MAX_TASKS => {
            return Err(Error::Config(format!(
                "--tasks must be in 1..={MAX_TASKS}, got {t}"
            )))
        }
        Some(t) => t,
        None => default_task_count(pieces),
    };
    let mut summary = TasksSummary {
        tasks: count,
        ran: Vec::new(),
        complete: 0,
        finished_by_others: 0,
        bytes_read: read.load(Ordering::Relaxed),
        seconds: 0.0,
    };
    let mut pending: Vec<Task> = match schedule {
        Schedule::Worker(w) => w.tasks(count).collect(),
        Schedule::Claim { .. } => Worker { index: 0, count: 1 }.tasks(count).collect(),
    };
    let mut waiting_said = false;
    let mut waited = false;
    loop {
        let mut held = Vec::new();
        for task in pending {
            let part = opts.out.join(layout::manifest_name(Some(task)));
            if waited && part.exists() {
                // Held by another worker when this one came to it, and finished since.
                summary.finished_by_others += 1;
                continue;
            }
            let claim = match schedule {
                Schedule::Claim { timeout } if !part.exists() => {
                    match Claim::take(&opts.out, task, timeout)? {
                        Some(claim) => Some(claim),
                        None => {
                            held.push(task);
                            continue;
                        }
                    }
                }
                _ => None,
            };
            let mut task_opts = opts.clone();
            task_opts.task = Some(task);
            let result = build_planned(&task_opts, Some(&planned));
            if let Some(claim) = claim {
                claim.release();
            }
            let done = result?;
            if done.already_complete {
                summary.complete += 1;
            } else {
                summary.bytes_read += done.manifest.bytes_read.unwrap_or(0);
                summary.ran.push((task, done));
            }
        }
        let Schedule::Claim { timeout } = schedule else {
            break;
        };
        // Tasks other workers hold: wait for them to finish, and take over any whose claim
        // goes stale (its worker died), so the build completes while any worker is alive.
        held.retain(|&task| {
            let finished = opts.out.join(layout::manifest_name(Some(task))).exists();
            summary.finished_by_others += u32::from(finished);
            !finished
        });
        if held.is_empty() {
            break;
        }
        if !waiting_said && opts.progress != super::progress::ProgressMode::Quiet {
            eprintln!(
                "bertprep: waiting for {} task(s) other workers hold (a claim without a \
                 heartbeat for {} s is taken over)",
                held.len(),
                timeout.as_secs()
            );
            waiting_said = true;
        }
        std::thread::sleep(claim_poll(timeout));
        waited = true;
        pending = held;
    }
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// How often a `--claim` worker looks again at the tasks other workers hold.
fn claim_poll(timeout: Duration) -> Duration {
    (timeout / 8).clamp(Duration::from_millis(100), Duration::from_secs(5))
}

/// A claim on a task, refreshed by a heartbeat thread until released.
struct Claim {
    path: PathBuf,
    token: String,
    stop: Arc<AtomicBool>,
    heartbeat: Option<std::thread::JoinHandle<()>>,
}

impl Claim {
    /// Takes `task`'s claim in `out`: `None` when another worker holds it.
    fn take(out: &Path, task: Task, timeout: Duration) -> Result<Option<Claim>> {
        let dir = layout::claims_dir(out);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = layout::claim_path(out, task);
        let token = claim_token();
        for _ in 0..2 {
            match layout::create_new(&path) {
                Ok(mut file) => {
                    use std::io::Write;
                    file.write_all(token.as_bytes())
                        .map_err(|e| Error::io(&path, e))?;
                    return Ok(Some(Claim::start(path, token, timeout)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !take_over_stale(&path, timeout)? {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Ok(None)
    }

    /// Starts the heartbeat of a claim just made.
    fn start(path: PathBuf, token: String, timeout: Duration) -> Claim {
        let stop = Arc::new(AtomicBool::new(false));
        let beat = (timeout / 8).max(Duration::from_millis(50));
        let (p, t, s) = (path.clone(), token.clone(), stop.clone());
        let heartbeat = std::thread::Builder::new()
            .name("bertprep-claim".into())
            .spawn(move || heartbeat(&p, &t, &s, beat))
            .ok();
        Claim {
            path,
            token,
            stop,
            heartbeat,
        }
    }

    /// Stops the heartbeat and removes the claim (if it is still ours).
    fn release(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.heartbeat.take() {
            let _ = h.join();
        }
        if std::fs::read_to_string(&self.path).is_ok_and(|t| t == self.token) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Refreshes the claim at `path` every `beat` until `stop`; exits the process when the claim
/// is no longer `token`'s (another worker took it over).
fn heartbeat(path: &Path, token: &str, stop: &AtomicBool, beat: Duration) {
    let step = beat.min(Duration::from_millis(50));
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        if last.elapsed() < beat || stop.load(Ordering::Relaxed) {
            continue;
        }
        last = Instant::now();
        if std::fs::read_to_string(path).map_or(true, |t| t != token) {
            eprintln!(
                "bertprep: the claim {} was taken over by another worker (this one stalled \
                 longer than --claim-timeout); stopping",
                path.display()
            );
            std::process::exit(3);
        }
        let _ = std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(SystemTime::now()));
    }
}

/// Takes the stale claim at `path` away: `true` when it was stale and is gone, so that a new
/// claim may be made; `false` when it is fresh (or another worker took it first).
fn take_over_stale(path: &Path, timeout: Duration) -> Result<bool> {
    if !is_stale(path, timeout) {
        return Ok(false);
    }
    let aside = layout::temp_path(path);
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(path, e)),
    }
    // Between the check and the rename another worker may have taken over and made a fresh
    // claim: put that one back.
    let stale = is_stale(&aside, timeout);
    if !stale {
        let _ = std::fs::hard_link(&aside, path);
    }
    let _ = std::fs::remove_file(&aside);
    Ok(stale)
}

/// Whether the claim at `path` went unrefreshed for `timeout`.
fn is_stale(path: &Path, timeout: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age >= timeout)
}

/// What a claim file holds: who made it, unique to this call.
fn claim_token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "host {host} pid {} at {now} #{}\n",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(bytes: u64, position: u64) -> plan::Piece {
        plan::Piece {
            position,
            file_index: position as u32,
            index: 0,
            of: 1,
            cut: plan::Cut::Whole,
            start: 0,
            end: bytes,
        }
    }

    #[test]
    fn default_task_count_follows_the_input_size() {
        let pieces: Vec<_> = (0..10).map(|i| piece(10 << 20, i)).collect();
        assert_eq!(default_task_count(&pieces), 4);
        assert_eq!(default_task_count(&pieces[..1]), 1);
        assert_eq!(default_task_count(&[]), 1);
        let big: Vec<_> = (0..3).map(|i| piece(1 << 40, i)).collect();
        assert_eq!(default_task_count(&big), 3);
    }

    #[test]
    fn one_claim_per_task_and_stale_claims_are_taken_over() {
        let out = tempfile::tempdir().unwrap();
        let task = Task { index: 2, count: 4 };
        let long = Duration::from_secs(600);
        let first = Claim::take(out.path(), task, long).unwrap().unwrap();
        assert!(Claim::take(out.path(), task, long).unwrap().is_none());
        first.release();
        assert!(!layout::claim_path(out.path(), task).exists());
        // A claim no heartbeat refreshes goes stale.
        let path = layout::claim_path(out.path(), task);
        std::fs::write(&path, "host dead pid 1\n").unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(Claim::take(out.path(), task, long).unwrap().is_none());
        let taken = Claim::take(out.path(), task, Duration::from_secs(30)).unwrap();
        let taken = taken.expect("a claim older than the timeout is taken over");
        assert_ne!(std::fs::read_to_string(&path).unwrap(), "host dead pid 1\n");
        taken.release();
    }

    #[test]
    fn a_held_claim_stays_fresh_past_its_timeout() {
        let out = tempfile::tempdir().unwrap();
        let task = Task { index: 0, count: 1 };
        let timeout = Duration::from_millis(400);
        let claim = Claim::take(out.path(), task, timeout).unwrap().unwrap();
        std::thread::sleep(Duration::from_millis(1200));
        // The heartbeat refreshed it: another worker leaves it alone.
        assert!(!is_stale(&layout::claim_path(out.path(), task), timeout));
        assert!(Claim::take(out.path(), task, timeout).unwrap().is_none());
        claim.release();
        assert!(!layout::claim_path(out.path(), task).exists());
    }
}
