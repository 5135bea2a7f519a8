//! What a notebook looks at inside a network: the gradient reaching each
//! Seq_Transformer block, which is where pre- and post-norm differ (paper
//! Eq. 6 and 7).

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::prelude::{Const, Device, Gradients, Tensor};
use dfdx::shapes::Shape;
use dfdx::tensor_ops::Backward;

use super::batch::{make_batch, Descriptors};
use super::TrainError;
use crate::model::block::TransformerBlock;
use crate::model::{CircSsnn, Elem};

fn sq<S: Shape, D: Device<Elem>>(grads: &Gradients<Elem, D>, t: &Tensor<S, Elem, D>) -> f64 {
    grads
        .get(t)
        .as_vec()
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum()
}

fn block_sq<D: Device<Elem>>(grads: &Gradients<Elem, D>, b: &TransformerBlock<Elem, D>) -> f64 {
    sq(grads, &b.norm_attn.gamma)
        + sq(grads, &b.norm_attn.beta)
        + sq(grads, &b.attn.to_q.weight)
        + sq(grads, &b.attn.to_k.weight)
        + sq(grads, &b.attn.to_v.weight)
        + sq(grads, &b.attn.to_out.weight)
        + sq(grads, &b.attn.to_out.bias)
        + sq(grads, &b.norm_ffn.gamma)
        + sq(grads, &b.norm_ffn.beta)
        + sq(grads, &b.ffn_in.weight)
        + sq(grads, &b.ffn_in.bias)
        + sq(grads, &b.ffn_out.weight)
        + sq(grads, &b.ffn_out.bias)
}

/// L2 norm of the loss gradient with respect to each block's parameters
/// (block 1 nearest the input) for one training batch `seqs` / `labels`,
/// dropout on as in training. `net` itself is left untouched (a copy runs
/// the batch, so BatchNorm's running statistics do not move).
///
/// ```no_run
/// use circssnn::model::{CircSsnn, ModelConfig, Norm, BERT_SMALL};
/// use circssnn::train::{diagnostics::block_gradient_norms, Descriptors};
/// use dfdx::prelude::*;
/// let dev = Cpu::seed_from_u64(0);
/// let net = CircSsnn::<BERT_SMALL, 4, Cpu>::new(&dev, ModelConfig { norm: Norm::Post, ..Default::default() });
/// let desc = Descriptors { knfp: Some(&circssnn::features::Knfp), vec: None, bert: None };
/// let seqs = vec![[b'A'; 101].as_slice(), [b'C'; 101].as_slice()];
/// let norms = block_gradient_norms(&net, &dev, &desc, &seqs, &[1, 0])?;
/// assert_eq!(norms.len(), 4);
/// # Ok::<(), circssnn::train::TrainError>(())
/// ```
pub fn block_gradient_norms<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    net: &CircSsnn<BERT, DEPTH, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    seqs: &[&[u8]],
    labels: &[u8],
) -> Result<Vec<f64>, TrainError> {
    assert_eq!(seqs.len(), labels.len(), "one label per window");
    desc.check(net.config.views)?;
    let mut net = net.clone();
    let batch = make_batch(dev, desc, net.config.views, seqs)?;
    let onehot: Vec<Elem> = labels
        .iter()
        .flat_map(|&y| if y == 1 { [0.0, 1.0] } else { [1.0, 0.0] })
        .collect();
    let target = dev.tensor_from_vec(onehot, (labels.len(), Const::<2>));
    let grads = cross_entropy_with_logits_loss(net.forward_train(&batch)?, target).backward();
    Ok(net
        .params
        .blocks
        .modules
        .iter()
        .map(|b| block_sq(&grads, b).sqrt())
        .collect())
}
