//! The k-mer BERT against the `transformers` reference implementation, the
//! masked-LM pretraining loop, checkpoints and the descriptor cache.

use std::path::{Path, PathBuf};

use circssnn::data::split::SplitKind;
use circssnn::features::bert::{
    hf, pretrain, BertDescriptor, KmerTokenizer, PretrainConfig, Small, SEQ,
};
use circssnn::features::corpus::{Corpus, CorpusInfo};
use circssnn::features::{CachedDescriptor, Descriptor};
use dfdx::prelude::*;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_bert")
}

#[derive(serde::Deserialize)]
struct Expected {
    windows: Vec<String>,
    input_ids: Vec<Vec<u32>>,
    last_hidden_state: Vec<Vec<Vec<f32>>>,
}

fn expected() -> Expected {
    serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
        .unwrap()
}

/// A tiny random BertModel saved by `transformers` (tests/fixtures/make_tiny_bert.py):
/// the loader and the dfdx encoder reproduce its hidden states to 1e-4.
#[test]
fn hf_checkpoint_matches_transformers() {
    let dev = Cpu::default();
    let (bert, tok) = hf::load::<32, 2, 4, 64, Cpu>(&dev, &fixture()).unwrap();
    let exp = expected();
    let ids: Vec<[u32; SEQ]> = exp
        .windows
        .iter()
        .map(|w| tok.encode(w.as_bytes()))
        .collect();
    for (mine, theirs) in ids.iter().zip(&exp.input_ids) {
        assert_eq!(
            mine.as_slice(),
            theirs.as_slice(),
            "tokenisation differs from DNABERT's"
        );
    }
    let hidden = bert.hidden_states(&dev, &ids).as_vec();
    let reference: Vec<f32> = exp
        .last_hidden_state
        .iter()
        .flatten()
        .flatten()
        .copied()
        .collect();
    assert_eq!(hidden.len(), reference.len());
    let worst = hidden
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        worst < 1e-4,
        "largest difference from transformers: {worst}"
    );
}

#[test]
fn a_checkpoint_of_another_shape_is_refused_with_its_shape() {
    let dev = Cpu::default();
    let err =
        hf::load::<{ Small::WIDTH }, { Small::LAYERS }, { Small::HEADS }, { Small::FF }, Cpu>(
            &dev,
            &fixture(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("config.json") && err.contains("32-wide"),
        "{err}"
    );
}

#[test]
fn a_truncated_weights_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "vocab.txt"] {
        std::fs::copy(fixture().join(f), dir.path().join(f)).unwrap();
    }
    let bytes = std::fs::read(fixture().join("model.safetensors")).unwrap();
    std::fs::write(
        dir.path().join("model.safetensors"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let err = hf::load::<32, 2, 4, 64, Cpu>(&Cpu::default(), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("not a valid safetensors"),
        "{err}"
    );
}

#[test]
fn a_vocabulary_without_all_3mers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = std::fs::read_to_string(fixture().join("vocab.txt")).unwrap();
    std::fs::write(
        dir.path().join("vocab.txt"),
        vocab.replace("ACG\n", "XYZ\n"),
    )
    .unwrap();
    let err = KmerTokenizer::load(&dir.path().join("vocab.txt"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("ACG is missing"), "{err}");
}

fn toy_corpus(n: usize) -> Corpus {
    // A corpus with structure to learn: windows made of repeats of short motifs.
    let motifs: [&[u8]; 4] = [b"ACGUU", b"GGACU", b"UUUAG", b"CAGGA"];
    let windows: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            motifs[i % 4]
                .iter()
                .cycle()
                .skip(i % 5)
                .take(101)
                .copied()
                .collect()
        })
        .collect();
    Corpus {
        info: CorpusInfo {
            split: SplitKind::Random,
            split_seed: 0,
            sets: 0,
            windows: windows.len(),
            excluded_as_test: 0,
            max_windows: None,
            sha256: String::new(),
        },
        windows,
    }
}

/// Pretraining learns (loss falls well below the uniform 69-way guess),
/// writes a checkpoint `hf::load` reads back to identical outputs, and a
/// resumed run finishes the schedule.
#[test]
fn pretraining_learns_and_round_trips() {
    let dev = Cpu::seed_from_u64(1);
    let corpus = toy_corpus(64);
    let dir = tempfile::tempdir().unwrap();
    let cfg = PretrainConfig {
        steps: 150,
        batch: 16,
        lr: 3e-3,
        warmup: 10,
        checkpoint_every: 50,
        ..Default::default()
    };
    let (bert, report) =
        pretrain::<32, 2, 4, 64, Cpu>(&dev, &corpus, &cfg, dir.path(), false, false).unwrap();
    let first = report.history[0].loss;
    let (last, acc) = report.tail(10);
    assert!(first > 3.5, "starts near ln 69 = 4.23: {first}");
    // Chance is ~5% (20 distinct 3-mers in the toy corpus).
    assert!(
        last < 0.45 * first && acc > 0.2,
        "loss {first:.2} -> {last:.2}, masked accuracy {acc:.2}"
    );

    let (loaded, tok) = hf::load::<32, 2, 4, 64, Cpu>(&dev, dir.path()).unwrap();
    let ids = vec![tok.encode(&corpus.windows[3])];
    assert_eq!(
        bert.hidden_states(&dev, &ids).as_vec(),
        loaded.hidden_states(&dev, &ids).as_vec()
    );

    // Resume: extend nothing, the run is complete; a longer schedule with the
    // same settings otherwise is refused as different settings.
    let more = PretrainConfig {
        steps: 200,
        ..cfg.clone()
    };
    let err =
        pretrain::<32, 2, 4, 64, Cpu>(&dev, &corpus, &more, dir.path(), true, false).unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
}

/// Pretraining is bit-exact for a seed whatever the thread count, so a
/// reproduction that has to train its BERT again (a new machine, a lost
/// folder) gets the same weights, and its results rows the same model hash.
#[test]
fn pretraining_is_bit_exact_for_a_seed_on_any_thread_count() {
    let corpus = toy_corpus(32);
    let cfg = PretrainConfig {
        steps: 12,
        batch: 8,
        warmup: 3,
        checkpoint_every: 6,
        seed: 9,
        ..Default::default()
    };
    let weights = |threads: usize| {
        let dir = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let dev = Cpu::seed_from_u64(3);
            pretrain::<32, 2, 4, 64, Cpu>(&dev, &corpus, &cfg, dir.path(), false, false).unwrap();
        });
        std::fs::read(dir.path().join("model.safetensors")).unwrap()
    };
    let one = weights(1);
    assert!(one.len() > 10_000, "{} bytes", one.len());
    assert!(one == weights(1), "two one-thread runs differ");
    assert!(one == weights(2), "one and two threads differ");
}

#[test]
fn interrupted_pretraining_resumes_from_its_last_checkpoint() {
    let dev = Cpu::seed_from_u64(2);
    let corpus = toy_corpus(32);
    let dir = tempfile::tempdir().unwrap();
    let cfg = PretrainConfig {
        steps: 30,
        batch: 8,
        warmup: 3,
        checkpoint_every: 10,
        ..Default::default()
    };
    pretrain::<32, 2, 4, 64, Cpu>(&dev, &corpus, &cfg, dir.path(), false, false).unwrap();
    // Pretend the run died after step 20: roll its state back.
    let state = dir.path().join("pretrain.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    json["steps_done"] = 20.into();
    json["history"].as_array_mut().unwrap().truncate(20);
    std::fs::write(&state, json.to_string()).unwrap();
    let (_, report) =
        pretrain::<32, 2, 4, 64, Cpu>(&dev, &corpus, &cfg, dir.path(), true, false).unwrap();
    assert_eq!(report.resumed_after, Some(20));
    assert_eq!(report.history.len(), 30);
    assert_eq!(report.history.last().unwrap().step, 30);
}

/// The BERT descriptor: 99 k-mer rows, then two zero rows; the cache returns
/// the same matrices, is reused when fresh and rebuilt when the model changes.
#[test]
fn bert_descriptor_and_cache() {
    let dev = Cpu::default();
    let (bert, tok) = hf::load::<32, 2, 4, 64, Cpu>(&dev, &fixture()).unwrap();
    let desc = BertDescriptor::new(bert, tok, "model-a".into(), dev);
    let exp = expected();
    let windows: Vec<&[u8]> = exp.windows.iter().map(|w| w.as_bytes()).collect();
    let direct = desc.encode_batch(&windows);
    assert_eq!(direct.len(), 3 * 101 * 32);
    let first = &direct[..101 * 32];
    let reference = &exp.last_hidden_state[0];
    for r in 0..99 {
        for c in 0..32 {
            assert!(
                (first[r * 32 + c] - reference[r + 1][c]).abs() < 1e-4,
                "row {r} is token {}",
                r + 1
            );
        }
    }
    assert!(
        first[99 * 32..].iter().all(|&v| v == 0.0),
        "rows 99 and 100 are zero padding"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("set.bert.safetensors");
    let cached = CachedDescriptor::build(&desc, "model-a", &windows, &path, false).unwrap();
    assert!(!cached.hit);
    assert_eq!(cached.encode_batch(&windows), direct);
    let again = CachedDescriptor::build(&desc, "model-a", &windows, &path, false).unwrap();
    assert!(again.hit, "a fresh cache is read, not recomputed");
    assert_eq!(again.encode_batch(&windows[1..]), direct[101 * 32..]);
    let other = CachedDescriptor::build(&desc, "model-b", &windows, &path, false).unwrap();
    assert!(!other.hit, "a cache of another model is stale");
    // A window outside the cache is computed on the fly.
    let novel = vec![b'G'; 101];
    assert_eq!(other.encode_batch(&[&novel]), desc.encode_batch(&[&novel]));
    // A corrupt cache is rebuilt, not trusted.
    std::fs::write(&path, b"garbage").unwrap();
    let rebuilt = CachedDescriptor::build(&desc, "model-b", &windows, &path, false).unwrap();
    assert!(!rebuilt.hit);
    assert_eq!(rebuilt.encode_batch(&windows), direct);
}
