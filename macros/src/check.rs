//! The rules, one function each. Each reports on the offending token and marks what it rejects, so that the
//! expansion leaves it unwired and one mistake makes one error.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{LitStr, Type};

use crate::ast::{ContextKind, DofnImpl, DofnStruct, ParamKind, Role};
use crate::attr::IdKind;
use crate::ctxt::Ctxt;
use crate::fmt::type_string;
use crate::suggest;
use crate::wire::Declarations;

// ---------------------------------------------------------------------------------------------------------
// The struct.

/// Runs every struct-local rule.
pub(crate) fn check_struct(cx: &Ctxt, s: &mut DofnStruct) {
    check_no_lifetimes(cx, s);
    check_duplicate_ids(cx, s);
}

/// No lifetime parameters: a DoFn is moved to worker threads and kept there, so it owns its data. (The
/// expansion bounds them by `'static`, so that nothing else is reported.)
fn check_no_lifetimes(cx: &Ctxt, s: &DofnStruct) {
    for lt in s.item.generics.lifetimes() {
        cx.error_spanned_by(
            &lt.lifetime,
            format!(
                "DoFn `{}` cannot have a lifetime parameter: a DoFn is moved to worker threads and must own its \
                 data (be `'static`)\nhelp: own the data (a `String` rather than a `&'a str`, an `Arc` to share \
                 it); a `&'static` reference is fine",
                s.item.ident
            ),
        );
    }
}

/// Two declarations of one kind with the same id: the second is reported (with a note at the first) and
/// dropped.
fn check_duplicate_ids(cx: &Ctxt, s: &mut DofnStruct) {
    let name = s.item.ident.to_string();
    let mut first: HashMap<(IdKind, String), Span> = HashMap::new();
    s.decls.retain(|d| {
        let value = d.id.value();
        match first.get(&(d.kind, value.clone())) {
            Some(&at) => {
                duplicate(
                    cx,
                    d.id.span(),
                    at,
                    format!(
                        "duplicate {} id `{value}` in DoFn `{name}`: each {} needs its own id",
                        d.kind.noun(),
                        d.kind.noun()
                    ),
                    format!("the first {} `{value}` of DoFn `{name}` is declared", d.kind.noun()),
                );
                false
            }
            None => {
                first.insert((d.kind, value), d.id.span());
                true
            }
        }
    });
}

/// One error at `second`, whose message notes where `first` is (stable proc macros cannot attach a note with
/// a span of its own, and a second error would count the one mistake twice).
fn duplicate(cx: &Ctxt, second: Span, first: Span, msg: String, note: String) {
    let at = first.start();
    let place = if at.line == 0 { String::new() } else { format!(" at line {}, column {}", at.line, at.column + 1) };
    cx.error(second, format!("{msg}\nnote: {note}{place}"));
}

// ---------------------------------------------------------------------------------------------------------
// The impl, against the struct's declarations.

/// Runs every impl rule.
pub(crate) fn check_impl(cx: &Ctxt, decls: &Declarations, self_ty: &Type, imp: &mut DofnImpl) {
    check_single_roles(cx, decls, imp);
    check_has_process_element(cx, decls, self_ty, imp);
    check_allowed_timestamp_skew(cx, decls, imp);
    check_process_context(cx, decls, imp);
    check_callback_ids(cx, decls, imp);
    check_duplicate_callbacks(cx, decls, imp);
    check_every_timer_has_callback(cx, decls, self_ty, imp);
    check_param_ids(cx, decls, imp);
    check_params_allowed(cx, decls, imp);
    check_passed_by_value(cx, decls, imp);
    check_duplicate_params(cx, decls, imp);
    check_borrowed_mutably(cx, decls, imp);
    check_unknown_params(cx, decls, imp);
}

/// At most one `#[process_element]`, `#[on_window_expiration]`, `#[start_bundle]`, `#[finish_bundle]`,
/// `#[setup]`, `#[teardown]`.
fn check_single_roles(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    let name = &decls.name;
    let mut first: HashMap<&'static str, (Span, String, bool)> = HashMap::new();
    for m in &mut imp.methods {
        if !m.role.is_single() {
            continue;
        }
        let sym = m.role.symbol();
        match first.get(sym.0) {
            // (Methods with a `#[cfg]`, reported, may be variants of one method: the later ones go unwired.)
            Some((_, _, first_cfg)) if *first_cfg || m.cfg => m.rejected = true,
            Some((at, first_name, _)) => {
                duplicate(
                    cx,
                    m.attr,
                    *at,
                    format!("DoFn `{name}` has two `#[{sym}]` methods, `{first_name}` and `{}`: keep one", m.ident),
                    format!("the first `#[{sym}]` of DoFn `{name}` is"),
                );
                m.rejected = true;
            }
            None => {
                first.insert(sym.0, (m.attr, m.ident.to_string(), m.cfg));
            }
        }
    }
}

/// Exactly one `#[process_element]` (two are [`check_single_roles`]'s).
fn check_has_process_element(cx: &Ctxt, decls: &Declarations, self_ty: &Type, imp: &DofnImpl) {
    if imp.with_role(|r| matches!(r, Role::ProcessElement)).next().is_none() {
        cx.error_spanned_by(
            self_ty,
            format!(
                "DoFn `{}` has no `#[process_element]` method in this `#[dofn]` impl\nhelp: add one, like \
                 `#[process_element] fn process(&self, cx: &mut ProcessContext<Input, Output>) {{ .. }}`; a DoFn's \
                 role methods all go in one `#[dofn]` impl (other impl blocks of the struct take no `#[dofn]`)",
                decls.name
            ),
        );
    }
}

/// `#[allowed_timestamp_skew]` takes `&self` and returns the skew (its type is checked where it is used).
fn check_allowed_timestamp_skew(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    for m in imp.methods.iter_mut().filter(|m| matches!(m.role, Role::AllowedTimestampSkew) && !m.rejected) {
        if let Some(receiver) = &m.receiver_mut {
            cx.error_spanned_by(
                receiver,
                format!(
                    "`#[allowed_timestamp_skew]` method `{}` of DoFn `{}` takes `&self`, not `&mut self`: the \
                     runner reads the skew, it does not change the DoFn",
                    m.ident, decls.name
                ),
            );
            m.rejected = true;
        } else if m.output.is_none() {
            cx.error(
                m.ident.span(),
                format!(
                    "`#[allowed_timestamp_skew]` method `{}` of DoFn `{}` must return the skew, a `Duration`\nhelp: \
                     like `fn {}(&self) -> Duration {{ Duration::from_secs(60) }}`",
                    m.ident, decls.name, m.ident
                ),
            );
            m.rejected = true;
        }
    }
}

/// `#[process_element]` takes the `&mut ProcessContext<I, O>` that gives the DoFn its input and output types.
fn check_process_context(cx: &Ctxt, decls: &Declarations, imp: &DofnImpl) {
    let Some(m) = imp.process_element() else { return };
    match m.context() {
        Some((_, ContextKind::Process, args)) if args.len() == 2 => {}
        Some((p, ContextKind::Process, _)) => cx.error_spanned_by(
            &p.ty,
            format!(
                "the context of DoFn `{}` needs its input and output types: `&mut ProcessContext<Input, Output>`",
                decls.name
            ),
        ),
        _ => cx.error(
            m.ident.span(),
            format!(
                "`#[process_element]` method `{}` of DoFn `{}` needs a `&mut ProcessContext<Input, Output>` \
                 parameter\nhelp: its type arguments are the DoFn's input and output types, like `cx: &mut \
                 ProcessContext<(String, u32), String>`",
                m.ident, decls.name
            ),
        ),
    }
}

/// The message for an id that names nothing of its kind (`callback`: in `#[on_timer]`/`#[on_timer_family]`).
fn unknown_id(decls: &Declarations, kind: IdKind, id: &LitStr, callback: bool) -> String {
    let name = &decls.name;
    let value = id.value();
    let declared: Vec<String> = decls.of(kind).iter().map(|d| d.id.value()).collect();
    let mut msg = format!("DoFn `{name}` declares no {} `{value}`\n", kind.noun());
    let other = IdKind::ALL
        .into_iter()
        .find(|&k| k != kind && !(callback && k == IdKind::State) && decls.of(k).iter().any(|d| d.id.value() == value));
    if let Some(other) = other {
        let attr = match (callback, other) {
            (true, IdKind::Family) => "on_timer_family",
            (true, _) => "on_timer",
            (false, o) => o.attr().0,
        };
        msg.push_str(&format!("help: `{value}` is a {} of `{name}`: use `#[{attr}(\"{value}\")]`", other.noun()));
        return msg;
    }
    match suggest::closest(&value, declared.iter().map(String::as_str)) {
        Some(close) => msg.push_str(&format!(
            "help: did you mean `{close}`? The {} of `{name}` are {}",
            kind.plural(),
            suggest::list(declared.iter().map(String::as_str))
        )),
        None if declared.is_empty() => msg.push_str(&format!(
            "help: `{name}` declares no {} at all; declare it with a field like `{}`",
            kind.plural(),
            kind.example_field(&value)
        )),
        None => msg.push_str(&format!(
            "help: the {} of `{name}` are {}",
            kind.plural(),
            suggest::list(declared.iter().map(String::as_str))
        )),
    }
    msg
}

/// The position of `id` among the declarations of `kind`.
fn resolve(decls: &Declarations, kind: IdKind, id: &LitStr) -> Option<usize> {
    let value = id.value();
    decls.of(kind).iter().position(|d| d.id.value() == value)
}

/// `#[on_timer("id")]` and `#[on_timer_family("id")]` name declared ones.
fn check_callback_ids(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    for m in &mut imp.methods {
        let (kind, id) = match &m.role {
            Role::OnTimer(id) => (IdKind::Timer, id),
            Role::OnTimerFamily(id) => (IdKind::Family, id),
            _ => continue,
        };
        if resolve(decls, kind, id).is_none() {
            if !decls.covers_unknown(kind, &id.value()) {
                cx.error(id.span(), unknown_id(decls, kind, id, true));
            }
            m.rejected = true;
        }
    }
}

/// One callback per timer and per timer family.
fn check_duplicate_callbacks(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    let name = &decls.name;
    let mut first: HashMap<(IdKind, String), (Span, String, bool)> = HashMap::new();
    for m in &mut imp.methods {
        let (kind, id) = match &m.role {
            Role::OnTimer(id) if !m.rejected => (IdKind::Timer, id),
            Role::OnTimerFamily(id) if !m.rejected => (IdKind::Family, id),
            _ => continue,
        };
        let value = id.value();
        match first.get(&(kind, value.clone())) {
            // (As in `check_single_roles`: `#[cfg]` variants of one callback.)
            Some((_, _, first_cfg)) if *first_cfg || m.cfg => m.rejected = true,
            Some((at, first_name, _)) => {
                duplicate(
                    cx,
                    id.span(),
                    *at,
                    format!(
                        "{} `{value}` of DoFn `{name}` has two callbacks, `{first_name}` and `{}`: keep one",
                        kind.noun(),
                        m.ident
                    ),
                    format!("the first callback of {} `{value}` is", kind.noun()),
                );
                m.rejected = true;
            }
            None => {
                first.insert((kind, value), (id.span(), m.ident.to_string(), m.cfg));
            }
        }
    }
}

/// The timer or family a callback is for: its id, or for an unknown id, the one the unknown-id error
/// points the user to (so that a misspelt callback does not also make its timer "without callback").
fn claimed(decls: &Declarations, role: &Role) -> Option<(IdKind, String)> {
    let (kind, id) = match role {
        Role::OnTimer(id) => (IdKind::Timer, id.value()),
        Role::OnTimerFamily(id) => (IdKind::Family, id.value()),
        _ => return None,
    };
    let other = if kind == IdKind::Timer { IdKind::Family } else { IdKind::Timer };
    let ids = |k| decls.of(k).iter().map(|d| d.id.value()).collect::<Vec<_>>();
    if ids(kind).contains(&id) || decls.is_broken(kind, &id) {
        Some((kind, id))
    } else if ids(other).contains(&id) {
        Some((other, id))
    } else {
        let same = ids(kind);
        suggest::closest(&id, same.iter().map(String::as_str)).map(|c| (kind, c.to_string()))
    }
}

/// Every declared timer has an `#[on_timer]` callback, every family an `#[on_timer_family]` one.
fn check_every_timer_has_callback(cx: &Ctxt, decls: &Declarations, self_ty: &Type, imp: &DofnImpl) {
    let claimed: Vec<(IdKind, String)> = imp.methods.iter().filter_map(|m| claimed(decls, &m.role)).collect();
    // The output type in the hint: the one `#[process_element]`'s context names, if it names one.
    let output = imp
        .process_element()
        .and_then(|m| match m.context() {
            Some((_, ContextKind::Process, [_, o])) => Some(type_string(o)),
            _ => None,
        })
        .unwrap_or_else(|| "Output".to_string());
    for (kind, attr) in [(IdKind::Timer, "on_timer"), (IdKind::Family, "on_timer_family")] {
        for d in decls.of(kind) {
            let value = d.id.value();
            let has = claimed.iter().any(|(k, id)| *k == kind && *id == value);
            if !has {
                let ctx = match kind {
                    IdKind::Family => format!("cx: &mut TimerContext<{output}>, TimerTag(tag): TimerTag"),
                    _ => format!("cx: &mut TimerContext<{output}>"),
                };
                // At the declaration's id, as the impl's own tokens are: the id reached the impl through the
                // struct's callback macro, and rustc would add that the error comes from it.
                let at = self_ty.span().located_at(d.id.span());
                cx.error(
                    at,
                    format!(
                        "{} `{value}` of DoFn `{}` has no callback\nhelp: add a method to the `#[dofn]` impl, like \
                         `#[{attr}(\"{value}\")] fn on_{}(&self, {ctx}) {{ .. }}`",
                        kind.noun(),
                        decls.name,
                        value.replace(|c: char| !c.is_alphanumeric(), "_"),
                    ),
                );
            }
        }
    }
}

/// Every `#[state_id]`/`#[timer_id]`/`#[timer_family_id]` parameter names a declaration of its kind.
fn check_param_ids(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    for m in &mut imp.methods {
        for p in &mut m.params {
            if p.rejected {
                continue;
            }
            let ParamKind::Id { kind, id, index, .. } = &mut p.kind else { continue };
            *index = resolve(decls, *kind, id);
            if index.is_none() {
                if !decls.covers_unknown(*kind, &id.value()) {
                    cx.error(id.span(), unknown_id(decls, *kind, id, false));
                }
                p.rejected = true;
            }
        }
    }
}

/// Why `kind` cannot be a parameter of a method with `role`, if it cannot.
fn not_allowed(role: &Role, kind: &ParamKind) -> Option<String> {
    let attr = role.display();
    if matches!(role, Role::AllowedTimestampSkew) {
        return Some("it takes only `&self` (the skew is the DoFn's, the same for every element)".into());
    }
    match kind {
        ParamKind::Id { kind: IdKind::State, .. } if !role.is_keyed() => {
            Some(format!("state is kept per key and window, and `{attr}` runs for no key and window"))
        }
        ParamKind::Id { kind: IdKind::Timer | IdKind::Family, .. } if !role.may_set_timers() => {
            Some(if matches!(role, Role::OnWindowExpiration) {
                "the window is expiring: a timer set now could never fire".to_string()
            } else {
                format!("timers are kept per key and window, and `{attr}` runs for no key and window")
            })
        }
        ParamKind::Context { kind, .. } if role.context() != Some(*kind) => Some(match role.context() {
            Some(own) => format!("`{attr}` takes a `&mut {}<..>`", own.name()),
            None => format!("`{attr}` takes no context"),
        }),
        ParamKind::Element if !matches!(role, Role::ProcessElement) => {
            Some("only `#[process_element]` has an element".into())
        }
        ParamKind::Key | ParamKind::Window { .. } if !role.is_keyed() => {
            Some(format!("`{attr}` runs for no key and window"))
        }
        ParamKind::Timestamp if !matches!(role, Role::ProcessElement | Role::OnTimer(_) | Role::OnTimerFamily(_)) => {
            Some(
                "only `#[process_element]` (the element's) and timer callbacks (the timer's output timestamp) have a \
                 timestamp"
                    .into(),
            )
        }
        ParamKind::Tag if !matches!(role, Role::OnTimerFamily(_)) => {
            Some("only `#[on_timer_family]` callbacks have a timer tag".into())
        }
        _ => None,
    }
}

/// Each parameter is one its method may take (Beam's rules).
fn check_params_allowed(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    for m in &mut imp.methods {
        let role = m.role.clone();
        for p in &mut m.params {
            if p.rejected {
                continue;
            }
            let Some(why) = not_allowed(&role, &p.kind) else { continue };
            let span = match &p.kind {
                ParamKind::Id { id, .. } => id.span(),
                _ => p.ty.span(),
            };
            let msg = format!(
                "{} cannot be used in `{}` method `{}` of DoFn `{}`: {why}",
                p.kind.describe(),
                role.display(),
                m.ident,
                decls.name
            );
            match &p.kind {
                ParamKind::Id { .. } => cx.error(span, msg),
                _ => cx.error_spanned_by(&p.ty, msg),
            }
            p.rejected = true;
        }
    }
}

/// `Timestamp` and `TimerTag` are passed by value, `Window` by value or by shared reference.
fn check_passed_by_value(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    for m in &mut imp.methods {
        for p in &mut m.params {
            if p.rejected {
                continue;
            }
            let reference = match &p.ty {
                Type::Reference(r) => Some(r.mutability.is_some()),
                _ => None,
            };
            let takes = match (&p.kind, reference) {
                (ParamKind::Window { .. }, Some(true)) => "`Window` or `&Window`: a method cannot change its window",
                (ParamKind::Timestamp, Some(_)) => "`Timestamp` by value, like `Timestamp(ts): Timestamp`",
                (ParamKind::Tag, Some(_)) => "`TimerTag` by value, like `TimerTag(tag): TimerTag`",
                _ => continue,
            };
            cx.error_spanned_by(
                &p.ty,
                format!(
                    "method `{}` of DoFn `{}` takes a `{}`, but `#[dofn]` passes {takes}",
                    m.ident,
                    decls.name,
                    type_string(&p.ty)
                ),
            );
            p.rejected = true;
        }
    }
}

/// One method takes a cell, timer, family or context once: a `&mut` and another borrow of it would alias, and
/// two shared borrows of a cell say nothing one does not.
fn check_duplicate_params(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    for m in &mut imp.methods {
        let mut first: HashMap<String, (Span, bool)> = HashMap::new();
        let method = m.ident.to_string();
        for p in &mut m.params {
            if p.rejected {
                continue;
            }
            let (key, span) = match &p.kind {
                ParamKind::Id { kind, id, .. } => (format!("{} `{}`", kind.noun(), id.value()), id.span()),
                ParamKind::Context { kind, .. } => (format!("the `{}`", kind.name()), p.ty.span()),
                _ => continue,
            };
            let mutable = !matches!(&p.ty, Type::Reference(r) if r.mutability.is_none());
            match first.get(&key) {
                Some(&(at, first_mutable)) => {
                    let why = if mutable || first_mutable {
                        "a `&mut` borrow of it cannot alias another"
                    } else {
                        "one shared borrow reads all of it"
                    };
                    duplicate(
                        cx,
                        span,
                        at,
                        format!("method `{method}` of DoFn `{}` takes {key} twice: take it once ({why})", decls.name),
                        format!("method `{method}` first takes {key}"),
                    );
                    p.rejected = true;
                }
                None => {
                    first.insert(key, (span, mutable));
                }
            }
        }
    }
}

/// Timers, families and contexts are taken by `&mut`; cells by `&mut`, or by `&` to only read them; each
/// borrow for the call alone (no named lifetime but `'_`) and of the thing itself (not of a reference to it).
fn check_borrowed_mutably(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    for m in &mut imp.methods {
        for p in &mut m.params {
            // `Some(mutable)` for a plain borrow, `None` for anything else.
            let reference = match &p.ty {
                Type::Reference(r)
                    if r.lifetime.as_ref().is_none_or(|l| l.ident == "_") && !matches!(*r.elem, Type::Reference(_)) =>
                {
                    Some(r.mutability.is_some())
                }
                _ => None,
            };
            if p.rejected || reference == Some(true) {
                continue;
            }
            let (what, wanted, help) = match &p.kind {
                ParamKind::Id { kind: IdKind::State, .. } if reference.is_some() => continue,
                ParamKind::Id { kind: IdKind::State, id, index: Some(i), .. } => {
                    let ty = &decls.of(IdKind::State)[*i].ty;
                    (
                        format!("state `{}` of DoFn `{}` has type `{ty}`", id.value(), decls.name),
                        format!("`&mut {ty}` (or `&{ty}` to only read it)"),
                        "the runner keeps the cell between calls and lends it to each call",
                    )
                }
                ParamKind::Id { kind: IdKind::Timer, id, .. } => (
                    format!("`{}` is a timer of DoFn `{}`", id.value(), decls.name),
                    "`&mut Timer`".into(),
                    "the method sets or clears the timer through it: take it by `&mut`",
                ),
                ParamKind::Id { kind: IdKind::Family, id, .. } => (
                    format!("`{}` is a timer family of DoFn `{}`", id.value(), decls.name),
                    "`&mut TimerMap`".into(),
                    "the method sets or clears the family's timers through it: take it by `&mut`",
                ),
                ParamKind::Context { kind, .. } => (
                    format!("the context of `{}` method `{}`", m.role.display(), m.ident),
                    format!("`&mut {}<..>`", kind.name()),
                    "the method outputs through it: take it by `&mut`",
                ),
                _ => continue,
            };
            cx.error_spanned_by(
                &p.ty,
                format!("{what}, so its parameter must be {wanted}, not `{}`\nhelp: {help}", type_string(&p.ty)),
            );
            p.rejected = true;
        }
    }
}

/// Every parameter is one `#[dofn]` can provide.
fn check_unknown_params(cx: &Ctxt, decls: &Declarations, imp: &mut DofnImpl) {
    for m in &mut imp.methods {
        let role = m.role.clone();
        for p in &mut m.params {
            if p.rejected || !matches!(p.kind, ParamKind::Unknown) {
                continue;
            }
            cx.error_spanned_by(
                &p.ty,
                format!(
                    "`{}` method `{}` of DoFn `{}` takes a `{}`, which `#[dofn]` cannot provide\nhelp: {}",
                    role.display(),
                    m.ident,
                    decls.name,
                    type_string(&p.ty),
                    available(&role)
                ),
            );
            p.rejected = true;
        }
    }
}

/// What a method with `role` may take, for messages.
fn available(role: &Role) -> String {
    match role {
        Role::ProcessElement => "a `#[process_element]` method takes `&mut ProcessContext<I, O>`, `Element<&I>`, \
            `Key<&K>`, `Timestamp`, `Window`, and `#[state_id(..)]`, `#[timer_id(..)]`, `#[timer_family_id(..)]` \
            parameters"
            .into(),
        Role::OnTimer(_) => "a timer callback takes `&mut TimerContext<O>`, `Key<&K>`, `Timestamp` (the output \
            timestamp; the firing time is `cx.firing_timestamp()`), `Window`, and `#[state_id(..)]`, \
            `#[timer_id(..)]`, `#[timer_family_id(..)]` parameters"
            .into(),
        Role::OnTimerFamily(_) => "a timer family callback takes `&mut TimerContext<O>`, `TimerTag`, `Key<&K>`, \
            `Timestamp` (the output timestamp; the firing time is `cx.firing_timestamp()`), `Window`, and \
            `#[state_id(..)]`, `#[timer_id(..)]`, `#[timer_family_id(..)]` parameters"
            .into(),
        Role::OnWindowExpiration => "an `#[on_window_expiration]` method takes `&mut ExpirationContext<O>`, \
            `Key<&K>`, `Window` and `#[state_id(..)]` parameters"
            .into(),
        Role::FinishBundle => "a `#[finish_bundle]` method takes only `&mut BundleContext<O>`".into(),
        Role::AllowedTimestampSkew => "an `#[allowed_timestamp_skew]` method takes only `&self`".into(),
        other => format!("a `{}` method takes only `&self` or `&mut self`", other.display()),
    }
}
