//! Figures of the paper and of a training run, as [`plotly::Plot`]s: they
//! display inline in an evcxr notebook (`plot.evcxr_display()` in JupyterLab,
//! `plot.notebook_display()` in classic Jupyter), save as HTML that works
//! offline ([`save_html`], plotly.js beside the page) and, with the `static-export` feature and a headless
//! Chromium, as SVG or PNG (`save_image`).
//!
//! | paper figure | helper |
//! |---|---|
//! | Fig. 5, methods x metrics | [`dot_matrix`] |
//! | Fig. 6, repeated runs (mean ± sd band) | [`stability`] |
//! | Fig. 7, one set under two variants | [`paired_differences`] |
//! | Fig. 8, AUC per descriptor, each set joined across them | [`violin_paired`] ([`violin`] unpaired) |
//! | Fig. 9, AUC across sets | [`box_plot`] |
//! | Fig. 10 and the protocols, means over sets with their 95% intervals | [`mean_intervals`] |
//! | any per-category bars | [`grouped_bars`] |
//!
//! and for a run: [`roc`], [`training_curves`], [`attention_heatmap`], [`attention_heads`],
//! [`gradient_norms`], [`lines`]; for why a window binds: [`sequence_logo`].
//!
//! ```
//! use circssnn::plots::{violin, Series};
//! let plot = violin(
//!     &[Series::new("KNFP", vec![0.90, 0.85]), Series::new("fusion", vec![0.93, 0.88])],
//!     "AUC by descriptor",
//!     "test AUC",
//! );
//! assert!(plot.to_json().contains("\"violin\""));
//! ```

mod bars;
mod curves;
mod distributions;
mod dot_matrix;
mod export;
mod heatmap;
mod logo;
mod violin;

pub use bars::{difference_by_size, grouped_bars, paired_differences};
pub use curves::{gradient_norms, lines, mean_intervals, roc, stability, training_curves};
pub use distributions::{box_plot, violin, violin_paired};
pub use dot_matrix::dot_matrix;
pub use export::{plotly_js, save_html, PLOTLY_JS_FILE};
#[cfg(feature = "static-export")]
pub use export::{save_image, ImageFormat};
pub use heatmap::{attention_heads, attention_heatmap};
pub use logo::{sequence_logo, sequence_logo_svg, LOGO_BASES};
pub use violin::Violin;

use plotly::common::{Anchor, Pad, Reference, Title};
use plotly::layout::{Axis, Legend};
use plotly::Layout;

/// A named list of values: one violin, box, bar series or curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend / category label.
    pub name: String,
    /// The values.
    pub values: Vec<f64>,
}

impl Series {
    /// A series named `name`.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Self {
        Series {
            name: name.into(),
            values,
        }
    }
}

/// The layout every helper starts from: title and axis titles, with margins
/// that grow to fit long tick labels (method names would be clipped), and
/// the legend in rows between the title and the plot. A legend at the right
/// is laid out with the exporting browser's font: read with a wider one
/// (GitHub's SVG view), its long entries ran past the image's right edge and
/// were cut off ("…validation-selected mean 0.8"); in rows a long entry
/// wraps instead. Above the plot, not under it: there it ran into rotated
/// set names and the x-axis title. The title is pinned to the top of the
/// figure, so a legend of several rows does not run into it either.
fn layout(title: &str, x_title: &str, y_title: &str) -> Layout {
    Layout::new()
        .title(
            Title::with_text(title)
                .y_ref(Reference::Container)
                .y(1.0)
                .y_anchor(Anchor::Top)
                .pad(Pad::new(20, 0, 0)),
        )
        .x_axis(Axis::new().title(x_title).auto_margin(true))
        .y_axis(Axis::new().title(y_title).auto_margin(true))
        .legend(
            Legend::new()
                .orientation(plotly::common::Orientation::Horizontal)
                .x(0.0)
                .x_anchor(Anchor::Left)
                .y(1.0)
                .y_anchor(Anchor::Bottom),
        )
}

/// plotly.js's default colours, so a series' band, mean line and points
/// share one colour (each trace would otherwise take the next one).
const COLORS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// Colour `i` of [`COLORS`] (cycling), as `rgba(...)` with `alpha`.
fn color(i: usize, alpha: f64) -> String {
    let hex = COLORS[i % COLORS.len()];
    let c = |k: usize| u8::from_str_radix(&hex[k..k + 2], 16).unwrap_or(0);
    format!("rgba({}, {}, {}, {alpha})", c(1), c(3), c(5))
}
