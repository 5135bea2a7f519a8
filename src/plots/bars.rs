//! Grouped bars: one group per category (a set, or a metric), one bar per
//! series (pre- vs post-norm, paper Fig. 7; CircSSNN vs another method,
//! Fig. 10).

use plotly::layout::BarMode;
use plotly::{Bar, Plot};

use super::{layout, Series};

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
