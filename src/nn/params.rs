//! A module's tensors by their dotted names (`blocks.0.attn.to_q.weight`),
//! read and written as flat `f32` vectors.
//!
//! dfdx walks a module's tensors with a visitor but keeps their buffers
//! private; these helpers are the one place the crate reads or sets them by
//! name: checkpoints that hold only the views a network uses, loaded with
//! every tensor checked before it reaches dfdx; reference tests that fill a
//! network with known weights; gradient norms by layer.

use std::convert::Infallible;

use dfdx::nn::tensor_collection::{
    RecursiveWalker, ScalarOptions, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut,
    ViewTensorName, ViewTensorRef,
};
use dfdx::prelude::{Device, Gradients, Tensor};
use dfdx::shapes::{HasShape, Shape};

use super::Elem;

/// One tensor of a module.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// Dotted path, as in checkpoints.
    pub name: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<Elem>,
    /// Whether the optimiser updates it (false for BatchNorm's running statistics).
    pub trainable: bool,
}

/// A value for a tensor that does not fit it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tensor {name}: {got} values given for shape {shape:?} ({expected} values)")]
pub struct SizeMismatch {
    /// Tensor name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Values it holds.
    pub expected: usize,
    /// Values given.
    pub got: usize,
}

/// Which tensors' gradients to read.
pub type NameFilter<'a> = &'a dyn Fn(&str) -> bool;
/// The values to give a tensor, by name and shape (`None`: leave it).
pub type ValuesFor<'a> = &'a mut dyn FnMut(&str, &[usize]) -> Option<Vec<Elem>>;

struct Reader<'a, 'g, D: Device<Elem>> {
    out: &'a mut Vec<NamedTensor>,
    /// Copy the values (false: names, shapes and flags only).
    values: bool,
    /// With gradients: read the gradient of each trainable tensor the
    /// filter accepts instead of the tensor.
    grads: Option<(&'g Gradients<Elem, D>, NameFilter<'a>)>,
}

impl<D: Device<Elem>> TensorVisitor<Elem, D> for Reader<'_, '_, D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = Infallible;
    type E2 = Elem;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, Elem, D>,
        (t, name): (&Tensor<S, Elem, D>, String),
    ) -> Result<Option<Tensor<S, Elem, D>>, Infallible> {
        let values = match self.grads {
            None if !self.values => Vec::new(),
            None => t.as_vec(),
            Some((grads, keep)) => {
                if !opts.do_gradient_update || !keep(&name) {
                    return Ok(None);
                }
                grads.get(t).as_vec()
            }
        };
        self.out.push(NamedTensor {
            name,
            shape: t.shape().concrete().into(),
            values,
            trainable: opts.do_gradient_update,
        });
        Ok(None)
    }

    fn visit_scalar<N: num_traits::NumCast>(
        &mut self,
        _: ScalarOptions<N>,
        _: (&N, String),
    ) -> Result<Option<N>, Infallible> {
        Ok(None)
    }
}

fn read<M: TensorCollection<Elem, D>, D: Device<Elem>>(
    m: &M,
    values: bool,
    grads: Option<(&Gradients<Elem, D>, NameFilter<'_>)>,
) -> Vec<NamedTensor> {
    let mut out = Vec::new();
    let mut r = Reader {
        out: &mut out,
        values,
        grads,
    };
    let Ok(_) = M::iter_tensors(&mut RecursiveWalker {
        m: (m, String::new()),
        f: &mut r,
    });
    out
}

/// Every tensor of `m` (parameters and running statistics; scalars such as
/// LayerNorm's epsilon are not tensors and are left out), in visiting order.
pub fn named_tensors<M: TensorCollection<Elem, D>, D: Device<Elem>>(m: &M) -> Vec<NamedTensor> {
    read(m, true, None)
}

/// [`named_tensors`] without their values: names, shapes, flags.
pub fn tensor_names<M: TensorCollection<Elem, D>, D: Device<Elem>>(m: &M) -> Vec<NamedTensor> {
    read(m, false, None)
}

/// The gradient of every trainable tensor of `m` whose name `keep` accepts
/// (tensors a forward pass did not touch have none: leave them out).
pub fn named_grads<M: TensorCollection<Elem, D>, D: Device<Elem>>(
    m: &M,
    grads: &Gradients<Elem, D>,
    keep: NameFilter<'_>,
) -> Vec<NamedTensor> {
    read(m, true, Some((grads, keep)))
}

struct Writer<'a> {
    values: ValuesFor<'a>,
    set: usize,
}

impl<D: Device<Elem>> TensorVisitor<Elem, D> for Writer<'_> {
    type Viewer = (ViewTensorMut, ViewTensorName);
    type Err = SizeMismatch;
    type E2 = Elem;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _: TensorOptions<S, Elem, D>,
        (t, name): (&mut Tensor<S, Elem, D>, String),
    ) -> Result<Option<Tensor<S, Elem, D>>, SizeMismatch> {
        let shape: Vec<usize> = t.shape().concrete().into();
        let Some(v) = (self.values)(&name, &shape) else {
            return Ok(None);
        };
        let expected = t.shape().num_elements();
        if v.len() != expected {
            return Err(SizeMismatch {
                name,
                shape,
                expected,
                got: v.len(),
            });
        }
        t.copy_from(&v);
        self.set += 1;
        Ok(None)
    }

    fn visit_scalar<N: num_traits::NumCast>(
        &mut self,
        _: ScalarOptions<N>,
        _: (&mut N, String),
    ) -> Result<Option<N>, SizeMismatch> {
        Ok(None)
    }
}

/// Set tensors of `m` by name: `values(name, shape)` returns the row-major
/// values for a tensor, or `None` to leave it as it is. Returns how many were
/// set; a wrong number of values is an error naming the tensor (and leaves
/// the tensors visited before it already set).
///
/// ```
/// use circssnn::nn::params::{named_tensors, set_tensors};
/// use dfdx::prelude::*;
/// let dev = Cpu::default();
/// let mut lin = dev.build_module::<Linear<2, 3>, f32>();
/// let n = set_tensors(&mut lin, &mut |name, shape| {
///     (name == "bias").then(|| vec![1.0; shape.iter().product()])
/// })?;
/// assert_eq!(n, 1);
/// assert_eq!(lin.bias.array(), [1.0; 3]);
/// assert_eq!(named_tensors(&lin)[0].name, "weight");
/// # Ok::<(), circssnn::nn::params::SizeMismatch>(())
/// ```
pub fn set_tensors<M: TensorCollection<Elem, D>, D: Device<Elem>>(
    m: &mut M,
    values: ValuesFor<'_>,
) -> Result<usize, SizeMismatch> {
    let mut w = Writer { values, set: 0 };
    M::iter_tensors(&mut RecursiveWalker {
        m: (m, String::new()),
        f: &mut w,
    })?;
    Ok(w.set)
}
