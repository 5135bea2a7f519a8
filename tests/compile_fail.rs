//! Shape errors are compile errors: each file under `compile_fail/` must be
//! rejected by the compiler with the message stored beside it. The messages
//! quote the model's signatures: after changing one, read the new message
//! and re-bless with `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn shape_errors_do_not_compile() {
    trybuild::TestCases::new().compile_fail("tests/compile_fail/*.rs");
}
