//! A violin trace. plotly 0.14 has no `Violin` type, but its [`Trace`] trait
//! is public and a trace is only the JSON plotly.js reads, so the few fields
//! the paper's Fig. 8 needs are serialised here.

use plotly::Trace;
use serde::Serialize;

/// Something plotly.js draws with `visible: true`.
#[derive(Debug, Clone, Serialize)]
struct Visible {
    visible: bool,
}

/// One violin: the distribution of `y`, labelled `name` on the x axis, with
/// an inner box, the mean line and every point drawn, the density cut at
/// the data's range.
///
/// ```
/// use circssnn::plots::Violin;
/// use plotly::Trace;
/// let v = Violin::new("KNFP", vec![0.91, 0.87, 0.95]);
/// let json: serde_json::Value = serde_json::from_str(&v.to_json()).unwrap();
/// assert_eq!(json["type"], "violin");
/// assert_eq!(json["box"]["visible"], true);
/// assert_eq!(json["spanmode"], "hard");
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Violin {
    r#type: &'static str,
    name: String,
    /// Puts every violin at its own category on the x axis.
    x0: String,
    y: Vec<f64>,
    #[serde(rename = "box")]
    inner_box: Visible,
    #[serde(rename = "meanline")]
    mean_line: Visible,
    /// `"all"`, or `false` when the points are drawn by another trace.
    points: serde_json::Value,
    #[serde(rename = "pointpos")]
    point_pos: f64,
    jitter: f64,
    #[serde(rename = "hoverinfo")]
    hover_info: &'static str,
    /// `hard`: the density ends at the smallest and largest value, so an
    /// AUC violin never reaches past 1.
    #[serde(rename = "spanmode")]
    span_mode: &'static str,
}

impl Violin {
    /// A violin of `values` named `name`.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Box<Self> {
        let name = name.into();
        Box::new(Violin {
            r#type: "violin",
            x0: name.clone(),
            name,
            y: values,
            inner_box: Visible { visible: true },
            mean_line: Visible { visible: true },
            points: serde_json::Value::from("all"),
            point_pos: 0.0,
            jitter: 0.3,
            hover_info: "y+name",
            span_mode: "hard",
        })
    }
}

impl Violin {
    /// The same violin without its jittered points, for a figure that
    /// draws the values itself (each set joined across violins,
    /// [`violin_paired`](super::violin_paired)).
    pub fn without_points(mut self: Box<Self>) -> Box<Self> {
        self.points = serde_json::Value::Bool(false);
        self
    }
}

impl Trace for Violin {
    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a violin serialises")
    }
}
