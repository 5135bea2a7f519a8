//! Figures of the paper and of a training run, as [`plotly::Plot`]s: they
//! display inline in an evcxr notebook (`plot.evcxr_display()` in JupyterLab,
//! `plot.notebook_display()` in classic Jupyter), save as standalone HTML
//! ([`save_html`]) and, with the `static-export` feature and a headless
//! Chromium, as SVG or PNG (`save_image`).
//!
//! | paper figure | helper |
//! |---|---|
//! | Fig. 5, methods x metrics | [`dot_matrix`] |
//! | Fig. 6, repeated runs | [`stability`] |
//! | Fig. 7 and 10, per set / per metric bars | [`grouped_bars`] |
//! | Fig. 8, AUC per descriptor | [`violin`] |
//! | Fig. 9, AUC across sets | [`box_plot`] |
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

pub use bars::grouped_bars;
pub use curves::{gradient_norms, lines, roc, stability, training_curves};
pub use distributions::{box_plot, violin};
pub use dot_matrix::dot_matrix;
pub use export::save_html;
#[cfg(feature = "static-export")]
pub use export::{save_image, ImageFormat};
pub use heatmap::{attention_heads, attention_heatmap};
pub use logo::{sequence_logo, sequence_logo_svg, LOGO_BASES};
pub use violin::Violin;

use plotly::layout::Axis;
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
/// that grow to fit long tick labels (method names would be clipped).
fn layout(title: &str, x_title: &str, y_title: &str) -> Layout {
    Layout::new()
        .title(title)
        .x_axis(Axis::new().title(x_title).auto_margin(true))
        .y_axis(Axis::new().title(y_title).auto_margin(true))
}
