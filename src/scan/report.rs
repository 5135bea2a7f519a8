//! `report.html` of a scan: per transcript, a track per RBP (the highest
//! window probability covering each nucleotide) with the back-splice
//! junction and each model's peak threshold marked, and an RBP x position
//! heatmap; plotly.js is embedded, so the page opens offline.

use std::fmt::Write as _;

use plotly::common::{ColorScale, ColorScalePalette, DashType, Mode};
use plotly::layout::{Axis, Shape, ShapeLine, ShapeType};
use plotly::{HeatMap, Layout, Plot, Scatter};

use super::{ScanConfig, ScanModel, ScanSummary, Track};

/// Points drawn per track at most: longer transcripts are binned (maximum
/// per bin), so a 1 Mb record does not make a 100 MB page.
const MAX_POINTS: usize = 2000;

/// One transcript as drawn.
pub(super) struct Drawn {
    id: String,
    len: usize,
    circular: bool,
    /// Nucleotides per point.
    bin: usize,
    /// Per model, the binned track.
    tracks: Vec<Vec<f64>>,
}

impl Drawn {
    pub(super) fn new(id: &str, len: usize, circular: bool, tracks: &[Track]) -> Self {
        let bin = len.div_ceil(MAX_POINTS).max(1);
        let tracks = tracks
            .iter()
            .map(|t| {
                t.per_nt
                    .chunks(bin)
                    .map(|c| c.iter().copied().fold(0.0, f64::max))
                    .collect()
            })
            .collect();
        Drawn {
            id: id.to_string(),
            len,
            circular,
            bin,
            tracks,
        }
    }

    fn x(&self) -> Vec<f64> {
        (0..self.tracks.first().map_or(0, Vec::len))
            .map(|i| (i * self.bin) as f64 + self.bin as f64 / 2.0 - 0.5)
            .collect()
    }
}

impl Drawn {
    /// The tracks as one figure.
    pub(super) fn track_plot(&self, models: &[ScanModel]) -> Plot {
        let d = self;
        let mut plot = Plot::new();
        let x = d.x();
        for (m, t) in models.iter().zip(&d.tracks) {
            plot.add_trace(
                Scatter::new(x.clone(), t.clone())
                    .mode(Mode::Lines)
                    .name(&m.name),
            );
        }
        let mut layout = Layout::new()
            .title(format!(
                "{} ({} nt{}): P(bound), highest window over each nucleotide",
                d.id,
                d.len,
                if d.bin > 1 {
                    format!(", {} nt per point", d.bin)
                } else {
                    String::new()
                }
            ))
            .x_axis(
                Axis::new()
                    .title("position (nt from the back-splice junction)")
                    .range(vec![0.0, d.len as f64]),
            )
            .y_axis(Axis::new().title("P(bound)").range(vec![0.0, 1.0]))
            .height(420);
        let mut shapes = Vec::new();
        if d.circular {
            for x in [0.0, d.len as f64] {
                shapes.push(
                    Shape::new()
                        .shape_type(ShapeType::Line)
                        .x0(x)
                        .x1(x)
                        .y0(0.0)
                        .y1(1.0)
                        .line(
                            ShapeLine::new()
                                .color("black")
                                .width(2.0)
                                .dash(DashType::Dash),
                        ),
                );
            }
        }
        // With one model its threshold is drawn; with many the lines would hide the tracks.
        if let [m] = models {
            shapes.push(
                Shape::new()
                    .shape_type(ShapeType::Line)
                    .x0(0.0)
                    .x1(d.len as f64)
                    .y0(m.threshold)
                    .y1(m.threshold)
                    .line(ShapeLine::new().color("red").width(1.0).dash(DashType::Dot)),
            );
        }
        layout = layout.shapes(shapes);
        plot.set_layout(layout);
        plot
    }

    /// Every model as an RBP x position heatmap.
    pub(super) fn heatmap_plot(&self, models: &[ScanModel]) -> Plot {
        let d = self;
        let mut plot = Plot::new();
        let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
        plot.add_trace(
            HeatMap::new(d.x(), names, d.tracks.clone())
                .zmin(0.0)
                .zmax(1.0)
                .color_scale(ColorScale::Palette(ColorScalePalette::Viridis)),
        );
        plot.set_layout(
            Layout::new()
                .title(format!("{}: every RBP along the transcript", d.id))
                .x_axis(Axis::new().title("position (nt)"))
                .y_axis(Axis::new().auto_margin(true))
                .height((160 + 22 * models.len()).min(1200)),
        );
        plot
    }
}

/// The whole page.
pub(super) fn html(
    drawn: &[Drawn],
    models: &[ScanModel],
    cfg: &ScanConfig,
    s: &ScanSummary,
) -> String {
    // Embedded, not beside the page: a scan report is one file a user
    // sends on, and there is one per scan, not one per figure.
    let plotly_js = format!(
        "<script type=\"text/javascript\">{}</script>",
        crate::plots::plotly_js()
    );
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>circssnn scan</h1><p>{} transcripts ({} empty, skipped), {} windows of 101 nt every {} nt, {}, \
         each scored by {} model(s). A probability is the model's belief that the RBP binds this 101-nt \
         window, learned from CLIP-seq sites of the benchmark; it is not a binding affinity, and a model \
         trained against one pool of negative transcripts can also score how unlike those transcripts a \
         window is. Peaks: windows above the threshold, merged.</p>",
        s.records,
        s.empty,
        s.windows,
        cfg.stride,
        if cfg.circular {
            "circular (windows run across the back-splice junction, dashed lines)"
        } else {
            "linear"
        },
        models.len()
    );
    body.push_str("<table><tr><th>RBP</th><th>threshold</th><th>from</th><th>model</th></tr>");
    for m in models {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{:.4}</td><td>{}</td><td>{}</td></tr>",
            m.name, m.threshold, m.threshold_source, m.about
        );
    }
    body.push_str("</table>");
    if drawn.len() < s.records {
        let _ = write!(
            body,
            "<p>Drawn: the first {} of {} transcripts.</p>",
            drawn.len(),
            s.records
        );
    }
    for (i, d) in drawn.iter().enumerate() {
        let _ = write!(body, "<h2>{}</h2>", d.id);
        body.push_str(
            &d.track_plot(models)
                .to_inline_html(Some(&format!("track{i}"))),
        );
        if models.len() > 1 {
            body.push_str(
                &d.heatmap_plot(models)
                    .to_inline_html(Some(&format!("heat{i}"))),
            );
        }
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>circssnn scan</title>{plotly_js}\
         <style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:0 1em;text-align:left}}</style>\
         </head><body>{body}</body></html>\n"
    )
}
