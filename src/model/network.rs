//! The whole CircSSNN network: view encoders, fusion, `DEPTH` transformer
//! blocks and the head.
//!
//! `BERT` is the width of the BERT view (768 for the paper profile, 128 for
//! the small CPU profile) and `DEPTH` the number of blocks (the paper uses 1).
//! Both are types: a checkpoint of another width or depth cannot be loaded
//! into the wrong network by accident, and a wrong-width input does not
//! compile.

use dfdx::nn::modules::Repeated;
use dfdx::nn::{BuildModule, BuildOnDevice, ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::prelude::{Device, NoneTape, OwnedTape, Rank0, Rank1, Tape, Tensor, TensorFrom, Trace};
use dfdx::shapes::HasShape;
use dfdx::tensor_ops::BroadcastTo;
use dfdx::tensor_ops::{Backward, SumTo};

use super::attention::AttentionMap;
use super::block::{TransformerBlock, TransformerBlockBuilder};
use super::head::{Head, HeadBuilder, Heads, PerRbp};
use super::view_encoder::{ViewEncoder, ViewEncoderBuilder};
use super::{
    Elem, ModelConfig, Tokens, ViewInput, HEADS, KNFP_DIM, POSITIONS, TOKENS, VEC_DIM, WIDTH,
};

/// All learned parameters (what the optimiser updates and checkpoints hold).
/// `H` is the output layer: one [`Head`], or one per RBP ([`PerRbp`]).
#[derive(Debug, Clone)]
pub struct CircSsnnParams<
    const BERT: usize,
    const DEPTH: usize,
    E: dfdx::shapes::Dtype,
    D: dfdx::tensor::Storage<E>,
    H = Head<E, D>,
> {
    /// KNFP view encoder.
    pub knfp: ViewEncoder<KNFP_DIM, E, D>,
    /// circRNA2Vec view encoder.
    pub vec: ViewEncoder<VEC_DIM, E, D>,
    /// k-mer BERT view encoder.
    pub bert: ViewEncoder<BERT, E, D>,
    /// Bias of the fused `Linear(ΣV, 400)`.
    pub fuse_bias: Tensor<Rank1<WIDTH>, E, D>,
    /// Transformer blocks.
    pub blocks: Repeated<TransformerBlock<E, D>, DEPTH>,
    /// Classification head(s).
    pub head: H,
}

/// Device-free description of [`CircSsnnParams`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CircSsnnBuilder<const BERT: usize, const DEPTH: usize>;

impl<const BERT: usize, const DEPTH: usize, D: Device<Elem>> BuildOnDevice<D, Elem>
    for CircSsnnBuilder<BERT, DEPTH>
{
    type Built = CircSsnnParams<BERT, DEPTH, Elem, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<
        const BERT: usize,
        const DEPTH: usize,
        E: dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
        D: Device<E>,
        H: TensorCollection<E, D>,
    > TensorCollection<E, D> for CircSsnnParams<BERT, DEPTH, E, D, H>
{
    type To<E2: dfdx::shapes::Dtype, D2: Device<E2>> =
        CircSsnnParams<BERT, DEPTH, E2, D2, H::To<E2, D2>>;

    fn iter_tensors<W: ModuleVisitor<Self, E, D>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        // Keeps the builder types referenced so `dev.build_module` works on them too.
        let _ = (
            ViewEncoderBuilder::<KNFP_DIM>,
            TransformerBlockBuilder,
            HeadBuilder,
        );
        visitor.visit_fields(
            (
                Self::module("knfp", |s| &s.knfp, |s| &mut s.knfp),
                Self::module("vec", |s| &s.vec, |s| &mut s.vec),
                Self::module("bert", |s| &s.bert, |s| &mut s.bert),
                Self::tensor(
                    "fuse_bias",
                    |s| &s.fuse_bias,
                    |s| &mut s.fuse_bias,
                    TensorOptions::reset_to_zeros(),
                ),
                Self::module("blocks", |s| &s.blocks, |s| &mut s.blocks),
                Self::module("head", |s| &s.head, |s| &mut s.head),
            ),
            |(knfp, vec, bert, fuse_bias, blocks, head)| CircSsnnParams {
                knfp,
                vec,
                bert,
                fuse_bias,
                blocks,
                head,
            },
        )
    }
}

/// One batch of windows, as the views the network reads.
#[derive(Debug, Clone)]
pub struct ViewBatch<const BERT: usize, D: dfdx::tensor::Storage<Elem>> {
    /// KNFP, `batch x 101 x 84`.
    pub knfp: Option<ViewInput<KNFP_DIM, D>>,
    /// circRNA2Vec, `batch x 101 x 30`.
    pub vec: Option<ViewInput<VEC_DIM, D>>,
    /// k-mer BERT, `batch x 101 x BERT`.
    pub bert: Option<ViewInput<BERT, D>>,
}

/// Parameters plus the runtime settings that say how to run them.
#[derive(Debug, Clone)]
pub struct CircSsnn<
    const BERT: usize,
    const DEPTH: usize,
    D: dfdx::tensor::Storage<Elem>,
    H = Head<Elem, D>,
> {
    /// Learned parameters.
    pub params: CircSsnnParams<BERT, DEPTH, Elem, D, H>,
    /// Views, norm placement, dropout.
    pub config: ModelConfig,
}

/// The multi-task network: CircSSNN's view encoders and transformer blocks
/// shared by all sets of a suite, one [`Head`] per set (RBP) on top. Its
/// logits are `batch x RBPS x 2`; a window's head is its set's index.
///
/// ```
/// use circssnn::model::{CircSsnnMulti, ModelConfig, ViewBatch, BERT_SMALL};
/// use dfdx::prelude::*;
/// let dev = Cpu::seed_from_u64(4);
/// let net = CircSsnnMulti::<BERT_SMALL, 1, 3, Cpu>::new_multi(&dev, ModelConfig::default());
/// let x: Tensor<(usize, Const<101>, Const<84>), f32, Cpu> = dev.zeros_like(&(2, Const, Const));
/// let logits = net.forward_eval(&ViewBatch { knfp: Some(x), vec: None, bert: None }).unwrap();
/// assert_eq!(logits.shape().1, Const::<3>);
/// ```
pub type CircSsnnMulti<const BERT: usize, const DEPTH: usize, const RBPS: usize, D> =
    CircSsnn<BERT, DEPTH, D, PerRbp<RBPS, Elem, D>>;

/// Why a batch does not fit the network's views.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the network reads views [{expected}] but the batch holds [{got}]")]
pub struct ViewMismatch {
    /// Views the network is configured for.
    pub expected: String,
    /// Views present in the batch.
    pub got: String,
}

fn add_view<D: Device<Elem>, T: Tape<Elem, D>>(
    acc: Option<Tokens<D, T>>,
    t: Tokens<D, T>,
) -> Option<Tokens<D, T>> {
    Some(match acc {
        None => t,
        Some(a) => a + t,
    })
}

impl<const BERT: usize, const DEPTH: usize, const RBPS: usize, D: Device<Elem>>
    CircSsnnMulti<BERT, DEPTH, RBPS, D>
{
    /// A freshly initialised multi-task network on `dev`.
    pub fn new_multi(dev: &D, config: ModelConfig) -> Self {
        Self::with_heads(dev, config)
    }
}

impl<const BERT: usize, const DEPTH: usize, D: Device<Elem>> CircSsnn<BERT, DEPTH, D> {
    /// A freshly initialised network on `dev` (seed the device for reproducible weights).
    ///
    /// ```
    /// use circssnn::model::{CircSsnn, ModelConfig, BERT_SMALL};
    /// use dfdx::prelude::*;
    /// let dev = Cpu::seed_from_u64(4);
    /// let net = CircSsnn::<BERT_SMALL, 1, Cpu>::new(&dev, ModelConfig::default());
    /// let x: Tensor<(usize, Const<101>, Const<84>), f32, Cpu> = dev.zeros_like(&(2, Const, Const));
    /// let batch = circssnn::model::ViewBatch { knfp: Some(x), vec: None, bert: None };
    /// let logits = net.forward_eval(&batch).unwrap();
    /// assert_eq!(logits.shape().0, 2);
    /// ```
    pub fn new(dev: &D, config: ModelConfig) -> Self {
        Self::with_heads(dev, config)
    }
}

impl<const BERT: usize, const DEPTH: usize, D: Device<Elem>, H: Heads<D>>
    CircSsnn<BERT, DEPTH, D, H>
{
    /// A freshly initialised network with output layer `H` (what [`new`](CircSsnn::new)
    /// and [`new_multi`](CircSsnnMulti::new_multi) call).
    pub fn with_heads(dev: &D, config: ModelConfig) -> Self {
        Self {
            params: CircSsnnParams::build(dev),
            config,
        }
    }

    /// The view encoders of views this network does not read, by name prefix.
    pub fn unused_views(&self) -> Vec<&'static str> {
        let v = self.config.views;
        [(v.knfp, "knfp."), (v.vec, "vec."), (v.bert, "bert.")]
            .into_iter()
            .filter_map(|(on, prefix)| (!on).then_some(prefix))
            .collect()
    }

    /// Trainable tensors of the unused view encoders: they get no gradient,
    /// and the optimiser reports exactly these as unused.
    pub fn unused_view_tensors(&self) -> usize {
        let unused = self.unused_views();
        crate::nn::params::tensor_names(&self.params)
            .iter()
            .filter(|t| t.trainable && unused.iter().any(|p| t.name.starts_with(p)))
            .count()
    }

    fn check_views(&self, batch: &ViewBatch<BERT, D>) -> Result<(), ViewMismatch> {
        let v = self.config.views;
        if (v.knfp, v.vec, v.bert)
            == (
                batch.knfp.is_some(),
                batch.vec.is_some(),
                batch.bert.is_some(),
            )
        {
            return Ok(());
        }
        let got = crate::model::ViewSet {
            knfp: batch.knfp.is_some(),
            vec: batch.vec.is_some(),
            bert: batch.bert.is_some(),
        };
        Err(ViewMismatch {
            expected: v.names(),
            got: got.names(),
        })
    }

    /// The transformer and head(s), shared by training and evaluation.
    fn trunk<T: Tape<Elem, D>>(&self, tokens: Tokens<D, T>, train: bool) -> H::Logits<T> {
        let c = &self.config;
        let (dropout, head_dropout) = if train {
            (c.dropout, c.head_dropout)
        } else {
            (0.0, 0.0)
        };
        self.params
            .head
            .logits(self.blocks(tokens, dropout), head_dropout)
    }

    /// The tokens through every transformer block.
    fn blocks<T: Tape<Elem, D>>(&self, tokens: Tokens<D, T>, dropout: f64) -> Tokens<D, T> {
        let mut x = tokens;
        for block in &self.params.blocks.modules {
            x = block.forward(x, self.config.norm, dropout);
        }
        x
    }

    fn fuse<T: Tape<Elem, D>>(&self, acc: Option<Tokens<D, T>>) -> Tokens<D, T> {
        let acc = acc.expect("check_views guarantees at least one view");
        let shape = *acc.shape();
        acc + self.params.fuse_bias.retaped::<T>().broadcast_like(&shape)
    }

    /// Training forward: logits with a gradient tape; dropout on, BatchNorm
    /// on batch statistics (and its running statistics updated).
    pub fn forward_train(
        &mut self,
        batch: &ViewBatch<BERT, D>,
    ) -> Result<H::Logits<OwnedTape<Elem, D>>, ViewMismatch> {
        self.check_views(batch)?;
        let p = &mut self.params;
        let mut acc = None;
        if let Some(x) = &batch.knfp {
            acc = add_view(acc, p.knfp.forward_train(x.retaped()));
        }
        if let Some(x) = &batch.vec {
            acc = add_view(acc, p.vec.forward_train(x.retaped()));
        }
        if let Some(x) = &batch.bert {
            acc = add_view(acc, p.bert.forward_train(x.retaped()));
        }
        let tokens = self.fuse(acc);
        Ok(self.trunk(tokens, true))
    }

    /// The token sequence the first block reads (evaluation mode): each
    /// view through its encoder, summed, plus the fused bias; `batch x 128 x
    /// 400`. Notebook 02 rebuilds it by hand from the parameters.
    pub fn tokens_eval(
        &self,
        batch: &ViewBatch<BERT, D>,
    ) -> Result<Tokens<D, NoneTape>, ViewMismatch> {
        self.check_views(batch)?;
        let p = &self.params;
        let mut acc = None;
        if let Some(x) = &batch.knfp {
            acc = add_view(acc, p.knfp.forward_eval(x.clone()));
        }
        if let Some(x) = &batch.vec {
            acc = add_view(acc, p.vec.forward_eval(x.clone()));
        }
        if let Some(x) = &batch.bert {
            acc = add_view(acc, p.bert.forward_eval(x.clone()));
        }
        Ok(self.fuse(acc))
    }

    /// What the head(s) read (evaluation mode): the tokens after the last
    /// block, `batch x 128 x 400`. Refitting a multi-task head on the frozen
    /// network trains on these.
    pub fn head_input_eval(
        &self,
        batch: &ViewBatch<BERT, D>,
    ) -> Result<Tokens<D, NoneTape>, ViewMismatch> {
        Ok(self.blocks(self.tokens_eval(batch)?, 0.0))
    }

    /// Evaluation forward: logits, no dropout, BatchNorm on running statistics.
    pub fn forward_eval(
        &self,
        batch: &ViewBatch<BERT, D>,
    ) -> Result<H::Logits<NoneTape>, ViewMismatch> {
        Ok(self.trunk(self.tokens_eval(batch)?, false))
    }

    /// Attention weights of every block for a batch (evaluation mode),
    /// `batch x heads x 128 x 128` each.
    pub fn attention_maps(
        &self,
        batch: &ViewBatch<BERT, D>,
    ) -> Result<Vec<AttentionMap<D>>, ViewMismatch> {
        let mut x = self.tokens_eval(batch)?;
        let mut maps = Vec::with_capacity(DEPTH);
        for block in &self.params.blocks.modules {
            let (y, m) = block.forward_with_map(x, self.config.norm, 0.0);
            maps.push(m);
            x = y;
        }
        Ok(maps)
    }
}

impl<const BERT: usize, const DEPTH: usize, D: Device<Elem>> CircSsnn<BERT, DEPTH, D> {
    /// Gradient x input of the network's one head: see
    /// [`gradient_x_input_of`](Self::gradient_x_input_of).
    pub fn gradient_x_input(
        &self,
        batch: &ViewBatch<BERT, D>,
    ) -> Result<Vec<[f64; POSITIONS]>, ViewMismatch> {
        self.gradient_x_input_of(batch, 0)
    }
}

impl<const BERT: usize, const DEPTH: usize, D: Device<Elem>, H: Heads<D>>
    CircSsnn<BERT, DEPTH, D, H>
{
    /// Gradient x input, per window and position (evaluation mode): the
    /// derivative of the window's log-odds of binding (`logit_bound -
    /// logit_not_bound`) with respect to every descriptor value, times that
    /// value, summed over the position's columns in every view. A
    /// first-order estimate of what each position contributes, from one
    /// backward pass (in-silico mutagenesis needs 303 forward passes).
    ///
    /// Windows do not interact in evaluation mode (BatchNorm uses its running
    /// statistics), so the gradient of the batch's summed log-odds is each
    /// window's own. `head` picks the RBP of a multi-task network (0 for
    /// the one-set network); only that head's log-odds is differentiated,
    /// so the tape holds one head, not all of them.
    ///
    /// # Panics
    /// If `head` is not below `H::COUNT`, as indexing would.
    pub fn gradient_x_input_of(
        &self,
        batch: &ViewBatch<BERT, D>,
        head: usize,
    ) -> Result<Vec<[f64; POSITIONS]>, ViewMismatch> {
        let one = self
            .params
            .head
            .one(head)
            .unwrap_or_else(|| panic!("head {head} of a network with {} heads", H::COUNT));
        self.check_views(batch)?;
        let p = &self.params;
        // Each input gets its own tape; the sums below merge them into one.
        let mut acc = None;
        if let Some(x) = &batch.knfp {
            acc = add_view(acc, p.knfp.forward_eval_traced(x.leaky_trace()));
        }
        if let Some(x) = &batch.vec {
            acc = add_view(acc, p.vec.forward_eval_traced(x.leaky_trace()));
        }
        if let Some(x) = &batch.bert {
            acc = add_view(acc, p.bert.forward_eval_traced(x.leaky_trace()));
        }
        let logits = one.forward(self.blocks(self.fuse(acc), 0.0), 0.0);
        let shape = *logits.shape();
        let log_odds = logits
            .device()
            .tensor([-1.0 as Elem, 1.0])
            .broadcast_like(&shape);
        let grads = (logits * log_odds).sum::<Rank0, _>().backward();
        let mut out = vec![[0.0; POSITIONS]; shape.0];
        let mut add = |x: &[Elem], g: &[Elem], width: usize| {
            for (i, (xs, gs)) in x.chunks(width).zip(g.chunks(width)).enumerate() {
                let dot: f64 = xs.iter().zip(gs).map(|(&a, &b)| a as f64 * b as f64).sum();
                out[i / POSITIONS][i % POSITIONS] += dot;
            }
        };
        if let Some(x) = &batch.knfp {
            add(&x.as_vec(), &grads.get(x).as_vec(), KNFP_DIM);
        }
        if let Some(x) = &batch.vec {
            add(&x.as_vec(), &grads.get(x).as_vec(), VEC_DIM);
        }
        if let Some(x) = &batch.bert {
            add(&x.as_vec(), &grads.get(x).as_vec(), BERT);
        }
        Ok(out)
    }

    /// Attention projected back to nucleotides, per window (evaluation
    /// mode): the attention each of the 128 tokens receives in the first
    /// block (mean over heads and queries), spread over the 101 positions
    /// in proportion to `|position_mix[token, position]|`, averaged over the
    /// views the network reads. Each window's values sum to 1.
    ///
    /// What it is: where the tokens the model attends to draw their input
    /// from. What it is not: an importance. It ignores BatchNorm, the ReLU,
    /// the signs of the mixing weights and everything after the first
    /// attention, and says nothing about whether a base helps or hurts; see
    /// [`gradient_x_input`](Self::gradient_x_input) and mutagenesis for that.
    pub fn attention_on_positions(
        &self,
        batch: &ViewBatch<BERT, D>,
    ) -> Result<Vec<[f64; POSITIONS]>, ViewMismatch> {
        let maps = self.attention_maps(batch)?;
        let Some(first) = maps.first() else {
            return Ok(Vec::new());
        };
        let n = first.shape().0;
        // Attention received per token: mean over heads and queries.
        let a = first.as_vec();
        let mut received = vec![[0.0f64; TOKENS]; n];
        for (row, q) in a.chunks(TOKENS).enumerate() {
            let b = row / (HEADS * TOKENS);
            for (k, &w) in q.iter().enumerate() {
                received[b][k] += w as f64 / (HEADS * TOKENS) as f64;
            }
        }
        // Each token's share of each position, per view read.
        let v = self.config.views;
        let mixes: Vec<Vec<Elem>> = [
            (v.knfp, &self.params.knfp.position_mix),
            (v.vec, &self.params.vec.position_mix),
            (v.bert, &self.params.bert.position_mix),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, m)| m.as_vec())
        .collect();
        let mut out = vec![[0.0; POSITIONS]; n];
        for mix in &mixes {
            for (k, row) in mix.chunks(POSITIONS).enumerate() {
                let total: f64 = row.iter().map(|w| w.abs() as f64).sum();
                if total == 0.0 {
                    continue;
                }
                for (b, o) in out.iter_mut().enumerate() {
                    let share = received[b][k] / total / mixes.len() as f64;
                    for (pos, w) in row.iter().enumerate() {
                        o[pos] += share * w.abs() as f64;
                    }
                }
            }
        }
        Ok(out)
    }
}
