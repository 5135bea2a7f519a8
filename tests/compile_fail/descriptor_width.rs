// KNFP is a 84-wide descriptor: it cannot stand in for the 30-wide circRNA2Vec view.
use circssnn::features::Knfp;
use circssnn::model::BERT_SMALL;
use circssnn::train::Descriptors;

fn main() {
    static K: Knfp = Knfp;
    let _d = Descriptors::<BERT_SMALL> { knfp: None, vec: Some(&K), bert: None };
}
