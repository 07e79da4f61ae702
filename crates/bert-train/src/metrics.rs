//! Training metrics: `RUN_DIR/metrics.jsonl` and the one-line progress report.
//!
//! Each line of `metrics.jsonl` is one JSON object, a [`MetricsLine`]: `split` is `"train"`
//! (means over the steps since the previous train line) or `"eval"` (over the evaluation
//! set), with step, loss, mlm_loss, nsp_loss, mlm_accuracy, nsp_accuracy, and for training
//! lr, grad_norm, tokens/s and sequences/s. Lines are flushed as written, so the file can be
//! followed during a run. On resume, lines past the checkpoint's step are dropped first, so
//! the file reads as one run.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use bertprep::output::atomic::write_atomic;

/// File name of the metrics log in the run directory.
pub const METRICS_FILE: &str = "metrics.jsonl";

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsLine {
    /// `"train"` or `"eval"`.
    pub split: String,
    /// Optimiser steps done.
    pub step: u64,
    /// Epochs done (fractional), by training rows consumed.
    pub epoch: f64,
    /// `mlm_loss + nsp_loss`.
    pub loss: f64,
    pub mlm_loss: f64,
    pub nsp_loss: f64,
    pub mlm_accuracy: f64,
    pub nsp_accuracy: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequences_per_s: Option<f64>,
    /// Sequences the line's numbers cover.
    pub sequences: u64,
}

/// The open `metrics.jsonl` of a run.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: File,
}

impl MetricsLog {
    /// Opens `RUN_DIR/metrics.jsonl` for appending, first dropping lines after `keep_through`
    /// (a resumed step), or starting it empty when `keep_through` is `None`.
    pub fn open(run: &Path, keep_through: Option<u64>) -> Result<MetricsLog> {
        let path = run.join(METRICS_FILE);
        match keep_through {
            None => {
                std::fs::write(&path, b"").map_err(|e| Error::io(&path, e))?;
            }
            Some(step) => {
                let kept: Vec<MetricsLine> = read(&path)?
                    .into_iter()
                    .filter(|l| l.step <= step)
                    .collect();
                let mut text = String::new();
                for line in &kept {
                    text.push_str(&serde_json::to_string(line).unwrap_or_default());
                    text.push('\n');
                }
                write_atomic(&path, text.as_bytes())?;
            }
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(MetricsLog { path, file })
    }

    /// Appends one line and flushes it.
    pub fn write(&mut self, line: &MetricsLine) -> Result<()> {
        let mut text = serde_json::to_string(line).unwrap_or_default();
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| Error::io(&self.path, e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Every line of a metrics file (none when it does not exist).
pub fn read(path: &Path) -> Result<Vec<MetricsLine>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str(&line)
            .map_err(|e| Error::format(path, i + 1, format!("not a metrics line: {e}")))?;
        out.push(parsed);
    }
    Ok(out)
}

/// `1h02m`, `3m05s`, `42s`.
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// The progress report: a bar, step, loss, lr, tokens/s and ETA.
pub fn progress_line(line: &MetricsLine, total_steps: u64, eta_seconds: f64) -> String {
    const WIDTH: usize = 24;
    let done = (line.step as f64 / total_steps.max(1) as f64).clamp(0.0, 1.0);
    let filled = (done * WIDTH as f64).round() as usize;
    format!(
        "[{}{}] step {}/{} | loss {:.4} (mlm {:.4}, nsp {:.4}) | lr {:.2e} | {:.0} tok/s | ETA {}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        line.step,
        total_steps,
        line.loss,
        line.mlm_loss,
        line.nsp_loss,
        line.lr.unwrap_or(0.0),
        line.tokens_per_s.unwrap_or(0.0),
        format_duration(eta_seconds)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(step: u64) -> MetricsLine {
        MetricsLine {
            split: "train".into(),
            step,
            epoch: 0.5,
            loss: 7.5,
            mlm_loss: 6.8,
            nsp_loss: 0.7,
            mlm_accuracy: 0.1,
            nsp_accuracy: 0.5,
            lr: Some(1e-4),
            grad_norm: Some(1.5),
            tokens_per_s: Some(1234.0),
            sequences_per_s: Some(10.0),
            sequences: 32,
        }
    }

    #[test]
    fn log_appends_and_truncates_on_resume() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = MetricsLog::open(dir.path(), None).unwrap();
        for s in 1..=5 {
            log.write(&line(s)).unwrap();
        }
        drop(log);
        let path = dir.path().join(METRICS_FILE);
        assert_eq!(read(&path).unwrap().len(), 5);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text
            .lines()
            .next()
            .unwrap()
            .contains(r#""split":"train","step":1"#));
        let mut log = MetricsLog::open(dir.path(), Some(3)).unwrap();
        log.write(&line(4)).unwrap();
        let steps: Vec<u64> = read(&path).unwrap().iter().map(|l| l.step).collect();
        assert_eq!(steps, [1, 2, 3, 4]);
        assert_eq!(read(&path).unwrap()[0], line(1));
    }

    #[test]
    fn progress_line_shows_the_numbers() {
        let text = progress_line(&line(50), 100, 125.0);
        assert!(
            text.starts_with("[############------------] step 50/100"),
            "{text}"
        );
        assert!(
            text.contains("loss 7.5000") && text.contains("lr 1.00e-4"),
            "{text}"
        );
        assert!(
            text.contains("1234 tok/s") && text.ends_with("ETA 2m05s"),
            "{text}"
        );
        assert_eq!(format_duration(3725.0), "1h02m");
        assert_eq!(format_duration(7.0), "7s");
    }
}
