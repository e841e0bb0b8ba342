//! The declarations as they travel from the struct's `#[dofn]` to the impl's, inside the callback macro.
//!
//! ```text
//! ::dofn::__private::__dofn_impl! {
//!     BatchedRpc (false false false)
//!     state { buffer "buffer" "Bag<Event>"; count "count" "Value<u32>"; }
//!     timer { expiry "expiry" "TimerSpec<EventTime>"; }
//!     family { }
//!     broken { }
//!     { impl BatchedRpc { .. } }
//! }
//! ```
//!
//! Each id is the user's literal, so errors about it from the impl side still point into the struct. Types
//! travel as strings, for messages only: the impl names the declared types through the struct's type
//! (`<BatchedRpc as StateDecl<0>>::Cell`), since the struct's imports may not be in scope at the impl.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitBool, LitStr, Token, braced, parenthesized};

use crate::ast::DofnStruct;
use crate::attr::IdKind;

/// One declaration, as the impl side sees it.
pub(crate) struct WireDecl {
    pub(crate) kind: IdKind,
    /// The field of the state record.
    pub(crate) member: Ident,
    /// The user's id literal.
    pub(crate) id: LitStr,
    /// The declared type, as the user wrote it (`Bag<Event>`, `TimerSpec<EventTime>`).
    pub(crate) ty: String,
}

/// Everything a `#[dofn]` struct declares.
pub(crate) struct Declarations {
    /// The struct's name.
    pub(crate) name: Ident,
    /// Per kind: some declaration of that kind has an id that could not be read (and was reported).
    pub(crate) poisoned: [bool; 3],
    pub(crate) decls: Vec<WireDecl>,
    /// The ids of malformed declarations (reported on the struct).
    pub(crate) broken: Vec<(IdKind, LitStr)>,
    /// The struct has a syntax error (reported by rustc): its declarations are unknown, and the impl gets a
    /// placeholder `impl DoFn` (see [`crate::recover`]).
    pub(crate) unparsed: bool,
}

impl Declarations {
    /// Whether `id` is the id of a malformed declaration of `kind`.
    pub(crate) fn is_broken(&self, kind: IdKind, id: &str) -> bool {
        self.broken.iter().any(|(k, b)| *k == kind && b.value() == id)
    }

    /// Whether the impl's use of an undeclared `id` of `kind` goes unreported: the struct's error about a
    /// malformed declaration covers it (that declaration's id, or one that could not be read).
    pub(crate) fn covers_unknown(&self, kind: IdKind, id: &str) -> bool {
        self.poisoned[kind as usize] || self.is_broken(kind, id)
    }

    /// The declarations of `kind`, in field order.
    pub(crate) fn of(&self, kind: IdKind) -> Vec<&WireDecl> {
        self.decls.iter().filter(|d| d.kind == kind).collect()
    }

    /// The arguments of `__dofn_impl!` before the impl, for a struct.
    pub(crate) fn tokens_for(s: &DofnStruct) -> TokenStream {
        let name = &s.item.ident;
        let poisoned = s.poisoned.iter().map(|p| LitBool::new(*p, proc_macro2::Span::call_site()));
        let section = |kind: IdKind| {
            let entries = s.of(kind).map(|d| {
                let member = &d.member;
                let id = &d.id;
                let ty = match kind {
                    IdKind::State => crate::fmt::type_string(&d.inner),
                    _ => crate::fmt::type_string(&d.spec),
                };
                quote!(#member #id #ty;)
            });
            quote!({ #(#entries)* })
        };
        let (state, timer, family) = (section(IdKind::State), section(IdKind::Timer), section(IdKind::Family));
        let broken = s.broken.iter().map(|(kind, id)| {
            let label = Ident::new(kind.label(), id.span());
            quote!(#label #id;)
        });
        quote!(#name (#(#poisoned)*) state #state timer #timer family #family broken { #(#broken)* })
    }
}

impl Parse for Declarations {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        if input.peek(Ident) {
            let label: Ident = input.parse()?;
            if label != "unparsed" {
                return Err(syn::Error::new(label.span(), "expected `unparsed`"));
            }
            return Ok(Declarations {
                name,
                poisoned: [true; 3],
                decls: Vec::new(),
                broken: Vec::new(),
                unparsed: true,
            });
        }
        let flags;
        parenthesized!(flags in input);
        let mut poisoned = [false; 3];
        for p in &mut poisoned {
            *p = flags.parse::<LitBool>()?.value;
        }
        let mut decls = Vec::new();
        for kind in IdKind::ALL {
            let _label: Ident = input.parse()?;
            let body;
            braced!(body in input);
            while !body.is_empty() {
                let member: Ident = body.parse()?;
                let id: LitStr = body.parse()?;
                let ty: LitStr = body.parse()?;
                body.parse::<Token![;]>()?;
                decls.push(WireDecl { kind, member, id, ty: ty.value() });
            }
        }
        let _label: Ident = input.parse()?;
        let body;
        braced!(body in input);
        let mut broken = Vec::new();
        while !body.is_empty() {
            let label: Ident = body.parse()?;
            let kind = IdKind::ALL.into_iter().find(|k| label == k.label());
            let id: LitStr = body.parse()?;
            body.parse::<Token![;]>()?;
            if let Some(kind) = kind {
                broken.push((kind, id));
            }
        }
        Ok(Declarations { name, poisoned, decls, broken, unparsed: false })
    }
}

/// The input of `__dofn_impl!`: the declarations and the user's impl (its tokens: it may not parse, see
/// [`crate::recover`]).
pub(crate) struct ImplInput {
    pub(crate) decls: Declarations,
    pub(crate) item: TokenStream,
}

impl Parse for ImplInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let decls = input.parse()?;
        let body;
        braced!(body in input);
        let item = body.parse()?;
        Ok(ImplInput { decls, item })
    }
}

impl ToTokens for WireDecl {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.id.to_tokens(tokens);
    }
}
