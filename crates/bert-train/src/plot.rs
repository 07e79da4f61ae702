//! The loss curve: `RUN_DIR/loss.png`, drawn from `metrics.jsonl` at the end of a run.
//!
//! Two panels side by side, masked-LM loss and next-sentence loss against the optimiser step,
//! each with the training line and, when the run evaluates, the evaluation points. The text
//! is set in DejaVu Sans (an ASCII subset in `assets/fonts/`, made by `scripts/subset_font.sh`
//! and embedded in the binary), so the chart is labelled on machines without system fonts.
//! The image is encoded in memory and written through a temporary file and a rename, like
//! every other file of a run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::metrics::{self, MetricsLine, METRICS_FILE};
use bertprep::output::atomic::write_atomic;

/// File name of the loss curve in the run directory.
pub const PLOT_FILE: &str = "loss.png";

/// Width and height of the image in pixels.
pub const SIZE: (u32, u32) = (1200, 480);

/// Colour of the training lines.
pub const TRAIN_COLOUR: RGBColor = RGBColor(31, 119, 180);

/// Colour of the evaluation points and lines.
pub const EVAL_COLOUR: RGBColor = RGBColor(214, 39, 40);

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-ascii.ttf");

/// Why the curve could not be drawn or encoded (plotters' and png's errors, in words: their
/// types are generic over the drawing backend).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DrawError(pub String);

/// Registers the embedded font as plotters' `sans-serif` family, once per process.
fn register_font() -> std::result::Result<(), DrawError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    ok.then_some(())
        .ok_or_else(|| DrawError("the embedded font does not parse".into()))
}

/// Draws `RUN_DIR/metrics.jsonl` into `RUN_DIR/loss.png`. Returns the image's path, or `None`
/// when the log holds no training line yet (nothing to draw, no file written).
pub fn write_loss_curve(run: &Path) -> Result<Option<PathBuf>> {
    let lines = metrics::read(&run.join(METRICS_FILE))?;
    let out = run.join(PLOT_FILE);
    let Some(png) = render(&lines).map_err(|e| Error::Plot {
        path: out.clone(),
        message: e.0,
    })?
    else {
        return Ok(None);
    };
    write_atomic(&out, &png)?;
    Ok(Some(out))
}

/// One panel's series: (step, value) for training and for evaluation.
struct Panel {
    title: &'static str,
    train: Vec<(f64, f64)>,
    eval: Vec<(f64, f64)>,
}

impl Panel {
    fn new(title: &'static str, lines: &[MetricsLine], value: fn(&MetricsLine) -> f64) -> Panel {
        let pick = |split: &str| -> Vec<(f64, f64)> {
            lines
                .iter()
                .filter(|l| l.split == split && value(l).is_finite())
                .map(|l| (l.step as f64, value(l)))
                .collect()
        };
        Panel {
            title,
            train: pick("train"),
            eval: pick("eval"),
        }
    }

    fn points(&self) -> impl Iterator<Item = &(f64, f64)> {
        self.train.iter().chain(&self.eval)
    }
}

/// The PNG bytes of the chart for these metrics lines, or `None` when none is a training line.
pub fn render(lines: &[MetricsLine]) -> std::result::Result<Option<Vec<u8>>, DrawError> {
    let panels = [
        Panel::new("masked LM loss", lines, |l| l.mlm_loss),
        Panel::new("next sentence loss", lines, |l| l.nsp_loss),
    ];
    if panels.iter().all(|p| p.train.is_empty()) {
        return Ok(None);
    }
    register_font()?;
    let (width, height) = SIZE;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| DrawError(e.to_string()))?;
        let areas = root.split_evenly((1, panels.len()));
        for (area, panel) in areas.iter().zip(&panels) {
            draw_panel(area, panel).map_err(|e| DrawError(e.to_string()))?;
        }
        root.present().map_err(|e| DrawError(e.to_string()))?;
    }
    encode_png(&rgb, SIZE).map(Some)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult = std::result::Result<
    (),
    DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>,
>;

fn draw_panel(area: &Area<'_>, panel: &Panel) -> DrawResult {
    let max_step = panel.points().map(|p| p.0).fold(1.0, f64::max);
    let (low, high) = panel
        .points()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let (low, high) = if low.is_finite() {
        let pad = ((high - low) * 0.05).max(1e-3);
        ((low - pad).max(0.0), high + pad)
    } else {
        (0.0, 1.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..max_step, low..high)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(("sans-serif", 14))
        .draw()?;
    if !panel.train.is_empty() {
        chart
            .draw_series(LineSeries::new(
                panel.train.iter().copied(),
                TRAIN_COLOUR.stroke_width(2),
            ))?
            .label("train")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], TRAIN_COLOUR.stroke_width(2))
            });
    }
    if !panel.eval.is_empty() {
        chart.draw_series(LineSeries::new(panel.eval.iter().copied(), EVAL_COLOUR))?;
        chart
            .draw_series(
                panel
                    .eval
                    .iter()
                    .map(|&p| Circle::new(p, 4, EVAL_COLOUR.filled())),
            )?
            .label("eval")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, EVAL_COLOUR.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Encodes 8-bit RGB pixels as a PNG.
fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> std::result::Result<Vec<u8>, DrawError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| DrawError(e.to_string()))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| DrawError(e.to_string()))?;
    writer.finish().map_err(|e| DrawError(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(split: &str, step: u64, mlm: f64, nsp: f64) -> MetricsLine {
        MetricsLine {
            split: split.into(),
            step,
            epoch: 0.0,
            loss: mlm + nsp,
            mlm_loss: mlm,
            nsp_loss: nsp,
            mlm_accuracy: 0.0,
            nsp_accuracy: 0.5,
            lr: None,
            grad_norm: None,
            tokens_per_s: None,
            sequences_per_s: None,
            sequences: 8,
        }
    }

    fn decode(png_bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    fn count(
        rgb: &[u8],
        colour: RGBColor,
        x: std::ops::Range<u32>,
        y: std::ops::Range<u32>,
    ) -> usize {
        let width = SIZE.0 as usize;
        rgb.chunks_exact(3)
            .enumerate()
            .filter(|(i, px)| {
                let (px_x, px_y) = ((i % width) as u32, (i / width) as u32);
                x.contains(&px_x)
                    && y.contains(&px_y)
                    && px[0] == colour.0
                    && px[1] == colour.1
                    && px[2] == colour.2
            })
            .count()
    }

    #[test]
    fn draws_both_panels_with_labels_and_series() {
        let mut lines: Vec<MetricsLine> = (1..=20)
            .map(|s| line("train", s * 10, 8.0 - s as f64 * 0.2, 0.7 - s as f64 * 0.01))
            .collect();
        lines.push(line("eval", 100, 6.5, 0.65));
        lines.push(line("eval", 200, 4.5, 0.55));
        let png_bytes = render(&lines).unwrap().unwrap();
        let (info, rgb) = decode(&png_bytes);
        assert_eq!((info.width, info.height), SIZE);
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let (w, h) = SIZE;
        for half in [0..w / 2, w / 2..w] {
            assert!(
                count(&rgb, TRAIN_COLOUR, half.clone(), 0..h) > 200,
                "train line"
            );
            assert!(
                count(&rgb, EVAL_COLOUR, half.clone(), 0..h) > 20,
                "eval points"
            );
            // The caption band at the top holds glyphs: dark antialiased pixels.
            let dark = rgb
                .chunks_exact(3)
                .enumerate()
                .filter(|(i, px)| {
                    let (x, y) = ((i % w as usize) as u32, (i / w as usize) as u32);
                    half.contains(&x) && y < 36 && px.iter().all(|&c| c < 128)
                })
                .count();
            assert!(dark > 100, "caption text drawn: {dark} dark pixels");
        }
    }

    #[test]
    fn nothing_to_draw_without_training_lines() {
        assert!(render(&[]).unwrap().is_none());
        assert!(render(&[line("eval", 5, 6.0, 0.7)]).unwrap().is_none());
    }

    #[test]
    fn writes_the_file_from_the_run_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(write_loss_curve(dir.path()).unwrap(), None);
        let mut log = metrics::MetricsLog::open(dir.path(), None).unwrap();
        for s in 1..=3 {
            log.write(&line("train", s, 7.0 / s as f64, 0.69)).unwrap();
        }
        let path = write_loss_curve(dir.path()).unwrap().unwrap();
        assert_eq!(path, dir.path().join(PLOT_FILE));
        let (info, _) = decode(&std::fs::read(&path).unwrap());
        assert_eq!((info.width, info.height), SIZE);
    }

    #[test]
    fn a_broken_metrics_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(METRICS_FILE), "{\"split\": 3}\n").unwrap();
        let err = write_loss_curve(dir.path()).unwrap_err().to_string();
        assert!(err.contains(METRICS_FILE), "{err}");
        assert!(!dir.path().join(PLOT_FILE).exists());
    }
}
