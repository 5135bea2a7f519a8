//! The attention map of one window: which of the 128 tokens each token
//! attends to in a Seq_Transformer block.

use plotly::common::{ColorScale, ColorScalePalette};
use plotly::layout::Axis;
use plotly::{HeatMap, Plot};

use super::layout;

/// Heatmap of an `n x n` row-major attention matrix (`weights[q * n + k]` is
/// how much query token `q` attends to key token `k`; each row sums to 1).
///
/// ```
/// use circssnn::plots::attention_heatmap;
/// let p = attention_heatmap(&[0.5, 0.5, 0.1, 0.9], 2, "toy");
/// assert_eq!(p.data().len(), 1);
/// ```
pub fn attention_heatmap(weights: &[f32], n: usize, title: &str) -> Plot {
    assert_eq!(weights.len(), n * n, "an {n} x {n} matrix");
    let z: Vec<Vec<f32>> = weights.chunks(n).map(<[f32]>::to_vec).collect();
    let mut plot = Plot::new();
    plot.add_trace(HeatMap::new_z(z).color_scale(ColorScale::Palette(ColorScalePalette::Viridis)));
    // Query 0 at the top, as a matrix is read.
    plot.set_layout(
        layout(title, "key token", "query token")
            .y_axis(
                Axis::new()
                    .title("query token")
                    .range(vec![n as f64 - 0.5, -0.5]),
            )
            .width(620)
            .height(560),
    );
    plot
}
