//! Distributions of per-set values: the descriptor ablation as violins
//! (paper Fig. 8) and the linear-RNA comparison as boxes (Fig. 9).

use plotly::{BoxPlot, Plot};

use super::{layout, Series, Violin};

/// One violin per group (inner box, mean line and every point shown).
pub fn violin(groups: &[Series], title: &str, y_title: &str) -> Plot {
    let mut plot = Plot::new();
    for g in groups {
        plot.add_trace(Violin::new(g.name.clone(), g.values.clone()));
    }
    plot.set_layout(layout(title, "", y_title).show_legend(false));
    plot
}

/// One box per group, with every point drawn beside it.
///
/// ```
/// use circssnn::plots::{box_plot, Series};
/// let p = box_plot(&[Series::new("CircSSNN", vec![0.9, 0.8, 0.95])], "linear RNA", "AUC");
/// assert_eq!(p.data().len(), 1);
/// ```
pub fn box_plot(groups: &[Series], title: &str, y_title: &str) -> Plot {
    let mut plot = Plot::new();
    for g in groups {
        plot.add_trace(
            BoxPlot::new(g.values.clone())
                .name(&g.name)
                .box_points(plotly::box_plot::BoxPoints::All)
                .box_mean(plotly::box_plot::BoxMean::True),
        );
    }
    plot.set_layout(layout(title, "", y_title).show_legend(false));
    plot
}
