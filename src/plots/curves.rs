//! Line plots: repeated runs (paper Fig. 6), ROC curves, a run's training
//! history, and gradient norms per layer (the pre- vs post-norm lesson).

use plotly::common::{DashType, ErrorData, ErrorType, Fill, Line, Mode};
use plotly::layout::{Axis, AxisType};
use plotly::{Plot, Scatter};

use super::{color, layout, Series};
use crate::eval::{mean_sd, RocPoint};
use crate::train::EpochRecord;

/// One line per method over repeated runs `1..=n` (paper Fig. 6: ten runs
/// on TIAL1), with each method's mean as a dashed line and its spread as a
/// band of mean ± one standard deviation, all in the method's colour; one
/// legend entry per method gives its mean ± sd (one entry, not one per
/// trace: four entries of two methods took four rows and ran into the
/// title at 800 px).
///
/// ```
/// use circssnn::plots::{stability, Series};
/// let p = stability(&[Series::new("CircSSNN", vec![0.87, 0.88, 0.86])], "TIAL1, 3 seeds", "test AUC");
/// // the band's two edges, the mean, the runs
/// assert_eq!(p.data().len(), 4);
/// ```
pub fn stability(series: &[Series], title: &str, y_title: &str) -> Plot {
    let mut plot = Plot::new();
    for (i, s) in series.iter().enumerate() {
        let runs: Vec<usize> = (1..=s.values.len()).collect();
        let n = s.values.len();
        let (mean, sd) = mean_sd(&s.values);
        // The band: its upper edge, then the lower edge filled up to it.
        plot.add_trace(
            Scatter::new(runs.clone(), vec![mean + sd; n])
                .mode(Mode::Lines)
                .line(Line::new().width(0.0))
                .show_legend(false)
                .hover_info(plotly::common::HoverInfo::Skip),
        );
        plot.add_trace(
            Scatter::new(runs.clone(), vec![mean - sd; n])
                .mode(Mode::Lines)
                .line(Line::new().width(0.0))
                .fill(Fill::ToNextY)
                .fill_color(color(i, 0.15))
                .show_legend(false)
                .hover_info(plotly::common::HoverInfo::Skip),
        );
        plot.add_trace(
            Scatter::new(runs.clone(), vec![mean; n])
                .mode(Mode::Lines)
                .line(Line::new().dash(DashType::Dash).color(color(i, 1.0)))
                .name(format!("{} mean", s.name))
                .show_legend(false),
        );
        plot.add_trace(
            Scatter::new(runs, s.values.clone())
                .mode(Mode::LinesMarkers)
                .line(Line::new().color(color(i, 1.0)))
                .name(format!(
                    "{}: mean {mean:.4} ± {sd:.4} sd (dashed, band)",
                    s.name
                )),
        );
    }
    plot.set_layout(layout(title, "run (training seed)", y_title));
    plot
}

/// Each series' mean over its values per category, as a marker with the
/// 95% interval of the mean (Student's t: ± t(0.975, n − 1) standard
/// errors over the n values; with 3 sets t is 4.30, not the normal 1.96)
/// as error bars; `series[i].1[j]` are the values of
/// series `i` in category `j` (e.g. per-set AUCs of a method under one
/// protocol). A category a series has no values for gets no marker; one
/// value (a published mean) gets a marker without a bar. Series sit side
/// by side within a category, and the y axis spans the data, not 0–1, so a
/// difference of 0.03 between methods shows.
///
/// ```
/// use circssnn::plots::mean_intervals;
/// let cats = vec!["standard".to_string(), "shuffled".to_string()];
/// let p = mean_intervals(&cats, &[("CircSSNN".into(), vec![vec![0.9, 0.8, 0.85], vec![]])], "", "AUC");
/// assert_eq!(p.data().len(), 1);
/// ```
pub fn mean_intervals(
    categories: &[String],
    series: &[(String, Vec<Vec<f64>>)],
    title: &str,
    y_title: &str,
) -> Plot {
    let mut plot = Plot::new();
    let width = 0.6 / series.len().max(1) as f64;
    for (i, (name, per_category)) in series.iter().enumerate() {
        assert_eq!(
            per_category.len(),
            categories.len(),
            "series {name} has values for {} categories, not {}",
            per_category.len(),
            categories.len()
        );
        let offset = (i as f64 - (series.len() as f64 - 1.0) / 2.0) * width;
        let (mut x, mut y, mut half, mut text) = (vec![], vec![], vec![], vec![]);
        for (j, values) in per_category.iter().enumerate() {
            if values.is_empty() {
                continue;
            }
            let (mean, sd) = mean_sd(values);
            let ci = t_975(values.len()) * sd / (values.len() as f64).sqrt();
            x.push(j as f64 + offset);
            y.push(mean);
            half.push(ci);
            text.push(if values.len() > 1 {
                format!("{mean:.3} ± {ci:.3} (95% interval, n = {})", values.len())
            } else {
                format!("{mean:.3}")
            });
        }
        plot.add_trace(
            Scatter::new(x, y)
                .mode(Mode::Markers)
                .name(name)
                .marker(plotly::common::Marker::new().size(10).color(color(i, 1.0)))
                .error_y(ErrorData::new(ErrorType::Data).array(half).width(6))
                .hover_text_array(text)
                .hover_info(plotly::common::HoverInfo::Text),
        );
    }
    let ticks: Vec<f64> = (0..categories.len()).map(|j| j as f64).collect();
    let x_axis = Axis::new()
        .tick_values(ticks)
        .tick_text(categories.to_vec())
        .range(vec![-0.5, categories.len() as f64 - 0.5])
        .zero_line(false)
        .auto_margin(true);
    plot.set_layout(layout(title, "", y_title).x_axis(x_axis));
    plot
}

/// The 97.5% quantile of Student's t with `n - 1` degrees of freedom: the
/// half-width factor of a two-sided 95% interval of a mean of `n` values
/// (0 for fewer than two, where there is no interval).
fn t_975(n: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    if n < 2 {
        return 0.0;
    }
    StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// ROC curves (false- against true-positive rate) with the chance diagonal.
///
/// ```
/// use circssnn::eval::roc_curve;
/// use circssnn::plots::roc;
/// let curve = roc_curve(&[0.9, 0.2, 0.6, 0.4], &[1, 0, 1, 0]).unwrap();
/// let p = roc(&[("model".to_string(), curve)], "test part");
/// assert_eq!(p.data().len(), 2);
/// ```
pub fn roc(curves: &[(String, Vec<RocPoint>)], title: &str) -> Plot {
    let mut plot = Plot::new();
    for (name, pts) in curves {
        plot.add_trace(
            Scatter::new(
                pts.iter().map(|p| p.fpr).collect(),
                pts.iter().map(|p| p.tpr).collect(),
            )
            .mode(Mode::Lines)
            .name(name),
        );
    }
    plot.add_trace(
        Scatter::new(vec![0.0, 1.0], vec![0.0, 1.0])
            .mode(Mode::Lines)
            .line(Line::new().dash(DashType::Dot).color("grey"))
            .name("chance"),
    );
    plot.set_layout(layout(title, "false-positive rate", "true-positive rate"));
    plot
}

/// A run's history: training loss and the validation and test AUC per
/// epoch (the AUC on a second axis).
pub fn training_curves(history: &[EpochRecord], title: &str) -> Plot {
    let epochs: Vec<usize> = history.iter().map(|r| r.epoch).collect();
    let mut plot = Plot::new();
    plot.add_trace(
        Scatter::new(
            epochs.clone(),
            history.iter().map(|r| r.train_loss).collect(),
        )
        .mode(Mode::LinesMarkers)
        .name("training loss"),
    );
    for (name, values) in [
        (
            "validation AUC",
            history.iter().map(|r| r.valid_auc).collect::<Vec<_>>(),
        ),
        ("test AUC", history.iter().map(|r| r.test_auc).collect()),
    ] {
        plot.add_trace(
            Scatter::new(epochs.clone(), values)
                .mode(Mode::LinesMarkers)
                .name(name)
                .y_axis("y2"),
        );
    }
    plot.set_layout(
        layout(title, "epoch", "training loss").y_axis2(
            Axis::new()
                .title("AUC")
                .overlaying("y")
                .side(plotly::common::AxisSide::Right),
        ),
    );
    plot
}

/// One line per series over x = 1, 2, ... (steps, blocks), with markers
/// when there are few points; `log_y` puts the y axis on a log scale.
///
/// ```
/// use circssnn::plots::{lines, Series};
/// let p = lines(&[Series::new("pre-norm", vec![0.7, 0.5, 0.4])], "loss", "step", "training loss", false);
/// assert_eq!(p.data().len(), 1);
/// ```
pub fn lines(series: &[Series], title: &str, x_title: &str, y_title: &str, log_y: bool) -> Plot {
    let mut plot = Plot::new();
    for s in series {
        let x: Vec<usize> = (1..=s.values.len()).collect();
        let mode = if s.values.len() <= 40 {
            Mode::LinesMarkers
        } else {
            Mode::Lines
        };
        plot.add_trace(Scatter::new(x, s.values.clone()).mode(mode).name(&s.name));
    }
    let mut y_axis = Axis::new().title(y_title).auto_margin(true);
    if log_y {
        y_axis = y_axis.type_(AxisType::Log);
    }
    plot.set_layout(layout(title, x_title, y_title).y_axis(y_axis));
    plot
}

/// Gradient norm per layer (layer 1 nearest the input), one line per
/// variant, on a log scale: how the gradient reaching early layers changes
/// with depth under pre- and post-norm (paper Eq. 6 vs 7).
pub fn gradient_norms(series: &[Series], title: &str) -> Plot {
    lines(
        series,
        title,
        "layer (1 = nearest the input)",
        "gradient norm",
        true,
    )
}
