//! Scoring with a trained run folder: [`Predictor`] loads the best
//! checkpoint with the descriptor models it was trained with (checked by
//! hash) into the typed network its metadata names, on the chosen device,
//! and scores windows; [`evaluate`] scores a set's test part under the
//! protocol the network was trained with.
//!
//! ```no_run
//! use circssnn::train::{DeviceKind, Predictor};
//! let p = Predictor::load("runs/taf15-knfp-pre-d1-s4".as_ref(), &Default::default(), DeviceKind::Cpu)?;
//! let probs = p.predict(&[[b'A'; 101].as_slice()])?;
//! println!("P(bound) = {:.3}", probs[0]);
//! # Ok::<(), circssnn::train::TrainError>(())
//! ```

use std::path::{Path, PathBuf};
use std::rc::Rc;

use dfdx::prelude::Device;

use super::batch::{make_batch, predict_proba_heads};
use super::checkpoint::{load_checkpoint, load_checkpoint_as, load_meta, CheckpointMeta};
use super::device::Unsupported;
use super::{Descriptors, DeviceKind, TrainError};
use crate::data::{LengthPolicy, Registry};
use crate::eval::{binary_metrics, BinaryMetrics};
use crate::features::learned::{DescriptorModels, Learned};
use crate::features::Descriptor;
use crate::model::head::Head;
use crate::model::{CircSsnn, Heads, PerRbp, ViewBatch, POSITIONS};
use crate::nn::Elem;
use crate::{with_bert_shape, with_depth, with_device};

/// Windows scored per forward pass (memory only; results do not depend on it).
const SCORE_BATCH: usize = 256;
/// Windows per backward pass of [`Predictor::gradient_x_input`] (the tape
/// keeps every intermediate gradient, ~20 MB per window) and per call of
/// [`Predictor::attention_on_positions`].
const GRADIENT_BATCH: usize = 32;

/// One descriptor view of a batch of windows, as the network reads it:
/// KNFP, or a learned view named by its model's hash (two networks that read
/// the same BERT share its encoding).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViewKey {
    /// KNFP, 101 x 84.
    Knfp,
    /// circRNA2Vec of this model hash, 101 x 30.
    Vec(String),
    /// k-mer BERT of this model hash, 101 x width.
    Bert(String),
}

/// Encoded views of one batch of windows, each `n * 101 * D` floats.
pub type EncodedViews = std::collections::BTreeMap<ViewKey, Vec<f32>>;

/// A network of some width, depth and device, with its descriptor models.
trait Scorer {
    fn score(
        &self,
        seqs: &[&[u8]],
        cache: Option<(&str, &[&[u8]])>,
        progress: bool,
    ) -> Result<Vec<f64>, TrainError>;
    fn view_keys(&self) -> Vec<ViewKey>;
    fn encode(&self, key: &ViewKey, seqs: &[&[u8]]) -> Vec<f32>;
    /// `n x heads()` probabilities, window by window.
    fn score_views(&self, n: usize, views: &EncodedViews) -> Result<Vec<f64>, TrainError>;
    /// Gradient x input of head `head`'s log-odds.
    fn gradient_x_input(
        &self,
        seqs: &[&[u8]],
        head: usize,
    ) -> Result<Vec<[f64; POSITIONS]>, TrainError>;
    fn attention_on_positions(&self, seqs: &[&[u8]]) -> Result<Vec<[f64; POSITIONS]>, TrainError>;
}

struct Loaded<
    const B: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    const DEPTH: usize,
    Dev,
    Out = Head<Elem, Dev>,
> where
    Dev: Device<Elem>,
    Out: Heads<Dev>,
{
    net: CircSsnn<B, DEPTH, Dev, Out>,
    learned: Learned<B, L, H, F, Dev>,
    models: DescriptorModels,
    dev: Dev,
}

impl<
        const B: usize,
        const L: usize,
        const H: usize,
        const F: usize,
        const DEPTH: usize,
        Dev,
        Out,
    > Loaded<B, L, H, F, DEPTH, Dev, Out>
where
    Dev: Device<Elem>,
    Out: Heads<Dev>,
{
    /// One value per position of each window from `track`, run on batches
    /// of [`GRADIENT_BATCH`] windows encoded by this network's descriptors.
    fn per_position(
        &self,
        seqs: &[&[u8]],
        track: impl Fn(
            &CircSsnn<B, DEPTH, Dev, Out>,
            &ViewBatch<B, Dev>,
        ) -> Result<Vec<[f64; POSITIONS]>, TrainError>,
    ) -> Result<Vec<[f64; POSITIONS]>, TrainError> {
        let views = self.net.config.views;
        let desc = Descriptors::of(&self.learned, views, None);
        desc.check(views)?;
        let mut out = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(GRADIENT_BATCH) {
            let batch = make_batch(&self.dev, &desc, views, chunk)?;
            out.extend(track(&self.net, &batch)?);
        }
        Ok(out)
    }
}

impl<
        const B: usize,
        const L: usize,
        const H: usize,
        const F: usize,
        const DEPTH: usize,
        Dev,
        Out,
    > Scorer for Loaded<B, L, H, F, DEPTH, Dev, Out>
where
    Dev: Device<Elem>,
    Out: Heads<Dev>,
{
    fn score(
        &self,
        seqs: &[&[u8]],
        cache: Option<(&str, &[&[u8]])>,
        progress: bool,
    ) -> Result<Vec<f64>, TrainError> {
        let views = self.net.config.views;
        let cached = match cache {
            Some((key, windows)) => {
                self.learned
                    .cached_bert(&self.models, key, windows, progress)?
            }
            None => None,
        };
        let desc = Descriptors::of(&self.learned, views, cached.as_ref().map(|c| c as _));
        predict_proba_heads(&self.net, &self.dev, &desc, seqs, SCORE_BATCH)
    }

    fn gradient_x_input(
        &self,
        seqs: &[&[u8]],
        head: usize,
    ) -> Result<Vec<[f64; POSITIONS]>, TrainError> {
        self.per_position(seqs, |net, batch| Ok(net.gradient_x_input_of(batch, head)?))
    }

    fn attention_on_positions(&self, seqs: &[&[u8]]) -> Result<Vec<[f64; POSITIONS]>, TrainError> {
        self.per_position(seqs, |net, batch| Ok(net.attention_on_positions(batch)?))
    }

    fn view_keys(&self) -> Vec<ViewKey> {
        let (v, s) = (self.net.config.views, &self.learned.sources);
        let mut keys = Vec::new();
        if v.knfp {
            keys.push(ViewKey::Knfp);
        }
        if let Some(m) = s.vec.as_ref().filter(|_| v.vec) {
            keys.push(ViewKey::Vec(m.hash.clone()));
        }
        if let Some(m) = s.bert.as_ref().filter(|_| v.bert) {
            keys.push(ViewKey::Bert(m.hash.clone()));
        }
        keys
    }

    fn encode(&self, key: &ViewKey, seqs: &[&[u8]]) -> Vec<f32> {
        match key {
            ViewKey::Knfp => crate::features::Knfp.encode_batch(seqs),
            ViewKey::Vec(_) => self
                .learned
                .vec
                .as_ref()
                .expect("a vec view key")
                .encode_batch(seqs),
            ViewKey::Bert(_) => self
                .learned
                .bert
                .as_ref()
                .expect("a bert view key")
                .encode_batch(seqs),
        }
    }

    fn score_views(&self, n: usize, views: &EncodedViews) -> Result<Vec<f64>, TrainError> {
        use dfdx::prelude::Const;
        let keys = self.view_keys();
        let take = |pred: fn(&ViewKey) -> bool, width: usize, lo: usize, hi: usize| {
            keys.iter().find(|k| pred(k)).map(|k| {
                let v = &views[k];
                v[lo * crate::model::POSITIONS * width..hi * crate::model::POSITIONS * width]
                    .to_vec()
            })
        };
        let mut out = Vec::with_capacity(n);
        for lo in (0..n).step_by(SCORE_BATCH) {
            let hi = (lo + SCORE_BATCH).min(n);
            let m = hi - lo;
            let batch = crate::model::ViewBatch::<B, Dev> {
                knfp: take(
                    |k| matches!(k, ViewKey::Knfp),
                    crate::model::KNFP_DIM,
                    lo,
                    hi,
                )
                .map(|v| self.dev.tensor_from_vec(v, (m, Const, Const))),
                vec: take(
                    |k| matches!(k, ViewKey::Vec(_)),
                    crate::model::VEC_DIM,
                    lo,
                    hi,
                )
                .map(|v| self.dev.tensor_from_vec(v, (m, Const, Const))),
                bert: take(|k| matches!(k, ViewKey::Bert(_)), B, lo, hi)
                    .map(|v| self.dev.tensor_from_vec(v, (m, Const, Const))),
            };
            out.extend(Out::bound_probs(self.net.forward_eval(&batch)?));
        }
        Ok(out)
    }
}

/// A trained network ready to score windows. A multi-task network
/// ([`crate::model::CircSsnnMulti`]) loads as one `Predictor` per head
/// ([`Predictor::load_heads`]), all sharing the network: each scores as a
/// one-set network would, and [`predict_views_all`](Self::predict_views_all)
/// gives every head from one forward pass. A clone shares the network.
#[derive(Clone)]
pub struct Predictor {
    /// What the weights are: set, views, norm, depth, protocol, descriptors.
    /// For a head of a multi-task network, `set` is the head's set (the
    /// suite is in the folder's `best.json`) and `heads` lists them all.
    pub meta: CheckpointMeta,
    /// The run folder it was loaded from.
    pub dir: PathBuf,
    // Shared by the heads of one multi-task network (not `Send`: dfdx's
    // CUDA device is not, and nothing here crosses threads).
    scorer: Rc<dyn Scorer>,
    head: usize,
    heads: usize,
}

impl std::fmt::Debug for Predictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Predictor")
            .field("dir", &self.dir)
            .field("head", &self.head)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl Predictor {
    /// Load `dir/best.*` and the descriptor models it was trained with
    /// (`models` overrides their folders; their weights must hash the same).
    /// A multi-task network is refused here, naming [`load_heads`](Self::load_heads).
    pub fn load(
        dir: &Path,
        models: &DescriptorModels,
        device: DeviceKind,
    ) -> Result<Self, TrainError> {
        let mut all = Self::load_heads(dir, models, device)?;
        if all.len() > 1 {
            return Err(TrainError::Checkpoint {
                path: dir.join("best.json"),
                message: format!(
                    "holds a multi-task network with {} heads ({}); load it with \
                     Predictor::load_heads (one predictor per head), or pass it to `circssnn scan \
                     --model`, which scores every head",
                    all.len(),
                    all[0].meta.heads.join(", ")
                ),
            });
        }
        Ok(all.remove(0))
    }

    /// Load `dir/best.*` as one predictor per head: one for a one-set
    /// network, one per set (in head order) for a multi-task network, all
    /// sharing its weights.
    pub fn load_heads(
        dir: &Path,
        models: &DescriptorModels,
        device: DeviceKind,
    ) -> Result<Vec<Self>, TrainError> {
        let meta = load_meta(dir, "best")?;
        let views = meta.model.views;
        let scorer: Rc<dyn Scorer> = with_bert_shape!(meta.bert_width, (BERT, L, H, F) =>
        with_depth!(meta.depth, DEPTH => with_device!(device, 0, dev: Dev => {
            // The descriptors first: a missing model is the likelier fault, and says how to fix it.
            let learned = Learned::<BERT, L, H, F, Dev>::load(&dev, models, views, None, Some(&meta.descriptors))?;
            let models = models.clone();
            match meta.heads.len() {
                0 => {
                    let (net, _) = load_checkpoint::<BERT, DEPTH, Dev>(&dev, dir, "best")?;
                    Rc::new(Loaded { net, learned, models, dev })
                }
                // The two suites' head counts: the only multi-task shapes built in.
                37 => {
                    let (net, _) = load_checkpoint_as::<BERT, DEPTH, Dev, PerRbp<37, Elem, Dev>>(&dev, dir, "best")?;
                    Rc::new(Loaded { net, learned, models, dev })
                }
                31 => {
                    let (net, _) = load_checkpoint_as::<BERT, DEPTH, Dev, PerRbp<31, Elem, Dev>>(&dev, dir, "best")?;
                    Rc::new(Loaded { net, learned, models, dev })
                }
                n => return Err(Unsupported::Heads(n).into()),
            }
        })));
        if meta.heads.is_empty() {
            return Ok(vec![Self {
                meta,
                dir: dir.to_path_buf(),
                scorer,
                head: 0,
                heads: 1,
            }]);
        }
        let heads = meta.heads.len();
        Ok((0..heads)
            .map(|head| Self {
                meta: CheckpointMeta {
                    set: meta.heads[head].clone(),
                    ..meta.clone()
                },
                dir: dir.to_path_buf(),
                scorer: Rc::clone(&scorer),
                head,
                heads,
            })
            .collect())
    }

    /// Which head this predictor reads (0 for a one-set network) and how
    /// many its network has.
    pub fn head(&self) -> (usize, usize) {
        (self.head, self.heads)
    }

    /// Whether `other` is a head of the same loaded network (then
    /// [`predict_views_all`](Self::predict_views_all) of one serves both).
    pub fn shares_network_with(&self, other: &Predictor) -> bool {
        Rc::ptr_eq(&self.scorer, &other.scorer)
    }

    /// This predictor's column of `n x heads` probabilities (as
    /// [`predict_views_all`](Self::predict_views_all) gives them).
    pub fn column(&self, all: &[f64]) -> Vec<f64> {
        all.chunks(self.heads).map(|w| w[self.head]).collect()
    }

    /// The descriptor views this network reads.
    pub fn view_keys(&self) -> Vec<ViewKey> {
        self.scorer.view_keys()
    }

    /// One view of `seqs`, encoded by this network's descriptor models
    /// (`n * 101 * D` floats), for [`predict_views`](Self::predict_views) of
    /// this or another network that reads the same view.
    pub fn encode(&self, key: &ViewKey, seqs: &[&[u8]]) -> Vec<f32> {
        self.scorer.encode(key, seqs)
    }

    /// P(bound) of `n` windows whose views are already encoded (every key of
    /// [`view_keys`](Self::view_keys) must be in `views`): several networks
    /// score the same windows without encoding them again.
    pub fn predict_views(&self, n: usize, views: &EncodedViews) -> Result<Vec<f64>, TrainError> {
        Ok(self.column(&self.scorer.score_views(n, views)?))
    }

    /// P(bound) of `n` encoded windows for every head of the network, window
    /// by window (`n x heads`, see [`head`](Self::head)); one forward pass.
    pub fn predict_views_all(
        &self,
        n: usize,
        views: &EncodedViews,
    ) -> Result<Vec<f64>, TrainError> {
        self.scorer.score_views(n, views)
    }

    /// P(bound) of each 101-nt window (normalised: `A C G U N`).
    pub fn predict(&self, seqs: &[&[u8]]) -> Result<Vec<f64>, TrainError> {
        Ok(self.column(&self.scorer.score(seqs, None, false)?))
    }

    /// Gradient x input of each 101-nt window: per position, how much its
    /// descriptor values push the log-odds of binding up (positive) or
    /// down, to first order. See [`CircSsnn::gradient_x_input`]; for exact
    /// effects of each substitution use [`crate::explain::mutagenesis`].
    pub fn gradient_x_input(&self, seqs: &[&[u8]]) -> Result<Vec<[f64; POSITIONS]>, TrainError> {
        self.scorer.gradient_x_input(seqs, self.head)
    }

    /// The first block's attention projected back to the 101 positions of
    /// each window (sums to 1 per window). Where the attended tokens draw
    /// their input from, not an importance: see
    /// [`CircSsnn::attention_on_positions`].
    pub fn attention_on_positions(
        &self,
        seqs: &[&[u8]],
    ) -> Result<Vec<[f64; POSITIONS]>, TrainError> {
        self.scorer.attention_on_positions(seqs)
    }

    /// P(bound) of `seqs`, with the BERT view of all `windows` of a set
    /// computed once into the descriptor cache under `key` (a set and its
    /// protocol) and read back on later calls.
    pub fn predict_cached(
        &self,
        seqs: &[&[u8]],
        key: &str,
        windows: &[&[u8]],
        progress: bool,
    ) -> Result<Vec<f64>, TrainError> {
        Ok(self.column(&self.scorer.score(seqs, Some((key, windows)), progress)?))
    }
}

/// A trained network scored on a set's test part.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The set scored.
    pub set: String,
    /// What the network is.
    pub meta: CheckpointMeta,
    /// Whole-test-part metrics.
    pub metrics: BinaryMetrics,
}

/// Score the network in `dir` on the test part of `set` (default: the set it
/// was trained on) under the protocol it was trained with.
pub fn evaluate(
    reg: &Registry,
    dir: &Path,
    set: Option<&str>,
    models: &DescriptorModels,
    device: DeviceKind,
    policy: LengthPolicy,
) -> Result<Evaluation, TrainError> {
    let predictor = Predictor::load(dir, models, device)?;
    let meta = &predictor.meta;
    let ds = reg.get(set.unwrap_or(&meta.set))?.load(policy)?;
    let protocol = meta.protocol();
    let (ds, split) = protocol.apply(&ds);
    let (seqs, labels) = ds.part(&split.test);
    let all: Vec<&[u8]> = ds.records.iter().map(|r| r.seq.as_slice()).collect();
    let key = format!("{}{}", ds.name, protocol.tag());
    let probs = predictor.predict_cached(&seqs, &key, &all, true)?;
    Ok(Evaluation {
        set: ds.name.clone(),
        metrics: binary_metrics(&probs, &labels, 0.5)?,
        meta: predictor.meta,
    })
}
