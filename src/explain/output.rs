//! The files `circssnn explain` and `circssnn motifs` write: tables as TSV,
//! logos as standalone HTML. Each file is written atomically, under a lock
//! on the output folder.

use std::path::{Path, PathBuf};

use super::{
    information_columns, known_motif, ExplainError, KmerEnrichment, Motifs, Mutagenesis, BASES,
    TOP_POSITIONS,
};
use crate::output::{write_atomic, DirLock};
use crate::plots::{save_html, sequence_logo, sequence_logo_svg};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExplainError + '_ {
    move |source| ExplainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A file name from a record id or RBP: anything but letters, digits, `-`,
/// `_` and `.` becomes `_`.
fn file_stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A logo as `html` and beside it as `.svg`; returns both paths.
fn save_logo(
    columns: &[[f64; 4]],
    title: &str,
    y_title: &str,
    html: PathBuf,
) -> Result<[PathBuf; 2], ExplainError> {
    save_html(&sequence_logo(columns, 1, title, y_title), &html).map_err(io(&html))?;
    let svg = html.with_extension("svg");
    let text = sequence_logo_svg(columns, 1, title, y_title);
    write_atomic(&svg, |w| w.write_all(text.as_bytes())).map_err(io(&svg))?;
    Ok([html, svg])
}

/// One window explained under one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// The model's RBP.
    pub rbp: String,
    /// 1-based record number in the input (ids can repeat; this does not).
    pub record: usize,
    /// Record id.
    pub id: String,
    /// Its mutagenesis.
    pub map: Mutagenesis,
    /// Its gradient x input, per position (see
    /// [`crate::train::Predictor::gradient_x_input`]).
    pub gradient_x_input: Vec<f64>,
    /// The first block's attention projected to positions (see
    /// [`crate::train::Predictor::attention_on_positions`]; not an importance).
    pub attention: Vec<f64>,
}

/// Write the explanations of windows into `out`: `importance.tsv` (one row
/// per window, model and position: the four probability changes, the
/// importance, the gradient x input and the projected attention),
/// `agreement.tsv` (per model, how well the last two agree with the
/// mutagenesis; see [`super::agreement()`]) and, for the first `figures`
/// of them, an importance logo `logos/<rbp>.<record>.<id>.html` and `.svg`.
/// Returns the files written.
pub fn write_explanations(
    out: &Path,
    items: &[Explained],
    figures: usize,
) -> Result<Vec<PathBuf>, ExplainError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let _lock = DirLock::acquire(out)?;
    let table = out.join("importance.tsv");
    write_atomic(&table, |w| {
        writeln!(
            w,
            "record\tid\trbp\tposition\tbase\tp_bound\tdelta_A\tdelta_C\tdelta_G\tdelta_U\timportance\tgradient_x_input\tattention_projected"
        )?;
        for e in items {
            let (Explained { rbp, record, id, .. }, m) = (e, &e.map);
            let rows = m.delta.iter().zip(m.importance());
            let rows = rows.zip(&e.gradient_x_input).zip(&e.attention);
            for (i, (((d, imp), g), a)) in rows.enumerate() {
                writeln!(
                    w,
                    "{record}\t{id}\t{rbp}\t{}\t{}\t{:.5}\t{:.5}\t{:.5}\t{:.5}\t{:.5}\t{imp:.5}\t{g:.5}\t{a:.5}",
                    i + 1,
                    m.seq[i] as char,
                    m.p_ref,
                    d[0],
                    d[1],
                    d[2],
                    d[3]
                )?;
            }
        }
        Ok(())
    })
    .map_err(io(&table))?;
    let agree = out.join("agreement.tsv");
    write_atomic(&agree, |w| {
        let k = TOP_POSITIONS;
        writeln!(
            w,
            "rbp\twindows\tgradient_pearson_mean\tgradient_pearson_median\tgradient_spearman_mean\t\
             gradient_top{k}_overlap\tattention_pearson_mean\tattention_spearman_mean\tattention_top{k}_overlap"
        )?;
        for m in super::explained_agreement(items) {
            let (g, a) = (m.gradient, m.attention);
            writeln!(
                w,
                "{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
                m.rbp,
                g.windows,
                g.pearson_mean,
                g.pearson_median,
                g.spearman_mean,
                g.top_overlap,
                a.pearson_mean,
                a.spearman_mean,
                a.top_overlap
            )?;
        }
        Ok(())
    })
    .map_err(io(&agree))?;
    let mut written = vec![table, agree];
    for Explained {
        rbp,
        record,
        id,
        map: m,
        ..
    } in items.iter().take(figures)
    {
        let path = out.join("logos").join(format!(
            "{}.{record}.{}.html",
            file_stem(rbp),
            file_stem(id)
        ));
        let title = format!(
            "{rbp} on {id}: P(bound) {:.3}; letter height = mean fall of P(bound) when the base is changed",
            m.p_ref
        );
        written.extend(save_logo(&m.logo_columns(), &title, "importance", path)?);
    }
    Ok(written)
}

/// One row of the motif table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MotifRow {
    /// RBP (set).
    pub rbp: String,
    /// `importance`: in the model's important segments against their
    /// shuffles; `counting`: in the set's positives against its negatives,
    /// no model (the contrast).
    pub method: &'static str,
    /// k-mer length.
    pub k: usize,
    /// Rank among the k-mers of this length (1 = most significant).
    pub rank: usize,
    /// The k-mer.
    pub kmer: String,
    /// Important segments holding it (counting: positives).
    pub segments: usize,
    /// Of how many segments (counting: positives).
    pub of: usize,
    /// Shuffled segments holding it (counting: negatives).
    pub background: usize,
    /// Enrichment over the shuffled segments.
    pub enrichment: f64,
    /// One-sided binomial p-value.
    pub p_value: f64,
    /// The motif known from the literature, if one is listed.
    pub known_motif: String,
    /// Whether the k-mer holds the known motif's core.
    pub matches_known: Option<bool>,
}

/// The `top` most significant k-mers of each length as table rows: those
/// of the model's importance, then those of plain counting (if computed).
pub fn motif_rows(rbp: &str, found: &Motifs, top: usize) -> Vec<MotifRow> {
    let mut rows = table_rows(rbp, "importance", &found.kmers, found.segments.len(), top);
    rows.extend(table_rows(
        rbp,
        "counting",
        &found.counted,
        found.counted_positives,
        top,
    ));
    rows
}

fn table_rows(
    rbp: &str,
    method: &'static str,
    kmers: &[KmerEnrichment],
    of: usize,
    top: usize,
) -> Vec<MotifRow> {
    let known = known_motif(rbp);
    let mut ks: Vec<usize> = kmers.iter().map(|e| e.kmer.len()).collect();
    ks.sort_unstable();
    ks.dedup();
    ks.into_iter()
        .flat_map(|k| {
            kmers
                .iter()
                .filter(move |e| e.kmer.len() == k)
                .take(top)
                .enumerate()
                .map(move |(r, e)| MotifRow {
                    rbp: rbp.to_string(),
                    method,
                    k,
                    rank: r + 1,
                    kmer: e.kmer.clone(),
                    segments: e.segments,
                    of,
                    background: e.background,
                    enrichment: e.enrichment,
                    p_value: e.p_value,
                    known_motif: known.map_or(String::new(), |m| m.motif.to_string()),
                    matches_known: known.map(|m| m.matches(&e.kmer)),
                })
        })
        .collect()
}

/// Write the motif table `motifs.tsv` and, per RBP, the windows explained
/// with their important segments (`<rbp>.segments.tsv`, 1-based start), its
/// weight matrix (`<rbp>.pwm.tsv`, base frequencies) and logo (`<rbp>.logo.html` and
/// `.svg`, in bits) into `out`. Returns the files written.
pub fn write_motifs(
    out: &Path,
    rows: &[MotifRow],
    found: &[(String, Motifs)],
) -> Result<Vec<PathBuf>, ExplainError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let _lock = DirLock::acquire(out)?;
    let table = out.join("motifs.tsv");
    write_atomic(&table, |w| {
        writeln!(w, "rbp\tmethod\tk\trank\tkmer\tsegments\tof\tbackground\tenrichment\tp_value\tknown_motif\tmatches_known")?;
        for r in rows {
            let matches = r.matches_known.map_or(String::new(), |m| m.to_string());
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.3}\t{:.3e}\t{}\t{matches}",
                r.rbp, r.method, r.k, r.rank, r.kmer, r.segments, r.of, r.background, r.enrichment, r.p_value, r.known_motif
            )?;
        }
        Ok(())
    })
    .map_err(io(&table))?;
    let mut written = vec![table];
    for (rbp, m) in found {
        let stem = file_stem(rbp);
        // The windows explained and the segment cut from each: what the
        // table counted, for a reader to check against the sequences.
        let seg_path = out.join(format!("{stem}.segments.tsv"));
        write_atomic(&seg_path, |w| {
            writeln!(w, "rank	p_bound	start	segment	window")?;
            for (i, ((win, p), (start, seg))) in m
                .windows
                .iter()
                .zip(&m.p_bound)
                .zip(&m.segments)
                .enumerate()
            {
                writeln!(
                    w,
                    "{}	{p:.6}	{}	{}	{}",
                    i + 1,
                    start + 1,
                    String::from_utf8_lossy(seg),
                    String::from_utf8_lossy(win)
                )?;
            }
            Ok(())
        })
        .map_err(io(&seg_path))?;
        written.push(seg_path);
        let Some(best) = m.kmers.first() else {
            continue;
        };
        let pwm_path = out.join(format!("{stem}.pwm.tsv"));
        write_atomic(&pwm_path, |w| {
            writeln!(
                w,
                "position\t{}",
                BASES.map(|b| b as char).map(String::from).join("\t")
            )?;
            for (i, c) in m.pwm.iter().enumerate() {
                writeln!(
                    w,
                    "{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
                    i + 1,
                    c[0],
                    c[1],
                    c[2],
                    c[3]
                )?;
            }
            Ok(())
        })
        .map_err(io(&pwm_path))?;
        let logo_path = out.join(format!("{stem}.logo.html"));
        let title = format!(
            "{rbp}: segments around {} ({} of {} important segments)",
            best.kmer,
            best.segments,
            m.segments.len()
        );
        written.push(pwm_path);
        written.extend(save_logo(
            &information_columns(&m.pwm),
            &title,
            "bits",
            logo_path,
        )?);
    }
    Ok(written)
}
