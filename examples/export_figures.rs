//! Write the descriptor-ablation violin (paper Fig. 8) and the stability
//! curve (Fig. 6) of a results CSV as SVG and HTML.
//!
//! ```text
//! cargo run --release --features static-export --example export_figures -- \
//!     data/results/small-profile.csv figures/
//! ```
//!
//! Needs Debian's `chromium` and `chromium-driver` (see `plots::save_image`).

use circssnn::data::split::SplitKind;
use circssnn::data::Negatives;
use circssnn::model::Norm;
use circssnn::train::results::Method;
use std::path::PathBuf;

use circssnn::plots::{save_html, save_image, stability, violin_paired, ImageFormat, Series};
use circssnn::train::results::read_rows;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let results = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "data/results/small-profile.csv".into()),
    );
    let out = PathBuf::from(args.next().unwrap_or_else(|| "figures".into()));
    let rows = read_rows(&results)?;

    let views = [
        ("knfp", "KNFP"),
        ("vec", "circRNA2Vec"),
        ("bert", "k-mer BERT (small)"),
        ("knfp,vec,bert", "fusion"),
    ];
    // Sets that have a pre-norm, seed-4, standard-protocol run of every variant.
    let mut sets: Vec<String> = rows.iter().map(|r| r.set.clone()).collect();
    sets.sort();
    sets.dedup();
    let auc = |set: &str, v: &str| {
        let v: Method = v.parse().expect("a method name");
        rows.iter()
            .find(|r| {
                r.set == set
                    && r.views == v
                    && r.norm == Some(Norm::Pre)
                    && r.seed == 4
                    && r.split == SplitKind::Random
                    && r.negatives == Negatives::Pool
            })
            .map(|r| r.auc)
    };
    sets.retain(|s| views.iter().all(|(v, _)| auc(s, v).is_some()));
    let groups: Vec<Series> = views
        .iter()
        .map(|(v, name)| Series::new(*name, sets.iter().map(|s| auc(s, v).unwrap()).collect()))
        .collect();
    let fig8 = violin_paired(
        &groups,
        &sets,
        &format!(
            "test AUC per descriptor ({} circRNA sets; a line joins one set)",
            sets.len()
        ),
        "descriptor (the network's input views)",
        "test AUC",
    );

    let mut runs: Vec<_> = rows
        .iter()
        .filter(|r| r.set == "QKI" && r.views == Method::KNFP && r.norm == Some(Norm::Pre))
        .collect();
    runs.sort_by_key(|r| r.seed);
    runs.dedup_by_key(|r| r.seed);
    let fig6 = stability(
        &[
            Series::new(
                "whole test, validation-selected",
                runs.iter().map(|r| r.auc).collect(),
            ),
            Series::new(
                "published protocol",
                runs.iter().map(|r| r.published_auc).collect(),
            ),
        ],
        &format!("QKI, {} training seeds", runs.len()),
        "test AUC",
    );

    for (name, plot) in [("fig8-descriptor-violin", &fig8), ("fig6-stability", &fig6)] {
        save_html(plot, &out.join(format!("{name}.html")))?;
        save_image(
            plot,
            &out.join(format!("{name}.svg")),
            ImageFormat::SVG,
            800,
            500,
        )?;
        println!("{}", out.join(format!("{name}.svg")).display());
    }
    Ok(())
}
