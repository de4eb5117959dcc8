//! Outputs: result tables as CSV, a cache of completed runs keyed by a hash of their
//! configuration, quantile summaries over seeds, and plots as SVG and PNG.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::CliError;
use crate::hash::run_key;

/// One row of results: the metrics of one run at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The setting (noise law, problem, dataset and attack, ...).
    pub setting: String,
    /// The method (estimator, optimizer or rule).
    pub method: String,
    /// The seed.
    pub seed: u64,
    /// The iteration count at which the metrics were taken.
    pub step: usize,
    /// The metric values, in the order of the table's metric names.
    pub values: Vec<f64>,
}

/// The results of one experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultTable {
    /// The experiment's name.
    pub experiment: String,
    /// The metric names: the CSV columns after `step`.
    pub metrics: Vec<String>,
    /// The rows.
    pub records: Vec<Record>,
}

impl ResultTable {
    /// Returns the index of metric `name`.
    pub fn metric_index(&self, name: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m == name)
    }

    /// Writes the table as CSV with columns `experiment, setting, method, seed, step` and
    /// one column per metric.
    ///
    /// # Errors
    ///
    /// [`CliError::Io`] if the file cannot be written.
    pub fn write_csv(&self, path: &Path) -> Result<(), CliError> {
        let mut text = String::from("experiment,setting,method,seed,step");
        for m in &self.metrics {
            text.push(',');
            text.push_str(&quote(m));
        }
        text.push('\n');
        for r in &self.records {
            let _ = write!(
                text,
                "{},{},{},{},{}",
                quote(&self.experiment),
                quote(&r.setting),
                quote(&r.method),
                r.seed,
                r.step
            );
            for v in &r.values {
                let _ = write!(text, ",{v}");
            }
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|e| CliError::io(path, e))
    }

    /// Returns, for each `(setting, method)` and step, the 10th, 50th and 90th percentiles
    /// of metric `metric` over seeds.
    pub fn summarize(&self, metric: usize) -> BTreeMap<(String, String), Vec<BandPoint>> {
        let mut groups: BTreeMap<(String, String), BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
        for r in &self.records {
            groups
                .entry((r.setting.clone(), r.method.clone()))
                .or_default()
                .entry(r.step)
                .or_default()
                .push(r.values[metric]);
        }
        groups
            .into_iter()
            .map(|(key, steps)| {
                let points = steps
                    .into_iter()
                    .map(|(step, mut values)| BandPoint {
                        x: step as f64,
                        low: percentile(&mut values, 0.1),
                        median: percentile(&mut values, 0.5),
                        high: percentile(&mut values, 0.9),
                    })
                    .collect();
                (key, points)
            })
            .collect()
    }
}

/// Quotes a CSV field that contains a comma or a double quote.
fn quote(field: &str) -> String {
    if field.contains(',') || field.contains('"') {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Returns the `q`-quantile of `values` by linear interpolation between order statistics
/// (NumPy's default); NaN counts as `+inf`, and an empty slice gives NaN.
pub fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    for v in values.iter_mut() {
        if v.is_nan() {
            *v = f64::INFINITY;
        }
    }
    values.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    if below == above || values[below] == values[above] {
        values[below]
    } else {
        values[below] + fraction * (values[above] - values[below])
    }
}

/// One point of a summarised curve: the median over seeds and the 10-90 % band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    /// The x coordinate (step, or Byzantine fraction).
    pub x: f64,
    /// The 10th percentile.
    pub low: f64,
    /// The median.
    pub median: f64,
    /// The 90th percentile.
    pub high: f64,
}

/// The cache of completed runs: one small file per run under `runs/`, named by the FNV-1a
/// hash of the run's key (its configuration, setting, method and seed).
#[derive(Debug, Clone)]
pub struct RunCache {
    dir: PathBuf,
}

/// The rows of one run: `(step, metric values)`.
pub type RunRows = Vec<(usize, Vec<f64>)>;

impl RunCache {
    /// Opens (and creates) the cache folder `out_dir/runs`.
    ///
    /// # Errors
    ///
    /// [`CliError::Io`] if the folder cannot be created.
    pub fn open(out_dir: &Path) -> Result<Self, CliError> {
        let dir = out_dir.join("runs");
        std::fs::create_dir_all(&dir).map_err(|e| CliError::io(&dir, e))?;
        Ok(Self { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.csv", run_key(key)))
    }

    /// Returns the stored rows of the run with `key`, if it completed before.
    ///
    /// A file whose first line is not the same key (a hash collision) or that does not
    /// parse is ignored, and the run is repeated.
    pub fn load(&self, key: &str) -> Option<RunRows> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        let mut lines = text.lines();
        if lines.next()? != format!("# {}", key.replace('\n', " ")) {
            return None;
        }
        let mut rows = Vec::new();
        for line in lines {
            let mut fields = line.split(',');
            let step = fields.next()?.parse().ok()?;
            let values: Option<Vec<f64>> = fields.map(|f| f.parse().ok()).collect();
            rows.push((step, values?));
        }
        Some(rows)
    }

    /// Stores the rows of the run with `key`.
    ///
    /// # Errors
    ///
    /// [`CliError::Io`] if the file cannot be written.
    pub fn store(&self, key: &str, rows: &RunRows) -> Result<(), CliError> {
        let mut text = format!("# {}\n", key.replace('\n', " "));
        for (step, values) in rows {
            let _ = write!(text, "{step}");
            for v in values {
                let _ = write!(text, ",{v}");
            }
            text.push('\n');
        }
        let path = self.path(key);
        std::fs::write(&path, text).map_err(|e| CliError::io(&path, e))
    }
}

/// The font shipped with the crate (DejaVu Sans, Bitstream Vera license), so that PNG text
/// does not depend on the machine's fonts.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the shipped font as `sans-serif` for the bitmap backend, once.
fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            log::error!("the shipped font could not be parsed; PNG text will be missing");
        }
    });
}

/// A plot of several curves, each a median line with a shaded 10-90 % band.
#[derive(Debug, Clone)]
pub struct BandPlot {
    /// The title.
    pub title: String,
    /// The x-axis label.
    pub x_label: String,
    /// The y-axis label.
    pub y_label: String,
    /// Whether the y axis is logarithmic (values below the axis are drawn at its bottom).
    pub log_y: bool,
    /// The curves: a legend label and points in increasing `x`.
    pub curves: Vec<(String, Vec<BandPoint>)>,
    /// The corner of the legend.
    pub legend: Legend,
}

/// The corner of a plot that contains the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    /// Upper right.
    UpperRight,
    /// Upper left.
    UpperLeft,
    /// Lower left.
    LowerLeft,
}

impl BandPlot {
    /// Draws the plot to `stem.svg` and `stem.png`, and returns both paths.
    ///
    /// Non-finite values (diverged runs) are drawn at the top of the y range.
    ///
    /// # Errors
    ///
    /// [`CliError::Plot`] if a backend fails.
    pub fn draw(&self, stem: &Path) -> Result<Vec<PathBuf>, CliError> {
        register_font();
        // NOTE: the stem may contain dots (`alpha_1.5`), so the extension is appended.
        let svg = PathBuf::from(format!("{}.svg", stem.display()));
        let png = PathBuf::from(format!("{}.png", stem.display()));
        let size = (900, 560);
        let (x_range, y_low, y_high) = self.ranges();
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |e: String| CliError::Plot { path, reason: e }
        };
        if self.log_y {
            let y = (y_low..y_high).log_scale();
            self.render(
                SVGBackend::new(&svg, size).into_drawing_area(),
                x_range.clone(),
                y,
                (y_low, y_high),
            )
            .map_err(err(&svg))?;
            let y = (y_low..y_high).log_scale();
            self.render(
                BitMapBackend::new(&png, size).into_drawing_area(),
                x_range,
                y,
                (y_low, y_high),
            )
            .map_err(err(&png))?;
        } else {
            self.render(
                SVGBackend::new(&svg, size).into_drawing_area(),
                x_range.clone(),
                y_low..y_high,
                (y_low, y_high),
            )
            .map_err(err(&svg))?;
            self.render(
                BitMapBackend::new(&png, size).into_drawing_area(),
                x_range,
                y_low..y_high,
                (y_low, y_high),
            )
            .map_err(err(&png))?;
        }
        Ok(vec![svg, png])
    }

    /// Returns the x range and the y range covering every finite value.
    fn ranges(&self) -> (std::ops::Range<f64>, f64, f64) {
        let mut x_min = f64::INFINITY;
        let mut x_max = f64::NEG_INFINITY;
        let mut y_min = f64::INFINITY;
        let mut y_max = f64::NEG_INFINITY;
        for (_, points) in &self.curves {
            for p in points {
                x_min = x_min.min(p.x);
                x_max = x_max.max(p.x);
                for y in [p.low, p.median, p.high] {
                    if y.is_finite() && (!self.log_y || y > 0.0) {
                        y_min = y_min.min(y);
                        y_max = y_max.max(y);
                    }
                }
            }
        }
        if !x_min.is_finite() {
            (x_min, x_max) = (0.0, 1.0);
        }
        if x_max <= x_min {
            x_max = x_min + 1.0;
        }
        if !y_min.is_finite() {
            (y_min, y_max) = if self.log_y { (1e-3, 1.0) } else { (0.0, 1.0) };
        }
        if self.log_y {
            // Diverging curves would squash the rest: show at most 10 decades above the
            // smallest value, and draw larger values at the top.
            y_max = y_max.min(y_min * 1e10);
            (y_min, y_max) = (y_min / 1.5, y_max * 1.5);
        } else {
            let pad = ((y_max - y_min) * 0.05).max(1e-9);
            (y_min, y_max) = (y_min - pad, y_max + pad);
        }
        (x_min..x_max, y_min, y_max)
    }

    fn render<DB, Y>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
        x_range: std::ops::Range<f64>,
        y_range: Y,
        (y_bottom, y_top): (f64, f64),
    ) -> Result<(), String>
    where
        DB: DrawingBackend,
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(90)
            .build_cartesian_2d(x_range, y_range)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .x_label_formatter(&|x| format!("{}", (x * 1e6).round() / 1e6))
            .y_label_formatter(&|y| {
                if self.log_y {
                    format!("{y:.0e}")
                } else {
                    format!("{y:.2}")
                }
            })
            .draw()
            .map_err(e)?;

        let clamp = |y: f64| if y.is_finite() { y.min(y_top) } else { y_top };
        let floor = |y: f64| {
            if self.log_y && y < y_bottom {
                y_bottom
            } else {
                y
            }
        };
        for (index, (label, points)) in self.curves.iter().enumerate() {
            let color = Palette99::pick(index).to_rgba();

            // The band: the 90th percentile forwards, then the 10th backwards.
            let mut outline: Vec<(f64, f64)> =
                points.iter().map(|p| (p.x, floor(clamp(p.high)))).collect();
            outline.extend(points.iter().rev().map(|p| (p.x, floor(clamp(p.low)))));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    color.mix(0.15).filled(),
                )))
                .map_err(e)?;
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.x, floor(clamp(p.median)))),
                    color.stroke_width(2),
                ))
                .map_err(e)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(match self.legend {
                Legend::UpperRight => SeriesLabelPosition::UpperRight,
                Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            })
            .draw()
            .map_err(e)?;
        root.present().map_err(e)?;
        Ok(())
    }
}
