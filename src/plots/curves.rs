//! Line plots: repeated runs (paper Fig. 6), ROC curves, a run's training
//! history, and gradient norms per layer (the pre- vs post-norm lesson).

use plotly::common::{DashType, Line, Mode};
use plotly::layout::{Axis, AxisType};
use plotly::{Plot, Scatter};

use super::{layout, Series};
use crate::eval::RocPoint;
use crate::train::EpochRecord;

/// One line per method over repeated runs `1..=n` (paper Fig. 6: ten runs
/// on TIAL1), with each method's mean as a dashed line.
///
/// ```
/// use circssnn::plots::{stability, Series};
/// let p = stability(&[Series::new("CircSSNN", vec![0.87, 0.88, 0.86])], "TIAL1, 3 seeds", "test AUC");
/// assert_eq!(p.data().len(), 2);
/// ```
pub fn stability(series: &[Series], title: &str, y_title: &str) -> Plot {
    let mut plot = Plot::new();
    for s in series {
        let runs: Vec<usize> = (1..=s.values.len()).collect();
        plot.add_trace(
            Scatter::new(runs.clone(), s.values.clone())
                .mode(Mode::LinesMarkers)
                .name(&s.name),
        );
        let mean = s.values.iter().sum::<f64>() / s.values.len().max(1) as f64;
        plot.add_trace(
            Scatter::new(runs, vec![mean; s.values.len()])
                .mode(Mode::Lines)
                .line(Line::new().dash(DashType::Dash))
                .name(format!("{} mean {mean:.4}", s.name)),
        );
    }
    plot.set_layout(layout(title, "run", y_title));
    plot
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
