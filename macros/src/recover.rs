//! Items syn cannot parse: the user's syntax error is reported once, by rustc, and nothing else is.
//!
//! Reporting syn's error as well would say the same thing twice, and re-emitting the item as written would add
//! "cannot find attribute `state_id`" for each of `#[dofn]`'s attributes, and "the trait `DoFn` is not
//! implemented" wherever the DoFn is used. Instead:
//!
//! - an impl whose syntax error is inside method bodies is read with the bodies emptied, and wired as usual,
//!   with each body's tokens put back as the user wrote them ([`empty_bodies`], [`Bodies::restore`]): rustc
//!   reports the error in the body, and everything else is checked as if the body were fine;
//! - a struct is emitted as written, with a derive that makes `#[dofn]`'s attributes inert, and a callback
//!   macro that makes the impl's `#[dofn]` emit a placeholder `impl DoFn` ([`unparsed_struct`]), so that
//!   neither the impl nor the DoFn's uses add errors;
//! - anything else is emitted with `#[dofn]`'s attributes removed ([`strip_helpers`]) (an impl also gets the
//!   placeholder `impl DoFn` if its header and `ProcessContext<I, O>` can be read), and rustc reports the
//!   syntax error.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::{Block, ImplItem, Item, ItemImpl, Stmt, Type};

use crate::symbol;

/// The bodies of an impl's methods, as the user wrote them, in source order.
pub(crate) struct Bodies(Vec<Group>);

/// `tokens` (an item) with every method body at the top level of its last brace group (an impl's items)
/// replaced by `{}`, and the bodies taken out.
pub(crate) fn empty_bodies(tokens: TokenStream) -> (TokenStream, Bodies) {
    let mut trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut bodies = Vec::new();
    let last = trees.iter().rposition(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace));
    if let Some(TokenTree::Group(items)) = last.map(|i| &mut trees[i]) {
        // After `fn`, the first brace group at this level is the body (a `;` ends an item without one).
        let mut in_fn = false;
        let emptied: TokenStream = items
            .stream()
            .into_iter()
            .map(|tt| match tt {
                TokenTree::Ident(i) if i == "fn" => {
                    in_fn = true;
                    TokenTree::Ident(i)
                }
                TokenTree::Punct(p) if p.as_char() == ';' => {
                    in_fn = false;
                    TokenTree::Punct(p)
                }
                TokenTree::Group(g) if in_fn && g.delimiter() == Delimiter::Brace => {
                    in_fn = false;
                    let mut empty = Group::new(Delimiter::Brace, TokenStream::new());
                    empty.set_span(g.span());
                    bodies.push(g);
                    TokenTree::Group(empty)
                }
                other => other,
            })
            .collect();
        let mut group = Group::new(Delimiter::Brace, emptied);
        group.set_span(items.span());
        *items = group;
    }
    (trees.into_iter().collect(), Bodies(bodies))
}

impl Bodies {
    /// Puts the bodies back into the methods of `item` (parsed from [`empty_bodies`]' tokens), as tokens that
    /// rustc parses; `false` (and `item` unchanged) if the methods do not match the bodies one to one.
    pub(crate) fn restore(self, item: &mut ItemImpl) -> bool {
        let count = item.items.iter().filter(|i| matches!(i, ImplItem::Fn(_))).count();
        if count != self.0.len() {
            return false;
        }
        let methods = item.items.iter_mut().filter_map(|i| match i {
            ImplItem::Fn(f) => Some(f),
            _ => None,
        });
        for (f, body) in methods.zip(self.0) {
            f.block = Block {
                brace_token: syn::token::Brace { span: body.delim_span() },
                stmts: vec![Stmt::Item(Item::Verbatim(body.stream()))],
            };
        }
        true
    }
}

/// Parses an impl whose only syntax errors are inside method bodies: the impl with its bodies back in place.
pub(crate) fn parse_impl(tokens: TokenStream) -> Option<ItemImpl> {
    let (emptied, bodies) = empty_bodies(tokens);
    let mut item = syn::parse2::<ItemImpl>(emptied).ok()?;
    bodies.restore(&mut item).then_some(item)
}

/// The header of an impl that does not parse even with its bodies emptied (`impl<T> Name<T> where .. {}`,
/// without its items), if that parses.
pub(crate) fn impl_header(tokens: TokenStream) -> Option<ItemImpl> {
    let mut trees: Vec<TokenTree> = tokens.into_iter().collect();
    let last = trees.iter().rposition(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace))?;
    let mut empty = Group::new(Delimiter::Brace, TokenStream::new());
    empty.set_span(trees[last].span());
    trees[last] = TokenTree::Group(empty);
    syn::parse2::<ItemImpl>(trees.into_iter().collect()).ok()
}

/// The input and output types of the first `ProcessContext<I, O>` in `tokens`, read token by token (for an
/// impl that does not parse), if they parse as types.
pub(crate) fn process_context_types(tokens: TokenStream) -> Option<(Type, Type)> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tt) in trees.iter().enumerate() {
        match tt {
            TokenTree::Ident(ident) if ident == "ProcessContext" => {
                if let Some(found) = type_arguments(&trees[i + 1..]).and_then(|args| io_of(&args)) {
                    return Some(found);
                }
            }
            TokenTree::Group(g) => {
                if let Some(found) = process_context_types(g.stream()) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

/// The arguments of the `<..>` at the start of `trees`, split at their top-level commas.
fn type_arguments(trees: &[TokenTree]) -> Option<Vec<TokenStream>> {
    let mut iter = trees.iter();
    match iter.next() {
        Some(TokenTree::Punct(p)) if p.as_char() == '<' => {}
        _ => return None,
    }
    let (mut depth, mut args, mut current, mut after_minus) = (1usize, Vec::new(), Vec::new(), false);
    for tt in iter {
        if let TokenTree::Punct(p) = tt {
            match p.as_char() {
                '<' => depth += 1,
                // (`->` in `fn() -> T` closes nothing.)
                '>' if !after_minus => depth -= 1,
                ',' if depth == 1 => {
                    args.push(std::mem::take(&mut current).into_iter().collect());
                    continue;
                }
                _ => {}
            }
            if depth == 0 {
                args.push(current.into_iter().collect());
                return Some(args);
            }
        }
        after_minus = matches!(tt, TokenTree::Punct(p) if p.as_char() == '-');
        current.push(tt.clone());
    }
    None
}

/// `I` and `O` from `ProcessContext`'s arguments (`'_, I, O` or `I, O`).
fn io_of(args: &[TokenStream]) -> Option<(Type, Type)> {
    let types: Vec<&TokenStream> = args
        .iter()
        .filter(|a| !matches!((*a).clone().into_iter().next(), Some(TokenTree::Punct(p)) if p.as_char() == '\''))
        .collect();
    let [input, output] = types.as_slice() else { return None };
    Some((syn::parse2((*input).clone()).ok()?, syn::parse2((*output).clone()).ok()?))
}

/// `tokens` without `#[dofn]`'s attributes, at any depth.
pub(crate) fn strip_helpers(tokens: TokenStream) -> TokenStream {
    strip(tokens, false)
}

/// `tokens` without `#[dofn]`'s attributes, at any depth; or if `qualified`, with those written with a path
/// (`#[dofn::state_id(..)]`) written without it (`#[state_id(..)]`).
fn strip(tokens: TokenStream, qualified: bool) -> TokenStream {
    let mut out = Vec::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(tt) = trees.next() {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                let helper = matches!(trees.peek(), Some(TokenTree::Group(g))
                    if g.delimiter() == Delimiter::Bracket && is_helper(g.stream(), qualified));
                if !helper {
                    out.push(TokenTree::Punct(p));
                } else if let (true, Some(TokenTree::Group(g))) = (qualified, trees.next()) {
                    // (`dofn`, `::` and a leading `::` go: the name is the second identifier.)
                    let name = g.stream().into_iter().filter(|t| matches!(t, TokenTree::Ident(_))).nth(1);
                    let rest: TokenStream = g
                        .stream()
                        .into_iter()
                        .skip_while(
                            |t| !matches!((t, &name), (TokenTree::Ident(a), Some(TokenTree::Ident(b))) if a == b),
                        )
                        .collect();
                    let mut group = Group::new(Delimiter::Bracket, rest);
                    group.set_span(g.span_close());
                    out.push(TokenTree::Punct(p));
                    out.push(TokenTree::Group(group));
                }
            }
            // A group is rebuilt only if it changes: a rebuilt group has one span for both delimiters, which
            // must be the closing one, so that rustc reports a syntax error at it as it did when it parsed the
            // item for `#[dofn]` (and shows the error once).
            TokenTree::Group(g) if has_helper(g.stream(), qualified) => {
                let mut group = Group::new(g.delimiter(), strip(g.stream(), qualified));
                group.set_span(g.span_close());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Whether `tokens` has one of `#[dofn]`'s attributes (see [`strip`]), at any depth.
fn has_helper(tokens: TokenStream, qualified: bool) -> bool {
    let mut after_pound = false;
    tokens.into_iter().any(|tt| {
        let found = match &tt {
            TokenTree::Group(g) => {
                (after_pound && g.delimiter() == Delimiter::Bracket && is_helper(g.stream(), qualified))
                    || has_helper(g.stream(), qualified)
            }
            _ => false,
        };
        after_pound = matches!(&tt, TokenTree::Punct(p) if p.as_char() == '#');
        found
    })
}

/// Whether the inside of `#[..]` is one of `#[dofn]`'s attributes (see [`strip`]).
fn is_helper(attr: TokenStream, qualified: bool) -> bool {
    syn::parse2::<syn::Meta>(attr).is_ok_and(|meta| {
        let path = meta.path();
        (!qualified || path.segments.len() > 1)
            && (symbol::find(path, &symbol::ID_ATTRS).is_some() || symbol::find(path, &symbol::METHOD_ATTRS).is_some())
    })
}

/// The name of a struct that syn cannot parse, and whether it has generic parameters, if it is a struct.
fn struct_name(tokens: &TokenStream) -> Option<(Ident, bool)> {
    let mut trees = tokens.clone().into_iter();
    // Outer attributes and the visibility come first; `struct` is the first such keyword outside them.
    while let Some(tt) = trees.next() {
        match tt {
            TokenTree::Ident(i) if i == "struct" => {
                let TokenTree::Ident(name) = trees.next()? else { return None };
                let generic = matches!(trees.next(), Some(TokenTree::Punct(p)) if p.as_char() == '<');
                return Some((name, generic));
            }
            TokenTree::Ident(i) if ["enum", "union", "impl", "fn", "trait", "mod", "type"].iter().any(|k| i == k) => {
                return None;
            }
            _ => {}
        }
    }
    None
}

/// The expansion for a struct syn cannot parse: the struct without `#[dofn]`'s attributes, and a callback
/// macro that tells the impl's `#[dofn]` to emit a placeholder `impl DoFn`. `None` if `tokens` is no struct.
pub(crate) fn unparsed_struct(tokens: TokenStream) -> Option<TokenStream> {
    let (name, generic) = struct_name(&tokens)?;
    // The struct as written, so that rustc's errors in it are the ones it reported when it parsed it for
    // `#[dofn]` (and are shown once); a derive makes the id attributes inert. (Those written with a path
    // cannot be a derive's: they lose the path.)
    let tokens = strip(tokens, true);
    let item = quote! {
        #[derive(::dofn::__private::__DofnAttributes)]
        #tokens
    };
    let mac = format_ident!("__dofn_decl_{}", name, span = Span::call_site());
    // (A generic struct's parameters cannot be read here; the impl's check for this impl only runs on impls
    // without parameters, which rarely name a generic struct.)
    let marker = (!generic).then(|| {
        quote! {
            #[automatically_derived]
            impl ::dofn::__private::DofnStruct for #name {}
        }
    });
    Some(quote! {
        #item

        #marker

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #mac {
            ($($item:tt)*) => {
                ::dofn::__private::__dofn_impl! { #name unparsed { $($item)* } }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #mac as #name;
    })
}

#[cfg(test)]
mod tests {
    use quote::{ToTokens, quote};

    use super::*;

    #[test]
    fn bodies_are_emptied_and_put_back() {
        let tokens = quote! {
            impl Counter {
                const N: u32 = 1;
                fn process(&self, f: fn(u8) -> u8) -> fn() { let x = ; }
                fn helper(&self) { match 1 { 1 => , _ => () } }
            }
        };
        assert!(syn::parse2::<ItemImpl>(tokens.clone()).is_err());
        let item = parse_impl(tokens.clone()).expect("the impl without its bodies parses");
        assert_eq!(item.to_token_stream().to_string(), tokens.to_string());
    }

    #[test]
    fn process_context_types_are_read_from_tokens() {
        let tokens = quote! {
            impl Counter {
                fn process(&self, cx: &mut ProcessContext<'_, (String, u32), Vec<fn() -> u8>>,, x: u8) {}
            }
        };
        let (input, output) = process_context_types(tokens).expect("the types");
        assert_eq!(input.to_token_stream().to_string(), quote!((String, u32)).to_string());
        assert_eq!(output.to_token_stream().to_string(), quote!(Vec<fn() -> u8>).to_string());
    }

    #[test]
    fn helpers_are_stripped() {
        let tokens: TokenStream =
            r#"fn f(#[state_id("a")] a: u8, #[dofn::timer_id("b")] #[allow(x)] b: u8) {}"#.parse().unwrap();
        let expected: TokenStream = "fn f(a: u8, #[allow(x)] b: u8) {}".parse().unwrap();
        assert_eq!(strip_helpers(tokens).to_string(), expected.to_string());
    }

    #[test]
    fn paths_are_taken_off_helpers() {
        let tokens: TokenStream =
            r#"struct S { #[dofn::state_id("a")] a: A, #[::dofn::timer_id("b")] #[doc = "b"] b: B }"#.parse().unwrap();
        let expected: TokenStream =
            r#"struct S { #[state_id("a")] a: A, #[timer_id("b")] #[doc = "b"] b: B }"#.parse().unwrap();
        assert_eq!(strip(tokens, true).to_string(), expected.to_string());
    }
}
