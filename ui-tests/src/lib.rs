//! Compile-fail and compile-pass cases for the `#[dofn]` macros: see `tests/ui.rs`, `pass/` and `fail/`.
