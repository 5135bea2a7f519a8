//! The multi-task network: its heads are the one-set network's head, its
//! gradients reach the shared encoder from every head, and its training on
//! real sets learns, resumes, and keeps windows of held-out parts out of
//! training.

use circssnn::data::split::SplitKind;
use circssnn::data::{default_root, Dataset, Protocol, Registry, Split};
use circssnn::features::Descriptor;
use circssnn::model::{CircSsnn, CircSsnnMulti, ModelConfig, ViewBatch, BERT_SMALL};
use circssnn::train::checkpoint::{CheckpointMeta, FORMAT_VERSION};
use circssnn::train::fit::RunDir;
use circssnn::train::{fit_multi, Descriptors, MultiConfig, Task, TrainConfig};
use dfdx::prelude::*;

type Multi = CircSsnnMulti<BERT_SMALL, 1, 3, Cpu>;

fn no_dropout() -> ModelConfig {
    ModelConfig {
        dropout: 0.0,
        head_dropout: 0.0,
        ..Default::default()
    }
}

/// The one-set network with `multi`'s encoder and blocks and its head `r`.
fn single_from<const RBPS: usize>(
    multi: &CircSsnnMulti<BERT_SMALL, 1, RBPS, Cpu>,
    r: usize,
) -> CircSsnn<BERT_SMALL, 1, Cpu> {
    let dev = Cpu::default();
    let mut s = CircSsnn::<BERT_SMALL, 1, Cpu>::new(&dev, multi.config);
    let p = &multi.params;
    s.params.knfp = p.knfp.clone();
    s.params.vec = p.vec.clone();
    s.params.bert = p.bert.clone();
    s.params.fuse_bias = p.fuse_bias.clone();
    s.params.blocks = p.blocks.clone();
    s.params.head = p.head.modules[r].clone();
    s
}

fn knfp_batch(dev: &Cpu, n: usize) -> ViewBatch<BERT_SMALL, Cpu> {
    ViewBatch {
        knfp: Some(dev.sample_normal_like(&(n, Const::<101>, Const::<84>))),
        vec: None,
        bert: None,
    }
}

#[test]
fn each_head_is_the_one_set_network_and_all_heads_train_the_encoder() {
    let dev = Cpu::seed_from_u64(5);
    let multi = Multi::new_multi(&dev, no_dropout());
    let batch = knfp_batch(&dev, 4);

    // Evaluation: head r's logits are the one-set network's.
    let all = multi.forward_eval(&batch).unwrap().as_vec();
    for r in 0..3 {
        let one = single_from(&multi, r)
            .forward_eval(&batch)
            .unwrap()
            .as_vec();
        for b in 0..4 {
            for c in 0..2 {
                let (m, s) = (all[(b * 3 + r) * 2 + c], one[b * 2 + c]);
                assert!(
                    (m - s).abs() < 1e-5,
                    "window {b} head {r} class {c}: {m} vs {s}"
                );
            }
        }
    }

    // Explaining head r is explaining the one-set network: the same
    // gradient x input and projected attention.
    for r in 0..3 {
        let single = single_from(&multi, r);
        let (m, s) = (
            multi.gradient_x_input_of(&batch, r).unwrap(),
            single.gradient_x_input(&batch).unwrap(),
        );
        for (b, (mw, sw)) in m.iter().zip(&s).enumerate() {
            for (p, (a, c)) in mw.iter().zip(sw).enumerate() {
                assert!(
                    (a - c).abs() <= 1e-6 + 1e-4 * c.abs(),
                    "head {r} window {b} position {p}: {a} vs {c}"
                );
            }
        }
        assert_eq!(
            multi.attention_on_positions(&batch).unwrap(),
            single.attention_on_positions(&batch).unwrap()
        );
    }
    // The heads differ, so their explanations do too.
    assert_ne!(
        multi.gradient_x_input_of(&batch, 0).unwrap(),
        multi.gradient_x_input_of(&batch, 1).unwrap()
    );

    // Probabilities: head r's column is the one-set network's probability.
    let seqs: Vec<Vec<u8>> = ["ACGUACGUAA", "UUUUUUUUUUGG", "GCGCAUAUAU"]
        .iter()
        .map(|s| s.repeat(11).into_bytes()[..101].to_vec())
        .collect();
    let refs: Vec<&[u8]> = seqs.iter().map(|s| s.as_slice()).collect();
    let knfp = Descriptors::knfp_only();
    for r in 0..3 {
        let m = circssnn::train::predict_proba_multi(&multi, &dev, &knfp, &refs, r, 2).unwrap();
        let s =
            circssnn::train::predict_proba(&single_from(&multi, r), &dev, &knfp, &refs, 2).unwrap();
        for (a, b) in m.iter().zip(&s) {
            assert!((a - b).abs() < 1e-5, "head {r}: {m:?} vs {s:?}");
        }
    }

    // Training: the loss (each window's log-probability of its class at its
    // own head) sends the shared fusion bias the sum of the one-set
    // networks' gradients of their windows' losses.
    let own: Vec<(usize, usize)> = (0..4).map(|b| (b % 3, b % 2)).collect();
    let target = |heads: usize, r: Option<usize>| {
        let v: Vec<f32> = own
            .iter()
            .flat_map(|&(t, c)| {
                let mut row = vec![0.0f32; heads * 2];
                match r {
                    None => row[t * 2 + c] = 1.0,
                    Some(r) if r == t => row[c] = 1.0,
                    Some(_) => {}
                }
                row
            })
            .collect();
        v
    };
    let mut m = multi.clone();
    let t = dev.tensor_from_vec(target(3, None), (4, Const::<3>, Const::<2>));
    let grads = (m.forward_train(&batch).unwrap().log_softmax::<Axis<2>>() * t)
        .sum::<Rank0, _>()
        .backward();
    let got = grads.get(&m.params.fuse_bias).as_vec();
    let mut want = vec![0.0f32; got.len()];
    for r in 0..3 {
        let mut s = single_from(&multi, r);
        let t = dev.tensor_from_vec(target(1, Some(r)), (4, Const::<2>));
        let g = (s.forward_train(&batch).unwrap().log_softmax::<Axis<1>>() * t)
            .sum::<Rank0, _>()
            .backward();
        for (w, v) in want.iter_mut().zip(g.get(&s.params.fuse_bias).as_vec()) {
            *w += v;
        }
    }
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 + 1e-3 * w.abs(),
            "fuse_bias[{i}]: {g} vs {w}"
        );
    }
}

/// Three small real sets under `split`, about `n` windows each.
fn three_sets(split: SplitKind, n: usize) -> Vec<(Dataset, Split)> {
    let reg = Registry::scan(&default_root()).unwrap();
    ["AUF1", "TAF15", "TIA1"]
        .iter()
        .map(|s| {
            let ds = reg.get(s).unwrap().load(Default::default()).unwrap();
            Protocol {
                split,
                max_per_set: Some(n),
                ..Default::default()
            }
            .apply(&ds)
        })
        .collect()
}

fn meta() -> CheckpointMeta {
    CheckpointMeta {
        format_version: FORMAT_VERSION,
        bert_width: BERT_SMALL,
        depth: 1,
        model: ModelConfig::default(),
        set: "AUF1,TAF15,TIA1".into(),
        split: SplitKind::Sequence,
        split_seed: 4,
        negatives: Default::default(),
        max_per_set: Some(1200),
        seed: 4,
        descriptors: Default::default(),
        heads: vec!["AUF1".into(), "TAF15".into(), "TIA1".into()],
        epoch: 0,
        crate_version: "test".into(),
        weights_sha256: None,
    }
}

#[test]
fn three_sets_at_once_learn_resume_and_keep_held_out_windows_out() {
    let sets = three_sets(SplitKind::Sequence, 1200);
    let tasks: Vec<Task> = sets
        .iter()
        .map(|(data, split)| Task { data, split })
        .collect();
    let cfg = |epochs| MultiConfig {
        train: TrainConfig {
            epochs,
            patience: None,
            ..circssnn::zoo::zoo_recipe(0)
        },
        ..MultiConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir {
        dir: dir.path(),
        meta: meta(),
        resume: true,
    };
    let dev = Cpu::seed_from_u64(4);
    let train = |epochs| {
        let mut net = Multi::new_multi(&dev, ModelConfig::default());
        fit_multi(
            &mut net,
            &dev,
            &Descriptors::knfp_only(),
            &tasks,
            &cfg(epochs),
            Some(&run),
        )
        .map(|r| (r, net))
    };
    let (one, _) = train(1).unwrap();
    let (two, net) = train(2).unwrap();
    assert_eq!(two.resumed_after, Some(1));
    assert_eq!(two.history[0], one.history[0], "the finished epoch is kept");
    // The sequence split puts a shared window in one part in every set.
    assert_eq!(two.left_out, 0);
    // One-set KNFP networks on 2,000 windows reach 0.966, 0.957 and 0.902
    // on these sets; two epochs of the three at once already separate them.
    let aucs: Vec<(&str, f64)> = two
        .tasks
        .iter()
        .map(|t| (t.set.as_str(), t.test.auc))
        .collect();
    eprintln!(
        "test AUCs {aucs:?}, {} s",
        two.history.iter().map(|e| e.seconds).sum::<f64>()
    );
    for (set, auc) in aucs {
        assert!(auc > 0.75, "{set}: test AUC {auc:.3}");
    }
    let shares: f64 = two.tasks.iter().map(|t| t.sampled_share).sum();
    assert!((shares - 1.0).abs() < 1e-9);

    // The best network is on disk, and reloads to the same scores.
    let (loaded, m) = circssnn::train::checkpoint::load_checkpoint_as::<
        BERT_SMALL,
        1,
        Cpu,
        circssnn::model::PerRbp<3, f32, Cpu>,
    >(&dev, dir.path(), "best")
    .unwrap();
    assert_eq!(m.heads.len(), 3);
    let (data, split) = &sets[1];
    let seqs: Vec<&[u8]> = split.test[..20]
        .iter()
        .map(|&i| data.records[i].seq.as_slice())
        .collect();
    let knfp = Descriptors::knfp_only();
    let p = |n: &Multi| circssnn::train::predict_proba_multi(n, &dev, &knfp, &seqs, 1, 8).unwrap();
    assert_eq!(p(&loaded), p(&net));
    // A one-set network cannot be loaded from it.
    let err = circssnn::train::load_checkpoint::<BERT_SMALL, 1, Cpu>(&dev, dir.path(), "best")
        .unwrap_err();
    assert!(err.to_string().contains("3 head(s)"), "{err}");

    // Under per-set random splits the shared negative pool puts windows of
    // one set's test part into another's training part: they are left out.
    let random = three_sets(SplitKind::Random, 1200);
    let tasks: Vec<Task> = random
        .iter()
        .map(|(data, split)| Task { data, split })
        .collect();
    let n = circssnn::train::left_out(&tasks, &cfg(1).train).unwrap();
    assert!(n > 50, "left out {n}");

    // Every head went through the refit, and `best` holds its outcome: a
    // rerun of the finished run trains nothing, refits nothing, and gives
    // the same report.
    assert!(two.tasks.iter().all(|t| t.refit.is_some()));
    let (again, _) = train(2).unwrap();
    for (a, b) in again.tasks.iter().zip(&two.tasks) {
        assert_eq!((a.test.auc, &a.refit), (b.test.auc, &b.refit), "{}", a.set);
    }
}

#[test]
fn refitting_revives_a_dead_head_and_leaves_the_others_to_validation() {
    let sets = three_sets(SplitKind::Sequence, 1200);
    let dev = Cpu::seed_from_u64(4);
    let mut net = Multi::new_multi(&dev, ModelConfig::default());
    // Head 0 dead as joint training leaves some: zero weights, so every
    // window gets the same probability and the validation AUC is 0.5.
    let dead = &mut net.params.head.modules[0];
    dead.fc1.weight.fill_with_zeros();
    dead.fc2.weight.fill_with_zeros();
    dead.fc3.weight.fill_with_zeros();
    fn part<'a>(data: &'a Dataset, idx: &[usize]) -> (Vec<&'a [u8]>, Vec<u8>) {
        idx.iter()
            .map(|&i| (data.records[i].seq.as_slice(), data.labels[i]))
            .unzip()
    }
    let train: Vec<_> = sets.iter().map(|(d, s)| part(d, &s.train)).collect();
    let valid: Vec<_> = sets.iter().map(|(d, s)| part(d, &s.valid)).collect();
    let cfg = TrainConfig::default();
    let quiet = circssnn::nn::TrainProgress::new(false, 3, "");
    let knfp = Descriptors::knfp_only();
    let before = net.clone();
    let refit = |net: &mut Multi| {
        circssnn::train::refit::refit_heads(net, &dev, &knfp, &train, &valid, &cfg, &quiet).unwrap()
    };
    let got = refit(&mut net);
    eprintln!("{got:?}");
    assert_eq!(got[0].joint_valid_auc, 0.5);
    assert!(got[0].replaced, "{:?}", got[0]);
    // Untrained encoder, frozen: the refitted head still separates AUF1's
    // windows (a one-set KNFP network reaches 0.966 trained end to end).
    assert!(got[0].refit_valid_auc > 0.7, "{:?}", got[0]);
    let p = |n: &Multi, head| {
        circssnn::train::predict_proba_multi(n, &dev, &knfp, &valid[0].0, head, 64).unwrap()
    };
    for (r, g) in got.iter().enumerate() {
        assert_eq!(g.replaced, g.refit_valid_auc > g.joint_valid_auc);
        if !g.replaced {
            assert_eq!(p(&net, r), p(&before, r), "head {r} kept as it was");
        }
    }
    // Same seed, same heads.
    let mut again = before.clone();
    assert_eq!(refit(&mut again), got);
    assert_eq!(p(&again, 0), p(&net, 0));
}

/// A 31-head network saved as `zoo multi` saves it (weights untrained: the
/// checks are on plumbing, not accuracy), with the linear suite's names.
fn saved_31_heads(dir: &std::path::Path) -> (CircSsnnMulti<BERT_SMALL, 1, 31, Cpu>, Vec<String>) {
    let reg = Registry::scan(&default_root()).unwrap();
    let names: Vec<String> = reg
        .of_kind(circssnn::data::SetKind::Linear)
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(names.len(), 31);
    let dev = Cpu::seed_from_u64(7);
    let net = CircSsnnMulti::<BERT_SMALL, 1, 31, Cpu>::new_multi(&dev, ModelConfig::default());
    let meta = CheckpointMeta {
        set: "lin31".into(),
        heads: names.clone(),
        ..meta()
    };
    circssnn::train::checkpoint::save_checkpoint(dir, "best", &net, &meta).unwrap();
    (net, names)
}

#[test]
fn a_multi_task_network_scores_as_one_predictor_per_head_and_scans_all_heads_at_once() {
    use circssnn::scan::{run_models, score_transcript, zoo_models, Fpr, ScanConfig};
    use circssnn::train::{DeviceKind, Predictor};

    let dir = tempfile::tempdir().unwrap();
    let (net, names) = saved_31_heads(dir.path());
    let heads = Predictor::load_heads(dir.path(), &Default::default(), DeviceKind::Cpu).unwrap();
    assert_eq!(heads.len(), 31);
    for (h, p) in heads.iter().enumerate() {
        assert_eq!(p.meta.set, names[h]);
        assert_eq!(p.head(), (h, 31));
        assert!(p.shares_network_with(&heads[0]));
    }
    let err = Predictor::load(dir.path(), &Default::default(), DeviceKind::Cpu).unwrap_err();
    assert!(
        err.to_string().contains("multi-task network with 31 heads")
            && err.to_string().contains("load_heads"),
        "{err}"
    );

    // Each head scores as the network's own head does.
    let reg = Registry::scan(&default_root()).unwrap();
    let ds = reg.get("TAF15").unwrap().load(Default::default()).unwrap();
    let seqs: Vec<&[u8]> = ds.records[..40].iter().map(|r| r.seq.as_slice()).collect();
    let dev = Cpu::seed_from_u64(0);
    let knfp = Descriptors::knfp_only();
    // One batch of 40 as the predictor scores it: another batch size may
    // round differently in the last bit (measured: 3e-8 on one window).
    for h in [0, 17, 30] {
        let want = circssnn::train::predict_proba_multi(&net, &dev, &knfp, &seqs, h, 256).unwrap();
        assert_eq!(heads[h].predict(&seqs).unwrap(), want, "head {h}");
    }
    // A head explains as the one-set network with that head does.
    let one = single_from(&net, 3);
    let batch = ViewBatch::<BERT_SMALL, Cpu> {
        knfp: Some(dev.tensor_from_vec(
            circssnn::features::Knfp.encode_batch(&seqs[..2]),
            (2, Const::<101>, Const::<84>),
        )),
        vec: None,
        bert: None,
    };
    let want = one.gradient_x_input(&batch).unwrap();
    let got = heads[3].gradient_x_input(&seqs[..2]).unwrap();
    for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
        assert!((g - w).abs() <= 1e-6 + 1e-4 * w.abs(), "{g} vs {w}");
    }

    // A scan with every head: each track is that head's prediction of the
    // windows (one forward pass serves all 31).
    let models = run_models(&[dir.path().to_path_buf()], 0.5, DeviceKind::Cpu).unwrap();
    assert_eq!(models.len(), 31);
    let circ: Vec<u8> = ds.records[..6].iter().flat_map(|r| r.seq.clone()).collect();
    let cfg = ScanConfig {
        stride: 7,
        progress: false,
        ..Default::default()
    };
    let t = score_transcript("c1", &circ, &models, &cfg).unwrap();
    let wins: Vec<&[u8]> = t.windows.iter().map(|w| w.seq.as_slice()).collect();
    for h in [0, 12, 30] {
        assert_eq!(
            t.tracks[h].probs,
            heads[h].predict(&wins).unwrap(),
            "head {h}"
        );
    }

    // As a zoo: entries name a head of the folder's network.
    let entry = |set: &str, head: usize| {
        serde_json::json!({
            "set": set, "views": {"knfp": true, "vec": false, "bert": false},
            "negatives": "pool", "dir": ".", "weights_sha256": "", "descriptors": {},
            "best_epoch": 1, "n_train": 1, "valid_auc": 0.5, "test_auc": 0.5,
            "baseline_auc": 0.5, "thresholds": {"fpr_05": 0.9, "fpr_01": 0.95}, "head": head
        })
    };
    let write_zoo = |entries: Vec<serde_json::Value>| {
        let zoo =
            serde_json::json!({"format": "circssnn-zoo-1", "recipe": "test", "models": entries});
        std::fs::write(dir.path().join("zoo.json"), zoo.to_string()).unwrap();
    };
    write_zoo(vec![entry(&names[4], 4), entry(&names[9], 9)]);
    let zoo = zoo_models(dir.path(), &[], Fpr::Five, DeviceKind::Cpu).unwrap();
    assert_eq!(zoo.len(), 2);
    assert_eq!(
        (zoo[1].name.as_str(), zoo[1].predictor.head()),
        (names[9].as_str(), (9, 31))
    );
    assert!(zoo[0].predictor.shares_network_with(&zoo[1].predictor));
    assert_eq!(zoo[0].threshold, 0.9);
    // A manifest whose head is another set's is refused, naming both.
    write_zoo(vec![entry(&names[4], 5)]);
    let err = zoo_models(dir.path(), &[], Fpr::Five, DeviceKind::Cpu).unwrap_err();
    assert!(
        err.to_string().contains(&names[4]) && err.to_string().contains("does not match"),
        "{err}"
    );
}
