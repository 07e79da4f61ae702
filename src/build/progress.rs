//! Progress reporting on stderr.
//!
//! On a terminal an indicatif bar (bytes read of the total, instances, MB/s, ETA; then a second
//! bar for the shard-writing phase); otherwise a plain line every few seconds; nothing with
//! `--quiet`. The pipeline calls [`Progress`] from its writer loop only, so reporting costs the
//! workers nothing.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Nothing.
    Quiet,
    /// A bar when stderr is a terminal, plain lines otherwise.
    Auto,
    /// Plain lines.
    Lines,
}

/// Seconds between plain progress lines.
const LINE_INTERVAL: Duration = Duration::from_secs(5);

/// The reporter of one build.
pub struct Progress {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    start: Instant,
    last_line: Instant,
    phase: &'static str,
    total: u64,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("mode", &self.mode)
            .finish()
    }
}

impl Progress {
    /// A reporter; `Auto` becomes a bar on a terminal, lines elsewhere.
    pub fn new(mode: ProgressMode) -> Self {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Auto,
            ProgressMode::Auto => ProgressMode::Lines,
            m => m,
        };
        let now = Instant::now();
        Progress {
            mode,
            bar: None,
            start: now,
            last_line: now,
            phase: "",
            total: 0,
        }
    }

    /// Starts the reading phase over `total_bytes` of input on disk.
    pub fn start_reading(&mut self, total_bytes: u64) {
        self.begin(
            "reading",
            total_bytes,
            "{spinner} reading [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
        );
    }

    /// Starts the shard-writing phase over `total` instances.
    pub fn start_writing(&mut self, total: u64) {
        self.begin(
            "writing",
            total,
            "{spinner} writing [{bar:30}] {pos}/{len} instances {per_sec} ETA {eta} {msg}",
        );
    }

    fn begin(&mut self, phase: &'static str, total: u64, template: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.phase = phase;
        self.total = total;
        self.start = Instant::now();
        if self.mode == ProgressMode::Auto {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            self.bar = Some(bar);
        }
    }

    /// Reports the position in the current phase and a count of instances.
    pub fn update(&mut self, position: u64, instances: u64) {
        match self.mode {
            ProgressMode::Quiet => {}
            ProgressMode::Auto => {
                if let Some(bar) = &self.bar {
                    bar.set_position(position);
                    if self.phase == "reading" {
                        bar.set_message(format!("{instances} instances"));
                    }
                }
            }
            ProgressMode::Lines => {
                if self.last_line.elapsed() < LINE_INTERVAL {
                    return;
                }
                self.last_line = Instant::now();
                let secs = self.start.elapsed().as_secs_f64().max(1e-9);
                let pct = 100.0 * position as f64 / self.total.max(1) as f64;
                if self.phase == "reading" {
                    eprintln!(
                        "bertprep: reading {:.1}/{:.1} MB ({pct:.0}%), {instances} instances, {:.2} MB/s",
                        position as f64 / 1e6,
                        self.total as f64 / 1e6,
                        position as f64 / 1e6 / secs
                    );
                } else {
                    eprintln!(
                        "bertprep: writing {position}/{} instances ({pct:.0}%), {:.0} instances/s",
                        self.total,
                        position as f64 / secs
                    );
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
