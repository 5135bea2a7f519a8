//! The paper's Fig. 5: methods x metrics as a matrix of dots whose colour
//! (and size) give the value, with the value written on each dot.

use plotly::color::NamedColor;
use plotly::common::{ColorBar, ColorScale, ColorScalePalette, Marker, Mode, Position};
use plotly::{Plot, Scatter};

use super::layout;

/// `values[i][j]` is method `i` on metric `j`.
///
/// ```
/// use circssnn::plots::dot_matrix;
/// let m = vec!["CircSSNN".to_string(), "baseline".to_string()];
/// let k = vec!["ACC".to_string(), "AUC".to_string()];
/// let p = dot_matrix(&m, &k, &[vec![0.85, 0.93], vec![0.72, 0.79]], "means over 37 sets");
/// assert_eq!(p.data().len(), 1);
/// ```
pub fn dot_matrix(
    methods: &[String],
    metrics: &[String],
    values: &[Vec<f64>],
    title: &str,
) -> Plot {
    assert_eq!(values.len(), methods.len(), "one row of values per method");
    let (mut x, mut y, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for (method, row) in methods.iter().zip(values) {
        assert_eq!(
            row.len(),
            metrics.len(),
            "one value per metric for {method}"
        );
        for (metric, &value) in metrics.iter().zip(row) {
            x.push(metric.clone());
            y.push(method.clone());
            v.push(value);
        }
    }
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    // Dots from 18 to 48 px across the observed range, so differences show.
    let size: Vec<usize> = v
        .iter()
        .map(|&x| (18.0 + 30.0 * (x - lo) / (hi - lo).max(1e-9)).round() as usize)
        .collect();
    let text: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
    let trace = Scatter::new(x, y)
        .mode(Mode::MarkersText)
        .text_array(text)
        .text_position(Position::MiddleCenter)
        .text_font(
            plotly::common::Font::new()
                .size(10)
                .color(NamedColor::Black),
        )
        .marker(
            Marker::new()
                .size_array(size)
                .color_array(v)
                .color_scale(ColorScale::Palette(ColorScalePalette::Viridis))
                .show_scale(true)
                .color_bar(ColorBar::new()),
        );
    let mut plot = Plot::new();
    plot.add_trace(trace);
    plot.set_layout(layout(title, "metric", "method"));
    plot
}
