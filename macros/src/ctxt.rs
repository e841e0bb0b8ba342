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

    /// Every error, as `compile_error!` invocations, in source order (rustc shows them in the order they
    /// are emitted). Errors in another file than the first keep their files' order of appearance.
    pub(crate) fn finish(self) -> TokenStream {
        let mut errors = self.errors.borrow_mut().take().expect("Ctxt finished twice");
        let mut files: Vec<String> = Vec::new();
        let mut keyed: Vec<((usize, usize, usize), syn::Error)> = errors
            .drain(..)
            .map(|err| {
                let span = err.span();
                let file = span.file();
                let rank = files.iter().position(|f| *f == file).unwrap_or_else(|| {
                    files.push(file);
                    files.len() - 1
                });
                let at = span.start();
                ((rank, at.line, at.column), err)
            })
            .collect();
        // (Stable: errors at one position keep the order in which they were found.)
        keyed.sort_by_key(|(key, _)| *key);
        let errors = keyed.into_iter().map(|(_, err)| err);
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
