//! The role attributes (`#[process_element]`, `#[on_timer("..")]`, ..) as attribute macros of their own.
//!
//! Inside an impl marked `#[dofn]` they never expand: the impl's `#[dofn]` runs first and consumes them. They
//! expand only where that `#[dofn]` is missing, or on something that is not a method, and then say so, on the
//! attribute, rather than leaving rustc to report an unknown attribute. The method is emitted without `#[dofn]`'s attributes (its own and those of its
//! parameters), so that the one mistake makes one error.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

use crate::recover;
use crate::symbol::Symbol;

/// The expansion of `#[role]` outside a `#[dofn]` impl: an error at the attribute, and the item without
/// `#[dofn]`'s attributes.
pub(crate) fn expand(role: Symbol, item: TokenStream) -> TokenStream {
    let msg = if is_method(&item) {
        format!(
            "`#[{role}]` works only inside an impl marked `#[dofn]`\nhelp: add `#[dofn]` above the impl of the DoFn \
             struct: `#[dofn] impl MyDoFn {{ .. }}`"
        )
    } else {
        format!("`#[{role}]` goes on a method (taking `&self`) of an impl marked `#[dofn]`, and this is not one")
    };
    // At the attribute (an attribute macro's call site), with the hygiene of the user's tokens, so that rustc
    // does not add a note that the error comes from a macro.
    let user = item.clone().into_iter().next().map_or_else(Span::call_site, |tt| tt.span());
    let span = Span::call_site().resolved_at(user);
    let error = quote_spanned!(span=> ::core::compile_error! { #msg });
    let item = recover::strip_helpers(item);
    quote::quote!(#error #item)
}

/// Whether `item` is a function with a `self` parameter: a method, in an impl (or a trait) without `#[dofn]`.
fn is_method(item: &TokenStream) -> bool {
    let sig = match syn::parse2::<syn::ImplItemFn>(item.clone()) {
        Ok(f) => f.sig,
        Err(_) => match syn::parse2::<syn::TraitItemFn>(item.clone()) {
            Ok(f) => f.sig,
            Err(_) => return false,
        },
    };
    sig.receiver().is_some()
}
