//! `circssnn zoo train`, `zoo pack` and `circssnn scan` end to end on real
//! data: a synthetic circRNA built around a bound window of a shipped zoo
//! model's test part, placed across the back-splice junction, is found
//! there, at the right circular coordinates, in every output; `--linear`
//! does not wrap; odd records behave as documented; a zoo model whose
//! descriptors are missing is refused by name; a zoo trained here (WTAP, the
//! smallest set) lists, packs to F16 and scores as before; the shipped
//! multi-task heads score their own test parts as the manifest says, and
//! repack (alone or added to a zoo) without loss.

mod common;

use std::path::Path;

use circssnn::data::{default_root, Registry};
use circssnn::eval::binary_metrics;
use circssnn::scan::{score_transcript, zoo_models, zoo_networks, Fpr, ScanConfig};
use circssnn::train::{DeviceKind, Predictor};
use circssnn::zoo::{shipped_zoo, Zoo};
use common::{fails, ok, s};

/// The shipped zoo and the RBP whose model the scans use: the one-set
/// network with the highest validation AUC.
fn shipped() -> (std::path::PathBuf, String) {
    let dir = shipped_zoo();
    let zoo = Zoo::load(&dir).expect("the zoo shipped in data/zoo");
    let best = zoo
        .models
        .iter()
        .filter(|m| m.head.is_none())
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
    // --max-records: the first transcripts only.
    let first = dir.path().join("first");
    ok(&[
        "scan",
        "--zoo",
        s(zoo),
        "--rbp",
        &rbp,
        "--max-records",
        "1",
        s(&fasta),
        "--out",
        s(&first),
    ]);
    let tsv = read(&first.join("windows.tsv"));
    assert_eq!(
        tsv.lines()
            .skip(1)
            .map(|l| l.split('\t').next())
            .collect::<Vec<_>>(),
        [Some("short")]
    );
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
fn the_scan_benchmark_writes_made_up_circrnas_and_times_one_model_and_all() {
    let (zoo, rbp) = shipped();
    let n = Zoo::load(&zoo).unwrap().models.len();
    let (table, _) = ok(&[
        "bench",
        "--scan",
        "--scan-zoo",
        s(&zoo),
        "--scan-rbp",
        &rbp,
        "--scan-records",
        "40",
        "--scan-sample",
        "2",
    ]);
    assert!(table.contains("input: 40 circRNAs"), "{table}");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip_while(|l| !l.starts_with("models"))
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert_eq!(rows[0][0], rbp);
    assert_eq!(rows[1][..2], ["all", n.to_string().as_str()]);
    // Both rows scanned the same windows of the first two transcripts.
    assert_eq!(rows[0][1], rows[1][2]);
    assert!(rows[0][1].parse::<usize>().unwrap() > 2 * 150 / 10);
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
    // Its blend with the 1–3-mer baseline, checked against what is
    // measured here: the blend's baseline is the one of the zoo's baseline
    // row (same split, same fit), and the blend's test AUC is its formula
    // applied to the network's own test probabilities.
    let blend = m.blend.as_ref().expect("a zoo model is blended");
    assert!(
        circssnn::zoo::BLEND_WEIGHTS.contains(&blend.weight),
        "{}",
        blend.weight
    );
    let reg = Registry::scan(&default_root()).unwrap();
    let ds = reg.get("WTAP").unwrap().load(Default::default()).unwrap();
    let net = Predictor::load(&zoo.join(&m.dir), &Default::default(), DeviceKind::Cpu).unwrap();
    let (ds, split) = net.meta.protocol().apply(&ds);
    let (seqs, labels) = ds.part(&split.test);
    let auc = |p: &[f64]| binary_metrics(p, &labels, 0.5).unwrap().auc;
    let base = blend.baseline.predict_proba(&seqs);
    assert!(
        (auc(&base) - m.baseline_auc).abs() < 1e-12,
        "baseline {} here, {} in results.csv",
        auc(&base),
        m.baseline_auc
    );
    let p = net.predict(&seqs).unwrap();
    assert!((auc(&p) - m.test_auc).abs() < 1e-9);
    assert!((auc(&blend.apply(&seqs, &p)) - blend.test_auc).abs() < 1e-12);
    // The blend weight was chosen on validation: no other weight does
    // better there.
    let (vseqs, vlabels) = ds.part(&split.valid);
    let pv = net.predict(&vseqs).unwrap();
    for w in circssnn::zoo::BLEND_WEIGHTS {
        let other = circssnn::zoo::Blend {
            weight: w,
            ..blend.clone()
        };
        let a = binary_metrics(&other.apply(&vseqs, &pv), &vlabels, 0.5)
            .unwrap()
            .auc;
        assert!(
            a <= blend.valid_auc + 1e-12,
            "weight {w}: {a} > {}",
            blend.valid_auc
        );
    }
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
    // A manifest written before blends gets the same blend from `zoo blend`;
    // a tampered blend is refused by model name.
    let manifest = zoo.join("zoo.json");
    let text = read(&manifest);
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["models"][0]
        .as_object_mut()
        .unwrap()
        .remove("blend")
        .unwrap();
    std::fs::write(&manifest, json.to_string()).unwrap();
    assert!(Zoo::load(&zoo).unwrap().models[0].blend.is_none());
    let out = ok(&["zoo", "blend", "--zoo", s(&zoo)]).0;
    assert!(
        out.contains("blended with the baseline (1 models)"),
        "{out}"
    );
    assert_eq!(Zoo::load(&zoo).unwrap(), trained);
    let tampered = text.replacen(
        &format!("\"weight\": {}", serde_json::json!(blend.weight)),
        "\"weight\": 1.5",
        1,
    );
    assert_ne!(tampered, text);
    std::fs::write(&manifest, &tampered).unwrap();
    let err = fails(&["zoo", "list", "--zoo", s(&zoo)]);
    assert!(
        err.contains("zoo.json") && err.contains("model WTAP: its blend: blend weight 1.5"),
        "{err}"
    );
    std::fs::write(&manifest, &text).unwrap();
    // Resuming from a shipped results table (rows, no weights): the set is
    // not retrained, and its model, which is not there, is not listed.
    let copied = dir.path().join("copied");
    std::fs::create_dir(&copied).unwrap();
    std::fs::copy(zoo.join("results.csv"), copied.join("results.csv")).unwrap();
    let err = ok(&["zoo", "train", "--rbp", "WTAP", "--out", s(&copied)]).1;
    assert!(
        err.contains("zoo model WTAP: results.csv has its row but")
            && err.contains("left out of zoo.json"),
        "{err}"
    );
    assert!(Zoo::load(&copied).unwrap().models.is_empty());
    assert!(!copied.join("runs/WTAP").exists(), "WTAP was retrained");

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

/// The shipped zoo's heads of the multi-task network: one network, loaded
/// once, each head scoring its own set's test part (the split and windows
/// its checkpoint names) to the whole-test AUC its manifest entry records.
#[test]
fn the_shipped_heads_share_one_network_and_score_as_their_manifest_says() {
    let dir = shipped_zoo();
    let zoo = Zoo::load(&dir).unwrap();
    let heads: Vec<_> = zoo.models.iter().filter(|m| m.head.is_some()).collect();
    assert!(heads.len() >= 10, "{} heads shipped", heads.len());
    assert!(heads.iter().all(|m| m.dir == heads[0].dir));
    // The one-set networks and the heads never list one set twice.
    let mut sets: Vec<&str> = zoo.models.iter().map(|m| m.set.as_str()).collect();
    sets.sort_unstable();
    sets.dedup();
    assert_eq!(sets.len(), zoo.models.len());

    let (a, b) = (&heads[0].set, &heads[heads.len() - 1].set);
    let models = zoo_models(&dir, &[a.clone(), b.clone()], Fpr::Five, DeviceKind::Cpu).unwrap();
    assert!(models[0]
        .predictor
        .shares_network_with(&models[1].predictor));
    assert!(
        models[1].about.contains("multi-task"),
        "{}",
        models[1].about
    );
    let reg = Registry::scan(&default_root()).unwrap();
    for (m, entry) in models.iter().zip([heads[0], heads[heads.len() - 1]]) {
        let ds = reg.get(&m.name).unwrap().load(Default::default()).unwrap();
        let (ds, split) = m.predictor.meta.protocol().apply(&ds);
        assert_eq!(split.train.len(), entry.n_train, "{}", m.name);
        let (seqs, labels) = ds.part(&split.test);
        let p = m.predictor.predict(&seqs).unwrap();
        let auc = binary_metrics(&p, &labels, 0.5).unwrap().auc;
        assert!(
            (auc - entry.test_auc).abs() < 1e-6,
            "{}: {auc} scored here, {} in the manifest",
            m.name,
            entry.test_auc
        );
        // Its blend with the baseline, likewise.
        let blend = entry.blend.as_ref().expect("shipped models are blended");
        let auc = binary_metrics(&blend.apply(&seqs, &p), &labels, 0.5)
            .unwrap()
            .auc;
        assert!(
            (auc - blend.test_auc).abs() < 1e-6,
            "{}: blend {auc}",
            m.name
        );
    }
    // A scan scores with the blends and their thresholds; `zoo_networks`
    // with the networks alone and theirs.
    let nets = zoo_networks(&dir, &[a.clone(), b.clone()], Fpr::Five, DeviceKind::Cpu).unwrap();
    let seq = b"GGACUAACUAAUUUAGCAUGCCAGGUAAGUCCUUUCAUGAACGUACGU".repeat(6);
    let cfg = ScanConfig::default();
    let blended = score_transcript("t", &seq, &models, &cfg).unwrap();
    let alone = score_transcript("t", &seq, &nets, &cfg).unwrap();
    let wins: Vec<&[u8]> = blended.windows.iter().map(|w| w.seq.as_slice()).collect();
    for (k, entry) in [heads[0], heads[heads.len() - 1]].into_iter().enumerate() {
        let blend = models[k].blend.as_ref().unwrap();
        assert_eq!(models[k].threshold, blend.thresholds.fpr_05);
        assert!(nets[k].blend.is_none());
        assert_eq!(nets[k].threshold, entry.thresholds.fpr_05);
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
        };
        let scanned = &blended.tracks[k].probs;
        assert!(close(scanned, &blend.apply(&wins, &alone.tracks[k].probs)));
        assert!(close(scanned, &models[k].predict(&wins).unwrap()));
        if blend.weight < 1.0 {
            assert_ne!(blended.tracks[k].probs, alone.tracks[k].probs);
        }
    }
}

/// `zoo negatives`: two tiny grouped-split zoos of WTAP, one per kind of
/// negatives, scored on the same held-out positives against held-out
/// transcripts and shuffles; the zoos given the wrong way round are refused.
#[test]
fn pool_and_shuffled_zoos_are_compared_on_the_same_held_out_windows() {
    let dir = tempfile::tempdir().unwrap();
    let zoo = |neg: &str| {
        let out = dir.path().join(neg);
        ok(&[
            "zoo",
            "train",
            "--rbp",
            "WTAP",
            "--split",
            "grouped",
            "--negatives",
            neg,
            "--max-per-set",
            "400",
            "--jobs",
            "1",
            "--out",
            s(&out),
        ]);
        out
    };
    let (pool, shuffled) = (zoo("pool"), zoo("shuffled"));
    let out = dir.path().join("cmp");
    let md = ok(&[
        "zoo",
        "negatives",
        "--pool",
        s(&pool),
        "--shuffled",
        s(&shuffled),
        "--out",
        s(&out),
    ])
    .0;
    assert!(md.contains("| WTAP |") && md.contains("mean of 1"), "{md}");
    let csv = std::fs::read_to_string(out.join("negatives.csv")).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row.len(), 11, "{csv}");
    assert_eq!(row[0], "WTAP");
    let positives: usize = row[1].parse().unwrap();
    assert!((20..=60).contains(&positives), "{csv}");
    for auc in &row[3..] {
        let a: f64 = auc.parse().unwrap();
        assert!((0.0..=1.0).contains(&a), "{csv}");
    }
    // The same held-out windows as each zoo's own test part: the
    // pool-trained model against held-out transcripts is its test AUC.
    let own = Zoo::load(&pool).unwrap().get("WTAP").unwrap().test_auc;
    let t: f64 = row[3].parse().unwrap();
    assert!((t - own).abs() < 1e-3, "{t} vs zoo.json's {own}");
    let err = fails(&[
        "zoo",
        "negatives",
        "--pool",
        s(&shuffled),
        "--shuffled",
        s(&pool),
        "--out",
        s(&out),
    ]);
    assert!(err.contains("expected a pool-trained model"), "{err}");
}

/// `zoo pack` of heads: the network is copied once, each head listed by its
/// index, scores unchanged (F16 to F16 is exact); `--add` keeps the zoo's
/// models and skips a set it has; adding a second copy of the network is
/// refused by name, and so is a manifest listing a set twice.
#[test]
fn heads_pack_alone_or_added_to_a_zoo() {
    let src = shipped_zoo();
    let zoo = Zoo::load(&src).unwrap();
    let head = zoo.models.iter().find(|m| m.head.is_some()).unwrap();
    let own = zoo.models.iter().find(|m| m.head.is_none()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("packed");
    ok(&[
        "zoo",
        "pack",
        "--zoo",
        s(&src),
        "--rbp",
        &own.set,
        "--out",
        s(&out),
    ]);
    let stdout = ok(&[
        "zoo",
        "pack",
        "--zoo",
        s(&src),
        "--rbp",
        &format!("{},{}", head.set, own.set),
        "--out",
        s(&out),
        "--add",
    ]);
    assert!(
        stdout.1.contains(&format!("kept {}", own.set)),
        "{}",
        stdout.1
    );
    assert!(stdout.0.contains("head "), "{}", stdout.0);
    let packed = Zoo::load(&out).unwrap();
    assert_eq!(packed.models.len(), 2);
    let h = packed.get(&head.set).unwrap();
    assert_eq!(h.head, head.head);
    // Same F16 weights, same windows: the same scores (up to summation order).
    assert!((h.test_auc - head.test_auc).abs() < 1e-9, "{h:?}\n{head:?}");
    assert!((h.thresholds.fpr_05 - head.thresholds.fpr_05).abs() < 1e-6);
    assert_eq!(
        packed.get(&own.set).unwrap().dir,
        Path::new("runs").join(&own.set)
    );
    let shipped_weights = std::fs::metadata(src.join(&head.dir).join("best.safetensors")).unwrap();
    let weights = std::fs::metadata(out.join(&h.dir).join("best.safetensors")).unwrap();
    assert_eq!(weights.len(), shipped_weights.len());

    // A second head of the same network may not bring a second copy.
    let other = zoo
        .models
        .iter()
        .find(|m| m.head.is_some() && m.set != head.set)
        .unwrap();
    let err = fails(&[
        "zoo",
        "pack",
        "--zoo",
        s(&src),
        "--rbp",
        &other.set,
        "--out",
        s(&out),
        "--add",
    ]);
    assert!(
        err.contains("already reads the network") && err.contains(&head.set),
        "{err}"
    );

    // A manifest naming a set twice.
    let mut twice = packed.clone();
    twice.models.push(twice.models[0].clone());
    twice.save(&out).unwrap();
    let err = fails(&["zoo", "list", "--zoo", s(&out)]);
    assert!(err.contains("lists two models of"), "{err}");
}
