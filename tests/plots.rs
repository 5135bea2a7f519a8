//! The figure helpers, checked through the JSON plotly.js receives, and the
//! gradient-norm diagnostic that notebook 2 plots.

use circssnn::eval::roc_curve;
use circssnn::features::Knfp;
use circssnn::model::{CircSsnn, ModelConfig, Norm, BERT_SMALL};
use circssnn::plots::{
    attention_heatmap, box_plot, dot_matrix, gradient_norms, grouped_bars, mean_intervals,
    paired_differences, roc, save_html, stability, training_curves, violin, violin_paired, Series,
    PLOTLY_JS_FILE,
};
use circssnn::train::diagnostics::block_gradient_norms;
use circssnn::train::{Descriptors, EpochRecord};
use dfdx::prelude::*;
use serde_json::Value;

fn json(plot: &plotly::Plot) -> Value {
    serde_json::from_str(&plot.to_json()).unwrap()
}

#[test]
fn violin_is_a_plotly_violin_trace_per_group() {
    let p = violin(
        &[
            Series::new("KNFP", vec![0.91, 0.85, 0.88]),
            Series::new("fusion", vec![0.93, 0.9, 0.91]),
        ],
        "Fig. 8",
        "test AUC",
    );
    let j = json(&p);
    let data = j["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["type"], "violin");
    assert_eq!(data[0]["name"], "KNFP");
    assert_eq!(data[0]["x0"], "KNFP", "each violin at its own category");
    assert_eq!(data[1]["y"], serde_json::json!([0.93, 0.9, 0.91]));
    assert_eq!(data[0]["box"]["visible"], true);
    assert_eq!(data[0]["meanline"]["visible"], true);
    assert_eq!(data[0]["points"], "all");
    assert_eq!(j["layout"]["title"]["text"], "Fig. 8");
    assert_eq!(j["layout"]["yaxis"]["title"]["text"], "test AUC");
}

#[test]
fn box_bars_and_dot_matrix_carry_the_values() {
    let j = json(&box_plot(
        &[Series::new("CircSSNN", vec![0.9, 0.8])],
        "Fig. 9",
        "AUC",
    ));
    assert_eq!(j["data"][0]["type"], "box");
    assert_eq!(j["data"][0]["y"], serde_json::json!([0.9, 0.8]));

    let sets = vec!["TIAL1".to_string(), "QKI".to_string()];
    let j = json(&grouped_bars(
        &sets,
        &[
            Series::new("pre", vec![0.9, 0.8]),
            Series::new("post", vec![0.85, 0.75]),
        ],
        "Fig. 7",
        "AUC",
    ));
    assert_eq!(j["layout"]["barmode"], "group");
    assert_eq!(j["data"][1]["name"], "post");
    assert_eq!(j["data"][1]["x"], serde_json::json!(["TIAL1", "QKI"]));
    assert_eq!(j["data"][1]["y"], serde_json::json!([0.85, 0.75]));

    let methods = vec!["CircSSNN".to_string(), "baseline".to_string()];
    let metrics = vec!["ACC".to_string(), "AUC".to_string()];
    let j = json(&dot_matrix(
        &methods,
        &metrics,
        &[vec![0.8, 0.9], vec![0.7, 0.79]],
        "Fig. 5",
    ));
    let d = &j["data"][0];
    assert_eq!(d["x"], serde_json::json!(["ACC", "AUC", "ACC", "AUC"]));
    assert_eq!(
        d["y"],
        serde_json::json!(["CircSSNN", "CircSSNN", "baseline", "baseline"])
    );
    assert_eq!(
        d["marker"]["color"],
        serde_json::json!([0.8, 0.9, 0.7, 0.79])
    );
    let size = d["marker"]["size"].as_array().unwrap();
    assert_eq!(
        (size[1].as_u64(), size[2].as_u64()),
        (Some(48), Some(18)),
        "largest and smallest value"
    );
    assert_eq!(d["text"][3], "0.790");
}

#[test]
fn curves_roc_history_and_heatmap() {
    let j = json(&stability(
        &[Series::new("CircSSNN", vec![0.8, 0.9, 1.0])],
        "Fig. 6",
        "AUC",
    ));
    // The band's upper and lower edge (mean ± sample sd = 0.9 ± 0.1), the
    // mean line, then the runs.
    let data = j["data"].as_array().unwrap();
    assert_eq!(data.len(), 4);
    let ys = |k: usize| -> Vec<f64> {
        data[k]["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    for (k, want) in [(0, 1.0), (1, 0.8), (2, 0.9)] {
        assert!(
            ys(k).iter().all(|y| (y - want).abs() < 1e-12),
            "trace {k}: {:?}",
            ys(k)
        );
    }
    assert_eq!(
        data[1]["fill"], "tonexty",
        "the band fills between its edges"
    );
    assert_eq!(
        data[3]["name"],
        "CircSSNN: mean 0.9000 ± 0.1000 sd (dashed, band)"
    );
    assert_eq!(data[3]["x"], serde_json::json!([1, 2, 3]));
    assert_eq!(ys(3), vec![0.8, 0.9, 1.0]);
    // The legend sits under the plot, where a long entry wraps instead of
    // running off the right edge.
    assert_eq!(j["layout"]["legend"]["orientation"], "h");

    let curve = roc_curve(&[0.9, 0.8, 0.3, 0.1], &[1, 0, 1, 0]).unwrap();
    let j = json(&roc(&[("m".to_string(), curve)], "ROC"));
    assert_eq!(
        j["data"][0]["x"],
        serde_json::json!([0.0, 0.0, 0.5, 0.5, 1.0])
    );
    assert_eq!(
        j["data"][0]["y"],
        serde_json::json!([0.0, 0.5, 0.5, 1.0, 1.0])
    );
    assert_eq!(j["data"][1]["name"], "chance");

    let rec = |epoch, loss| EpochRecord {
        epoch,
        lr: 1e-3,
        train_loss: loss,
        valid_auc: 0.8,
        test_auc: 0.79,
        test_auc_batch_mean: 0.8,
        seconds: 1.0,
    };
    let j = json(&training_curves(&[rec(1, 0.6), rec(2, 0.5)], "run"));
    assert_eq!(j["data"][0]["y"], serde_json::json!([0.6, 0.5]));
    assert_eq!(j["data"][1]["yaxis"], "y2");
    assert_eq!(j["layout"]["yaxis2"]["overlaying"], "y");

    let j = json(&attention_heatmap(&[0.25, 0.75, 1.0, 0.0], 2, "map"));
    assert_eq!(j["data"][0]["type"], "heatmap");
    assert_eq!(
        j["data"][0]["z"],
        serde_json::json!([[0.25, 0.75], [1.0, 0.0]])
    );
    assert_eq!(
        j["layout"]["yaxis"]["range"],
        serde_json::json!([1.5, -0.5]),
        "query 0 on top"
    );

    let j = json(&gradient_norms(
        &[Series::new("post", vec![1.0, 0.1])],
        "grads",
    ));
    assert_eq!(j["layout"]["yaxis"]["type"], "log");
}

#[test]
fn html_is_written_whole_and_draws_offline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.html");
    save_html(&violin(&[Series::new("a", vec![1.0])], "t", "y"), &path).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("Plotly.newPlot") && html.contains("\"violin\""));
    // plotly.js comes from the file beside the page, never from a network.
    assert!(html.contains(&format!("<script src=\"{PLOTLY_JS_FILE}\">")));
    assert!(
        !html.contains("http://") && !html.contains("https://cdn"),
        "{html}"
    );
    let js_path = dir.path().join(PLOTLY_JS_FILE);
    let js = std::fs::read_to_string(&js_path).unwrap();
    assert!(js.starts_with("/**\n* plotly.js v3."), "{}", &js[..80]);
    assert!(js.len() > 3_000_000 && !js.contains("</script>"));
    // A second page in the folder shares the file; a damaged copy is rewritten.
    std::fs::write(&js_path, "truncated").unwrap();
    save_html(
        &box_plot(&[Series::new("b", vec![0.5])], "t", "y"),
        &dir.path().join("other.html"),
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&js_path).unwrap(), js);
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 3, "two pages and one plotly.js");
    // A path under a file is an error, not a panic (plotly's own write_html panics).
    assert!(save_html(&violin(&[], "t", "y"), &path.join("inside")).is_err());
}

/// Fig. 7 as paired differences: sorted, split by sign, the mean of the
/// differences; the values computed here by hand.
#[test]
fn paired_differences_sort_split_and_average() {
    let sets: Vec<String> = ["A", "B", "C", "D"].map(String::from).into();
    let post = Series::new("post-norm", vec![0.90, 0.80, 0.70, 0.60]);
    let pre = Series::new("pre-norm", vec![0.92, 0.75, 0.75, 0.60]);
    let j = json(&paired_differences(
        &sets, &post, &pre, "Fig. 7", "test AUC",
    ));
    let data = j["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    // differences pre - post: A +0.02, B -0.05, C +0.05, D 0
    assert_eq!(data[0]["x"], serde_json::json!(["C", "A"]));
    assert_eq!(data[0]["name"], "pre-norm higher (2 of 4)");
    assert_eq!(data[1]["x"], serde_json::json!(["D", "B"]));
    assert_eq!(data[1]["name"], "post-norm higher or equal (2 of 4)");
    let y: Vec<f64> = data[0]["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        (y[0] - 0.05).abs() < 1e-12 && (y[1] - 0.02).abs() < 1e-12,
        "{y:?}"
    );
    assert_eq!(data[2]["name"], "mean difference +0.0050");
    assert_eq!(
        j["layout"]["xaxis"]["categoryarray"],
        serde_json::json!(["C", "A", "D", "B"]),
        "sets ordered by difference"
    );
    assert_eq!(
        j["layout"]["yaxis"]["title"]["text"],
        "test AUC: pre-norm − post-norm"
    );
}

/// Fig. 8 with each set joined across the descriptors, and means with 95%
/// intervals (t(0.975, n - 1) sample sd / sqrt(n); [0.8, 0.9, 1.0]: with 2
/// degrees of freedom t's quantile has the closed form
/// (2p - 1) / sqrt(2p(1 - p)) = 0.95 / sqrt(0.04875), so 0.9 ± 0.248414).
#[test]
fn paired_violins_and_mean_intervals() {
    let sets: Vec<String> = ["A", "B", "C"].map(String::from).into();
    let j = json(&violin_paired(
        &[
            Series::new("KNFP", vec![0.8, 0.9, 1.0]),
            Series::new("fusion", vec![0.85, 0.95, 0.97]),
        ],
        &sets,
        "Fig. 8",
        "descriptor",
        "test AUC",
    ));
    let data = j["data"].as_array().unwrap();
    assert_eq!(data.len(), 2 + 3);
    assert_eq!(data[0]["points"], false, "the lines draw the points");
    assert_eq!(data[3]["name"], "B");
    assert_eq!(data[3]["x"], serde_json::json!(["KNFP", "fusion"]));
    assert_eq!(data[3]["y"], serde_json::json!([0.9, 0.95]));
    assert_eq!(j["layout"]["xaxis"]["title"]["text"], "descriptor");

    let cats: Vec<String> = ["standard", "shuffled"].map(String::from).into();
    let j = json(&mean_intervals(
        &cats,
        &[
            ("ours".to_string(), vec![vec![0.8, 0.9, 1.0], vec![]]),
            ("published".to_string(), vec![vec![0.93], vec![0.7]]),
        ],
        "means",
        "AUC",
    ));
    let ours = &j["data"][0];
    assert_eq!(
        ours["y"].as_array().unwrap().len(),
        1,
        "no marker without values"
    );
    assert!((ours["y"][0].as_f64().unwrap() - 0.9).abs() < 1e-12);
    let ci = ours["error_y"]["array"][0].as_f64().unwrap();
    let t = 0.95 / 0.04875f64.sqrt();
    assert!((ci - t * 0.1 / 3f64.sqrt()).abs() < 1e-9, "{ci}");
    assert_eq!(
        j["data"][1]["error_y"]["array"],
        serde_json::json!([0.0, 0.0])
    );
    let x: Vec<f64> = j["data"][1]["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        x[0] > 0.0 && x[0] < 0.5 && x[1] > 1.0,
        "series side by side: {x:?}"
    );
    assert_eq!(
        j["layout"]["xaxis"]["ticktext"],
        serde_json::json!(["standard", "shuffled"])
    );
}

/// Real windows of TAF15 through a 6-block network: one gradient norm per
/// block, finite and non-zero, and the input is left as it was.
#[test]
fn block_gradient_norms_one_per_block() {
    let ds = circssnn::data::Registry::scan(&circssnn::data::default_root())
        .expect("the shipped benchmark in data/benchmark")
        .get("TAF15")
        .unwrap()
        .load(Default::default())
        .unwrap();
    let idx: Vec<usize> = (0..32).map(|i| i * ds.len() / 32).collect();
    let seqs: Vec<&[u8]> = idx.iter().map(|&i| ds.records[i].seq.as_slice()).collect();
    let labels: Vec<u8> = idx.iter().map(|&i| ds.labels[i]).collect();
    let desc = Descriptors::<BERT_SMALL> {
        knfp: Some(&Knfp),
        vec: None,
        bert: None,
    };
    for norm in [Norm::Pre, Norm::Post] {
        let dev = Cpu::seed_from_u64(3);
        let net = CircSsnn::<BERT_SMALL, 6, Cpu>::new(
            &dev,
            ModelConfig {
                norm,
                dropout: 0.0,
                ..Default::default()
            },
        );
        let before = net.params.knfp.clone();
        let g = block_gradient_norms(&net, &dev, &desc, &seqs, &labels).unwrap();
        assert_eq!(g.len(), 6);
        assert!(
            g.iter().all(|x| x.is_finite() && *x > 0.0),
            "{norm:?}: {g:?}"
        );
        eprintln!("{norm:?}: {g:?}");
        assert_eq!(
            net.params.knfp.norm.running_mean.as_vec(),
            before.norm.running_mean.as_vec()
        );
    }
}

/// SVG through chromedriver and headless Chromium (feature `static-export`;
/// needs Debian's chromium and chromium-driver).
#[cfg(feature = "static-export")]
#[test]
fn svg_export_through_headless_chromium() {
    use circssnn::plots::{save_image, ImageFormat};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("violin.svg");
    let p = violin(
        &[Series::new("KNFP", vec![0.9, 0.8, 0.85])],
        "Fig. 8",
        "AUC",
    );
    save_image(&p, &path, ImageFormat::SVG, 640, 480).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("violin"),
        "{}",
        &svg[..200.min(svg.len())]
    );
}
