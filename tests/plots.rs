//! The figure helpers, checked through the JSON plotly.js receives, and the
//! gradient-norm diagnostic that notebook 2 plots.

use circssnn::eval::roc_curve;
use circssnn::features::Knfp;
use circssnn::model::{CircSsnn, ModelConfig, Norm, BERT_SMALL};
use circssnn::plots::{
    attention_heatmap, box_plot, dot_matrix, gradient_norms, grouped_bars, roc, save_html,
    stability, training_curves, violin, Series,
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
    assert_eq!(j["data"][0]["x"], serde_json::json!([1, 2, 3]));
    assert_eq!(
        j["data"][1]["y"],
        serde_json::json!([0.9, 0.9, 0.9]),
        "the mean line"
    );

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
fn html_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.html");
    save_html(&violin(&[Series::new("a", vec![1.0])], "t", "y"), &path).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("Plotly.newPlot") && html.contains("\"violin\""));
    // A path under a file is an error, not a panic (plotly's own write_html panics).
    assert!(save_html(&violin(&[], "t", "y"), &path.join("inside")).is_err());
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
