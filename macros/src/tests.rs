//! Snapshots of the expansion of representative DoFns, so that changes to the generated code are reviewed.
//! Accept changes with `cargo insta review` (or `INSTA_UPDATE=always`) after reading the diff.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;
use crate::{ast, check, expand_impl, expand_struct, wire};

/// Both expansions, as the compiler would see them, pretty-printed.
fn expand(item_struct: TokenStream, item_impl: TokenStream) -> String {
    let cx = Ctxt::new();
    let mut s = ast::DofnStruct::from_ast(&cx, syn::parse2(item_struct).expect("a struct"));
    check::check_struct(&cx, &mut s);
    let struct_side = expand_struct::expand(&s);

    // What the callback macro hands to `__dofn_impl!`.
    let decls = wire::Declarations::tokens_for(&s);
    let wire::ImplInput { decls, item } = syn::parse2(quote!(#decls { #item_impl })).expect("the wire format");
    let mut item: syn::ItemImpl = syn::parse2(item).expect("an impl");
    let mut model = ast::DofnImpl::from_ast(&cx, &mut item);
    check::check_impl(&cx, &decls, &item.self_ty, &mut model);
    let impl_side = expand_impl::expand(&decls, &item, &model);

    let errors = cx.finish();
    assert!(errors.is_empty(), "unexpected errors: {errors}");
    let file: syn::File = syn::parse2(quote!(#struct_side #impl_side)).expect("the expansion parses");
    prettyplease::unparse(&file)
}

#[test]
fn batched_rpc() {
    insta::assert_snapshot!(expand(
        quote! {
            #[derive(Clone)]
            struct BatchedRpc {
                max_buffer_size: u32,
                #[state_id("buffer")]
                buffer: StateSpec<Bag<Event>>,
                #[state_id("count")]
                count: StateSpec<Value<u32>>,
                #[timer_id("expiry")]
                expiry: TimerSpec<EventTime>,
                #[timer_id("stale")]
                stale: TimerSpec<ProcessingTime>,
            }
        },
        quote! {
            impl BatchedRpc {
                #[process_element]
                fn process(
                    &self,
                    cx: &mut ProcessContext<(UserId, Event), Enriched>,
                    #[state_id("buffer")] buffer: &mut Bag<Event>,
                    #[state_id("count")] count: &mut Value<u32>,
                    #[timer_id("expiry")] expiry: &mut Timer,
                    #[timer_id("stale")] stale: &mut Timer,
                ) {}

                #[on_timer("expiry")]
                fn on_expiry(
                    &self,
                    cx: &mut TimerContext<Enriched>,
                    Key(user): Key<&UserId>,
                    #[state_id("buffer")] buffer: &mut Bag<Event>,
                ) {}

                #[on_timer("stale")]
                fn on_stale(&self, cx: &mut TimerContext<Enriched>, #[state_id("buffer")] buffer: &mut Bag<Event>) -> Result<(), String> {
                    Ok(())
                }
            }
        },
    ));
}

#[test]
fn timer_family_and_window_expiration() {
    insta::assert_snapshot!(expand(
        quote! {
            #[derive(Clone)]
            pub struct Reminders<T> {
                #[state_id("pending")]
                pending: StateSpec<Map<String, T>>,
                #[timer_family_id("reminders")]
                reminders: TimerFamilySpec<ProcessingTime>,
            }
        },
        quote! {
            impl<T: Clone + Send + 'static> Reminders<T> {
                #[process_element]
                fn process(
                    &mut self,
                    cx: &mut ProcessContext<(String, (String, T)), String>,
                    Element((_, (tag, value))): Element<&(String, (String, T))>,
                    Timestamp(at): Timestamp,
                    #[timer_family_id("reminders")] reminders: &mut TimerMap,
                    #[state_id("pending")] pending: &mut Map<String, T>,
                ) {}

                #[on_timer_family("reminders")]
                fn on_reminder(
                    &self,
                    cx: &mut TimerContext<String>,
                    TimerTag(tag): TimerTag,
                    window: &Window,
                    #[state_id("pending")] pending: &mut Map<String, T>,
                ) {}

                #[on_window_expiration]
                fn on_expiry(&self, cx: &mut ExpirationContext<String>, Key(user): Key<&String>) {}

                #[setup]
                fn setup(&mut self) {}

                #[finish_bundle]
                fn finish(&mut self, cx: &mut BundleContext<String>) -> Result<(), std::io::Error> {
                    Ok(())
                }
            }
        },
    ));
}
