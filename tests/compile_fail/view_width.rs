// A 30-wide matrix (circRNA2Vec's width) cannot be fed to the KNFP view encoder.
// (Written without `Some(..)`: a note pointing into the standard library's
// sources would make the expected message depend on whether rust-src is installed.)
use circssnn::model::{CircSsnn, ModelConfig, BERT_SMALL};
use dfdx::prelude::*;

fn main() {
    let dev = Cpu::default();
    let net = CircSsnn::<BERT_SMALL, 1, Cpu>::new(&dev, ModelConfig::default());
    let vec_view: Tensor<(usize, Const<101>, Const<30>), f32, Cpu> = dev.zeros_like(&(4, Const, Const));
    let _tokens = net.params.knfp.forward_eval(vec_view);
}
