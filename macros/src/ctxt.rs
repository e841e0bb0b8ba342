//! Collects every error of one expansion, so that one build reports all of them.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// The errors found so far. Dropping it without calling [`Ctxt::finish`] is a bug in the macro.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt { errors: RefCell::new(Some(Vec::new())) }
    }

    /// An error at `span`.
    pub(crate) fn error(&self, span: Span, msg: impl Display) {
        self.push(syn::Error::new(span, msg));
    }

    /// An error over `tokens` (from their first to their last token).
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, msg: impl Display) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), msg));
    }

    /// An error from syn.
    pub(crate) fn push(&self, err: syn::Error) {
        self.errors.borrow_mut().as_mut().expect("Ctxt used after finish").push(err);
    }

    /// Every error, as `compile_error!` invocations.
    pub(crate) fn finish(self) -> TokenStream {
        let errors = self.errors.borrow_mut().take().expect("Ctxt finished twice");
        let mut combined: Option<syn::Error> = None;
        for err in errors {
            match &mut combined {
                Some(all) => all.combine(err),
                None => combined = Some(err),
            }
        }
        combined.map(|e| e.to_compile_error()).unwrap_or_default()
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("dofn-macros: forgot to report the collected errors");
        }
    }
}
