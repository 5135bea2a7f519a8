// The transformer block reads 128 tokens of width 400; width 300 does not compile.
use circssnn::model::block::TransformerBlock;
use circssnn::model::Norm;
use dfdx::nn::BuildModule;
use dfdx::prelude::*;

fn main() {
    let dev = Cpu::default();
    let block = TransformerBlock::<f32, Cpu>::build(&dev);
    let x: Tensor<(usize, Const<128>, Const<300>), f32, Cpu> = dev.zeros_like(&(2, Const, Const));
    let _y = block.forward(x, Norm::Pre, 0.0);
}
