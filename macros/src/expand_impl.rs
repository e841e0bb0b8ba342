//! What `#[dofn]` on an impl generates (through the struct's callback macro): the user's impl with the inert
//! attributes removed, and `impl DoFn` whose methods read the context into locals, split the state record
//! and the timer table into disjoint borrows, and call the user's methods.
//!
//! Every parameter whose type rustc must check goes through a small trait generated for it, whose
//! `#[diagnostic::on_unimplemented]` message names the id and the DoFn, and whose use is spanned at the
//! parameter's type: `<&mut Value<u32> as __dofn_check_state_1<'_, Declared>>::__dofn_from(&mut state.count)`.
//! A parameter a check rejected gets `unreachable!()` instead, so that one mistake makes one error.

use std::collections::BTreeSet;

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{ItemImpl, Type};

use crate::ast::{ContextKind, DofnImpl, Method, ParamKind, Role, span_range};
use crate::attr::IdKind;
use crate::expand_struct::assoc_type;
use crate::fmt::type_string;
use crate::wire::Declarations;

/// The expansion of a checked impl.
pub(crate) fn expand(decls: &Declarations, item: &ItemImpl, imp: &DofnImpl) -> TokenStream {
    let mut w = Wiring::new(decls, imp);
    let dofn_impl = w.dofn_impl(item);
    let checks = w.check_traits();
    quote! {
        #item

        #[doc(hidden)]
        const _: () = {
            #checks
            #dofn_impl
        };
    }
}

/// A placeholder `impl DoFn`, for an impl that cannot be wired because it or its struct has a syntax error
/// (which rustc reports): it has the DoFn's input and output types and nothing else, so that the DoFn's uses
/// report nothing more. `header` is the impl (its items are not read).
pub(crate) fn placeholder(name: &syn::Ident, header: &ItemImpl, io: Option<(&Type, &Type)>) -> TokenStream {
    let self_ty = &header.self_ty;
    let (input, output) = match io {
        Some((i, o)) => (quote!(#i), quote!(#o)),
        None => (quote!(()), quote!(())),
    };
    let mut generics = header.generics.clone();
    let wc = generics.make_where_clause();
    wc.predicates.push(syn::parse_quote!(
        for<'__dofn> #self_ty: ::core::clone::Clone + ::core::marker::Send + 'static
    ));
    wc.predicates.push(syn::parse_quote!(for<'__dofn> #input: ::core::marker::Send + 'static));
    wc.predicates.push(syn::parse_quote!(for<'__dofn> #output: ::core::marker::Send + 'static));
    let (impl_g, _, where_c) = generics.split_for_impl();
    let name = Literal::string(&name.to_string());
    let process_element = process_element_fn(quote!(::core::unreachable!()));
    quote! {
        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl #impl_g ::dofn::DoFn for #self_ty #where_c {
                type Input = #input;
                type Output = #output;
                type Key = ();
                type State = ();
                type Timers = ::dofn::__private::TimerTable<0, 0>;

                const NAME: &'static str = #name;

                fn new_state(&self) -> Self::State {}

                fn key_of(_: &Self::Input) -> &Self::Key {
                    &()
                }

                #process_element
            }
        };
    }
}

/// `DoFn::process_element` with `body` (the real one, or the placeholder's).
fn process_element_fn(body: TokenStream) -> TokenStream {
    quote! {
        #[inline]
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        fn process_element(
            &mut self,
            __dofn_cx: &mut ::dofn::ProcessContext<'_, Self::Input, Self::Output>,
            __dofn_state: &mut Self::State,
            __dofn_timers: &mut Self::Timers,
            __dofn_env: &::dofn::__private::TimerEnv,
        ) -> ::core::result::Result<(), ::dofn::BoxError> {
            #body
        }
    }
}

/// The checks traits to generate (those a parameter uses).
#[derive(Default)]
struct Checks {
    states: BTreeSet<usize>,
    timers: BTreeSet<usize>,
    families: BTreeSet<usize>,
    element: bool,
    key: bool,
    result: bool,
    timestamp: bool,
    window: bool,
    window_ref: bool,
    tag: bool,
    contexts: BTreeSet<u8>,
}

struct Wiring<'a> {
    decls: &'a Declarations,
    imp: &'a DofnImpl,
    /// `I` and `O` of `#[process_element]`'s `ProcessContext<I, O>`, if it has one.
    io: Option<(&'a Type, &'a Type)>,
    /// Whether `Key` is the input's key (else `()`).
    keyed: bool,
    checks: Checks,
}

impl<'a> Wiring<'a> {
    fn new(decls: &'a Declarations, imp: &'a DofnImpl) -> Self {
        let io = imp.process_element().and_then(|m| match m.context() {
            Some((_, ContextKind::Process, [i, o])) => Some((i, o)),
            _ => None,
        });
        let stateful = !decls.decls.is_empty()
            || decls.poisoned.iter().any(|p| *p)
            || !decls.broken.is_empty()
            || imp.with_role(|r| matches!(r, Role::OnWindowExpiration)).next().is_some();
        let key_param =
            imp.methods.iter().any(|m| !m.rejected && m.params.iter().any(|p| matches!(p.kind, ParamKind::Key)));
        Wiring { decls, imp, io, keyed: io.is_some() && (stateful || key_param), checks: Checks::default() }
    }

    fn name(&self) -> String {
        self.decls.name.to_string()
    }

    fn dofn_impl(&mut self, item: &ItemImpl) -> TokenStream {
        let self_ty = &item.self_ty;
        // The struct's state record is a `StateRecord` only if its cells are valid; if one is not, rustc has
        // reported it at the struct, and `impl DoFn` silently does not apply (no cascade). The wiring names the
        // record's fields and the declared cells through `Declared` and `StateDecl`, which hold either way.
        // (`Self: Declared` fails only with an error at the struct too.) Only for a non-generic impl: in a
        // generic one, rustc would prefer a `Self: Declared` where-clause to the struct's impl and stop
        // normalising `<Self as Declared>::State`.
        // A DoFn is `'static`: so is every parameter of the impl it is implemented for (the user's impl need
        // not say so).
        let mut generics = item.generics.clone();
        let wc = generics.make_where_clause();
        for param in &item.generics.params {
            match param {
                syn::GenericParam::Type(t) => {
                    let ident = &t.ident;
                    wc.predicates.push(syn::parse_quote!(#ident: 'static));
                }
                syn::GenericParam::Lifetime(l) => {
                    let lt = &l.lifetime;
                    wc.predicates.push(syn::parse_quote!(#lt: 'static));
                }
                syn::GenericParam::Const(_) => {}
            }
        }
        if generics.params.is_empty() {
            let wc = generics.make_where_clause();
            wc.predicates.push(syn::parse_quote!(for<'__dofn> #self_ty: ::dofn::__private::Declared));
            wc.predicates.push(syn::parse_quote!(
                for<'__dofn> <#self_ty as ::dofn::__private::Declared>::State: ::dofn::__private::StateRecord
            ));
        }
        let n_timers = Literal::usize_unsuffixed(self.decls.of(IdKind::Timer).len());
        let n_families = Literal::usize_unsuffixed(self.decls.of(IdKind::Family).len());
        let (impl_g, _, where_c) = generics.split_for_impl();
        let name = Literal::string(&self.name());
        let (first, _) = span_range(self_ty);
        let dofn_trait = quote_spanned!(first=> ::dofn::DoFn);
        // (Spanned like the user's types: a private type in a public DoFn's interface is reported there.)
        let (input, output) = match self.io {
            Some((i, o)) => (assoc_type("Input", i), assoc_type("Output", o)),
            None => (
                quote!(
                    type Input = ();
                ),
                quote!(
                    type Output = ();
                ),
            ),
        };
        let (key_item, key_of) = match (self.keyed, self.io) {
            (true, Some((i, _))) => {
                let (first, last) = span_range(i);
                let key = format_ident!("Key", span = last);
                let key_fn = format_ident!("key", span = last);
                // The call is spanned like the type (its parentheses too), so that an unkeyed input makes rustc
                // report one error, not one here and one there.
                let mut arg = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, quote!(__dofn_input));
                arg.set_span(last);
                let semi = quote_spanned!(last=> ;);
                (
                    quote_spanned!(first=> type Key = <#i as ::dofn::__private::KeyedInput>::#key #semi),
                    quote_spanned!(first=> <#i as ::dofn::__private::KeyedInput>::#key_fn #arg),
                )
            }
            _ => (
                quote!(
                    type Key = ();
                ),
                quote!({
                    let _ = __dofn_input;
                    &()
                }),
            ),
        };
        // The return type too is spanned like the input type: its well-formedness needs `I: KeyedInput`.
        // So is the signature as a whole (from `fn` to the return type), for the same reason.
        let (key_fn_kw, key_ret) = match (self.keyed, self.io) {
            (true, Some((i, _))) => {
                let (first, last) = span_range(i);
                let key = format_ident!("Key", span = last);
                (quote_spanned!(first=> fn), quote_spanned!(first=> &Self::#key))
            }
            _ => (quote!(fn), quote!(&Self::Key)),
        };
        // The whole method is spanned like the input type, so that an unkeyed input is one error there.
        let key_of_fn = match (self.keyed, self.io) {
            (true, Some((i, _))) => {
                let (first, _) = span_range(i);
                let input = proc_macro2::Ident::new("__dofn_input", proc_macro2::Span::call_site());
                quote_spanned!(first=> #[inline] #key_fn_kw key_of(#input: &Self::Input) -> #key_ret { #key_of })
            }
            _ => quote!(#[inline] #key_fn_kw key_of(__dofn_input: &Self::Input) -> #key_ret { #key_of }),
        };
        let has_expiration = self.wired(|r| matches!(r, Role::OnWindowExpiration)).next().is_some();

        let mut methods = Vec::new();
        methods.push(self.process_element());
        methods.extend(self.on_timer(IdKind::Timer));
        methods.extend(self.on_timer(IdKind::Family));
        methods.extend(self.on_window_expiration());
        for role in [Role::Setup, Role::StartBundle, Role::FinishBundle, Role::Teardown] {
            methods.extend(self.lifecycle(&role));
        }
        methods.extend(self.allowed_timestamp_skew());

        quote! {
            #[automatically_derived]
            impl #impl_g #dofn_trait for #self_ty #where_c {
                #input
                #output
                #key_item
                type State = <Self as ::dofn::__private::Declared>::State;
                type Timers = ::dofn::__private::TimerTable<#n_timers, #n_families>;

                const NAME: &'static str = #name;
                const TIMERS: &'static [::dofn::__private::TimerInfo] =
                    <Self as ::dofn::__private::Declared>::TIMERS;
                const TIMER_FAMILIES: &'static [::dofn::__private::TimerInfo] =
                    <Self as ::dofn::__private::Declared>::TIMER_FAMILIES;
                const HAS_WINDOW_EXPIRATION: bool = #has_expiration;

                #[inline]
                fn new_state(&self) -> Self::State {
                    <Self as ::dofn::__private::Declared>::new_state(self)
                }

                #key_of_fn

                #(#methods)*
            }
        }
    }

    /// The wired methods with a role matching `f`.
    fn wired(&self, f: impl Fn(&Role) -> bool) -> impl Iterator<Item = &'a Method> {
        self.imp.methods.iter().filter(move |m| !m.rejected && f(&m.role))
    }

    fn process_element(&mut self) -> TokenStream {
        let body = match (self.imp.process_element(), self.io) {
            (Some(m), Some(_)) => self.call(m),
            _ => quote!(::core::result::Result::Ok(())),
        };
        process_element_fn(body)
    }

    /// `on_timer` (or `on_timer_family`): a `match` from the timer's index to its callback.
    fn on_timer(&mut self, kind: IdKind) -> Option<TokenStream> {
        self.io?;
        let callbacks: Vec<&Method> = self
            .wired(|r| match kind {
                IdKind::Family => matches!(r, Role::OnTimerFamily(_)),
                _ => matches!(r, Role::OnTimer(_)),
            })
            .collect();
        if callbacks.is_empty() {
            return None;
        }
        let mut arms = Vec::new();
        for m in callbacks {
            let (Role::OnTimer(id) | Role::OnTimerFamily(id)) = &m.role else { continue };
            let Some(index) = self.decls.of(kind).iter().position(|d| d.id.value() == id.value()) else { continue };
            let index = Literal::usize_unsuffixed(index);
            let call = self.call(m);
            arms.push(quote!(#index => { #call }));
        }
        let (params, name, arg) = match kind {
            IdKind::Family => {
                (quote!(__dofn_family: usize, __dofn_tag: &str,), "on_timer_family", quote!(__dofn_family))
            }
            _ => (quote!(__dofn_timer: usize,), "on_timer", quote!(__dofn_timer)),
        };
        let key = self.key_param();
        let head = self.keyed_signature(
            name,
            quote! {
                &mut self,
                #params
                __dofn_cx: &mut ::dofn::TimerContext<'_, Self::Output>,
                #key,
                __dofn_state: &mut Self::State,
                __dofn_timers: &mut Self::Timers,
                __dofn_env: &::dofn::__private::TimerEnv,
            },
        );
        let body = self.keyed_body(quote! {
            match #arg {
                #(#arms)*
                _ => ::core::result::Result::Ok(()),
            }
        });
        Some(quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            #head #body
        })
    }

    /// The `__dofn_key: &Self::Key` parameter of a callback, its type located at the input type when the DoFn
    /// is keyed (see [`Self::keyed_signature`]), its name with the expansion's hygiene, for the body.
    fn key_param(&self) -> TokenStream {
        match (self.keyed, self.io) {
            (true, Some((i, _))) => {
                let (first, last) = span_range(i);
                let name = proc_macro2::Ident::new("__dofn_key", Span::call_site());
                let key = format_ident!("Key", span = last);
                quote_spanned!(first=> #name: &Self::#key)
            }
            _ => quote!(__dofn_key: &Self::Key),
        }
    }

    /// `#[inline] fn name(params) -> Result<(), BoxError>` for a callback that takes the key. When the DoFn is
    /// keyed, the signature, the key's type and the body's braces ([`Self::keyed_body`]) are located at the
    /// input type: their well-formedness needs the input to be keyed, and rustc reports it at each of them, so
    /// that an unkeyed input is reported at the input type, once, whichever methods make the key needed.
    fn keyed_signature(&self, name: &str, params: TokenStream) -> TokenStream {
        let (first, last) = self.keyed_span();
        let name = proc_macro2::Ident::new(name, first);
        let mut params = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, params);
        params.set_span(first);
        // (The signature's span runs from `fn` to the return type's last token: the input type's range.)
        let close = quote_spanned!(last=> >);
        quote_spanned!(first=> #[inline] fn #name #params -> ::core::result::Result<(), ::dofn::BoxError #close)
    }

    /// The first and last spans of the input type when the DoFn is keyed, for a keyed callback's signature and
    /// body.
    fn keyed_span(&self) -> (Span, Span) {
        match (self.keyed, self.io) {
            (true, Some((i, _))) => span_range(i),
            _ => (Span::call_site(), Span::call_site()),
        }
    }

    /// A keyed callback's body: `stmts` in braces located at the input type (see [`Self::keyed_signature`]).
    fn keyed_body(&self, stmts: TokenStream) -> proc_macro2::Group {
        let mut body = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, stmts);
        body.set_span(self.keyed_span().0);
        body
    }

    fn on_window_expiration(&mut self) -> Option<TokenStream> {
        self.io?;
        let m = self.wired(|r| matches!(r, Role::OnWindowExpiration)).next()?;
        let call = self.call(m);
        let key = self.key_param();
        let head = self.keyed_signature(
            "on_window_expiration",
            quote! {
                &mut self,
                __dofn_cx: &mut ::dofn::ExpirationContext<'_, Self::Output>,
                #key,
                __dofn_state: &mut Self::State,
            },
        );
        let body = self.keyed_body(call);
        Some(quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            #head #body
        })
    }

    fn lifecycle(&mut self, role: &Role) -> Option<TokenStream> {
        let sym = role.symbol();
        let m = self.wired(|r| r.symbol() == sym).next()?;
        if matches!(role, Role::FinishBundle) {
            self.io?;
        }
        let call = self.call(m);
        let ident = format_ident!("{}", sym.0);
        let params = match role {
            Role::FinishBundle => quote!(__dofn_cx: &mut ::dofn::BundleContext<'_, Self::Output>),
            _ => TokenStream::new(),
        };
        Some(quote! {
            #[inline]
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            fn #ident(&mut self, #params) -> ::core::result::Result<(), ::dofn::BoxError> {
                #call
            }
        })
    }

    /// `DoFn::allowed_timestamp_skew`, from the `#[allowed_timestamp_skew]` method: its call is spanned like its
    /// return type, so that a type other than `Duration` is an error there.
    fn allowed_timestamp_skew(&mut self) -> Option<TokenStream> {
        let m = self.wired(|r| matches!(r, Role::AllowedTimestampSkew)).next()?;
        if m.uncallable {
            return None;
        }
        let (first, _) = span_range(m.output.as_ref()?);
        let args: Vec<TokenStream> = m.params.iter().map(|p| self.arg(m, p)).collect();
        let ident = &m.ident;
        let receiver = m.receiver.then(|| quote!(self,));
        let call = quote_spanned!(first=> Self::#ident(#receiver #(#args),*));
        Some(quote! {
            #[inline]
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            fn allowed_timestamp_skew(&self) -> ::dofn::time::Duration {
                #call
            }
        })
    }

    /// The body of a trait method: the locals its user method needs, then the call.
    fn call(&mut self, m: &Method) -> TokenStream {
        if m.uncallable {
            // (Reported on the signature; the method exists, so nothing else is said about it.)
            return quote!(::core::unreachable!());
        }
        let uses = |f: &dyn Fn(&ParamKind) -> bool| m.params.iter().any(|p| !p.rejected && f(&p.kind));
        let mut prelude = Vec::new();
        match m.role {
            Role::ProcessElement => {
                if uses(&|k| matches!(k, ParamKind::Element | ParamKind::Key)) {
                    prelude.push(quote!(let __dofn_element = __dofn_cx.element();));
                }
                if uses(&|k| matches!(k, ParamKind::Timestamp)) {
                    prelude.push(quote!(let __dofn_timestamp = __dofn_cx.timestamp();));
                }
            }
            Role::OnTimer(_) | Role::OnTimerFamily(_) if uses(&|k| matches!(k, ParamKind::Timestamp)) => {
                prelude.push(quote!(let __dofn_timestamp = __dofn_cx.timestamp();));
            }
            _ => {}
        }
        if uses(&|k| matches!(k, ParamKind::Window { .. })) {
            prelude.push(quote!(let __dofn_window = __dofn_cx.window();));
        }
        for (kind, table, handle) in [
            (IdKind::Timer, quote!(timers), quote!(::dofn::timer::Timer)),
            (IdKind::Family, quote!(families), quote!(::dofn::timer::TimerMap)),
        ] {
            let used: BTreeSet<usize> = m
                .params
                .iter()
                .filter(|p| !p.rejected)
                .filter_map(|p| match &p.kind {
                    ParamKind::Id { kind: k, index: Some(i), .. } if *k == kind => Some(*i),
                    _ => None,
                })
                .collect();
            if used.is_empty() {
                continue;
            }
            let infos = match kind {
                IdKind::Family => quote!(TIMER_FAMILIES),
                _ => quote!(TIMERS),
            };
            let slots = (0..self.decls.of(kind).len())
                .map(|i| if used.contains(&i) { slot(kind, i).into_token_stream() } else { quote!(_) });
            prelude.push(quote!(let [#(#slots),*] = &mut __dofn_timers.#table;));
            for i in used {
                let (local, slot) = (handle_local(kind, i), slot(kind, i));
                let index = Literal::usize_unsuffixed(i);
                prelude.push(quote! {
                    let mut #local = #handle::new(#slot, <Self as ::dofn::DoFn>::#infos[#index].domain, __dofn_env);
                });
            }
        }

        let args: Vec<TokenStream> = m.params.iter().map(|p| self.arg(m, p)).collect();
        let ident = &m.ident;
        let receiver = m.receiver.then(|| quote!(self,));
        let call = quote!(Self::#ident(#receiver #(#args),*));
        let result = match &m.output {
            // `Result<T, E>`: `T` and `E` are checked each on its own tokens, with a message about it.
            Some(ty) if result_arguments(ty).is_some() => {
                let (ok, err) = result_arguments(ty).expect("checked");
                self.checks.result = true;
                let ok_check = checked(ok, check_trait("ok").into_token_stream(), quote!(__dofn_ok));
                let err_check = checked(err, check_trait("error").into_token_stream(), quote!(__dofn_err));
                quote! {
                    match #call {
                        ::core::result::Result::Ok(__dofn_ok) => {
                            let () = #ok_check;
                            ::core::result::Result::Ok(())
                        }
                        ::core::result::Result::Err(__dofn_err) => ::core::result::Result::Err(#err_check),
                    }
                }
            }
            Some(ty) => {
                let (first, last) = span_range(ty);
                let into = format_ident!("into_result", span = last);
                quote_spanned!(first=> <#ty as ::dofn::__private::CallbackResult>::#into(#call))
            }
            None => quote!(::dofn::__private::CallbackResult::into_result(#call)),
        };
        quote! {
            #(#prelude)*
            #result
        }
    }

    /// The argument for one parameter.
    fn arg(&mut self, m: &Method, p: &crate::ast::Param) -> TokenStream {
        if p.rejected {
            return quote!(::core::unreachable!());
        }
        let ty = &p.ty;
        match &p.kind {
            ParamKind::Id { kind: IdKind::State, index: Some(i), .. } => {
                self.checks.states.insert(*i);
                let member = &self.decls.of(IdKind::State)[*i].member;
                let tr = check_trait(&format!("state_{i}"));
                let index = Literal::usize_unsuffixed(*i);
                // (A `&Cell` parameter is checked as `&mut Cell` is, and the `&mut` coerces to it at the call.)
                let ty = match ty {
                    Type::Reference(r) if r.mutability.is_none() => &*r.elem,
                    other => other,
                };
                checked(
                    ty,
                    quote!(#tr<<Self as ::dofn::__private::StateDecl<#index>>::Cell>),
                    quote!(&mut __dofn_state.#member),
                )
            }
            ParamKind::Id { kind, index: Some(i), .. } => {
                let tr = match kind {
                    IdKind::Family => {
                        self.checks.families.insert(*i);
                        check_trait(&format!("family_{i}"))
                    }
                    _ => {
                        self.checks.timers.insert(*i);
                        check_trait(&format!("timer_{i}"))
                    }
                };
                let local = handle_local(*kind, *i);
                checked(ty, quote!(#tr<'_>), quote!(&mut #local))
            }
            ParamKind::Id { .. } | ParamKind::Unknown => quote!(::core::unreachable!()),
            ParamKind::Context { kind: ContextKind::Process, .. } => quote!(__dofn_cx),
            ParamKind::Context { kind, .. } => {
                self.checks.contexts.insert(*kind as u8);
                let tr = context_trait(*kind);
                checked(ty, quote!(#tr<'_, <Self as ::dofn::DoFn>::Output>), quote!(__dofn_cx))
            }
            ParamKind::Element => {
                self.checks.element = true;
                let tr = check_trait("element");
                checked(ty, quote!(#tr<'_, <Self as ::dofn::DoFn>::Input>), quote!(__dofn_element))
            }
            ParamKind::Key => {
                self.checks.key = true;
                let tr = check_trait("key");
                let key = match m.role {
                    Role::ProcessElement => quote!(<Self as ::dofn::DoFn>::key_of(__dofn_element)),
                    _ => quote!(__dofn_key),
                };
                // (The key type spanned like the input type, as `type Key` is: on unkeyed input, where it cannot
                // be named, rustc reports the one mistake once, at the input type.)
                let key_ty = match (self.keyed, self.io) {
                    (true, Some((i, _))) => {
                        let (first, last) = span_range(i);
                        let key = format_ident!("Key", span = last);
                        quote_spanned!(first=> <Self as ::dofn::DoFn>::#key)
                    }
                    _ => quote!(<Self as ::dofn::DoFn>::Key),
                };
                checked(ty, quote!(#tr<'_, #key_ty>), key)
            }
            // (These are recognised by their type's name; the check says so if the type is another one.)
            ParamKind::Timestamp => {
                self.checks.timestamp = true;
                checked(ty, check_trait("timestamp").into_token_stream(), quote!(::dofn::Timestamp(__dofn_timestamp)))
            }
            ParamKind::Window { by_ref: true } => {
                self.checks.window_ref = true;
                let referent = match ty {
                    Type::Reference(r) => &*r.elem,
                    other => other,
                };
                checked(referent, check_trait("window_ref").into_token_stream(), quote!(&__dofn_window))
            }
            ParamKind::Window { by_ref: false } => {
                self.checks.window = true;
                checked(ty, check_trait("window").into_token_stream(), quote!(__dofn_window))
            }
            ParamKind::Tag => {
                self.checks.tag = true;
                let tr = check_trait("tag");
                checked(ty, quote!(#tr<'_>), quote!(::dofn::TimerTag(__dofn_tag)))
            }
        }
    }

    /// The check traits the arguments use.
    fn check_traits(&self) -> TokenStream {
        let name = self.name();
        let mut out = Vec::new();
        for &i in &self.checks.states {
            let d = self.decls.of(IdKind::State)[i];
            let (id, ty) = (d.id.value(), &d.ty);
            out.push(define_check(
                &check_trait(&format!("state_{i}")),
                &format!(
                    "state `{id}` of DoFn `{name}` has type `{ty}`, so its parameter must be `&mut {ty}` (or `&{ty}` \
                     to only read it)"
                ),
                &format!("expected `{ty}`"),
                quote!(<C>),
                quote!(&'__dofn_ref mut C),
                quote!(&'__dofn_ref mut Self),
                quote!(C),
                quote!(value),
            ));
        }
        for (kind, set, handle) in
            [(IdKind::Timer, &self.checks.timers, "Timer"), (IdKind::Family, &self.checks.families, "TimerMap")]
        {
            for &i in set {
                let d = self.decls.of(kind)[i];
                let noun = kind.noun();
                let tr = check_trait(&format!("{}_{i}", if kind == IdKind::Family { "family" } else { "timer" }));
                let path = match kind {
                    IdKind::Family => quote!(::dofn::timer::TimerMap),
                    _ => quote!(::dofn::timer::Timer),
                };
                out.push(define_check(
                    &tr,
                    &format!(
                        "`{}` is a {noun} of DoFn `{name}`, so its parameter must be `&mut {handle}`",
                        d.id.value()
                    ),
                    &format!("expected `&mut {handle}`"),
                    quote!(<'__dofn_timer>),
                    quote!(&'__dofn_ref mut #path<'__dofn_timer>),
                    quote!(&'__dofn_ref mut Self),
                    quote!(#path<'__dofn_timer>),
                    quote!(value),
                ));
            }
        }
        let (input, output) = match self.io {
            Some((i, o)) => (type_string(i), type_string(o)),
            None => (String::new(), String::new()),
        };
        if self.checks.element {
            out.push(define_check(
                &check_trait("element"),
                &format!("the element of DoFn `{name}` is `{input}`, so this parameter must be `Element<&{input}>`"),
                &format!("expected `Element<&{input}>`"),
                quote!(<'__dofn, I>),
                quote!(&'__dofn I),
                quote!(Self),
                quote!(::dofn::Element<&'__dofn I>),
                quote!(::dofn::Element(value)),
            ));
        }
        if self.checks.key {
            let key = match self.io.map(|(i, _)| i) {
                Some(Type::Tuple(t)) if t.elems.len() == 2 => type_string(&t.elems[0]),
                _ if !self.keyed => "()".to_string(),
                _ => format!("the key of `{input}`"),
            };
            out.push(define_check(
                &check_trait("key"),
                &format!("the key of DoFn `{name}` is `{key}`, so this parameter must be `Key<&{key}>`"),
                &format!("expected `Key<&{key}>`"),
                quote!(<'__dofn, K>),
                quote!(&'__dofn K),
                quote!(Self),
                quote!(::dofn::Key<&'__dofn K>),
                quote!(::dofn::Key(value)),
            ));
        }
        if self.checks.result {
            out.push(define_check_note(
                &check_trait("ok"),
                "a DoFn method returns `()` or `Result<(), E>`, so its `Ok` type must be `()`, not `{Self}`",
                "expected `()`",
                "the runner only looks at whether the method failed: hand values on through the context \
                 (`cx.output(..)`), or keep them in the DoFn",
                quote!(),
                quote!(Self),
                quote!(()),
                quote!(()),
                quote!(value),
            ));
            // (`do_not_recommend`: rustc reports this trait, with its message, rather than the `Into` bound.)
            let message = Literal::string(
                "the error type of a DoFn method must convert into `dofn::BoxError`, and `{Self}` does not",
            );
            let note = Literal::string(
                "the runner hands errors across threads: use `Box<dyn std::error::Error + Send + Sync>` \
                 (`dofn::BoxError`), or an error type that is `std::error::Error + Send + Sync` (or `String`, \
                 `&'static str`)",
            );
            out.push(quote! {
                #[diagnostic::on_unimplemented(
                    message = #message,
                    label = "not convertible into `dofn::BoxError`",
                    note = #note
                )]
                #[allow(non_camel_case_types)]
                trait __dofn_check_error {
                    fn __dofn_from(value: Self) -> ::dofn::BoxError;
                }
                #[diagnostic::do_not_recommend]
                impl<E: ::core::convert::Into<::dofn::BoxError>> __dofn_check_error for E {
                    #[inline(always)]
                    fn __dofn_from(value: Self) -> ::dofn::BoxError {
                        ::core::convert::Into::into(value)
                    }
                }
            });
        }
        let by_name = |what: &str, ours: &str| {
            format!(
                "`#[dofn]` reads a parameter whose type is named `{what}` as {ours}, but `{{Self}}` is another \
                 type"
            )
        };
        let by_name_note = "`#[dofn]` recognises `Timestamp`, `Window` and `TimerTag` parameters by their type's \
                            name, and passes its own: use `dofn::Timestamp`, `dofn::window::Window` or \
                            `dofn::TimerTag` (all in `dofn::prelude`)";
        // (whether a parameter uses it, its check trait, the name the parameter's type has, what `#[dofn]`
        // passes, the generics and type of that, whether the parameter takes it by reference)
        let window = "the window (`dofn::window::Window`)";
        let by_name_checks = [
            (
                self.checks.timestamp,
                "timestamp",
                "Timestamp",
                "the timestamp (`dofn::Timestamp`)",
                quote!(),
                quote!(::dofn::Timestamp),
                false,
            ),
            (self.checks.window, "window", "Window", window, quote!(), quote!(::dofn::window::Window), false),
            (self.checks.window_ref, "window_ref", "Window", window, quote!(), quote!(::dofn::window::Window), true),
            (
                self.checks.tag,
                "tag",
                "TimerTag",
                "the timer's tag (`dofn::TimerTag`)",
                quote!(<'__dofn_tag>),
                quote!(::dofn::TimerTag<'__dofn_tag>),
                false,
            ),
        ];
        for (used, check, what, ours, generics, ty, by_ref) in by_name_checks {
            if !used {
                continue;
            }
            let (from, output) =
                if by_ref { (quote!(&'__dofn_ref #ty), quote!(&'__dofn_ref Self)) } else { (ty.clone(), quote!(Self)) };
            // "expected `dofn::Timestamp`": the path in `ours`, between its backticks.
            let path = ours.split('`').nth(1).unwrap_or(what);
            out.push(define_check_note(
                &check_trait(check),
                &by_name(what, ours),
                &format!("expected `{path}`"),
                by_name_note,
                generics,
                from,
                output,
                ty,
                quote!(value),
            ));
        }
        for &kind in &self.checks.contexts {
            let kind =
                [ContextKind::Process, ContextKind::Timer, ContextKind::Expiration, ContextKind::Bundle][kind as usize];
            let ctx = kind.name();
            let path = match kind {
                ContextKind::Timer => quote!(::dofn::TimerContext),
                ContextKind::Expiration => quote!(::dofn::ExpirationContext),
                _ => quote!(::dofn::BundleContext),
            };
            out.push(define_check(
                &context_trait(kind),
                &format!("the output of DoFn `{name}` is `{output}`, so this context must be `&mut {ctx}<{output}>`"),
                &format!("expected `&mut {ctx}<{output}>`"),
                quote!(<'__dofn_cx, O>),
                quote!(&'__dofn_ref mut #path<'__dofn_cx, O>),
                quote!(&'__dofn_ref mut Self),
                quote!(#path<'__dofn_cx, O>),
                quote!(value),
            ));
        }
        quote!(#(#out)*)
    }
}

/// `<#ty as #tr>::__dofn_from(#value)`, spanned so that rustc underlines the user's `ty`. For a `&mut T`
/// parameter the check is on `T` (the traits are implemented by `T` and take and return `&mut T`), so that
/// rustc does not suggest borrowing once more.
fn checked(ty: &Type, tr: TokenStream, value: TokenStream) -> TokenStream {
    let (first, last) = span_range(ty);
    let from = format_ident!("__dofn_from", span = last);
    let open = quote_spanned!(first=> <);
    let referent = match ty {
        Type::Reference(r) if r.mutability.is_some() => &*r.elem,
        other => other,
    };
    quote!(#open #referent as #tr>::#from(#value))
}

/// `T` and `E` of a return type written `Result<T, E>`.
fn result_arguments(ty: &Type) -> Option<(&Type, &Type)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if path.qself.is_some() || last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    match types.as_slice() {
        [ok, err] if args.args.len() == 2 => Some((ok, err)),
        _ => None,
    }
}

fn check_trait(what: &str) -> syn::Ident {
    format_ident!("__dofn_check_{}", what)
}

fn context_trait(kind: ContextKind) -> syn::Ident {
    check_trait(match kind {
        ContextKind::Process => "process_context",
        ContextKind::Timer => "timer_context",
        ContextKind::Expiration => "expiration_context",
        ContextKind::Bundle => "bundle_context",
    })
}

fn slot(kind: IdKind, i: usize) -> syn::Ident {
    match kind {
        IdKind::Family => format_ident!("__dofn_family_slot_{}", i),
        _ => format_ident!("__dofn_timer_slot_{}", i),
    }
}

fn handle_local(kind: IdKind, i: usize) -> syn::Ident {
    match kind {
        IdKind::Family => format_ident!("__dofn_family_{}", i),
        _ => format_ident!("__dofn_timer_{}", i),
    }
}

/// A check trait: implemented only for the type a parameter must have, turning a `from` value into it.
#[allow(clippy::too_many_arguments)]
fn define_check(
    tr: &syn::Ident,
    message: &str,
    label: &str,
    generics: TokenStream,
    from: TokenStream,
    output: TokenStream,
    target: TokenStream,
    build: TokenStream,
) -> TokenStream {
    let escape = |s: &str| Literal::string(&s.replace('{', "{{").replace('}', "}}"));
    let (message, label) = (escape(message), escape(label));
    define_check_with(tr, quote!(message = #message, label = #label), generics, from, output, target, build)
}

/// [`define_check`] with a note; `{Self}` in `message` is the parameter's type.
#[allow(clippy::too_many_arguments)]
fn define_check_note(
    tr: &syn::Ident,
    message: &str,
    label: &str,
    note: &str,
    generics: TokenStream,
    from: TokenStream,
    output: TokenStream,
    target: TokenStream,
    build: TokenStream,
) -> TokenStream {
    let (message, label, note) = (Literal::string(message), Literal::string(label), Literal::string(note));
    let diagnostic = quote!(message = #message, label = #label, note = #note);
    define_check_with(tr, diagnostic, generics, from, output, target, build)
}

#[allow(clippy::too_many_arguments)]
fn define_check_with(
    tr: &syn::Ident,
    diagnostic: TokenStream,
    generics: TokenStream,
    from: TokenStream,
    output: TokenStream,
    target: TokenStream,
    build: TokenStream,
) -> TokenStream {
    // The impl is for every type that is `target` (`Same<target>`), not for `target` itself, and
    // `do_not_recommend`: rustc then adds neither "the trait is implemented for ..", pointing into the expansion,
    // nor "but trait `..<u64>` is implemented for it" to the message, which already names the expected type.
    let mut impl_generics: syn::Generics = syn::parse2(generics.clone()).expect("the check's generics parse");
    // (The bounds the impl's self type implied: every type parameter outlives every lifetime parameter.)
    let lifetimes: Vec<syn::Lifetime> = impl_generics.lifetimes().map(|l| l.lifetime.clone()).collect();
    let types: Vec<syn::Ident> = impl_generics.type_params().map(|t| t.ident.clone()).collect();
    let where_clause = impl_generics.make_where_clause();
    for t in &types {
        for l in &lifetimes {
            where_clause.predicates.push(syn::parse_quote!(#t: #l));
        }
    }
    where_clause.predicates.push(syn::parse_quote!(__DofnT: ::dofn::__private::Same<#target>));
    impl_generics.params.push(syn::parse_quote!(__DofnT));
    let (impl_params, _, where_clause) = impl_generics.split_for_impl();
    // How the impl makes its output from `build`, through `Same`.
    let same = quote!(<__DofnT as ::dofn::__private::Same<#target>>);
    let build = match (from.to_string().as_str(), output.to_string().as_str()) {
        ("Self", _) => quote!(#same::into_same(#build)),
        (_, "Self") => quote!(#same::same(#build)),
        (_, "& '__dofn_ref mut Self") => quote!(#same::same_mut(#build)),
        (_, "& '__dofn_ref Self") => quote!(#same::same_ref(#build)),
        (_, other) => unreachable!("a check's output is `Self` or a borrow of it, not `{other}`"),
    };
    quote! {
        #[diagnostic::on_unimplemented(#diagnostic)]
        #[allow(non_camel_case_types)]
        trait #tr #generics {
            fn __dofn_from<'__dofn_ref>(value: #from) -> #output;
        }
        #[diagnostic::do_not_recommend]
        impl #impl_params #tr #generics for __DofnT #where_clause {
            #[inline(always)]
            fn __dofn_from<'__dofn_ref>(value: #from) -> #output {
                #build
            }
        }
    }
}

use quote::ToTokens;
