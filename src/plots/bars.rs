//! Grouped bars: one group per category (a set, or a metric), one bar per
//! series (pre- vs post-norm, paper Fig. 7; CircSSNN vs another method,
//! Fig. 10).

use plotly::common::{DashType, Line, Mode};
use plotly::layout::{Axis, BarMode, CategoryOrder};
use plotly::{Bar, Plot, Scatter};

use super::{color, layout, Series};

/// Bars of each series over `categories` (`series[i].values[j]` is the bar
/// of series `i` in category `j`).
///
/// ```
/// use circssnn::plots::{grouped_bars, Series};
/// let sets = vec!["TIAL1".to_string(), "QKI".to_string()];
/// let p = grouped_bars(&sets, &[Series::new("pre", vec![0.9, 0.8]), Series::new("post", vec![0.88, 0.79])], "", "AUC");
/// assert_eq!(p.data().len(), 2);
/// ```
pub fn grouped_bars(categories: &[String], series: &[Series], title: &str, y_title: &str) -> Plot {
    let mut plot = Plot::new();
    for s in series {
        assert_eq!(
            s.values.len(),
            categories.len(),
            "series {} has {} values for {} categories",
            s.name,
            s.values.len(),
            categories.len()
        );
        plot.add_trace(Bar::new(categories.to_vec(), s.values.clone()).name(&s.name));
    }
    plot.set_layout(layout(title, "", y_title).bar_mode(BarMode::Group));
    plot
}

/// A paired comparison: per category (a set), `other − base` as one bar,
/// sorted from the largest difference to the smallest, coloured by which
/// side is higher, with the mean difference as a dashed line. Two bars per
/// set on a 0–1 axis (the paper's Fig. 7) hide a 0.03 difference; the
/// differences themselves, on an axis that spans them, show it and show on
/// how many sets it holds.
///
/// ```
/// use circssnn::plots::{paired_differences, Series};
/// let sets = vec!["TIAL1".to_string(), "QKI".to_string(), "WTAP".to_string()];
/// let p = paired_differences(&sets, &Series::new("post-norm", vec![0.90, 0.80, 0.70]),
///     &Series::new("pre-norm", vec![0.92, 0.79, 0.75]), "Fig. 7", "AUC");
/// // one trace per sign, and the mean
/// assert_eq!(p.data().len(), 3);
/// ```
pub fn paired_differences(
    categories: &[String],
    base: &Series,
    other: &Series,
    title: &str,
    y_title: &str,
) -> Plot {
    for s in [base, other] {
        assert_eq!(
            s.values.len(),
            categories.len(),
            "series {} has {} values for {} categories",
            s.name,
            s.values.len(),
            categories.len()
        );
    }
    let mut diffs: Vec<(String, f64)> = categories
        .iter()
        .zip(base.values.iter().zip(&other.values))
        .map(|(c, (b, o))| (c.clone(), o - b))
        .collect();
    diffs.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mean = diffs.iter().map(|d| d.1).sum::<f64>() / diffs.len().max(1) as f64;
    let higher = diffs.iter().filter(|d| d.1 > 0.0).count();
    let mut plot = Plot::new();
    for (positive, name, k) in sides(base, other, higher, diffs.len()) {
        let (x, y): (Vec<String>, Vec<f64>) = diffs
            .iter()
            .filter(|d| (d.1 > 0.0) == positive)
            .map(|d| (d.0.clone(), d.1))
            .unzip();
        plot.add_trace(
            Bar::new(x, y)
                .name(name)
                .marker(plotly::common::Marker::new().color(color(k, 1.0))),
        );
    }
    let order: Vec<String> = diffs.iter().map(|d| d.0.clone()).collect();
    plot.add_trace(
        Scatter::new(order.clone(), vec![mean; diffs.len()])
            .mode(Mode::Lines)
            .line(Line::new().dash(DashType::Dash).color("black"))
            .name(format!("mean difference {mean:+.4}")),
    );
    // No x title: rotated set names leave it no room at plotly's default
    // 450 px page height, where it was drawn over them.
    let x_axis = Axis::new()
        .category_order(CategoryOrder::Array)
        .category_array(order)
        .auto_margin(true);
    plot.set_layout(
        layout(
            title,
            "",
            &format!("{y_title}: {} − {}", other.name, base.name),
        )
        .x_axis(x_axis),
    );
    plot
}

/// A paired comparison against a per-category size (issue: does one
/// network for every RBP win where the sets are small?): per category,
/// `other − base` at x = its size on a log axis, coloured by which side is
/// higher and named on hover, with a zero line.
///
/// ```
/// use circssnn::plots::{difference_by_size, Series};
/// let sets = vec!["WTAP".to_string(), "AGO2".to_string()];
/// let p = difference_by_size(&sets, &[642.0, 28800.0], &Series::new("per set", vec![0.70, 0.80]),
///     &Series::new("multi-task", vec![0.78, 0.79]), "", "training windows", "AUC difference");
/// assert_eq!(p.data().len(), 3); // one trace per sign, and zero
/// ```
pub fn difference_by_size(
    categories: &[String],
    sizes: &[f64],
    base: &Series,
    other: &Series,
    title: &str,
    x_title: &str,
    y_title: &str,
) -> Plot {
    for (what, n) in [
        ("sizes", sizes.len()),
        (base.name.as_str(), base.values.len()),
        (other.name.as_str(), other.values.len()),
    ] {
        assert_eq!(
            n,
            categories.len(),
            "{what}: {n} values for {} categories",
            categories.len()
        );
    }
    let points: Vec<(String, f64, f64)> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), sizes[i], other.values[i] - base.values[i]))
        .collect();
    let higher = points.iter().filter(|p| p.2 > 0.0).count();
    let mut plot = Plot::new();
    for (positive, name, k) in sides(base, other, higher, points.len()) {
        let side: Vec<&(String, f64, f64)> =
            points.iter().filter(|p| (p.2 > 0.0) == positive).collect();
        plot.add_trace(
            Scatter::new(
                side.iter().map(|p| p.1).collect(),
                side.iter().map(|p| p.2).collect(),
            )
            .mode(Mode::Markers)
            .text_array(side.iter().map(|p| p.0.clone()).collect())
            .name(name)
            .marker(plotly::common::Marker::new().color(color(k, 1.0)).size(9)),
        );
    }
    let (lo, hi) = sizes
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &s| (a.min(s), b.max(s)));
    plot.add_trace(
        Scatter::new(vec![lo, hi], vec![0.0, 0.0])
            .mode(Mode::Lines)
            .line(Line::new().dash(DashType::Dash).color("black"))
            .show_legend(false),
    );
    plot.set_layout(
        layout(title, x_title, y_title).x_axis(
            Axis::new()
                .title(x_title)
                .type_(plotly::layout::AxisType::Log)
                .auto_margin(true),
        ),
    );
    plot
}

/// The two sides of a paired comparison, for its legend: (whether `other`
/// is higher, the legend entry with its count of `n`, the colour index).
fn sides(base: &Series, other: &Series, higher: usize, n: usize) -> [(bool, String, usize); 2] {
    [
        (true, format!("{} higher ({higher} of {n})", other.name), 0),
        (
            false,
            format!("{} higher or equal ({} of {n})", base.name, n - higher),
            1,
        ),
    ]
}
