//! Classification head: a 1x1 convolution over the 128 tokens (128 -> 1,
//! no bias) pools them into one 400-vector, then ReLU, Dropout(0.35) and an
//! MLP 400-100-20-2. The original also applies dropout to the final logits,
//! which randomly zeroes class scores during training; that bug is not copied.
//!
//! [`Heads`] is what the network puts on top of its transformer: one
//! [`Head`] (the paper's network) or [`PerRbp`], one head per RBP over the
//! same tokens (the multi-task network, [`super::CircSsnnMulti`]).

use dfdx::nn::modules::{Linear, Repeated};
use dfdx::nn::{
    BuildModule, BuildOnDevice, Module, ModuleVisitor, TensorCollection, TensorOptions,
};
use dfdx::prelude::{Axes3, Axis, Const, Device, NoneTape, Rank2, Tape, Tensor};
use dfdx::shapes::HasShape;
use dfdx::tensor::{PutTape, SplitTape};
use dfdx::tensor_ops::{PermuteTo, ReshapeTo, TryMatMul, TryStack};
use rand_distr::Uniform;

use super::{Logits, MultiLogits, Tokens, TOKENS, WIDTH};
use crate::nn::Elem;

/// Parameters of the head.
#[derive(Debug, Clone)]
pub struct Head<E: dfdx::shapes::Dtype, D: dfdx::tensor::Storage<E>> {
    /// The 1x1 convolution over tokens: `1 x 128`.
    pub token_pool: Tensor<Rank2<1, TOKENS>, E, D>,
    /// 400 -> 100.
    pub fc1: Linear<WIDTH, 100, E, D>,
    /// 100 -> 20.
    pub fc2: Linear<100, 20, E, D>,
    /// 20 -> 2 logits.
    pub fc3: Linear<20, 2, E, D>,
}

/// Device-free description of [`Head`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadBuilder;

impl<D: Device<Elem>> BuildOnDevice<D, Elem> for HeadBuilder {
    type Built = Head<Elem, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<
        E: dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
        D: Device<E>,
    > TensorCollection<E, D> for Head<E, D>
{
    type To<E2: dfdx::shapes::Dtype, D2: Device<E2>> = Head<E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, D>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "token_pool",
                    |s| &s.token_pool,
                    |s| &mut s.token_pool,
                    TensorOptions::reset_with(|t| {
                        let b: E =
                            num_traits::cast(1.0 / (TOKENS as f64).sqrt()).expect("a float type");
                        t.try_fill_with_distr(Uniform::new(-b, b))
                    }),
                ),
                Self::module("fc1", |s| &s.fc1, |s| &mut s.fc1),
                Self::module("fc2", |s| &s.fc2, |s| &mut s.fc2),
                Self::module("fc3", |s| &s.fc3, |s| &mut s.fc3),
            ),
            |(token_pool, fc1, fc2, fc3)| Head {
                token_pool,
                fc1,
                fc2,
                fc3,
            },
        )
    }
}

impl<D: Device<Elem>> Head<Elem, D> {
    /// Tokens to two logits; `dropout` is 0 in evaluation.
    pub fn forward<T: Tape<Elem, D>>(&self, x: Tokens<D, T>, dropout: f64) -> Logits<D, T> {
        let b = x.shape().0;
        let pooled = x
            .permute::<_, Axes3<0, 2, 1>>() // (B, 400, 128)
            .matmul(self.token_pool.retaped::<T>().permute()); // (B, 400, 1)
        let h = pooled.reshape_like(&(b, Const::<WIDTH>)).relu();
        let h = crate::nn::dropout(h, dropout);
        let h = self.fc1.forward(h).relu();
        let h = self.fc2.forward(h).relu();
        self.fc3.forward(h)
    }
}

/// The output layer(s) over the transformer's tokens.
pub trait Heads<D: Device<Elem>>:
    TensorCollection<Elem, D, To<Elem, D> = Self> + Clone + std::fmt::Debug
{
    /// What a batch's tokens become: `batch x 2` logits for one head,
    /// `batch x RBPS x 2` for one head per RBP.
    type Logits<T: Tape<Elem, D>>;
    /// How many sets (RBPs) the heads score.
    const COUNT: usize;
    /// Tokens to logits; `dropout` is 0 in evaluation.
    fn logits<T: Tape<Elem, D>>(&self, x: Tokens<D, T>, dropout: f64) -> Self::Logits<T>;
    /// P(bound) of every window for every head, window by window
    /// (`batch x COUNT` values, row-major): the softmax of each head's two
    /// logits, second class.
    fn bound_probs(logits: Self::Logits<NoneTape>) -> Vec<f64>;
    /// Head `r` alone (`r < COUNT`), for what is asked of one RBP's output:
    /// its gradient with respect to the input, say.
    fn one(&self, r: usize) -> Option<&Head<Elem, D>>;
}

impl<D: Device<Elem>> Heads<D> for Head<Elem, D> {
    type Logits<T: Tape<Elem, D>> = Logits<D, T>;
    const COUNT: usize = 1;
    fn logits<T: Tape<Elem, D>>(&self, x: Tokens<D, T>, dropout: f64) -> Logits<D, T> {
        self.forward(x, dropout)
    }
    fn bound_probs(logits: Logits<D, NoneTape>) -> Vec<f64> {
        let p = logits.softmax::<Axis<1>>().as_vec();
        p.chunks(2).map(|c| c[1] as f64).collect()
    }
    fn one(&self, r: usize) -> Option<&Head<Elem, D>> {
        (r == 0).then_some(self)
    }
}

/// One [`Head`] per RBP, all reading the same tokens; checkpoint names
/// `head.0.*` .. `head.{RBPS-1}.*`, in the order of the suite's sets.
pub type PerRbp<const RBPS: usize, E, D> = Repeated<Head<E, D>, RBPS>;

impl<const RBPS: usize, D: Device<Elem>> Heads<D> for PerRbp<RBPS, Elem, D> {
    type Logits<T: Tape<Elem, D>> = MultiLogits<RBPS, D, T>;
    const COUNT: usize = RBPS;
    fn logits<T: Tape<Elem, D>>(&self, x: Tokens<D, T>, dropout: f64) -> MultiLogits<RBPS, D, T> {
        // The first head carries the tape; the others read the same values
        // on fresh tapes, which the stack merges, so every head's gradient
        // reaches the shared tokens.
        let (x, tape) = x.split_tape();
        let mut tape = Some(tape);
        let per_head: [Logits<D, T>; RBPS] = std::array::from_fn(|r| {
            let input = match tape.take() {
                Some(t) => x.clone().put_tape(t),
                None => x.clone().retaped::<T>(),
            };
            self.modules[r].forward(input, dropout)
        });
        // Made contiguous: dfdx 0.13's log_softmax backward is wrong on a
        // permuted tensor (measured: the fusion bias's gradient of the
        // training loss differed from the sum of the one-set networks' in
        // the first digit, and a 3-set run stayed at chance; contiguous, it
        // matches to 1e-6). The copy is batch x RBPS x 2 floats.
        per_head.stack().permute::<_, Axes3<1, 0, 2>>().contiguous()
    }
    fn bound_probs(logits: MultiLogits<RBPS, D, NoneTape>) -> Vec<f64> {
        // Contiguous `batch x RBPS x 2`: pairs in window-major, head-minor order.
        let p = logits.softmax::<Axis<2>>().as_vec();
        p.chunks(2).map(|c| c[1] as f64).collect()
    }
    fn one(&self, r: usize) -> Option<&Head<Elem, D>> {
        self.modules.get(r)
    }
}
