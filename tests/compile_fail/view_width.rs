// A 30-wide matrix (circRNA2Vec's width) cannot be fed to the KNFP slot.
use circssnn::model::{ViewBatch, BERT_SMALL};
use dfdx::prelude::*;

fn main() {
    let dev = Cpu::default();
    let vec_view: Tensor<(usize, Const<101>, Const<30>), f32, Cpu> = dev.zeros_like(&(4, Const, Const));
    let _batch = ViewBatch::<BERT_SMALL, Cpu> { knfp: Some(vec_view), vec: None, bert: None };
}
