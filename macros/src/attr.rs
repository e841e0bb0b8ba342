//! Reading the attributes: `#[state_id("..")]`-style ids and argument-less method attributes.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, LitStr, Meta, Token};

use crate::ctxt::Ctxt;
use crate::symbol::{self, Symbol};

/// The three kinds of declaration, each with its own id namespace.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum IdKind {
    /// `#[state_id]`: a state cell.
    State,
    /// `#[timer_id]`: a timer.
    Timer,
    /// `#[timer_family_id]`: a timer family.
    Family,
}

impl IdKind {
    pub(crate) const ALL: [IdKind; 3] = [IdKind::State, IdKind::Timer, IdKind::Family];

    /// The kind an id attribute declares.
    pub(crate) fn of(attr: Symbol) -> Option<IdKind> {
        match attr {
            symbol::STATE_ID => Some(IdKind::State),
            symbol::TIMER_ID => Some(IdKind::Timer),
            symbol::TIMER_FAMILY_ID => Some(IdKind::Family),
            _ => None,
        }
    }

    /// Its label where declarations travel to the impl (see `wire`).
    pub(crate) fn label(self) -> &'static str {
        match self {
            IdKind::State => "state",
            IdKind::Timer => "timer",
            IdKind::Family => "family",
        }
    }

    /// The attribute that declares it.
    pub(crate) fn attr(self) -> Symbol {
        match self {
            IdKind::State => symbol::STATE_ID,
            IdKind::Timer => symbol::TIMER_ID,
            IdKind::Family => symbol::TIMER_FAMILY_ID,
        }
    }

    /// What users call one: "state", "timer", "timer family".
    pub(crate) fn noun(self) -> &'static str {
        match self {
            IdKind::State => "state",
            IdKind::Timer => "timer",
            IdKind::Family => "timer family",
        }
    }

    /// What users call several.
    pub(crate) fn plural(self) -> &'static str {
        match self {
            IdKind::State => "states",
            IdKind::Timer => "timers",
            IdKind::Family => "timer families",
        }
    }

    /// The spec type of its struct field.
    pub(crate) fn spec(self) -> &'static str {
        match self {
            IdKind::State => "StateSpec",
            IdKind::Timer => "TimerSpec",
            IdKind::Family => "TimerFamilySpec",
        }
    }

    /// An example of a field declaring one, for messages.
    pub(crate) fn example_field(self, id: &str) -> String {
        match self {
            IdKind::State => format!("#[state_id(\"{id}\")] {id}: StateSpec<Value<u64>>"),
            IdKind::Timer => format!("#[timer_id(\"{id}\")] {id}: TimerSpec<EventTime>"),
            IdKind::Family => format!("#[timer_family_id(\"{id}\")] {id}: TimerFamilySpec<EventTime>"),
        }
    }
}

/// The id of `#[name("id")]`: one non-empty string literal. Reports what is wrong and returns `None` if the
/// attribute has no usable id.
pub(crate) fn parse_id(cx: &Ctxt, attr: &Attribute, name: Symbol) -> Option<LitStr> {
    let example = format!("`#[{name}(\"id\")]`");
    match &attr.meta {
        Meta::Path(path) => {
            cx.error_spanned_by(path, format!("`#[{name}]` needs an id, like {example}"));
            None
        }
        Meta::NameValue(nv) => {
            cx.error_spanned_by(&nv.value, format!("write the id of `#[{name}]` in parentheses, like {example}"));
            None
        }
        Meta::List(list) => {
            if list.tokens.is_empty() {
                cx.error_spanned_by(list, format!("`#[{name}]` needs an id, like {example}"));
                return None;
            }
            let parser = |input: ParseStream| -> syn::Result<Option<LitStr>> {
                let id = if input.peek(LitStr) {
                    Some(input.parse::<LitStr>()?)
                } else {
                    let tt: proc_macro2::TokenTree = input.parse()?;
                    cx.error_spanned_by(&tt, format!("the id of `#[{name}]` must be a string literal, like {example}"));
                    None
                };
                if !input.is_empty() {
                    let comma = input.parse::<Option<Token![,]>>()?;
                    let rest: TokenStream = input.parse()?;
                    if comma.is_none() || !rest.is_empty() {
                        let first = rest.clone().into_iter().next();
                        let shown = first.as_ref().map(|t| t.to_string()).unwrap_or_default();
                        cx.error_spanned_by(
                            first.map_or(rest, Into::into),
                            format!("unexpected argument `{shown}`: `#[{name}]` takes only an id, like {example}"),
                        );
                    }
                }
                Ok(id)
            };
            match parser.parse2(list.tokens.clone()) {
                Ok(Some(id)) if id.value().is_empty() => {
                    cx.error(id.span(), format!("empty id in `#[{name}]`: name it, like {example}"));
                    None
                }
                Ok(id) => id,
                Err(err) => {
                    cx.push(err);
                    None
                }
            }
        }
    }
}

/// Checks that `#[name]` has no arguments.
pub(crate) fn parse_no_args(cx: &Ctxt, attr: &Attribute, name: Symbol) {
    match &attr.meta {
        Meta::Path(_) => {}
        Meta::List(list) => {
            let first = list.tokens.clone().into_iter().next();
            match first {
                Some(tt) => {
                    cx.error_spanned_by(&tt, format!("unexpected argument `{tt}`: `#[{name}]` takes no arguments"))
                }
                None => cx.error_spanned_by(list, format!("`#[{name}]` takes no arguments: write `#[{name}]`")),
            }
        }
        Meta::NameValue(nv) => cx.error_spanned_by(&nv.value, format!("`#[{name}]` takes no value: write `#[{name}]`")),
    }
}

/// Reports arguments given to `#[dofn]` itself.
pub(crate) fn check_dofn_args(cx: &Ctxt, args: TokenStream) {
    if let Some(tt) = args.into_iter().next() {
        cx.error_spanned_by(&tt, format!("unexpected argument `{tt}`: `#[{}]` takes no arguments", symbol::DOFN));
    }
}
