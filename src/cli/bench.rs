use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;

use circssnn::data::Registry;
use circssnn::features::bert::{Bert, BertConfig, BertDescriptor, KmerTokenizer};
use circssnn::features::Descriptor;
use circssnn::features::{kmer_counts, knfp_batch, knfp_into, KNFP_LEN};
use circssnn::model::{ViewSet, BERT_PAPER, BERT_SMALL};
use circssnn::train::throughput::measure;

use super::{with_device, Common};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Set whose windows are used as input.
    #[arg(long = "rbp", default_value = "AGO2")]
    set: String,
    /// Minimum time per measurement, seconds.
    #[arg(long, default_value_t = 1.0)]
    min_time: f64,
    /// Timed steps per network measurement (after one warm-up step).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Network profiles to measure: small, paper, all, none.
    #[arg(long, default_value = "all")]
    profile: String,
    /// Also write the network rows as JSON here (for bench/compare).
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// Run `f` (which processes `items` items) until `min` has passed; items/s.
fn rate(items: usize, min: Duration, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let t0 = Instant::now();
    let mut n = 0usize;
    while t0.elapsed() < min {
        f();
        n += items;
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

pub fn run(common: &Common, args: BenchArgs) -> Result<()> {
    let reg = Registry::scan(&common.data_dir)?;
    let entry = reg.get(&args.set)?;
    let min = Duration::from_secs_f64(args.min_time);
    let t0 = Instant::now();
    let ds = entry.load(common.policy())?;
    let load_rate = ds.len() as f64 / t0.elapsed().as_secs_f64();
    let seqs: Vec<&[u8]> = ds.records.iter().map(|r| r.seq.as_slice()).collect();

    let mut buf = vec![0f32; KNFP_LEN];
    let knfp_1 = rate(seqs.len(), min, || {
        for s in &seqs {
            knfp_into(s, &mut buf);
        }
        std::hint::black_box(&buf);
    });
    // Training batches of 64, as the model will request them; one batch for
    // the whole set would measure page faults of a 1.4 GB array instead.
    let knfp_par = rate(seqs.len(), min, || {
        for chunk in seqs.chunks(64) {
            std::hint::black_box(knfp_batch(chunk));
        }
    });
    let counts = rate(seqs.len(), min, || {
        for s in &seqs {
            std::hint::black_box(kmer_counts(s));
        }
    });
    println!(
        "input: {} ({} windows of 101 nt), {} rayon threads",
        ds.name,
        ds.len(),
        rayon::current_num_threads()
    );
    println!("{:<36} {:>14}", "stage", "windows/s");
    println!(
        "{:<36} {:>14.0}",
        "FASTA read + validate (cold, once)", load_rate
    );
    println!("{:<36} {:>14.0}", "KNFP 101x84, one thread", knfp_1);
    println!(
        "{:<36} {:>14.0}",
        "KNFP 101x84, batches of 64 (rayon)", knfp_par
    );
    println!("{:<36} {:>14.0}", "1-3-mer counts, one thread", counts);

    let mut rows = Vec::new();
    let want = |p: &str| args.profile == "all" || args.profile == p;
    with_device!(common.device, 0, dev: Dev => {
        if want("small") {
            rows.push(measure::<BERT_SMALL, Dev>(&dev, "small", ViewSet::KNFP, args.steps)?);
            rows.push(measure::<BERT_SMALL, Dev>(&dev, "small", ViewSet::ALL, args.steps)?);
        }
        if want("paper") {
            rows.push(measure::<BERT_PAPER, Dev>(&dev, "paper", ViewSet::ALL, args.steps)?);
        }
    });
    if !rows.is_empty() {
        println!("\nCircSSNN network, depth 1, dfdx on {:?} ({} CPU threads); train = forward + backward + Adam, batch 64; inference batch 256; peak = host RSS", common.device, rayon::current_num_threads());
        println!(
            "{:<8} {:<15} {:>6} {:>12} {:>12} {:>10}",
            "profile", "views", "BERT", "train win/s", "infer win/s", "peak MiB"
        );
        for r in &rows {
            println!(
                "{:<8} {:<15} {:>6} {:>12.1} {:>12.1} {:>10}",
                r.profile,
                r.views,
                r.bert_width,
                r.train_per_s,
                r.infer_per_s,
                r.peak_mib.map_or("-".into(), |m| format!("{m:.0}"))
            );
        }
    }
    if want("small") || want("paper") {
        println!("\nk-mer BERT descriptor (forward of [CLS] + 99 3-mers + [SEP], random weights), dfdx on {:?}", common.device);
        println!(
            "{:<8} {:<18} {:>12}",
            "profile", "shape D/L/H/F", "windows/s"
        );
        with_device!(common.device, 0, dev: Dev => {
            if want("small") {
                let r = bert_rate::<128, 4, 4, 512, Dev>(&dev, &seqs, 64, min);
                println!("{:<8} {:<18} {:>12.1}", "small", "128/4/4/512", r);
            }
            if want("paper") {
                let r = bert_rate::<768, 12, 12, 3072, Dev>(&dev, &seqs, 8, min);
                println!("{:<8} {:<18} {:>12.1}", "paper", "768/12/12/3072", r);
            }
        });
    }
    if let Some(path) = &args.json {
        circssnn::output::write_atomic(path, |w| {
            serde_json::to_writer_pretty(w, &rows).map_err(std::io::Error::other)
        })?;
    }
    Ok(())
}

/// Windows/s of a randomly initialised `D/L/H/F` BERT descriptor on batches
/// of `batch` windows (the speed does not depend on the weights).
fn bert_rate<const D: usize, const L: usize, const H: usize, const F: usize, Dev>(
    dev: &Dev,
    seqs: &[&[u8]],
    batch: usize,
    min: Duration,
) -> f64
where
    Dev: dfdx::prelude::Device<f32> + Send + Sync,
    BertDescriptor<D, L, H, F, Dev>: Descriptor<D>,
{
    let bert =
        Bert::<D, L, H, F, Dev>::new(dev, BertConfig::new(D, L, H, F)).expect("a valid shape");
    let desc = BertDescriptor::new(bert, KmerTokenizer::default(), String::new(), dev.clone());
    let chunk = &seqs[..batch.min(seqs.len())];
    rate(chunk.len(), min, || {
        std::hint::black_box(desc.encode_batch(chunk));
    })
}
