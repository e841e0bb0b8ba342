//! Reading the attributes: `#[state_id("..")]`-style ids and argument-less method attributes.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
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

// ---------------------------------------------------------------------------------------------------------
// `#[cfg]` and `#[cfg_attr]`: `#[dofn]` runs before cfg is evaluated, so it cannot know which of the fields,
// methods and parameters it wires will be compiled.

/// Whether `attr` is `#[cfg(..)]`, or a `#[cfg_attr(..)]` that adds one.
pub(crate) fn is_cfg(attr: &Attribute) -> bool {
    if attr.path().is_ident("cfg") {
        return true;
    }
    attr.path().is_ident("cfg_attr") && cfg_attr_payload(attr).is_none_or(|payload| payload.iter().any(is_cfg))
}

/// The attributes `#[cfg_attr(predicate, a, b(..))]` adds: `#[a]` and `#[b(..)]` (`None` if it is not a
/// well-formed `cfg_attr`).
fn cfg_attr_payload(attr: &Attribute) -> Option<Vec<Attribute>> {
    if !attr.path().is_ident("cfg_attr") {
        return None;
    }
    let metas = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated).ok()?;
    let payload = metas
        .into_iter()
        .skip(1)
        .map(|meta| Attribute {
            pound_token: attr.pound_token,
            style: attr.style,
            bracket_token: attr.bracket_token,
            meta,
        })
        .collect();
    Some(payload)
}

/// The `#[dofn]` attributes (ids and roles) among `attrs`, and those a `#[cfg_attr]` would add.
pub(crate) fn helpers_in(attrs: &[Attribute]) -> Vec<Symbol> {
    let mut found = Vec::new();
    for attr in attrs {
        if let Some(sym) = symbol::find(attr.path(), &symbol::ID_ATTRS) {
            found.push(sym);
        } else if let Some(sym) = symbol::find(attr.path(), &symbol::METHOD_ATTRS) {
            found.push(sym);
        } else if let Some(payload) = cfg_attr_payload(attr) {
            found.extend(helpers_in(&payload));
        }
    }
    found
}

/// `#[a]` and `#[b]` for `#[cfg_attr(p, a, cfg_attr(q, b))]`, without the `#[cfg]`s that cannot be honoured.
fn flatten(attr: Attribute, out: &mut Vec<Attribute>) {
    match cfg_attr_payload(&attr) {
        Some(payload) => payload.into_iter().for_each(|a| flatten(a, out)),
        None if attr.path().is_ident("cfg") => {}
        None => out.push(attr),
    }
}

/// Reports each `#[cfg_attr(..)]` that would add a `#[dofn]` attribute (which `#[dofn]` would never see), and
/// replaces it with the attributes it adds, so that the rest of the expansion reads them as if written
/// directly and the one mistake makes one error.
pub(crate) fn unwrap_cfg_attr_helpers(cx: &Ctxt, attrs: &mut Vec<Attribute>) {
    if !attrs.iter().any(|a| a.path().is_ident("cfg_attr")) {
        return;
    }
    let mut out = Vec::with_capacity(attrs.len());
    for attr in std::mem::take(attrs) {
        let helpers = match cfg_attr_payload(&attr) {
            Some(payload) => helpers_in(&payload),
            None => Vec::new(),
        };
        let Some(&first) = helpers.first() else {
            out.push(attr);
            continue;
        };
        let takes_id =
            symbol::ID_ATTRS.contains(&first) || [symbol::ON_TIMER, symbol::ON_TIMER_FAMILY].contains(&first);
        let first = if takes_id { format!("{first}(..)") } else { first.to_string() };
        cx.error_spanned_by(
            attr.path(),
            format!(
                "`#[cfg_attr]` cannot add `#[{first}]`: `#[dofn]` reads its attributes before cfg is evaluated, \
                 so it would never see it\nhelp: write `#[{first}]` directly; to compile the DoFn only under a \
                 condition, put `#[cfg(..)]` on the whole DoFn (its struct and its impl)"
            ),
        );
        flatten(attr, &mut out);
    }
    *attrs = out;
}

/// Where a `#[cfg]` cannot go, for messages.
#[derive(Copy, Clone)]
pub(crate) enum CfgOn {
    /// A field with an id.
    Field(IdKind),
    /// A method with a role.
    Method(Symbol),
    /// A parameter of a role method.
    Param,
    /// A field of a tuple struct before a field with an id.
    TupleField,
}

/// Reports every `#[cfg]` (and `#[cfg_attr]` adding one) in `attrs`, which belong to something `#[dofn]` wires;
/// returns whether there was any. The caller decides whether the attributes stay.
pub(crate) fn report_cfg(cx: &Ctxt, attrs: &[Attribute], on: CfgOn) -> bool {
    let mut found = false;
    for attr in attrs.iter().filter(|a| is_cfg(a)) {
        found = true;
        let cfg = if attr.path().is_ident("cfg") { "#[cfg]" } else { "#[cfg_attr]" };
        let msg = match on {
            CfgOn::Field(kind) => format!(
                "`{cfg}` cannot go on a field with `#[{}]`: `#[dofn]` reads the DoFn's declarations before cfg \
                 is evaluated\nhelp: declare the {} unconditionally (one that is never used costs nothing), or \
                 put the `#[cfg(..)]` on the whole DoFn (its struct and its impl)",
                kind.attr(),
                kind.noun()
            ),
            CfgOn::Method(role) => format!(
                "`{cfg}` cannot go on a `#[{role}]` method: `#[dofn]` wires the DoFn's methods before cfg is \
                 evaluated, so it would call this one whether it is compiled or not\nhelp: put the condition \
                 inside the method's body, or put the `#[cfg(..)]` on the whole DoFn (its struct and its impl)"
            ),
            CfgOn::Param => format!(
                "`{cfg}` cannot go on a parameter of a DoFn method: `#[dofn]` passes every parameter, before \
                 cfg is evaluated\nhelp: take the parameter unconditionally and put the condition inside the \
                 method's body, or put the `#[cfg(..)]` on the whole DoFn (its struct and its impl)"
            ),
            CfgOn::TupleField => format!(
                "`{cfg}` cannot go on this field: it would renumber the fields after it, and `#[dofn]` reads \
                 the declarations by position before cfg is evaluated\nhelp: give the struct named fields, or \
                 move this field after the ones with an id"
            ),
        };
        cx.error_spanned_by(attr.path(), msg);
    }
    found
}
