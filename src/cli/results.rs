//! `circssnn results`: the `metrics.csv` of finished runs, collected into one CSV.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use circssnn::train::results::{read_rows, write_rows};

#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// Run folders, trees of them, or collected CSV files.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output CSV (one row per run).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: ResultsArgs) -> Result<()> {
    let mut rows = Vec::new();
    for p in &a.inputs {
        rows.extend(read_rows(p)?);
    }
    if rows.is_empty() {
        bail!("no metrics.csv found under {:?}", a.inputs);
    }
    write_rows(&a.out, &rows)?;
    println!("{} runs -> {}", rows.len(), a.out.display());
    Ok(())
}
