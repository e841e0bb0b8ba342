//! Attribute macros for [dofn](https://docs.rs/dofn): `#[dofn]` on a DoFn struct and on its impl.
//!
//! Use them through the runtime crate (`use dofn::prelude::*;`), which re-exports [`macro@dofn`] and holds
//! everything the generated code names. This crate has no runtime logic: it parses the struct and the impl
//! into a model (`ast`), checks the rules (`check`, one function per rule, every error reported in one
//! build on the offending token), and generates the wiring (`expand_struct`, `expand_impl`). An item with a
//! syntax error is left for rustc to report, with nothing added to its error (`recover`).
//!
//! The struct's `#[dofn]` and the impl's meet through a *callback macro*: the struct's expansion defines a
//! `macro_rules!` carrying its declarations, importable under the struct's own name; the impl's `#[dofn]`
//! expands to an invocation of it, which hands the declarations and the impl to [`__dofn_impl!`].

#![forbid(unsafe_code)]

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand_impl;
mod expand_struct;
mod fmt;
mod recover;
mod stray;
mod suggest;
mod symbol;
mod wire;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Item, ItemImpl, Type};

use crate::ctxt::Ctxt;

/// Declares a DoFn: put `#[dofn]` on its struct and on its impl.
///
/// # On the struct
///
/// Fields marked with an id declare the DoFn's state and timers; other fields are plain configuration.
///
/// | field | declares |
/// |---|---|
/// | `#[state_id("id")] f: StateSpec<Cell>` | a state cell: `Value<T>`, `Bag<T>`, `Combining<F>`, `Map<K, V>`, `Set<T>`, `OrderedList<T>` or `Multimap<K, V>` |
/// | `#[timer_id("id")] f: TimerSpec<EventTime>` | an event-time timer (or `TimerSpec<ProcessingTime>`) |
/// | `#[timer_family_id("id")] f: TimerFamilySpec<EventTime>` | a family of timers told apart by tags chosen at run time |
///
/// Ids are non-empty string literals, unique per kind (a state and a timer may share one).
///
/// The struct may have type and const parameters (the DoFn is implemented for `'static` types: it moves to
/// worker threads), but no lifetime parameters: a DoFn owns its data.
///
/// # On the impl
///
/// | method attribute | called | may take |
/// |---|---|---|
/// | `#[process_element]` (exactly one) | for each element | `&mut ProcessContext<I, O>` (required: it gives the DoFn's input `I` and output `O`), `Element<&I>`, `Key<&K>`, `Timestamp`, `Window`, state, timers, timer families |
/// | `#[on_timer("id")]` (one per timer) | when the timer fires | `&mut TimerContext<O>`, `Key<&K>`, `Timestamp` (the timer's output timestamp, as `cx.timestamp()`; the firing time is `cx.firing_timestamp()`), `Window`, state, timers, timer families |
/// | `#[on_timer_family("id")]` (one per family) | when a timer of the family fires | as `#[on_timer]`, and `TimerTag` |
/// | `#[on_window_expiration]` | when a window expires, before its state is cleared | `&mut ExpirationContext<O>`, `Key<&K>`, `Window`, state |
/// | `#[setup]`, `#[teardown]` | once per DoFn instance | nothing |
/// | `#[start_bundle]` | before each bundle | nothing |
/// | `#[finish_bundle]` | after each bundle | `&mut BundleContext<O>` |
/// | `#[allowed_timestamp_skew]` | once, when the DoFn is set up to run | nothing: `&self`, returns the `Duration` by which an output may be earlier than its input (Beam's `getAllowedTimestampSkew`; zero without it) |
///
/// Each of these attributes may also be written with the crate's path, as is natural next to `#[dofn::dofn]`:
/// `#[dofn::state_id("id")]`, `#[dofn::process_element]`.
///
/// Parameters marked `#[state_id("id")] x: &mut Cell`, `#[timer_id("id")] t: &mut Timer` and
/// `#[timer_family_id("id")] m: &mut TimerMap` get the cell, timer or family of the current key and window;
/// any subset, in any order. A method that only reads a cell may take it as `&Cell`. Other parameters are recognised by their type, as listed. Methods take `&self`
/// or `&mut self`, and return `()` or `Result<(), E>` with `E` convertible to a boxed error (but for
/// `#[allowed_timestamp_skew]`).
///
/// A DoFn with state, timers or `#[on_window_expiration]` is *stateful*: its input must be a `(key, value)`
/// pair, and its state and timers are kept per key and window.
///
/// # Example
///
/// ```
/// use dofn::prelude::*;
///
/// /// Hands each user's events on in batches of `max_buffer_size`, and what is left when the window ends.
/// #[dofn]
/// #[derive(Clone)]
/// struct BatchedRpc {
///     max_buffer_size: usize,
///     #[state_id("buffer")] buffer: StateSpec<Bag<String>>,
///     #[state_id("count")] count: StateSpec<Value<usize>>,
///     #[timer_id("expiry")] expiry: TimerSpec<EventTime>,
/// }
///
/// impl BatchedRpc {
///     /// A DoFn that hands a batch on once it holds `max_buffer_size` events.
///     fn new(max_buffer_size: usize) -> Self {
///         assert!(max_buffer_size > 0, "a batch holds at least one event");
///         BatchedRpc { max_buffer_size, buffer: StateSpec::new(), count: StateSpec::new(), expiry: TimerSpec::new() }
///     }
/// }
///
/// #[dofn]
/// impl BatchedRpc {
///     #[process_element]
///     fn process(
///         &self,
///         cx: &mut ProcessContext<(String, String), Vec<String>>,
///         Element((_user, event)): Element<&(String, String)>,
///         #[state_id("buffer")] buffer: &mut Bag<String>,
///         #[state_id("count")] count: &mut Value<usize>,
///         #[timer_id("expiry")] expiry: &mut Timer,
///     ) {
///         expiry.set(cx.window().max_timestamp());
///         buffer.add(event.clone());
///         let n = count.get_or_insert_with(|| 0);
///         *n += 1;
///         if *n >= self.max_buffer_size {
///             count.clear();
///             cx.output(buffer.take());
///         }
///     }
///
///     #[on_timer("expiry")]
///     fn on_expiry(
///         &self,
///         cx: &mut TimerContext<Vec<String>>,
///         #[state_id("buffer")] buffer: &mut Bag<String>,
///         #[state_id("count")] count: &mut Value<usize>,
///     ) {
///         count.clear();
///         if !buffer.is_empty() {
///             cx.output(buffer.take());
///         }
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let events = [("ann", "a", 1), ("ann", "b", 2), ("ann", "c", 3), ("bob", "d", 4)];
/// let result = Pipeline::from_values(
///     events.map(|(user, event, secs)| ((user.to_string(), event.to_string()), Instant::from_secs(secs))),
/// )
/// .window_into(WindowFn::fixed(Duration::from_secs(60)))
/// .apply(BatchedRpc::new(2))
/// .run()?;
/// let batches: Vec<Vec<String>> = result.sorted().iter().map(|v| v.value.clone()).collect();
/// assert_eq!(batches, [vec!["a", "b"], vec!["c"], vec!["d"]]);
/// # Ok(())
/// # }
/// ```
///
/// Mistakes are compile errors on the offending token, all reported in one build: a duplicate or unknown id
/// (with the closest declared one suggested), a parameter whose type differs from its declaration, a timer
/// without a callback, state in a bundle method, and so on.
///
/// The impl must name the struct (not a type alias), and the struct's name must be in scope where the impl
/// is (`use super::BatchedRpc;` brings both the type and the declarations). `#[dofn]` and `#[derive]` may
/// come in either order. One impl of the struct carries `#[dofn]` and all of its role methods; other impl
/// blocks of the struct are ordinary ones (helpers the role methods call, say).
///
/// `#[dofn]` runs before `#[cfg]` is evaluated, so it cannot tell which declarations, role methods and
/// parameters will be compiled: a `#[cfg]` on any of them is an error, and so is a `#[cfg_attr]` that would add
/// one of `#[dofn]`'s attributes. Put the condition inside the method, or `#[cfg]` on the whole DoFn (its struct
/// and its impl); `#[cfg]` on plain fields and helper methods is fine.
#[proc_macro_attribute]
pub fn dofn(args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    attr::check_dofn_args(&cx, args.into());
    let input = TokenStream2::from(input);
    let out = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Struct(mut item)) => {
            remove_second_dofn(&cx, &mut item.attrs, "struct");
            dofn_struct(&cx, item)
        }
        Ok(Item::Impl(mut item)) => {
            remove_second_dofn(&cx, &mut item.attrs, "impl");
            dofn_impl_entry(&cx, item)
        }
        Ok(mut other) => {
            let span = match &other {
                Item::Enum(e) => e.enum_token.span,
                Item::Fn(f) => f.sig.fn_token.span,
                Item::Trait(t) => t.trait_token.span,
                Item::Type(t) => t.type_token.span,
                _ => proc_macro2::Span::call_site(),
            };
            cx.error(span, "`#[dofn]` goes on a DoFn's struct and on its impl");
            StripHelpers.visit_item_mut(&mut other);
            quote!(#other)
        }
        // A syntax error: rustc reports it, and the expansion adds nothing to it (see `recover`).
        Err(_) => match recover::parse_impl(input.clone()) {
            Some(item) => dofn_impl_entry(&cx, item),
            None => match recover::impl_header(input.clone()).as_ref().and_then(callback_path) {
                // (`__dofn_impl!` reads what it can.)
                Some(path) => quote!(#path! { #input }),
                None => recover::unparsed_struct(input.clone()).unwrap_or_else(|| recover::strip_helpers(input)),
            },
        },
    };
    let errors = cx.finish();
    quote!(#errors #out).into()
}

/// Reports and removes a second `#[dofn]` on the item (which would expand it twice).
fn remove_second_dofn(cx: &Ctxt, attrs: &mut Vec<syn::Attribute>, what: &str) {
    attrs.retain(|attr| {
        let dofn = symbol::find(attr.path(), &[symbol::DOFN]).is_some();
        if dofn {
            cx.error_spanned_by(attr, format!("duplicate `#[dofn]`: this {what} already has one"));
        }
        !dofn
    });
}

fn dofn_struct(cx: &Ctxt, item: syn::ItemStruct) -> TokenStream2 {
    let mut s = ast::DofnStruct::from_ast(cx, item);
    check::check_struct(cx, &mut s);
    expand_struct::expand(&s)
}

/// Removes the attributes `#[dofn]` reads from an item it rejects: left on, each would add an error of its
/// own ("cannot find attribute") to the one that says what is wrong.
struct StripHelpers;

impl StripHelpers {
    fn strip(attrs: &mut Vec<syn::Attribute>) {
        attrs.retain(|a| {
            symbol::find(a.path(), &symbol::ID_ATTRS).is_none()
                && symbol::find(a.path(), &symbol::METHOD_ATTRS).is_none()
        });
    }
}

/// `VisitMut` methods that strip the helper attributes of a node, then visit inside it.
macro_rules! strip_attrs_of {
    ($($visit:ident($node:ty)),* $(,)?) => {
        $(
            fn $visit(&mut self, node: &mut $node) {
                Self::strip(&mut node.attrs);
                visit_mut::$visit(self, node);
            }
        )*
    };
}

impl VisitMut for StripHelpers {
    strip_attrs_of!(
        visit_field_mut(syn::Field),
        visit_impl_item_fn_mut(syn::ImplItemFn),
        visit_trait_item_fn_mut(syn::TraitItemFn),
        visit_item_fn_mut(syn::ItemFn),
        visit_pat_type_mut(syn::PatType),
    );
}

/// The impl's `#[dofn]`: invokes the struct's callback macro, which calls [`__dofn_impl!`].
fn dofn_impl_entry(cx: &Ctxt, mut item: ItemImpl) -> TokenStream2 {
    if let Some((path, _)) = &item.trait_ {
        cx.error_spanned_by(
            path,
            "`#[dofn]` goes on the DoFn struct's own impl (`impl MyDoFn { .. }`), not on a trait impl",
        );
        StripHelpers.visit_item_impl_mut(&mut item);
        return quote!(#item);
    }
    let Some(path) = callback_path(&item) else {
        cx.error_spanned_by(
            &item.self_ty,
            "`#[dofn]` on an impl needs the impl to name the DoFn struct: `impl MyDoFn { .. }`",
        );
        StripHelpers.visit_item_impl_mut(&mut item);
        return quote!(#item);
    };
    // A second, clearer error than rustc's "cannot find macro" when the struct has no `#[dofn]` (for impls
    // without generic parameters, whose self type can be named here).
    let declared = item.generics.params.is_empty().then(|| {
        let self_ty = &item.self_ty;
        quote::quote_spanned! {self_ty.span()=>
            const _: () = {
                fn __dofn_declared<T: ?::core::marker::Sized + ::dofn::__private::DofnStruct>() {}
                let _ = __dofn_declared::<#self_ty>;
            };
        }
    });
    quote!(#declared #path! { #item })
}

/// The path of the callback macro of the struct an inherent impl is for: its self type's path, without
/// generic arguments.
fn callback_path(item: &ItemImpl) -> Option<syn::Path> {
    let Type::Path(p) = &*item.self_ty else { return None };
    if p.qself.is_some() || item.trait_.is_some() {
        return None;
    }
    let mut path = p.path.clone();
    if let Some(last) = path.segments.last_mut() {
        last.arguments = syn::PathArguments::None;
    }
    Some(path)
}

/// Wires a `#[dofn]` impl to its struct's declarations. Called by the callback macro the struct's `#[dofn]`
/// generates, never directly.
#[doc(hidden)]
#[proc_macro]
pub fn __dofn_impl(input: TokenStream) -> TokenStream {
    let wire::ImplInput { decls, item } = match syn::parse::<wire::ImplInput>(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error().into(),
    };
    // A syntax error: rustc reports it, and the expansion adds nothing to it (see `recover`).
    let parsed = syn::parse2::<ItemImpl>(item.clone()).ok().or_else(|| recover::parse_impl(item.clone()));
    let Some(mut item) = parsed else {
        let header = recover::impl_header(item.clone());
        let io = recover::process_context_types(item.clone());
        let placeholder = header.map(|h| expand_impl::placeholder(&decls.name, &h, io.as_ref().map(|(i, o)| (i, o))));
        let item = recover::strip_helpers(item);
        return quote!(#item #placeholder).into();
    };
    let cx = Ctxt::new();
    let mut model = ast::DofnImpl::from_ast(&cx, &mut item);
    let out = if decls.unparsed {
        let io = model.process_element().and_then(|m| match m.context() {
            Some((_, ast::ContextKind::Process, [i, o])) => Some((i, o)),
            _ => None,
        });
        let placeholder = expand_impl::placeholder(&decls.name, &item, io);
        quote!(#item #placeholder)
    } else {
        check::check_impl(&cx, &decls, &item.self_ty, &mut model);
        expand_impl::expand(&decls, &item, &model)
    };
    let errors = cx.finish();
    quote!(#errors #out).into()
}

/// Defines the role attributes of a `#[dofn]` impl's methods as attribute macros, so that one written where the
/// impl has no `#[dofn]` is reported as that, at the attribute (see `stray`).
macro_rules! role_attributes {
    ($($(#[$doc:meta])* $name:ident = $symbol:ident;)*) => {
        $(
            $(#[$doc])*
            ///
            /// Read by the `#[dofn]` on the method's impl (see [`macro@dofn`]); anywhere else it is an error.
            #[proc_macro_attribute]
            pub fn $name(_args: TokenStream, item: TokenStream) -> TokenStream {
                stray::expand(symbol::$symbol, item.into()).into()
            }
        )*
    };
}

role_attributes! {
    /// Marks the method a `#[dofn]` impl calls for each element.
    process_element = PROCESS_ELEMENT;
    /// Marks the method a `#[dofn]` impl calls when the timer with the given id fires: `#[on_timer("id")]`.
    on_timer = ON_TIMER;
    /// Marks the method a `#[dofn]` impl calls when a timer of the family with the given id fires:
    /// `#[on_timer_family("id")]`.
    on_timer_family = ON_TIMER_FAMILY;
    /// Marks the method a `#[dofn]` impl calls when a window expires, before its state is cleared.
    on_window_expiration = ON_WINDOW_EXPIRATION;
    /// Marks the method a `#[dofn]` impl calls before each bundle.
    start_bundle = START_BUNDLE;
    /// Marks the method a `#[dofn]` impl calls after each bundle.
    finish_bundle = FINISH_BUNDLE;
    /// Marks the method a `#[dofn]` impl calls once per DoFn instance, before any other.
    setup = SETUP;
    /// Marks the method a `#[dofn]` impl calls once when the DoFn instance is discarded.
    teardown = TEARDOWN;
    /// Marks the method a `#[dofn]` impl calls once, when the DoFn is set up to run, for the allowed
    /// timestamp skew of its outputs.
    allowed_timestamp_skew = ALLOWED_TIMESTAMP_SKEW;
}

/// Makes `#[state_id]`, `#[timer_id]` and `#[timer_family_id]` inert on a struct that syn cannot parse, which
/// `#[dofn]` emits as written for rustc to report its syntax error (see `recover`). Generates nothing.
#[doc(hidden)]
#[proc_macro_derive(__DofnAttributes, attributes(state_id, timer_id, timer_family_id))]
pub fn __dofn_attributes(_: TokenStream) -> TokenStream {
    TokenStream::new()
}

#[cfg(test)]
mod tests;
