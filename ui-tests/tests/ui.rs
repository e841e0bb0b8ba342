//! The compile-time contract of `#[dofn]`: every `pass/` case compiles, every `fail/<category>/` case is
//! rejected with exactly the errors in its `.stderr` file.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p dofn-ui-tests`, then read each one
//! as a user would.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("pass/*.rs");
    t.compile_fail("fail/*/*.rs");
}
