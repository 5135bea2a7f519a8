//! The attention map of one window: which of the 128 tokens each token
//! attends to in a Seq_Transformer block.

use plotly::common::{Anchor, ColorScale, ColorScalePalette};
use plotly::layout::{Annotation, Axis, Layout};
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

/// Attention maps of several heads (or windows) side by side, in a grid
/// of `cols` columns (at most 8 panels, plotly's named axes): `panels`
/// are `(panel title, n x n row-major weights)`, all on one colour scale
/// from 0 to the largest weight so panels compare by colour. `axis_title`
/// says what the token axes are (both axes of every panel, query rows from
/// the top).
///
/// ```
/// use circssnn::plots::attention_heads;
/// let p = attention_heads(&[("head 1".into(), vec![1.0, 0.0, 0.5, 0.5]), ("head 2".into(), vec![0.2, 0.8, 0.9, 0.1])], 2, 2, "toy", "token");
/// assert_eq!(p.data().len(), 2);
/// assert!(p.to_json().contains("\"xaxis2\""));
/// ```
pub fn attention_heads(
    panels: &[(String, Vec<f32>)],
    n: usize,
    cols: usize,
    title: &str,
    axis_title: &str,
) -> Plot {
    assert!(
        (1..=8).contains(&panels.len()),
        "1 to 8 panels (plotly names 8 axes)"
    );
    assert!(
        panels.iter().all(|(_, w)| w.len() == n * n),
        "each panel an {n} x {n} matrix"
    );
    let cols = cols.clamp(1, panels.len());
    let rows = panels.len().div_ceil(cols);
    let zmax = panels
        .iter()
        .flat_map(|(_, w)| w.iter())
        .fold(0f32, |m, &v| m.max(v)) as f64;
    let (gap_x, gap_y) = (0.04, 0.1);
    let (w, h) = (
        (1.0 - gap_x * (cols - 1) as f64) / cols as f64,
        (1.0 - 0.08 - gap_y * (rows - 1) as f64) / rows as f64,
    );
    let mut plot = Plot::new();
    let mut layout = layout(title, "", "")
        .width(260 * cols + 120)
        .height(270 * rows + 110);
    let mut notes = Vec::new();
    for (i, (name, weights)) in panels.iter().enumerate() {
        let (r, c) = (i / cols, i % cols);
        let (x0, y1) = (c as f64 * (w + gap_x), 0.92 - r as f64 * (h + gap_y));
        let suffix = if i == 0 {
            String::new()
        } else {
            (i + 1).to_string()
        };
        // Four decimals are below what a colour shows, and a figure of eight
        // 128 x 128 panels shrinks from 1.9 to ~0.6 MB of JSON in a notebook.
        let z: Vec<Vec<f32>> = weights
            .chunks(n)
            .map(|r| r.iter().map(|v| (v * 1e4).round() / 1e4).collect())
            .collect();
        plot.add_trace(
            HeatMap::new_z(z)
                .color_scale(ColorScale::Palette(ColorScalePalette::Viridis))
                .zmin(0.0)
                .zmax(zmax)
                .show_scale(i == 0)
                .x_axis(format!("x{suffix}"))
                .y_axis(format!("y{suffix}")),
        );
        let x_axis = Axis::new()
            .domain(&[x0, x0 + w])
            .anchor(format!("y{suffix}"))
            .show_tick_labels(r == rows - 1)
            .title(if r == rows - 1 { axis_title } else { "" });
        let y_axis = Axis::new()
            .domain(&[y1 - h, y1])
            .anchor(format!("x{suffix}"))
            .range(vec![n as f64 - 0.5, -0.5])
            .show_tick_labels(c == 0)
            .title(if c == 0 { axis_title } else { "" });
        layout = with_axes(layout, i, x_axis, y_axis);
        notes.push(
            Annotation::new()
                .text(name)
                .x_ref("paper")
                .y_ref("paper")
                .x(x0 + w / 2.0)
                .y(y1 + 0.01)
                .show_arrow(false)
                .y_anchor(Anchor::Bottom),
        );
    }
    plot.set_layout(layout.annotations(notes));
    plot
}

/// `layout` with the `i`-th (0-based) pair of named axes set.
fn with_axes(layout: Layout, i: usize, x: Axis, y: Axis) -> Layout {
    match i {
        0 => layout.x_axis(x).y_axis(y),
        1 => layout.x_axis2(x).y_axis2(y),
        2 => layout.x_axis3(x).y_axis3(y),
        3 => layout.x_axis4(x).y_axis4(y),
        4 => layout.x_axis5(x).y_axis5(y),
        5 => layout.x_axis6(x).y_axis6(y),
        6 => layout.x_axis7(x).y_axis7(y),
        _ => layout.x_axis8(x).y_axis8(y),
    }
}
