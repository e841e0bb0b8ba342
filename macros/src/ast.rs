//! The model: what a `#[dofn]` struct declares and what a `#[dofn]` impl's methods ask for.
//!
//! Building the model strips the inert attributes (`#[state_id]`, `#[process_element]`, ...) from the user's
//! item, so that the item can be re-emitted as the user wrote it, and reports attributes that are malformed
//! or misplaced. Rules that relate several parts of the model live in [`crate::check`].

use proc_macro2::Span;
use quote::format_ident;
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ImplItem, ItemImpl, ItemStruct, LitStr, PathArguments, ReceiverKind,
    ReturnType, Type,
};

use crate::attr::{self, CfgOn, IdKind};
use crate::ctxt::Ctxt;
use crate::symbol::{self, ID_ATTRS, METHOD_ATTRS, Symbol};

// ---------------------------------------------------------------------------------------------------------
// The struct side.

/// A `#[dofn]` struct: its declarations, in field order.
pub(crate) struct DofnStruct {
    /// The struct, with the `#[state_id]`/`#[timer_id]`/`#[timer_family_id]` attributes removed.
    pub(crate) item: ItemStruct,
    /// The declarations that are well formed, in field order.
    pub(crate) decls: Vec<Decl>,
    /// Per kind ([`IdKind`] order): whether some declaration of that kind has an id that could not be read,
    /// so that the impl does not report ids it cannot find as unknown (the user has already been told what
    /// is wrong, and the id may be that one).
    pub(crate) poisoned: [bool; 3],
    /// The ids of declarations that are malformed otherwise (a field of the wrong type, a second id on one
    /// field): reported on the struct, and not reported again where the impl uses them, while other unknown
    /// ids of their kind still are.
    pub(crate) broken: Vec<(IdKind, LitStr)>,
}

/// One `#[state_id]`, `#[timer_id]` or `#[timer_family_id]` field.
pub(crate) struct Decl {
    pub(crate) kind: IdKind,
    /// The id literal, with its span in the user's struct.
    pub(crate) id: LitStr,
    /// The field's name in the generated state record (the user's field name, or `field_N`).
    pub(crate) member: Ident,
    /// The field in the user's struct.
    pub(crate) field: syn::Member,
    /// The field's type: `StateSpec<Bag<Event>>`.
    pub(crate) spec: Type,
    /// The type inside the spec: the cell (`Bag<Event>`) or the time domain (`EventTime`).
    pub(crate) inner: Type,
}

impl DofnStruct {
    pub(crate) fn from_ast(cx: &Ctxt, mut item: ItemStruct) -> DofnStruct {
        let mut decls = Vec::new();
        let mut poisoned = [false; 3];
        let mut broken = Vec::new();
        // In a tuple struct, fields are named by position: a `#[cfg]` before a field with an id would move it.
        let tuple = matches!(item.fields, syn::Fields::Unnamed(_));
        let last_id = item.fields.iter().rposition(|f| attr::helpers_in(&f.attrs).iter().any(|s| ID_ATTRS.contains(s)));
        for (index, field) in item.fields.iter_mut().enumerate() {
            attr::unwrap_cfg_attr_helpers(cx, &mut field.attrs);
            let mut ids: Vec<(IdKind, Option<LitStr>, Attribute)> = Vec::new();
            let mut kept = Vec::with_capacity(field.attrs.len());
            for attr in std::mem::take(&mut field.attrs) {
                if let Some(sym) = symbol::find(attr.path(), &ID_ATTRS) {
                    let kind = IdKind::of(sym).expect("an id attribute");
                    let id = attr::parse_id(cx, &attr, sym);
                    ids.push((kind, id, attr));
                } else if let Some(sym) = symbol::find(attr.path(), &METHOD_ATTRS) {
                    cx.error_spanned_by(
                        attr.path(),
                        format!("`#[{sym}]` goes on a method of the `#[dofn]` impl, not on a field"),
                    );
                } else {
                    kept.push(attr);
                }
            }
            // A field declares one thing: the id that its type declares (else the first), and one error for
            // each other.
            let name = field.ident.as_ref().map_or_else(|| format!("{index}"), ToString::to_string);
            let typed = ids.iter().position(|(kind, _, _)| spec_argument(&field.ty, kind.spec()).is_some());
            let several = ids.len() > 1;
            if several && typed.is_none() {
                // (Neither is declared: one error, on the type, and the ids go unreported in the impl.)
                let attrs: Vec<String> = ids.iter().map(|(kind, _, _)| format!("`#[{}]`", kind.attr())).collect();
                let specs: Vec<String> = ids.iter().map(|(kind, _, _)| format!("`{}<..>`", kind.spec())).collect();
                cx.error_spanned_by(
                    &field.ty,
                    format!(
                        "field `{name}` has {}, but a field declares one state, timer or timer family, with its \
                         type: {}, not `{}`",
                        attrs.join(" and "),
                        specs.join(" or "),
                        crate::fmt::type_string(&field.ty)
                    ),
                );
                for (kind, id, _) in ids {
                    match id {
                        Some(id) => broken.push((kind, id)),
                        None => poisoned[kind as usize] = true,
                    }
                }
                field.attrs = kept;
                continue;
            }
            let chosen = typed.unwrap_or(0);
            let chosen_kind = ids.get(chosen).map(|(kind, _, _)| *kind);
            let mut found = None;
            for (i, (kind, id, attr)) in ids.into_iter().enumerate() {
                let Some(first) = chosen_kind.filter(|_| i != chosen) else {
                    found = Some((kind, id));
                    continue;
                };
                let msg = if first == kind || typed.is_none() {
                    format!(
                        "field `{name}` already has a `#[{}]`: a field declares one state, timer or timer family",
                        first.attr()
                    )
                } else {
                    format!(
                        "field `{name}` is a `{}<..>`, so it declares a {}, not a {}: remove `#[{}]` (a field \
                         declares one state, timer or timer family)",
                        first.spec(),
                        first.noun(),
                        kind.noun(),
                        kind.attr()
                    )
                };
                cx.error_spanned_by(attr.path(), msg);
                match id {
                    Some(id) => broken.push((kind, id)),
                    None => poisoned[kind as usize] = true,
                }
            }
            field.attrs = kept;
            let Some((kind, id)) = found else {
                // A spec without an id declares nothing the impl could use: surely a forgotten id.
                if let Some(kind) = IdKind::ALL.into_iter().find(|k| spec_argument(&field.ty, k.spec()).is_some()) {
                    let span = field.ident.as_ref().map_or_else(|| field.ty.span(), Ident::span);
                    let id = field.ident.as_ref().map_or_else(|| "id".to_string(), ToString::to_string);
                    cx.error(
                        span,
                        format!(
                            "field `{name}` is a `{}<..>` but declares no id\nhelp: add `#[{}(\"{id}\")]` to it: the \
                             id is how the impl's parameters and callbacks name the {}",
                            kind.spec(),
                            kind.attr(),
                            kind.noun()
                        ),
                    );
                    // (The impl may use the id the field should have: ids of its kind go unreported.)
                    poisoned[kind as usize] = true;
                }
                if tuple
                    && last_id.is_some_and(|last| index < last)
                    && attr::report_cfg(cx, &field.attrs, CfgOn::TupleField)
                {
                    field.attrs.retain(|a| !attr::is_cfg(a));
                }
                continue;
            };
            // A `#[cfg]` on a declaration is reported. On a named field it stays, and the declaration is left
            // out (as malformed, so that its uses in the impl are not reported too): the field may not exist.
            // On a tuple struct's field it goes, so that the fields keep their positions.
            let cfg = attr::report_cfg(cx, &field.attrs, CfgOn::Field(kind));
            if cfg && tuple {
                field.attrs.retain(|a| !attr::is_cfg(a));
            }
            let Some(id) = id else {
                poisoned[kind as usize] = true;
                continue;
            };
            if cfg && !tuple {
                broken.push((kind, id));
                continue;
            }
            let member = field.ident.clone().unwrap_or_else(|| format_ident!("field_{}", index));
            let Some(inner) = spec_argument(&field.ty, kind.spec()) else {
                cx.error_spanned_by(
                    &field.ty,
                    format!(
                        "field `{name}` declares {} `{}`, so its type must be `{}<..>`, not `{}`\n{}",
                        article(kind),
                        id.value(),
                        kind.spec(),
                        crate::fmt::type_string(&field.ty),
                        spec_help(kind),
                    ),
                );
                broken.push((kind, id));
                continue;
            };
            let field_member = match &field.ident {
                Some(ident) => syn::Member::Named(ident.clone()),
                None => syn::Member::Unnamed(syn::Index::from(index)),
            };
            decls.push(Decl { kind, id, member, field: field_member, spec: field.ty.clone(), inner });
        }
        DofnStruct { item, decls, poisoned, broken }
    }

    /// The declarations of one kind, in field order.
    pub(crate) fn of(&self, kind: IdKind) -> impl Iterator<Item = &Decl> {
        self.decls.iter().filter(move |d| d.kind == kind)
    }
}

fn article(kind: IdKind) -> &'static str {
    match kind {
        IdKind::State => "state",
        IdKind::Timer => "timer",
        IdKind::Family => "timer family",
    }
}

fn spec_help(kind: IdKind) -> &'static str {
    match kind {
        IdKind::State => {
            "declare state as `StateSpec<Cell>` with a cell of `dofn::state`: `StateSpec<Value<u64>>`, \
             `StateSpec<Bag<Event>>`, `StateSpec<Combining<Sum<i64>>>`, ..."
        }
        IdKind::Timer => "declare a timer as `TimerSpec<EventTime>` or `TimerSpec<ProcessingTime>`",
        IdKind::Family => "declare a timer family as `TimerFamilySpec<EventTime>` or `TimerFamilySpec<ProcessingTime>`",
    }
}

/// `T` in `...::Spec<T>`, if `ty` is `Spec<T>`.
fn spec_argument(ty: &Type, spec: &str) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != spec {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    let inner = types.next()?;
    types.next().is_none().then_some(inner)
}

// ---------------------------------------------------------------------------------------------------------
// The impl side.

/// What a method of the impl is for.
#[derive(Clone)]
pub(crate) enum Role {
    ProcessElement,
    OnTimer(LitStr),
    OnTimerFamily(LitStr),
    OnWindowExpiration,
    StartBundle,
    FinishBundle,
    Setup,
    Teardown,
    /// `#[allowed_timestamp_skew]`: how much earlier than its input an output may be.
    AllowedTimestampSkew,
}

impl Role {
    pub(crate) fn symbol(&self) -> Symbol {
        match self {
            Role::ProcessElement => symbol::PROCESS_ELEMENT,
            Role::OnTimer(_) => symbol::ON_TIMER,
            Role::OnTimerFamily(_) => symbol::ON_TIMER_FAMILY,
            Role::OnWindowExpiration => symbol::ON_WINDOW_EXPIRATION,
            Role::StartBundle => symbol::START_BUNDLE,
            Role::FinishBundle => symbol::FINISH_BUNDLE,
            Role::Setup => symbol::SETUP,
            Role::Teardown => symbol::TEARDOWN,
            Role::AllowedTimestampSkew => symbol::ALLOWED_TIMESTAMP_SKEW,
        }
    }

    /// The attribute as users write it: `#[on_timer("expiry")]`.
    pub(crate) fn display(&self) -> String {
        match self {
            Role::OnTimer(id) | Role::OnTimerFamily(id) => format!("#[{}(\"{}\")]", self.symbol(), id.value()),
            _ => format!("#[{}]", self.symbol()),
        }
    }

    /// Whether a DoFn has at most one method with this role.
    pub(crate) fn is_single(&self) -> bool {
        !matches!(self, Role::OnTimer(_) | Role::OnTimerFamily(_))
    }

    /// Whether the method runs for a key and window (and so may use state).
    pub(crate) fn is_keyed(&self) -> bool {
        matches!(self, Role::ProcessElement | Role::OnTimer(_) | Role::OnTimerFamily(_) | Role::OnWindowExpiration)
    }

    /// Whether the method may set timers.
    pub(crate) fn may_set_timers(&self) -> bool {
        matches!(self, Role::ProcessElement | Role::OnTimer(_) | Role::OnTimerFamily(_))
    }

    /// The context its method may take, if any.
    pub(crate) fn context(&self) -> Option<ContextKind> {
        match self {
            Role::ProcessElement => Some(ContextKind::Process),
            Role::OnTimer(_) | Role::OnTimerFamily(_) => Some(ContextKind::Timer),
            Role::OnWindowExpiration => Some(ContextKind::Expiration),
            Role::FinishBundle => Some(ContextKind::Bundle),
            Role::StartBundle | Role::Setup | Role::Teardown | Role::AllowedTimestampSkew => None,
        }
    }
}

/// The four contexts.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum ContextKind {
    Process,
    Timer,
    Expiration,
    Bundle,
}

impl ContextKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ContextKind::Process => "ProcessContext",
            ContextKind::Timer => "TimerContext",
            ContextKind::Expiration => "ExpirationContext",
            ContextKind::Bundle => "BundleContext",
        }
    }

    fn from_name(name: &str) -> Option<ContextKind> {
        Some(match name {
            "ProcessContext" => ContextKind::Process,
            "TimerContext" => ContextKind::Timer,
            "ExpirationContext" => ContextKind::Expiration,
            "BundleContext" => ContextKind::Bundle,
            _ => return None,
        })
    }
}

/// What a parameter asks for.
#[derive(Clone)]
pub(crate) enum ParamKind {
    /// `#[state_id("..")]`, `#[timer_id("..")]`, `#[timer_family_id("..")]`: `index` is the declaration's
    /// position among its kind, once resolved.
    Id { kind: IdKind, id: LitStr, index: Option<usize> },
    /// `&mut ProcessContext<I, O>` and the other contexts; `args` are its type arguments.
    Context { kind: ContextKind, args: Vec<Type> },
    /// `Element<&I>`.
    Element,
    /// `Key<&K>`.
    Key,
    /// `Timestamp`.
    Timestamp,
    /// `Window` or `&Window`.
    Window { by_ref: bool },
    /// `TimerTag`.
    Tag,
    /// Nothing `#[dofn]` knows.
    Unknown,
}

impl ParamKind {
    /// What users call it, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            ParamKind::Id { kind, id, .. } => format!("{} `{}`", kind.noun(), id.value()),
            ParamKind::Context { kind, .. } => format!("a `{}`", kind.name()),
            ParamKind::Element => "the element (`Element`)".into(),
            ParamKind::Key => "the key (`Key`)".into(),
            ParamKind::Timestamp => "a `Timestamp`".into(),
            ParamKind::Window { .. } => "the window (`Window`)".into(),
            ParamKind::Tag => "the timer tag (`TimerTag`)".into(),
            ParamKind::Unknown => "an unknown parameter".into(),
        }
    }
}

/// One parameter of a role method.
pub(crate) struct Param {
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
    /// Set by a check that rejected it: the wiring passes a placeholder instead, so that one mistake makes
    /// one error.
    pub(crate) rejected: bool,
}

/// A method with a role attribute.
pub(crate) struct Method {
    pub(crate) role: Role,
    /// The role attribute's name, for errors about the attribute.
    pub(crate) attr: Span,
    pub(crate) ident: Ident,
    pub(crate) receiver: bool,
    /// The receiver, if it is `&mut self` (or `self: &mut Self`).
    pub(crate) receiver_mut: Option<syn::Receiver>,
    pub(crate) params: Vec<Param>,
    /// The return type, if not `()`.
    pub(crate) output: Option<Type>,
    /// Set by a check that rejected the whole method (a second `#[process_element]`, a callback for an
    /// unknown timer): it is not wired.
    pub(crate) rejected: bool,
    /// Its signature cannot be called as a DoFn method (`async`, `unsafe`, type parameters of its own, a
    /// `#[cfg]`): the error says so, and the wiring is generated without the call, so that rustc adds nothing
    /// to it.
    pub(crate) uncallable: bool,
    /// It carries a `#[cfg]` (reported): it may not be compiled, so a second method with its role is not a
    /// duplicate (`#[cfg(a)]` and `#[cfg(not(a))]` variants), only left unwired.
    pub(crate) cfg: bool,
}

impl Method {
    /// The method's context parameter, if it has one.
    pub(crate) fn context(&self) -> Option<(&Param, ContextKind, &[Type])> {
        self.params.iter().find_map(|p| match &p.kind {
            ParamKind::Context { kind, args } => Some((p, *kind, args.as_slice())),
            _ => None,
        })
    }
}

/// The role methods of a `#[dofn]` impl, in source order.
pub(crate) struct DofnImpl {
    pub(crate) methods: Vec<Method>,
}

impl DofnImpl {
    /// Reads the role methods of `item` and strips the inert attributes from it.
    pub(crate) fn from_ast(cx: &Ctxt, item: &mut ItemImpl) -> DofnImpl {
        let mut methods = Vec::new();
        for impl_item in &mut item.items {
            match impl_item {
                ImplItem::Fn(f) => {
                    attr::unwrap_cfg_attr_helpers(cx, &mut f.attrs);
                    for arg in &mut f.sig.inputs {
                        match arg {
                            FnArg::Receiver(r) => attr::unwrap_cfg_attr_helpers(cx, &mut r.attrs),
                            FnArg::Typed(pat) => attr::unwrap_cfg_attr_helpers(cx, &mut pat.attrs),
                        }
                    }
                    let role = take_role(cx, &mut f.attrs);
                    // A `#[cfg]` on a role method or on one of its parameters is reported and stays: the method
                    // is left uncalled, so that whether it is compiled or not, nothing else is reported.
                    let cfg = role
                        .as_ref()
                        .is_some_and(|(role, _)| attr::report_cfg(cx, &f.attrs, CfgOn::Method(role.symbol())));
                    let mut param_cfg = false;
                    let mut receiver = false;
                    let mut receiver_mut = None;
                    let mut by_value = false;
                    let mut params = Vec::new();
                    for arg in &mut f.sig.inputs {
                        match arg {
                            FnArg::Receiver(r) => {
                                strip_misplaced(cx, &mut r.attrs, "a parameter other than `self`");
                                receiver = true;
                                let (by_ref, mutable) = match &r.kind {
                                    ReceiverKind::Value => (false, false),
                                    ReceiverKind::Reference(_, _, m) => (true, m.is_some()),
                                    ReceiverKind::Typed(_, ty) => match &**ty {
                                        Type::Reference(t) => (true, t.mutability.is_some()),
                                        _ => (false, false),
                                    },
                                    _ => (true, false),
                                };
                                if mutable {
                                    receiver_mut = Some(r.clone());
                                }
                                if role.is_some() && !by_ref {
                                    by_value = true;
                                    cx.error_spanned_by(
                                        r.self_token,
                                        "a DoFn method takes `&self` or `&mut self`, not `self`: the runner keeps \
                                         the DoFn",
                                    );
                                }
                            }
                            FnArg::Typed(pat) => {
                                let id = take_param_id(cx, &mut pat.attrs, role.is_some());
                                if role.is_some() {
                                    let cfg = attr::report_cfg(cx, &pat.attrs, CfgOn::Param);
                                    param_cfg |= cfg;
                                    // A malformed id was reported: the parameter is left unwired, silently.
                                    let malformed = matches!(id, Some((_, None, _))) || cfg;
                                    let id = id.map(|(kind, id, attr)| {
                                        (kind, id.unwrap_or_else(|| LitStr::new("", attr)), attr)
                                    });
                                    params.push(Param {
                                        kind: classify(&pat.ty, id),
                                        ty: (*pat.ty).clone(),
                                        rejected: malformed,
                                    });
                                }
                            }
                        }
                    }
                    if let Some((role, attr)) = role {
                        // (`self` by value was reported above.)
                        let uncallable = check_signature(cx, &f.sig) || by_value || cfg || param_cfg;
                        let output = match &f.sig.output {
                            ReturnType::Default => None,
                            ReturnType::Type(_, ty) => Some((**ty).clone()),
                        };
                        methods.push(Method {
                            role,
                            attr,
                            ident: f.sig.ident.clone(),
                            receiver,
                            receiver_mut,
                            params,
                            output,
                            rejected: false,
                            uncallable,
                            cfg,
                        });
                    }
                }
                ImplItem::Const(c) => {
                    attr::unwrap_cfg_attr_helpers(cx, &mut c.attrs);
                    strip_misplaced(cx, &mut c.attrs, "an associated const");
                }
                ImplItem::Type(t) => {
                    attr::unwrap_cfg_attr_helpers(cx, &mut t.attrs);
                    strip_misplaced(cx, &mut t.attrs, "an associated type");
                }
                ImplItem::Macro(m) => {
                    attr::unwrap_cfg_attr_helpers(cx, &mut m.attrs);
                    strip_misplaced(cx, &mut m.attrs, "a macro invocation");
                }
                _ => {}
            }
        }
        DofnImpl { methods }
    }

    /// The methods with `role`'s attribute, rejected ones included.
    pub(crate) fn with_role(&self, f: impl Fn(&Role) -> bool) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(move |m| f(&m.role))
    }

    /// The `#[process_element]` method that is wired, if any.
    pub(crate) fn process_element(&self) -> Option<&Method> {
        self.methods.iter().find(|m| matches!(m.role, Role::ProcessElement) && !m.rejected)
    }
}

/// Reports what makes a role method's signature impossible to call from the runner; `true` if anything does.
fn check_signature(cx: &Ctxt, sig: &syn::Signature) -> bool {
    let mut bad = false;
    if let Some(token) = &sig.asyncness {
        cx.error(
            token.span,
            "a DoFn method cannot be `async`: the runner calls it for each element or timer and needs its \
             outputs and state changes when it returns\nhelp: make it a plain `fn` (block on asynchronous work \
             inside it, or batch the work in state and flush it from a timer)",
        );
        bad = true;
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        cx.error(
            token.span,
            "a DoFn method cannot be `unsafe`: the runner calls it and can uphold no safety conditions of its \
             own\nhelp: make it a safe `fn` with an `unsafe` block inside",
        );
        bad = true;
    }
    for param in &sig.generics.params {
        let (span, what) = match param {
            syn::GenericParam::Type(t) => (t.ident.span(), "type"),
            syn::GenericParam::Const(c) => (c.const_token.span, "const"),
            // Lifetimes are inferred at the call.
            syn::GenericParam::Lifetime(_) => continue,
        };
        cx.error(
            span,
            format!(
                "a DoFn method cannot have {what} parameters of its own: the runner calls it with no way to \
                 choose them\nhelp: make the struct generic instead (`struct MyDoFn<T>`), and the impl with it"
            ),
        );
        bad = true;
    }
    bad
}

/// Removes the role attribute of a method and reads it; a second role is an error.
fn take_role(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> Option<(Role, Span)> {
    let mut role: Option<(Role, Span)> = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in std::mem::take(attrs) {
        let Some(sym) = symbol::find(attr.path(), &METHOD_ATTRS) else {
            if let Some(sym) = symbol::find(attr.path(), &ID_ATTRS) {
                cx.error_spanned_by(
                    attr.path(),
                    format!("`#[{sym}(..)]` goes on a parameter of a DoFn method (or on a field of the struct), not on a method"),
                );
            } else {
                kept.push(attr);
            }
            continue;
        };
        let this = match sym {
            symbol::ON_TIMER | symbol::ON_TIMER_FAMILY => {
                let Some(id) = attr::parse_id(cx, &attr, sym) else { continue };
                if sym == symbol::ON_TIMER { Role::OnTimer(id) } else { Role::OnTimerFamily(id) }
            }
            _ => {
                attr::parse_no_args(cx, &attr, sym);
                match sym {
                    symbol::PROCESS_ELEMENT => Role::ProcessElement,
                    symbol::ON_WINDOW_EXPIRATION => Role::OnWindowExpiration,
                    symbol::START_BUNDLE => Role::StartBundle,
                    symbol::FINISH_BUNDLE => Role::FinishBundle,
                    symbol::SETUP => Role::Setup,
                    symbol::TEARDOWN => Role::Teardown,
                    _ => Role::AllowedTimestampSkew,
                }
            }
        };
        match &role {
            Some((first, _)) => cx.error_spanned_by(
                attr.path(),
                format!(
                    "a method has one role, and this one is already `{}`: write a separate method for `#[{sym}]`",
                    first.display()
                ),
            ),
            None => role = Some((this, attr.path().span())),
        }
    }
    *attrs = kept;
    role
}

/// Removes a parameter's id attribute and reads it.
fn take_param_id(cx: &Ctxt, attrs: &mut Vec<Attribute>, in_role: bool) -> Option<(IdKind, Option<LitStr>, Span)> {
    let mut found = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in std::mem::take(attrs) {
        if let Some(sym) = symbol::find(attr.path(), &ID_ATTRS) {
            let kind = IdKind::of(sym).expect("an id attribute");
            if !in_role {
                cx.error_spanned_by(
                    attr.path(),
                    format!(
                        "`#[{sym}(..)]` only works on a parameter of a DoFn method: `#[process_element]`, \
                         `#[on_timer(..)]`, `#[on_timer_family(..)]` or `#[on_window_expiration]`"
                    ),
                );
            } else if found.is_some() {
                cx.error_spanned_by(attr.path(), "a parameter takes one state, timer or timer family");
            } else {
                found = Some((kind, attr::parse_id(cx, &attr, sym), attr.path().span()));
            }
        } else if let Some(sym) = symbol::find(attr.path(), &METHOD_ATTRS) {
            cx.error_spanned_by(attr.path(), format!("`#[{sym}]` goes on a method, not on a parameter"));
        } else {
            kept.push(attr);
        }
    }
    *attrs = kept;
    found
}

/// Reports and removes role or id attributes on an impl item that is not a method.
fn strip_misplaced(cx: &Ctxt, attrs: &mut Vec<Attribute>, what: &str) {
    attrs.retain(|attr| {
        if let Some(sym) = symbol::find(attr.path(), &METHOD_ATTRS) {
            cx.error_spanned_by(attr.path(), format!("`#[{sym}]` goes on a method, not on {what}"));
            false
        } else if let Some(sym) = symbol::find(attr.path(), &ID_ATTRS) {
            cx.error_spanned_by(
                attr.path(),
                format!("`#[{sym}(..)]` goes on a parameter of a DoFn method, not on {what}"),
            );
            false
        } else {
            true
        }
    });
}

/// What a parameter is, from its id attribute or else from its type's name.
fn classify(ty: &Type, id: Option<(IdKind, LitStr, Span)>) -> ParamKind {
    if let Some((kind, id, _)) = id {
        return ParamKind::Id { kind, id, index: None };
    }
    let (by_ref, inner) = match ty {
        Type::Reference(r) => (true, &*r.elem),
        other => (false, other),
    };
    let Type::Path(path) = inner else { return ParamKind::Unknown };
    let Some(last) = path.path.segments.last() else { return ParamKind::Unknown };
    let name = last.ident.to_string();
    if let Some(kind) = ContextKind::from_name(&name) {
        let args = match &last.arguments {
            PathArguments::AngleBracketed(a) => a
                .args
                .iter()
                .filter_map(|a| match a {
                    GenericArgument::Type(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        return ParamKind::Context { kind, args };
    }
    match name.as_str() {
        "Element" => ParamKind::Element,
        "Key" => ParamKind::Key,
        "Timestamp" => ParamKind::Timestamp,
        "Window" => ParamKind::Window { by_ref },
        "TimerTag" => ParamKind::Tag,
        _ => ParamKind::Unknown,
    }
}

/// The span of the first and of the last token of `tokens`: generated code whose first token has the first
/// span and whose last token has the last makes rustc underline exactly the user's tokens.
pub(crate) fn span_range(tokens: &impl quote::ToTokens) -> (Span, Span) {
    let mut iter = tokens.to_token_stream().into_iter();
    let first = iter.next().map_or_else(Span::call_site, |t| t.span());
    let last = iter.last().map_or(first, |t| t.span());
    (first, last)
}
