//! Turning windows into the network's typed input tensors, one batch at a
//! time (never a whole set: AGO2's three views would be 40,000 x 101 x 882
//! floats), and scoring windows with a trained network.

use dfdx::prelude::{Const, Device};

use crate::features::learned::Learned;
use crate::features::{Descriptor, Knfp};
use crate::model::{
    CircSsnn, Elem, Heads, ViewBatch, ViewInput, ViewSet, KNFP_DIM, POSITIONS, VEC_DIM,
};

use super::TrainError;

/// The descriptors a network's views read; `None` for views it does not use.
pub struct Descriptors<'a, const BERT: usize> {
    /// KNFP view.
    pub knfp: Option<&'a dyn Descriptor<KNFP_DIM>>,
    /// circRNA2Vec view.
    pub vec: Option<&'a dyn Descriptor<VEC_DIM>>,
    /// k-mer BERT view.
    pub bert: Option<&'a dyn Descriptor<BERT>>,
}

impl<'a, const BERT: usize> Descriptors<'a, BERT> {
    /// KNFP and the learned models of `learned` for the views in `views`,
    /// with the BERT view read through `bert` (a cache) when given.
    pub fn of<const L: usize, const H: usize, const F: usize, Dev>(
        learned: &'a Learned<BERT, L, H, F, Dev>,
        views: ViewSet,
        bert: Option<&'a dyn Descriptor<BERT>>,
    ) -> Self
    where
        Dev: Device<Elem>,
    {
        static KNFP: Knfp = Knfp;
        Descriptors {
            knfp: views.knfp.then_some(&KNFP as _),
            vec: learned.vec.as_ref().map(|v| v as _),
            bert: bert.or(learned.bert.as_ref().map(|b| b as _)),
        }
    }

    /// KNFP alone: the view that needs no trained model.
    pub fn knfp_only() -> Self {
        static KNFP: Knfp = Knfp;
        Descriptors {
            knfp: Some(&KNFP),
            vec: None,
            bert: None,
        }
    }

    /// Check that exactly the views in `views` have a descriptor.
    pub fn check(&self, views: ViewSet) -> Result<(), TrainError> {
        let missing = [
            (views.knfp && self.knfp.is_none(), "knfp"),
            (views.vec && self.vec.is_none(), "vec (circRNA2Vec)"),
            (views.bert && self.bert.is_none(), "bert (k-mer BERT)"),
        ];
        match missing.iter().find(|(m, _)| *m) {
            Some((_, name)) => Err(TrainError::DescriptorUnavailable((*name).to_string())),
            None => Ok(()),
        }
    }
}

fn view<const V: usize, D: Device<Elem>>(
    dev: &D,
    desc: Option<&dyn Descriptor<V>>,
    on: bool,
    seqs: &[&[u8]],
) -> Result<Option<ViewInput<V, D>>, TrainError> {
    let Some(desc) = desc.filter(|_| on) else {
        return Ok(None);
    };
    let values = desc.encode_batch(seqs);
    // NaN would not reach the loss: ReLU maps it to 0 and the network would
    // silently learn from garbage, so it is caught here.
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        let window = i / (POSITIONS * V);
        return Err(TrainError::NonFiniteFeature {
            descriptor: desc.name().to_string(),
            window: String::from_utf8_lossy(seqs[window]).into_owned(),
            value: values[i],
        });
    }
    Ok(Some(
        dev.tensor_from_vec(values, (seqs.len(), Const, Const)),
    ))
}

/// Encode `seqs` into the views `views` selects.
pub fn make_batch<const BERT: usize, D: Device<Elem>>(
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    views: ViewSet,
    seqs: &[&[u8]],
) -> Result<ViewBatch<BERT, D>, TrainError> {
    Ok(ViewBatch {
        knfp: view(dev, desc.knfp, views.knfp, seqs)?,
        vec: view(dev, desc.vec, views.vec, seqs)?,
        bert: view(dev, desc.bert, views.bert, seqs)?,
    })
}

/// Probability that each window is bound, in evaluation mode, `batch_size`
/// windows at a time.
pub fn predict_proba<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    net: &CircSsnn<BERT, DEPTH, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    seqs: &[&[u8]],
    batch_size: usize,
) -> Result<Vec<f64>, TrainError> {
    predict_proba_heads(net, dev, desc, seqs, batch_size)
}

/// [`predict_proba`] for a network with any output layer: P(bound) of every
/// window for each of its `H::COUNT` heads, window by window (`seqs.len() x
/// H::COUNT`, row-major); one forward pass scores every head.
pub fn predict_proba_heads<const BERT: usize, const DEPTH: usize, D, H>(
    net: &CircSsnn<BERT, DEPTH, D, H>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    seqs: &[&[u8]],
    batch_size: usize,
) -> Result<Vec<f64>, TrainError>
where
    D: Device<Elem>,
    H: Heads<D>,
{
    desc.check(net.config.views)?;
    let mut out = Vec::with_capacity(seqs.len() * H::COUNT);
    for chunk in seqs.chunks(batch_size.max(1)) {
        let batch = make_batch(dev, desc, net.config.views, chunk)?;
        out.extend(H::bound_probs(net.forward_eval(&batch)?));
    }
    Ok(out)
}

/// One-hot targets `(not bound, bound)` of `labels` (1 = bound), `batch x 2`.
pub(crate) fn targets<D: Device<Elem>>(
    dev: &D,
    labels: &[u8],
) -> dfdx::prelude::Tensor<(usize, Const<2>), Elem, D> {
    let v: Vec<Elem> = labels
        .iter()
        .flat_map(|&y| if y == 1 { [0.0, 1.0] } else { [1.0, 0.0] })
        .collect();
    dev.tensor_from_vec(v, (labels.len(), Const::<2>))
}
