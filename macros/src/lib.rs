//! Attribute macros for dofn.
use proc_macro::TokenStream;

/// `#[dofn]`
#[proc_macro_attribute]
pub fn dofn(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
