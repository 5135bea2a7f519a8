//! The paper's tables and figures from a reproduction's results rows: a
//! Markdown report and one `plotly` figure per paper figure.
//!
//! Whatever the rows cover is reported; a set or experiment without rows
//! is left out of means and shown as `–`, and every table says over how
//! many sets its means are.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use plotly::Plot;

use super::published::{PublishedMeans, CIRC37, LIN31};
use super::wall_time::{summary, Invocation};
use crate::eval::mean_sd;
use crate::plots::{
    box_plot, dot_matrix, mean_intervals, paired_differences, stability, violin_paired, Series,
};
use crate::train::results::{Experiment, Method, RunRow, Suite};

use Experiment::{Ablation, Main, Norm as NormExp, Stability, Strict};

/// A written-out reproduction: Markdown and figures (file stem, plot).
pub struct Report {
    /// The report, tables in GitHub Markdown.
    pub markdown: String,
    /// Figures, e.g. `("fig8-ablation", plot)`.
    pub figures: Vec<(String, Plot)>,
}

impl Report {
    /// Put the wall time of the invocations that ran these rows (see
    /// [`wall_time`](super::wall_time)) under the report's title.
    ///
    /// ```
    /// use circssnn::reproduce::{report::build, wall_time::Invocation};
    /// let mut report = build(&[]);
    /// report.note_wall_time(&[Invocation { started: "2026-11-29T10:00:00Z".into(),
    ///     seconds: 3600.0, tasks_done: 2, git_rev: "abc".into() }]);
    /// assert!(report.markdown.starts_with("# CircSSNN reproduction\n\nWall time: 1.0 h"));
    /// ```
    pub fn note_wall_time(&mut self, invocations: &[Invocation]) {
        let at = if self.markdown.starts_with(TITLE) {
            TITLE.len()
        } else {
            0
        };
        self.markdown
            .insert_str(at, &format!("{}\n\n", summary(invocations)));
    }
}

const TITLE: &str = "# CircSSNN reproduction\n\n";

/// Rows of one suite, looked up by set, experiment and variant.
struct Rows<'a> {
    rows: Vec<&'a RunRow>,
}

impl<'a> Rows<'a> {
    fn get(&self, set: &str, experiment: Experiment, variant: &str) -> Option<&'a RunRow> {
        self.rows
            .iter()
            .copied()
            .find(|r| r.set == set && r.experiment == Some(experiment) && r.variant == variant)
    }

    /// The sets, in the benchmark's own order: linear sets by their number
    /// (`1_PARCLIP_AGO1234_hg19` before `10_PARCLIP_ELAVL1A_hg19`), circRNA
    /// sets by name.
    fn sets(&self) -> Vec<String> {
        let mut sets: Vec<String> = self
            .rows
            .iter()
            .map(|r| r.set.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        sets.sort_by_key(|s| set_order(s));
        sets
    }

    /// Sets that have every one of `keys`, and the rows of each key on them.
    fn complete(&self, keys: &[(Experiment, &str)]) -> (Vec<String>, Vec<Vec<&'a RunRow>>) {
        let sets: Vec<String> = self
            .sets()
            .into_iter()
            .filter(|s| keys.iter().all(|&(e, v)| self.get(s, e, v).is_some()))
            .collect();
        let cols = keys
            .iter()
            .map(|&(e, v)| sets.iter().map(|s| self.get(s, e, v).unwrap()).collect())
            .collect();
        (sets, cols)
    }
}

/// Sort key of a set name: the number before the first `_` (the linear
/// sets' `1_` to `31_`), then the name. Written here rather than pulled from
/// a natural-sort crate: only this one leading number matters.
fn set_order(set: &str) -> (Option<u32>, String) {
    let number = set.split_once('_').and_then(|(n, _)| n.parse().ok());
    (number, set.to_string())
}

/// "0.6318 vs 0.6674": two AUCs with four decimals, or five where four
/// would print the same number for a loss (lin31's AGO1234: 0.69539 vs
/// 0.69541 read "0.6954 vs 0.6954").
fn versus(a: f64, b: f64) -> String {
    if format!("{a:.4}") == format!("{b:.4}") {
        format!("{a:.5} vs {b:.5}")
    } else {
        format!("{a:.4} vs {b:.4}")
    }
}

fn mean(v: impl IntoIterator<Item = f64>) -> f64 {
    let (s, n) = v
        .into_iter()
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

fn cell(r: Option<&RunRow>, f: fn(&RunRow) -> f64) -> String {
    r.map(f)
        .filter(|x| !x.is_nan())
        .map_or("–".into(), |x| format!("{x:.3}"))
}

fn four(r: &RunRow) -> Vec<f64> {
    vec![r.accuracy, r.auc, r.precision, r.recall]
}

/// The report of `rows` (any mix of suites; rows without a suite are ignored).
///
/// ```
/// use circssnn::reproduce::report::build;
/// let report = build(&[]);
/// assert!(report.markdown.contains("no finished runs"));
/// ```
pub fn build(rows: &[RunRow]) -> Report {
    let mut out = Out {
        md: String::from(TITLE),
        figures: Vec::new(),
    };
    out.md.push_str(
        "Whole-test-set metrics of the epoch chosen on validation, unless a column says \
         *published protocol* (best epoch chosen on the test set, AUC averaged over test \
         batches of 64: the paper's evaluation, inflated, shown for comparison). Rows \
         labelled *published* are the paper's own numbers.\n\n",
    );
    let suites: BTreeSet<Suite> = rows.iter().filter_map(|r| r.suite).collect();
    if suites.is_empty() {
        out.md.push_str("(no finished runs yet)\n");
    }
    for suite in suites {
        let r = Rows {
            rows: rows.iter().filter(|r| r.suite == Some(suite)).collect(),
        };
        let _ = writeln!(out.md, "## Suite {suite}\n");
        if let Some(x) = r.rows.first() {
            let revisions: BTreeSet<&str> = r.rows.iter().map(|x| x.git_rev.as_str()).collect();
            let _ = writeln!(
                out.md,
                "Profile settings as run: max windows per set {}, git revision {}.\n",
                x.max_per_set.map_or("all".into(), |n| n.to_string()),
                revisions.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        per_set_table(&mut out, &r, suite);
        means(&mut out, &r, suite);
        protocols(&mut out, &r, suite);
        seeds(&mut out, &r, suite);
        norms(&mut out, &r, suite);
        ablation(&mut out, &r, suite);
        totals(&mut out, &r);
    }
    if !out.figures.is_empty() {
        out.md.push_str("## Figures\n\n");
        for (name, _) in &out.figures {
            let _ = writeln!(out.md, "- [{name}](figures/{name}.html)");
        }
    }
    Report {
        markdown: out.md,
        figures: out.figures,
    }
}

/// The report as it is written, section by section.
struct Out {
    md: String,
    figures: Vec<(String, Plot)>,
}

/// Table 1 / Table 2: AUC per set.
fn per_set_table(out: &mut Out, r: &Rows<'_>, suite: Suite) {
    let md = &mut out.md;
    let table = if suite == Suite::Lin31 {
        "Table 2"
    } else {
        "Table 1"
    };
    let _ = writeln!(
        md,
        "### {table} — AUC per set\n\n| set | CircSSNN, 3 views | published protocol | KNFP only | 1–3-mer LR |\n|---|---:|---:|---:|---:|",
    );
    for s in r.sets() {
        let main = r.get(&s, Main, "fusion");
        let _ = writeln!(
            md,
            "| {s} | {} | {} | {} | {} |",
            cell(main, |m| m.auc),
            cell(main, |m| m.published_auc),
            cell(r.get(&s, Ablation, "knfp"), |m| m.auc),
            cell(r.get(&s, Main, "baseline"), |m| m.auc),
        );
    }
    // Where the network loses to the 1–3-mer logistic regression, by name.
    let losses = |variant: &str, experiment: Experiment| -> (usize, Vec<String>) {
        let mut n = 0;
        let mut lost = Vec::new();
        for s in r.sets() {
            if let (Some(net), Some(base)) =
                (r.get(&s, experiment, variant), r.get(&s, Main, "baseline"))
            {
                n += 1;
                if net.auc < base.auc {
                    lost.push(format!("{s} ({})", versus(net.auc, base.auc)));
                }
            }
        }
        (n, lost)
    };
    for (label, variant, experiment) in [
        ("CircSSNN, 3 views", "fusion", Main),
        ("CircSSNN, KNFP only", "knfp", Ablation),
    ] {
        let (n, lost) = losses(variant, experiment);
        if n > 0 {
            let _ = writeln!(
                md,
                "\n{label} below the 1–3-mer LR on {} of {n} sets{}{}",
                lost.len(),
                if lost.is_empty() { "." } else { ": " },
                lost.join(", ")
            );
        }
    }
    if suite == Suite::Lin31 {
        md.push_str(
            "\nLinear sets are split as published (their official training and test samples); their \
             records name no source transcript, so the grouped-by-transcript protocol does not apply \
             to them, and the norm, stability and strict experiments run on the circRNA sets only.\n\
             \nNo per-set numbers are labelled *published* here: the paper's Table 2 (per-set AUC \
             of CircSSNN and of the published linear-RNA methods) is not in its text, only the \
             31-set means are (below), and the per-set tables of iDeep, iDeepE and HCRNet could \
             not be obtained offline.\n",
        );
    }
}

/// Fig. 5 / Fig. 10: means of four metrics beside the published ones.
fn means(out: &mut Out, r: &Rows<'_>, suite: Suite) {
    let (md, figures) = (&mut out.md, &mut out.figures);
    let linear = suite == Suite::Lin31;
    let fig = |n: &str| format!("{suite}-{n}");
    let published: &[PublishedMeans] = if linear { &LIN31 } else { &CIRC37 };
    let (sets, cols) = r.complete(&[(Main, "fusion"), (Ablation, "knfp"), (Main, "baseline")]);
    if !sets.is_empty() {
        let metrics: Vec<String> = ["ACC", "AUC", "precision", "recall"]
            .map(String::from)
            .into();
        let mut methods = vec![
            format!("CircSSNN, 3 views (this crate, {} sets)", sets.len()),
            format!("CircSSNN, KNFP only (this crate, {} sets)", sets.len()),
            format!("1–3-mer logistic regression ({} sets)", sets.len()),
        ];
        let mut values: Vec<Vec<f64>> = cols
            .iter()
            .map(|c| (0..4).map(|k| mean(c.iter().map(|r| four(r)[k]))).collect())
            .collect();
        let _ = writeln!(
            md,
            "\n### {} — means over {} sets\n\n| method | ACC | AUC | precision | recall |\n|---|---:|---:|---:|---:|",
            if linear { "Fig. 10" } else { "Fig. 5" },
            sets.len()
        );
        for p in published {
            methods.push(format!(
                "{} ({} sets)",
                p.method,
                if linear { 31 } else { 37 }
            ));
            values.push(vec![
                p.accuracy.unwrap_or(f64::NAN),
                p.auc,
                p.precision.unwrap_or(f64::NAN),
                p.recall.unwrap_or(f64::NAN),
            ]);
        }
        for (m, v) in methods.iter().zip(&values) {
            let f = |x: f64| {
                if x.is_nan() {
                    "–".to_string()
                } else {
                    format!("{x:.3}")
                }
            };
            let _ = writeln!(
                md,
                "| {m} | {} | {} | {} | {} |",
                f(v[0]),
                f(v[1]),
                f(v[2]),
                f(v[3])
            );
        }
        if linear {
            // The paper gives only AUC means for the linear sets. Ours carry
            // their per-set values (a 95% interval over the sets); a
            // published mean is one marker.
            let per_method: Vec<(String, Vec<Vec<f64>>)> = methods
                .iter()
                .zip(&values)
                .enumerate()
                .map(|(k, (m, v))| {
                    let aucs = cols
                        .get(k)
                        .map_or_else(|| vec![v[1]], |c| c.iter().map(|r| r.auc).collect());
                    (m.clone(), vec![aucs])
                })
                .collect();
            figures.push((
                fig("fig10-means"),
                mean_intervals(
                    &["mean test AUC over the sets".to_string()],
                    &per_method,
                    &format!(
                        "Fig. 10: linear RNA, mean AUC ({} sets here; published: 31)",
                        sets.len()
                    ),
                    "mean test AUC (95% interval over sets)",
                ),
            ));
            figures.push((
                fig("fig9-box"),
                box_plot(
                    &[
                        Series::new("CircSSNN, 3 views", cols[0].iter().map(|r| r.auc).collect()),
                        Series::new("CircSSNN, KNFP", cols[1].iter().map(|r| r.auc).collect()),
                        Series::new("1–3-mer LR", cols[2].iter().map(|r| r.auc).collect()),
                    ],
                    &format!("Fig. 9: linear-RNA test AUC ({} sets)", sets.len()),
                    "test AUC",
                ),
            ));
        } else {
            figures.push((
                fig("fig5-means"),
                dot_matrix(
                    &methods,
                    &metrics,
                    &values
                        .iter()
                        .map(|v| {
                            v.iter()
                                .map(|x| if x.is_nan() { 0.0 } else { *x })
                                .collect()
                        })
                        .collect::<Vec<_>>(),
                    &format!(
                        "Fig. 5: mean metrics ({} sets here; published rows as published)",
                        sets.len()
                    ),
                ),
            ));
        }
    }
}

/// The stricter protocols side by side: the headline of the evaluation beyond the paper.
fn protocols(out: &mut Out, r: &Rows<'_>, suite: Suite) {
    let (md, figures) = (&mut out.md, &mut out.figures);
    let fig = |n: &str| format!("{suite}-{n}");
    let (sets, cols) = r.complete(&[
        (Main, "fusion"),
        (Strict, "shuffled"),
        (Ablation, "knfp"),
        (Strict, "grouped"),
        (Main, "baseline"),
        (Strict, "shuffled-baseline"),
        (Strict, "grouped-baseline"),
    ]);
    if !sets.is_empty() {
        let m = |k: usize| mean(cols[k].iter().map(|r| r.auc));
        let _ = writeln!(
            md,
            "\n### Stricter evaluation — mean AUC over {n} sets\n\n\
             | model | standard | published protocol | shuffled negatives | grouped by transcript |\n|---|---:|---:|---:|---:|\n\
             | CircSSNN, 3 views | {:.3} | {:.3} | {:.3} | – |\n\
             | CircSSNN, KNFP only | {:.3} | {:.3} | – | {:.3} |\n\
             | 1–3-mer LR | {:.3} | – | {:.3} | {:.3} |\n\n\
             *Shuffled negatives*: every negative replaced by a dinucleotide shuffle of a positive of the same \
             split part, so neither transcript identity nor composition separates the classes. *Grouped*: no \
             source circRNA in both test and training (KNFP only: the learned descriptors' corpus was cut for the random split).",
            m(0),
            mean(cols[0].iter().map(|r| r.published_auc)),
            m(1),
            m(2),
            mean(cols[2].iter().map(|r| r.published_auc)),
            m(3),
            m(4),
            m(5),
            m(6),
            n = sets.len(),
        );
        let aucs = |k: usize| -> Vec<f64> { cols[k].iter().map(|r| r.auc).collect() };
        figures.push((
            fig("strict-protocols"),
            mean_intervals(
                &["standard", "shuffled negatives", "grouped by transcript"].map(String::from),
                &[
                    (
                        "CircSSNN, 3 views".to_string(),
                        vec![aucs(0), aucs(1), vec![]],
                    ),
                    ("CircSSNN, KNFP".to_string(), vec![aucs(2), vec![], aucs(3)]),
                    ("1–3-mer LR".to_string(), vec![aucs(4), aucs(5), aucs(6)]),
                ],
                &format!("Mean test AUC under three protocols ({} sets)", sets.len()),
                "mean test AUC (95% interval over sets)",
            ),
        ));
    }
}

/// Fig. 6: stability over training seeds.
fn seeds(out: &mut Out, r: &Rows<'_>, suite: Suite) {
    let (md, figures) = (&mut out.md, &mut out.figures);
    let fig = |n: &str| format!("{suite}-{n}");
    let mut seeds: Vec<&RunRow> = r
        .rows
        .iter()
        .copied()
        .filter(|x| {
            x.set.eq_ignore_ascii_case(super::plan::STABILITY_SET)
                && (x.experiment == Some(Stability)
                    || (x.experiment == Some(Main) && x.variant == "fusion"))
        })
        .collect();
    seeds.sort_by_key(|x| x.seed);
    if seeds.len() > 1 {
        let auc: Vec<f64> = seeds.iter().map(|x| x.auc).collect();
        let pubs: Vec<f64> = seeds.iter().map(|x| x.published_auc).collect();
        let _ = writeln!(
            md,
            "\n### Fig. 6 — stability, {} seeds on {}\n\n| seed | AUC | published protocol |\n|---:|---:|---:|",
            seeds.len(),
            super::plan::STABILITY_SET
        );
        for x in &seeds {
            let _ = writeln!(md, "| {} | {:.4} | {:.4} |", x.seed, x.auc, x.published_auc);
        }
        let _ = writeln!(
            md,
            "| mean ± sd | {:.4} ± {:.4} | {:.4} ± {:.4} |",
            mean(auc.iter().copied()),
            mean_sd(&auc).1,
            mean(pubs.iter().copied()),
            mean_sd(&pubs).1
        );
        figures.push((
            fig("fig6-stability"),
            stability(
                &[
                    Series::new("whole test, validation-selected", auc),
                    Series::new("published protocol", pubs),
                ],
                &format!(
                    "Fig. 6: {}, {} training seeds",
                    super::plan::STABILITY_SET,
                    seeds.len()
                ),
                "test AUC",
            ),
        ));
    }
}

/// Fig. 7: pre-norm against post-norm.
fn norms(out: &mut Out, r: &Rows<'_>, suite: Suite) {
    let (md, figures) = (&mut out.md, &mut out.figures);
    let fig = |n: &str| format!("{suite}-{n}");
    let (sets, cols) = r.complete(&[(Main, "fusion"), (NormExp, "post")]);
    if !sets.is_empty() {
        let pre: Vec<f64> = cols[0].iter().map(|x| x.auc).collect();
        let post: Vec<f64> = cols[1].iter().map(|x| x.auc).collect();
        let wins = pre.iter().zip(&post).filter(|(a, b)| a > b).count();
        let _ = writeln!(
            md,
            "\n### Fig. 7 — pre-norm vs post-norm\n\nMean AUC pre-norm {:.3}, post-norm {:.3}; pre-norm higher on {wins} of {} sets.",
            mean(pre.iter().copied()),
            mean(post.iter().copied()),
            sets.len()
        );
        figures.push((
            fig("fig7-norm"),
            paired_differences(
                &sets,
                &Series::new("post-norm", post),
                &Series::new("pre-norm", pre),
                &format!(
                    "Fig. 7: pre- vs post-norm per set (3 views, 1 block, {} sets)",
                    sets.len()
                ),
                "test AUC",
            ),
        ));
    }
}

/// Fig. 8: the descriptor ablation (circRNA suites only).
fn ablation(out: &mut Out, r: &Rows<'_>, suite: Suite) {
    let (md, figures) = (&mut out.md, &mut out.figures);
    let linear = suite == Suite::Lin31;
    let fig = |n: &str| format!("{suite}-{n}");
    let keys = [
        (Ablation, "knfp", "KNFP"),
        (Ablation, "vec", "circRNA2Vec"),
        (Ablation, "bert", "k-mer BERT"),
        (Main, "fusion", "fusion of all three"),
    ];
    let (sets, cols) = r.complete(&keys.map(|(e, v, _)| (e, v)));
    if !sets.is_empty() && !linear {
        let groups: Vec<Series> = keys
            .iter()
            .zip(&cols)
            .map(|((_, _, n), c)| Series::new(*n, c.iter().map(|x| x.auc).collect()))
            .collect();
        let _ = writeln!(
            md,
            "\n### Fig. 8 — descriptor ablation, mean AUC over {} sets\n\n| descriptor | mean AUC | min | max |\n|---|---:|---:|---:|",
            sets.len()
        );
        for g in &groups {
            let _ = writeln!(
                md,
                "| {} | {:.3} | {:.3} | {:.3} |",
                g.name,
                mean(g.values.iter().copied()),
                g.values.iter().copied().fold(f64::INFINITY, f64::min),
                g.values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            );
        }
        figures.push((
            fig("fig8-ablation"),
            violin_paired(
                &groups,
                &sets,
                &format!(
                    "Fig. 8: test AUC per descriptor ({} sets; a line joins one set)",
                    sets.len()
                ),
                "descriptor (the network's input views)",
                "test AUC",
            ),
        ));
    }
}

/// How many runs, and their summed training time.
fn totals(out: &mut Out, r: &Rows<'_>) {
    let md = &mut out.md;
    let trained: Vec<&&RunRow> = r
        .rows
        .iter()
        .filter(|x| x.views != Method::Baseline)
        .collect();
    let _ = writeln!(
        md,
        "\n{} training runs and {} baseline fits in this suite; {:.1} h of training time \
         summed over runs (runs in parallel overlap, so this is more than the wall time).\n",
        trained.len(),
        r.rows.len() - trained.len(),
        trained.iter().fold(0.0, |s, x| s + x.seconds) / 3600.0
    );
}

#[cfg(test)]
mod tests {
    use super::{set_order, versus};

    #[test]
    fn linear_sets_sort_by_their_number_and_circrna_sets_by_name() {
        let mut sets = [
            "10_PARCLIP_ELAVL1A_hg19",
            "2_PARCLIP_AGO2MNASE_hg19",
            "1_PARCLIP_AGO1234_hg19",
        ];
        sets.sort_by_key(|s| set_order(s));
        assert_eq!(
            sets,
            [
                "1_PARCLIP_AGO1234_hg19",
                "2_PARCLIP_AGO2MNASE_hg19",
                "10_PARCLIP_ELAVL1A_hg19"
            ]
        );
        let mut circ = ["WTAP", "AGO1", "C17ORF85"];
        circ.sort_by_key(|s| set_order(s));
        assert_eq!(circ, ["AGO1", "C17ORF85", "WTAP"]);
    }

    #[test]
    fn a_loss_hidden_by_rounding_is_printed_with_a_fifth_decimal() {
        assert_eq!(versus(0.63180, 0.66740), "0.6318 vs 0.6674");
        assert_eq!(versus(0.69539375, 0.69540625), "0.69539 vs 0.69541");
    }
}
