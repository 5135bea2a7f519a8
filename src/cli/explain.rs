//! `circssnn explain` and `circssnn motifs`: flags to models and settings,
//! then [`circssnn::explain`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use circssnn::data::fasta::read_records;
use circssnn::data::Registry;
use circssnn::explain::{
    explain_records, explained_agreement, motif_rows, test_positive_records, write_explanations,
    write_motifs, zoo_motifs, Background, Importance, MotifConfig, TOP_POSITIONS,
};
use circssnn::scan::{run_models, zoo_models, Fpr, ScanModel};
use circssnn::zoo::default_zoo;

use super::Common;

/// Which models: a zoo and its RBPs, or run folders.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Model zoo folder (default: models/zoo if it holds a zoo.json, else
    /// the zoo shipped in data/zoo).
    #[arg(long, conflicts_with = "model")]
    zoo: Option<PathBuf>,
    /// RBPs of the zoo, comma-separated, or all.
    #[arg(long = "rbp", value_delimiter = ',', default_value = "all")]
    rbps: Vec<String>,
    /// Run folders of `circssnn train` instead of a zoo (repeatable).
    #[arg(long)]
    model: Vec<PathBuf>,
}

impl ModelArgs {
    fn load(&self, common: &Common, quiet: bool) -> Result<Vec<ScanModel>> {
        if !self.model.is_empty() {
            return Ok(run_models(&self.model, 0.5, common.device)?);
        }
        let zoo = self.zoo.clone().unwrap_or_else(default_zoo);
        if !quiet {
            eprintln!("zoo: {}", zoo.display());
        }
        Ok(zoo_models(&zoo, &self.rbps, Fpr::Five, common.device)?)
    }
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// 101-nt windows, plain or gzipped FASTA (--pad / --trim for other lengths).
    #[arg(required_unless_present = "test_positives")]
    input: Option<PathBuf>,
    /// Instead of a FASTA: the first N positives of the test part of each
    /// model's own set (windows it never saw; each model explains its own).
    #[arg(long, value_name = "N", conflicts_with = "input")]
    test_positives: Option<usize>,
    /// Output folder: importance.tsv, agreement.tsv and logos/<rbp>.<record>.<id>.html and .svg.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    models: ModelArgs,
    /// Importance logos drawn (the first windows x models).
    #[arg(long, default_value_t = 20)]
    figures: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn explain(common: &Common, a: ExplainArgs) -> Result<()> {
    let models = a.models.load(common, a.quiet)?;
    let t0 = std::time::Instant::now();
    let items = match (&a.input, a.test_positives) {
        (Some(input), _) => {
            let records = read_records(input, common.policy())?;
            explain_records(&records, &models, !a.quiet)?
        }
        (None, n) => {
            let reg = Registry::scan(&common.data_dir)?;
            let mut items = Vec::new();
            for m in &models {
                let records = test_positive_records(&reg, &m.predictor, n.unwrap_or(0))?;
                items.extend(explain_records(
                    &records,
                    std::slice::from_ref(m),
                    !a.quiet,
                )?);
            }
            items
        }
    };
    let files = write_explanations(&a.out, &items, a.figures)?;
    let s = t0.elapsed().as_secs_f64();
    for m in explained_agreement(&items) {
        let (g, at) = (m.gradient, m.attention);
        eprintln!(
            "{}: mutagenesis vs gradient x input over {} windows: Pearson {:.3} (median {:.3}), \
             Spearman {:.3}, top-{TOP_POSITIONS} overlap {:.2}; vs projected attention: Pearson {:.3}, \
             top-{TOP_POSITIONS} overlap {:.2}",
            m.rbp,
            g.windows,
            g.pearson_mean,
            g.pearson_median,
            g.spearman_mean,
            g.top_overlap,
            at.pearson_mean,
            at.top_overlap
        );
    }
    eprintln!(
        "{} windows explained ({} models) by mutagenesis ({} variants each) and gradient x input \
         in {s:.1} s ({:.1} windows/s); {} files in {}",
        items.len(),
        models.len(),
        3 * circssnn::data::WINDOW + 1,
        items.len() as f64 / s.max(1e-9),
        files.len(),
        a.out.display()
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct MotifsArgs {
    /// Output folder: motifs.tsv, <rbp>.pwm.tsv, <rbp>.logo.html and .svg.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    models: ModelArgs,
    /// Highest-scoring test-part positives explained per RBP.
    #[arg(long, default_value_t = MotifConfig::default().windows)]
    windows: usize,
    /// How each window's importance is computed: mutagenesis (exact, 303
    /// forward passes per window) or gradient x input (one backward pass).
    #[arg(long, value_enum, default_value_t = Importance::Ism)]
    importance: Importance,
    /// Width of the important segment cut from each window.
    #[arg(long, default_value_t = MotifConfig::default().segment)]
    segment: usize,
    /// Shortest k-mer counted.
    #[arg(long, default_value_t = MotifConfig::default().k_min)]
    k_min: usize,
    /// Longest k-mer counted.
    #[arg(long, default_value_t = MotifConfig::default().k_max)]
    k_max: usize,
    /// What the segments are counted against: shuffled (dinucleotide
    /// shuffles of each segment) or window (random segments of the same
    /// windows; finds low-complexity motifs such as U tracts).
    #[arg(long, value_enum, default_value_t = Background::Shuffled)]
    background: Background,
    /// Background segments per segment.
    #[arg(long, default_value_t = MotifConfig::default().shuffles)]
    shuffles: usize,
    /// k-mers per length in the table.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Seed of the shuffles.
    #[arg(long, default_value_t = MotifConfig::default().seed)]
    seed: u64,
    /// Pass over a window that shares an exact stretch of this many nt
    /// with a better-scoring one (repeat copies counted once; 0: keep all).
    #[arg(long, default_value_t = MotifConfig::default().distinct)]
    distinct: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn motifs(common: &Common, a: MotifsArgs) -> Result<()> {
    let cfg = MotifConfig {
        windows: a.windows,
        importance: a.importance,
        segment: a.segment,
        k_min: a.k_min,
        k_max: a.k_max,
        background: a.background,
        shuffles: a.shuffles,
        seed: a.seed,
        distinct: a.distinct,
        ..Default::default()
    };
    cfg.check()?;
    let models = a.models.load(common, a.quiet)?;
    let reg = Registry::scan(&common.data_dir)?;
    let t0 = std::time::Instant::now();
    let found = zoo_motifs(&reg, &models, &cfg, !a.quiet)?;
    let rows: Vec<_> = found
        .iter()
        .flat_map(|(rbp, m)| motif_rows(rbp, m, a.top))
        .collect();
    let files = write_motifs(&a.out, &rows, &found)?;
    println!(
        "{:<9} {:<20} {:<10} {:<20} known motif",
        "RBP", "top 5-mers", "best k-mer", "counting's 5-mers"
    );
    for (rbp, m) in &found {
        let five: Vec<&str> = m.top(5, 3).iter().map(|e| e.kmer.as_str()).collect();
        let counted: Vec<&str> = m
            .top_counted(5, 3)
            .iter()
            .map(|e| e.kmer.as_str())
            .collect();
        let best = m.kmers.first().map_or("-", |e| e.kmer.as_str());
        let known = circssnn::explain::known_motif(rbp).map_or(String::new(), |k| {
            let hit = five.iter().any(|x| k.matches(x));
            format!(
                "{} ({})",
                k.motif,
                if hit {
                    "found in the top 3"
                } else {
                    "not in the top 3"
                }
            )
        });
        println!(
            "{rbp:<9} {:<20} {best:<10} {:<20} {known}",
            five.join(" "),
            counted.join(" ")
        );
    }
    eprintln!(
        "{} RBPs, {} windows each, importance by {:?} against a {:?} background, in {:.1} s; {} files in {}",
        found.len(),
        cfg.windows,
        cfg.importance,
        cfg.background,
        t0.elapsed().as_secs_f64(),
        files.len(),
        a.out.display()
    );
    Ok(())
}
