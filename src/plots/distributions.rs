//! Distributions of per-set values: the descriptor ablation as violins
//! (paper Fig. 8) and the linear-RNA comparison as boxes (Fig. 9).

use plotly::common::{Line, Marker, Mode};
use plotly::{BoxPlot, Plot, Scatter};

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

/// Violins as [`violin`], and each member (a set) drawn as one grey line
/// joining its value in every group (`groups[g].values[m]` is member `m`'s
/// value in group `g`; hover names the member): the paper's Fig. 8 with
/// the pairing it leaves out, so a reader sees whether a descriptor helps
/// on most sets or on a few.
///
/// ```
/// use circssnn::plots::{violin_paired, Series};
/// let sets = vec!["TIAL1".to_string(), "QKI".to_string()];
/// let p = violin_paired(&[Series::new("KNFP", vec![0.90, 0.80]), Series::new("fusion", vec![0.93, 0.85])],
///     &sets, "Fig. 8", "descriptor", "test AUC");
/// // two violins and one line per set
/// assert_eq!(p.data().len(), 4);
/// ```
pub fn violin_paired(
    groups: &[Series],
    members: &[String],
    title: &str,
    x_title: &str,
    y_title: &str,
) -> Plot {
    let mut plot = Plot::new();
    for g in groups {
        assert_eq!(
            g.values.len(),
            members.len(),
            "group {} has {} values for {} members",
            g.name,
            g.values.len(),
            members.len()
        );
        plot.add_trace(Violin::new(g.name.clone(), g.values.clone()).without_points());
    }
    let x: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    for (m, member) in members.iter().enumerate() {
        let y: Vec<f64> = groups.iter().map(|g| g.values[m]).collect();
        plot.add_trace(
            Scatter::new(x.clone(), y)
                .mode(Mode::LinesMarkers)
                .line(Line::new().width(0.8).color("rgba(60, 60, 60, 0.35)"))
                .marker(Marker::new().size(4).color("rgba(60, 60, 60, 0.6)"))
                .name(member)
                .show_legend(false),
        );
    }
    plot.set_layout(layout(title, x_title, y_title).show_legend(false));
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
