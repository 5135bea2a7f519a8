//! `circssnn zoo train`, `zoo pack` and `circssnn scan` end to end on real
//! data: a synthetic circRNA built around a bound window of a shipped zoo
//! model's test part, placed across the back-splice junction, is found
//! there, at the right circular coordinates, in every output; `--linear`
//! does not wrap; odd records behave as documented; a zoo model whose
//! descriptors are missing is refused by name; a zoo trained here (WTAP, the
//! smallest set) lists, packs to F16 and scores as before.

mod common;

use std::path::Path;

use circssnn::data::{default_root, Registry};
use circssnn::train::{DeviceKind, Predictor};
use circssnn::zoo::{shipped_zoo, Zoo};
use common::{fails, ok, s};

/// The shipped zoo and the RBP whose model the scans use: the one with the
/// highest validation AUC.
fn shipped() -> (std::path::PathBuf, String) {
    let dir = shipped_zoo();
    let zoo = Zoo::load(&dir).expect("the zoo shipped in data/zoo");
    let best = zoo
        .models
        .iter()
        .max_by(|a, b| a.valid_auc.total_cmp(&b.valid_auc))
        .expect("a shipped model");
    (dir, best.set.clone())
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn a_bound_window_across_the_junction_is_found_there() {
    let (zoo, rbp) = shipped();
    let zoo = zoo.as_path();

    // The test part of QKI's split: its most confidently bound window, and
    // unbound windows as background.
    let reg = Registry::scan(&default_root()).unwrap();
    let ds = reg.get(&rbp).unwrap().load(Default::default()).unwrap();
    let (ds, split) = circssnn::data::Protocol::default().apply(&ds);
    let model = Predictor::load(
        &zoo.join("runs").join(&rbp),
        &Default::default(),
        DeviceKind::Cpu,
    )
    .unwrap();
    let pos: Vec<&[u8]> = split
        .test
        .iter()
        .filter(|&&i| ds.labels[i] == 1)
        .map(|&i| ds.records[i].seq.as_slice())
        .collect();
    let neg: Vec<&[u8]> = split
        .test
        .iter()
        .filter(|&&i| ds.labels[i] == 0)
        .map(|&i| ds.records[i].seq.as_slice())
        .collect();
    let p = model.predict(&pos).unwrap();
    let best = (0..pos.len())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]))
        .unwrap();
    let q = model.predict(&neg).unwrap();
    let mut low: Vec<usize> = (0..neg.len()).collect();
    low.sort_by(|&a, &b| q[a].total_cmp(&q[b]));
    // circRNA = site[50..] + 6 unbound windows + site[..50]: the window that
    // starts 50 nt before the end wraps the junction and is the site.
    let site = pos[best];
    let mut circ: Vec<u8> = site[50..].to_vec();
    for &i in &low[..6] {
        circ.extend_from_slice(neg[i]);
    }
    circ.extend_from_slice(&site[..50]);
    let len = circ.len();
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("circ.fa");
    // Lower case and T: read as everywhere.
    let text = String::from_utf8(circ.clone())
        .unwrap()
        .replace('U', "T")
        .to_lowercase();
    std::fs::write(&fasta, format!(">circSite synthetic\n{text}\n")).unwrap();

    let out = dir.path().join("scan");
    ok(&[
        "scan",
        "--zoo",
        s(zoo),
        "--rbp",
        &rbp,
        "--stride",
        "1",
        s(&fasta),
        "--out",
        s(&out),
    ]);
    // windows.tsv: the best window wraps the junction and is the site.
    let rows: Vec<Vec<String>> = read(&out.join("windows.tsv"))
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(String::from).collect())
        .collect();
    assert_eq!(
        rows.len(),
        len,
        "stride 1 on a circle: one window per position"
    );
    let top = rows
        .iter()
        .max_by(|a, b| {
            a[5].parse::<f64>()
                .unwrap()
                .total_cmp(&b[5].parse().unwrap())
        })
        .unwrap();
    let start: usize = top[2].parse().unwrap();
    assert_eq!(
        top[4], "true",
        "the best window wraps the junction: {top:?}"
    );
    assert!(
        (len - 60..len - 40).contains(&start),
        "the best window starts within 10 nt of the site ({}), at {start}",
        len - 50
    );
    // peaks.bed: the peak over the site is two intervals with one name.
    let bed = read(&out.join("peaks.bed"));
    let junction: Vec<&str> = bed
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f[2] == len.to_string() || f[1] == "0"
        })
        .collect();
    assert_eq!(junction.len(), 2, "{bed}");
    let name = |l: &str| l.split('\t').nth(3).unwrap().to_string();
    assert_eq!(name(junction[0]), name(junction[1]));
    // bedGraph: the site's nucleotides carry the top probability.
    let graph = read(&out.join(format!("{rbp}.bedGraph")));
    let top_p: f64 = top[5].parse().unwrap();
    let at = |pos: usize| -> f64 {
        graph
            .lines()
            .skip(1)
            .find_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let (a, b): (usize, usize) = (f[1].parse().unwrap(), f[2].parse().unwrap());
                (a..b).contains(&pos).then(|| f[3].parse().unwrap())
            })
            .unwrap()
    };
    assert!((at(0) - top_p).abs() < 1e-4 && (at(len - 1) - top_p).abs() < 1e-4);
    let html = read(&out.join("report.html"));
    // plotly.js is inside the page (no external script), so it opens offline.
    assert!(html.contains("circSite") && html.contains("Plotly.newPlot"));
    assert!(
        !html.contains("<script src="),
        "report.html loads a script from elsewhere"
    );

    // --linear: nothing wraps, and no peak runs through the junction.
    let lin = dir.path().join("linear");
    ok(&[
        "scan",
        "--zoo",
        s(zoo),
        "--rbp",
        &rbp,
        "--stride",
        "1",
        "--linear",
        s(&fasta),
        "--out",
        s(&lin),
    ]);
    let tsv = read(&lin.join("windows.tsv"));
    assert!(!tsv.lines().skip(1).any(|l| l.contains("\ttrue\t")));
    assert_eq!(tsv.lines().count() - 1, len - 100);
}

#[test]
fn odd_records_behave_as_documented() {
    let (zoo, rbp) = shipped();
    let zoo = zoo.as_path();
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("odd.fa");
    let mut big = String::new();
    for i in 0..1_000_000 {
        big.push(b"ACGU"[(i * 7 + i / 13) % 4] as char);
    }
    std::fs::write(
        &fasta,
        format!(
            ">short only 40 nt\n{}\n>with_N\nACGUNNNNacgu{}\n>mb one megabase\n{big}\n",
            "ACGU".repeat(10),
            "U".repeat(200)
        ),
    )
    .unwrap();
    let out = dir.path().join("scan");
    ok(&[
        "scan",
        "--zoo",
        s(zoo),
        "--rbp",
        &rbp,
        "--stride",
        "5000",
        s(&fasta),
        "--out",
        s(&out),
    ]);
    let tsv = read(&out.join("windows.tsv"));
    // The short record: one window, its coordinates the record's own.
    assert!(
        tsv.contains(&format!("short\t{rbp}\t0\t40\tfalse\t")),
        "{}",
        &tsv[..300.min(tsv.len())]
    );
    assert_eq!(tsv.lines().filter(|l| l.starts_with("mb\t")).count(), 200);
    // An empty record is an error naming it, and no output is left half written.
    std::fs::write(&fasta, ">a\nACGU\n>empty\n").unwrap();
    let out2 = dir.path().join("scan2");
    let err = fails(&[
        "scan",
        "--zoo",
        s(zoo),
        "--rbp",
        &rbp,
        s(&fasta),
        "--out",
        s(&out2),
    ]);
    assert!(err.contains("record 2"), "{err}");
    assert!(!out2.join("windows.tsv").exists());
    assert!(std::fs::read_dir(&out2).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".circssnn-")));
}

#[test]
fn a_zoo_model_whose_descriptors_are_missing_is_refused_by_name() {
    let (zoo, rbp) = shipped();
    let dir = tempfile::tempdir().unwrap();
    // A copy of the zoo in which one model claims the BERT view.
    let copy = dir.path().join("zoo");
    for m in &Zoo::load(&zoo).unwrap().models {
        std::fs::create_dir_all(copy.join(&m.dir)).unwrap();
        for f in ["best.json", "best.safetensors"] {
            std::fs::copy(zoo.join(&m.dir).join(f), copy.join(&m.dir).join(f)).unwrap();
        }
    }
    std::fs::copy(zoo.join("zoo.json"), copy.join("zoo.json")).unwrap();
    let run = Path::new("runs").join(&rbp);
    let meta = copy.join(&run).join("best.json");
    let mut m: serde_json::Value = serde_json::from_str(&read(&meta)).unwrap();
    m["model"]["views"]["bert"] = true.into();
    m["descriptors"] = serde_json::json!({"bert": {"path": "/nonexistent/bert", "hash": "00"}});
    std::fs::write(&meta, m.to_string()).unwrap();
    let fasta = dir.path().join("a.fa");
    std::fs::write(&fasta, format!(">a\n{}\n", "ACGU".repeat(40))).unwrap();
    let err = fails(&[
        "scan",
        "--zoo",
        s(&copy),
        "--rbp",
        &rbp,
        s(&fasta),
        "--out",
        s(&dir.path().join("o")),
    ]);
    assert!(
        err.contains(&format!("zoo model {rbp} cannot be used")),
        "{err}"
    );
}

#[test]
fn a_zoo_trains_lists_and_packs_to_f16() {
    let dir = tempfile::tempdir().unwrap();
    let zoo = dir.path().join("zoo");
    ok(&[
        "zoo",
        "train",
        "--rbp",
        "WTAP",
        "--jobs",
        "1",
        "--out",
        s(&zoo),
    ]);
    let list = ok(&["zoo", "list", "--zoo", s(&zoo)]).0;
    assert!(list.contains("WTAP") && list.contains("recipe:"), "{list}");
    let trained = Zoo::load(&zoo).unwrap();
    let m = trained.get("WTAP").unwrap();
    assert!(
        m.thresholds.fpr_01 >= m.thresholds.fpr_05,
        "{:?}",
        m.thresholds
    );
    // Again: nothing left to train, the same manifest.
    ok(&[
        "zoo",
        "train",
        "--rbp",
        "WTAP",
        "--out",
        s(&zoo),
        "--collect-only",
    ]);
    assert_eq!(Zoo::load(&zoo).unwrap(), trained);

    let packed_dir = dir.path().join("packed");
    let out = ok(&[
        "zoo",
        "pack",
        "--zoo",
        s(&zoo),
        "--rbp",
        "WTAP",
        "--out",
        s(&packed_dir),
    ])
    .0;
    assert!(out.contains("stored as F16"), "{out}");
    let packed = Zoo::load(&packed_dir).unwrap();
    let p = packed.get("WTAP").unwrap();
    assert_eq!(p.f32_test_auc, Some(m.test_auc));
    assert!(
        (p.test_auc - m.test_auc).abs() < 0.01,
        "F16 {} vs F32 {}",
        p.test_auc,
        m.test_auc
    );
    let size = |d: &Path| {
        std::fs::metadata(d.join("runs/WTAP/best.safetensors"))
            .unwrap()
            .len()
    };
    let (full, half) = (size(&zoo), size(&packed_dir));
    assert!(
        half * 2 <= full + 4096 && half * 2 + 4096 >= full,
        "F32 {full} B, F16 {half} B"
    );
    // The packed model scans.
    let fasta = dir.path().join("a.fa");
    std::fs::write(&fasta, format!(">a\n{}\n", "ACGU".repeat(60))).unwrap();
    ok(&[
        "scan",
        "--zoo",
        s(&packed_dir),
        s(&fasta),
        "--out",
        s(&dir.path().join("o")),
    ]);
}
