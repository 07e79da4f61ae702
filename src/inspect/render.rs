//! The [`Report`] as text for a person: sections `Files`, `Statistics`, `Shards` (directories),
//! `Instances`, `Check` and `Notes`, with the length histogram drawn as bars.
//!
//! Colour is plain ANSI SGR codes and only when the caller asks for it (the binary does so when
//! stdout is a terminal and `NO_COLOR` is unset): predictions are yellow (`[MASK→word]`), red
//! (`[random→word]`) or green (`[kept word]`). Without colour the output is plain text, the same
//! bytes for the same shard, which is what the snapshot tests hold it to. Decoded segments are
//! wrapped at [`WIDTH`] columns.

use std::fmt::Write;

use super::decode::{PredictionKind, Span};
use super::stats::StatsSummary;
use super::{CheckReport, Report, TokenizerReport};
use crate::config::Objective;
use crate::shard::meta::row_form_of;
use crate::shard::RowForm;

/// Columns decoded text is wrapped at.
pub const WIDTH: usize = 100;

/// Histogram bar length for the fullest bucket.
const BAR: usize = 40;

const LABEL: usize = 17;

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
struct Paint {
    color: bool,
}

impl Paint {
    fn code(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn heading(&self, text: &str) -> String {
        self.code("1", text)
    }

    fn dim(&self, text: &str) -> String {
        self.code("2", text)
    }

    fn kind(&self, kind: PredictionKind, text: &str) -> String {
        match kind {
            PredictionKind::Mask => self.code("33", text),
            PredictionKind::Random => self.code("31", text),
            PredictionKind::Kept => self.code("32", text),
        }
    }
}

/// Renders the report as text; `color` adds ANSI colour codes.
pub fn text(report: &Report, color: bool) -> String {
    let p = Paint { color };
    let mut out = String::new();
    header(&mut out, report);
    files(&mut out, report, p);
    statistics(&mut out, &report.stats, report.config.as_ref(), p);
    if report.kind == "directory" {
        shards(&mut out, report, p);
    }
    instances(&mut out, report, p);
    if let Some(check) = &report.check {
        check_section(&mut out, check, report, p);
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\n{}", p.heading("Notes"));
        for note in &report.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    out
}

fn header(out: &mut String, r: &Report) {
    let what = if r.kind == "directory" {
        format!(
            "directory of {} shard{}{}",
            r.files.shards,
            plural(r.files.shards as u64),
            if r.files.manifest {
                " with manifest.json"
            } else {
                ", no manifest.json"
            }
        )
    } else {
        "shard".to_string()
    };
    let _ = writeln!(out, "{} ({what})", r.path);
}

fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "  {label:<LABEL$}{value}");
}

fn more(out: &mut String, value: impl std::fmt::Display) {
    let _ = writeln!(out, "  {:<LABEL$}{value}", "");
}

/// The `Files` section: sizes, compression, schema, writer, tokenizer and build config.
fn files(out: &mut String, r: &Report, p: Paint) {
    let f = &r.files;
    let _ = writeln!(out, "\n{}", p.heading("Files"));
    line(out, "rows", grouped(f.rows));
    line(out, "row groups", grouped(f.row_groups as u64));
    line(
        out,
        "bytes on disk",
        format!(
            "{} ({}), {:.1} per instance",
            grouped(f.bytes),
            human_bytes(f.bytes),
            f.bytes_per_row
        ),
    );
    compression(out, r);
    line(out, "schema version", opt(r.schema_version));
    line(out, "created by", r.created_by.as_deref().unwrap_or("-"));
    tokenizer(out, &r.tokenizer);
    build_config(out, r.config.as_ref());
}

/// The `compression` line: the codecs, with the zstd level when the config records it.
fn compression(out: &mut String, r: &Report) {
    let f = &r.files;
    let level = r
        .config
        .as_ref()
        .and_then(|c| c.get("zstd_level"))
        .and_then(|l| l.as_i64());
    let codecs = f.compression.join(", ");
    match level {
        Some(level) if f.compression == ["zstd"] => {
            line(out, "compression", format!("zstd (level {level})"))
        }
        _ => line(
            out,
            "compression",
            if codecs.is_empty() {
                "-".into()
            } else {
                codecs
            },
        ),
    }
}

/// The `tokenizer` lines: origin and SHA-256, special ids, and the file decoded with.
fn tokenizer(out: &mut String, t: &TokenizerReport) {
    line(
        out,
        "tokenizer",
        format!(
            "{}{}",
            t.origin.as_deref().unwrap_or("unknown"),
            t.sha256
                .as_deref()
                .map(|s| format!(" (SHA-256 {})", short(s)))
                .unwrap_or_default()
        ),
    );
    if let Some(sp) = t.special_tokens {
        more(
            out,
            format!(
                "[PAD]={} [UNK]={} [CLS]={} [SEP]={} [MASK]={}",
                sp.pad, sp.unk, sp.cls, sp.sep, sp.mask
            ),
        );
    }
    match (&t.file, t.vocab_size) {
        (Some(file), Some(size)) => more(
            out,
            format!(
                "decoded with {file} ({} entries{})",
                grouped(size as u64),
                match t.matches_shards {
                    Some(true) => ", same SHA-256",
                    Some(false) => ", DIFFERENT SHA-256",
                    None => "",
                }
            ),
        ),
        _ => more(out, "no tokenizer: tokens shown as ids"),
    }
}

/// The `build config` lines: the config's `key=value` pairs, filled to the width.
fn build_config(out: &mut String, config: Option<&serde_json::Value>) {
    if let Some(serde_json::Value::Object(config)) = config {
        let pairs: Vec<String> = config
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        for (i, l) in fill(&pairs, WIDTH - LABEL - 2).iter().enumerate() {
            if i == 0 {
                line(out, "build config", l);
            } else {
                more(out, l);
            }
        }
    } else {
        line(out, "build config", "- (no bertprep.config metadata)");
    }
}

fn statistics(out: &mut String, s: &StatsSummary, config: Option<&serde_json::Value>, p: Paint) {
    let form = row_form_of(config);
    let max_seq_len = config
        .and_then(|c| c.get("max_seq_len"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(1);
    let _ = writeln!(out, "\n{}", p.heading("Statistics"));
    line(
        out,
        "num_tokens",
        format!(
            "min {}, mean {:.2}, max {}",
            s.num_tokens.min, s.num_tokens.mean, s.num_tokens.max
        ),
    );
    let biggest = s
        .num_tokens
        .histogram
        .iter()
        .map(|b| b.rows)
        .max()
        .unwrap_or(0);
    for b in &s.num_tokens.histogram {
        let range = format!("{}-{}", b.from, b.to);
        let _ = writeln!(
            out,
            "  {:>w$} |{:<BAR$} {}",
            range,
            bar(b.rows, biggest),
            grouped(b.rows),
            w = LABEL - 2
        );
    }
    let pr = &s.predictions;
    if form.is_static() {
        line(
            out,
            "predictions",
            format!(
                "{:.2} per instance (min {}, max {}), {} in all",
                pr.per_instance_mean,
                pr.per_instance_min,
                pr.per_instance_max,
                grouped(pr.total)
            ),
        );
        more(
            out,
            format!(
                "{} {}, {} {}, {} {}",
                p.kind(PredictionKind::Mask, "[MASK]"),
                percent(pr.mask_share),
                p.kind(PredictionKind::Random, "random"),
                percent(pr.random_share),
                p.kind(PredictionKind::Kept, "kept"),
                percent(pr.kept_share)
            ),
        );
    } else {
        line(
            out,
            "predictions",
            "none stored: masks are drawn in training (--masking dynamic)",
        );
    }
    let (task, label) = match form.objective {
        Objective::Nsp => ("next sentence", "random"),
        Objective::Sop => ("sentence order", "swapped"),
        Objective::None => {
            line(
                out,
                "rows",
                format!(
                    "whole sentences, no sentence pair (--objective none); mean fill {}",
                    percent(s.num_tokens.mean / max_seq_len.max(1) as f64)
                ),
            );
            return padding_line(out, s, form);
        }
    };
    line(
        out,
        task,
        format!(
            "{label} {} ({} of {})",
            percent(s.next_sentence.random_next_share),
            grouped(s.next_sentence.random_next),
            grouped(s.rows)
        ),
    );
    line(
        out,
        "segment A",
        format!("mean {:.2} tokens", s.segment_a_mean),
    );
    line(
        out,
        "segment B",
        format!("mean {:.2} tokens", s.segment_b_mean),
    );
    padding_line(out, s, form);
}

/// The `padding` line: the share of stored positions that are padding.
fn padding_line(out: &mut String, s: &StatsSummary, form: RowForm) {
    if !form.is_padded() {
        line(out, "padding", "none stored (--padding none)");
        return;
    }
    line(
        out,
        "padding",
        format!("{} of positions", percent(s.padding_share)),
    );
}

/// Whether the build config says `--objective sop` (its pair label is "A and B swapped").
fn objective_is_sop(config: Option<&serde_json::Value>) -> bool {
    row_form_of(config).objective == Objective::Sop
}

fn shards(out: &mut String, r: &Report, p: Paint) {
    let _ = writeln!(out, "\n{}", p.heading("Shards"));
    let name_width = r
        .shards
        .iter()
        .map(|s| s.file.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "  {}",
        p.dim(&format!(
            "{:<name_width$} {:>10} {:>7} {:>14} {:>9} {:>12} {:>10}",
            "file",
            "rows",
            "groups",
            "bytes",
            "mean len",
            "predictions",
            if objective_is_sop(r.config.as_ref()) {
                "swapped"
            } else {
                "random"
            }
        ))
    );
    for s in &r.shards {
        let listed = match s.manifest_rows {
            Some(rows) if rows != s.rows => format!("  (manifest.json: {} rows)", grouped(rows)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<name_width$} {:>10} {:>7} {:>14} {:>9.2} {:>12.2} {:>10}{listed}",
            s.file,
            grouped(s.rows),
            s.row_groups,
            grouped(s.bytes),
            s.stats.num_tokens.mean,
            s.stats.predictions.per_instance_mean,
            percent(s.stats.next_sentence.random_next_share),
        );
    }
}

fn instances(out: &mut String, r: &Report, p: Paint) {
    if r.instances.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", p.heading("Instances"));
    let form = row_form_of(r.config.as_ref());
    for (i, d) in r.instances.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "  {} {} row {} · source file {}, {}document {} · {} tokens, {} prediction{}",
            p.heading(&format!("#{}", d.index)),
            d.shard,
            d.row,
            d.source_file,
            match d.source_piece {
                0 => String::new(),
                piece => format!("piece {piece}, "),
            },
            d.source_document,
            d.num_tokens,
            d.predictions.len(),
            plural(d.predictions.len() as u64)
        );
        if form.objective == Objective::None {
            // No pair label to show.
        } else if form.objective == Objective::Sop {
            let order = match d.next_sentence_label {
                0 => "A then B, in document order".to_string(),
                1 => "A and B swapped".to_string(),
                other => format!("invalid label {other}"),
            };
            let _ = writeln!(
                out,
                "    {} {order} (sentence_order_label {})",
                p.dim("SOP:"),
                d.next_sentence_label
            );
        } else {
            let _ = writeln!(
                out,
                "    {} {} (next_sentence_label {})",
                p.dim("NSP:"),
                d.next_sentence,
                d.next_sentence_label
            );
        }
        for (name, spans) in [("A:", &d.spans[0]), ("B:", &d.spans[1])] {
            let lines = wrap(spans, WIDTH - 9, p);
            let lead = p.dim(&format!("{name:<4}"));
            let _ = writeln!(
                out,
                "    {lead}{}",
                lines.first().map_or("", String::as_str)
            );
            for l in lines.iter().skip(1) {
                let _ = writeln!(out, "        {l}");
            }
        }
    }
}

fn check_section(out: &mut String, c: &CheckReport, r: &Report, p: Paint) {
    let _ = writeln!(out, "\n{}", p.heading("Check"));
    if c.ok {
        let manifest = if c.checksums_verified > 0 {
            format!(
                "; {} shard{} match{} manifest.json (rows, bytes, SHA-256)",
                c.checksums_verified,
                plural(c.checksums_verified as u64),
                if c.checksums_verified == 1 { "es" } else { "" }
            )
        } else if r.kind == "shard" {
            "; not listed in a manifest.json, checksum not verified".into()
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {} {} row{} hold every invariant{manifest}",
            p.code("1;32", "OK:"),
            grouped(c.rows_checked),
            plural(c.rows_checked)
        );
        return;
    }
    let _ = writeln!(
        out,
        "  {} {} violation{} ({} of {} rows broken)",
        p.code("1;31", "FAILED:"),
        grouped(c.violations_total),
        plural(c.violations_total),
        grouped(c.rows_failed),
        grouped(c.rows_checked)
    );
    for v in &c.violations {
        let _ = writeln!(out, "    {v}");
    }
    let hidden = c.violations_total - c.violations.len() as u64;
    if hidden > 0 {
        let _ = writeln!(out, "    ... and {} more", grouped(hidden));
    }
}

/// Spans wrapped into lines of at most `width` visible columns (a longer word gets its own line).
fn wrap(spans: &[Span], width: usize, p: Paint) -> Vec<String> {
    // Words: (visible text, styled text, attaches to the previous word).
    let mut words: Vec<(String, String, bool)> = Vec::new();
    for span in spans {
        match span {
            Span::Text { text, attach } => {
                for (i, w) in text.split_whitespace().enumerate() {
                    words.push((w.to_string(), w.to_string(), i == 0 && *attach));
                }
            }
            Span::Prediction { kind, attach, .. } => {
                let plain = span.plain();
                let styled = p.kind(*kind, &plain);
                words.push((plain, styled, *attach));
            }
        }
    }
    // Glue attached words to their predecessor so a line never breaks inside a word.
    let mut glued: Vec<(String, String)> = Vec::new();
    for (plain, styled, attach) in words {
        match glued.last_mut() {
            Some(last) if attach => {
                last.0.push_str(&plain);
                last.1.push_str(&styled);
            }
            _ => glued.push((plain, styled)),
        }
    }
    let mut lines = Vec::new();
    let (mut current, mut visible) = (String::new(), 0);
    for (plain, styled) in glued {
        let w = plain.chars().count();
        if visible > 0 && visible + 1 + w > width {
            lines.push(std::mem::take(&mut current));
            visible = 0;
        }
        if visible > 0 {
            current.push(' ');
            visible += 1;
        }
        current.push_str(&styled);
        visible += w;
    }
    if visible > 0 {
        lines.push(current);
    }
    lines
}

/// Greedy fill of `items` (joined by spaces) into lines of at most `width` columns.
fn fill(items: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(l) if l.len() + 1 + item.len() <= width => {
                l.push(' ');
                l.push_str(item);
            }
            _ => lines.push(item.clone()),
        }
    }
    lines
}

/// A bar of `count / biggest * BAR` columns, with eighth-blocks for the remainder.
fn bar(count: u64, biggest: u64) -> String {
    if biggest == 0 || count == 0 {
        return String::new();
    }
    let eighths = ((count as f64 / biggest as f64) * (BAR * 8) as f64).round() as usize;
    let eighths = eighths.max(1);
    let mut s = "█".repeat(eighths / 8);
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    s.push_str(PARTS[eighths % 8]);
    s
}

/// `1234567` → `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn human_bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
    }

    #[test]
    fn bars_scale_to_the_biggest_bucket() {
        assert_eq!(bar(0, 10), "");
        assert_eq!(bar(10, 10).chars().count(), BAR);
        assert_eq!(bar(5, 10), "█".repeat(BAR / 2));
        assert_eq!(bar(1, 1000), "▏");
    }

    #[test]
    fn wraps_without_breaking_attached_words() {
        let spans = vec![
            Span::Text {
                text: "aaaa bbbb".into(),
                attach: false,
            },
            Span::Prediction {
                kind: PredictionKind::Mask,
                label: "##cc".into(),
                attach: true,
            },
            Span::Text {
                text: "dddd".into(),
                attach: false,
            },
        ];
        let lines = wrap(&spans, 18, Paint { color: false });
        assert_eq!(lines, ["aaaa", "bbbb[MASK→##cc]", "dddd"]);
        let colored = wrap(&spans, 200, Paint { color: true });
        assert_eq!(colored.len(), 1);
        assert!(
            colored[0].contains("\x1b[33m[MASK→##cc]\x1b[0m"),
            "{colored:?}"
        );
    }
}
