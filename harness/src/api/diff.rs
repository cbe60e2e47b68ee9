//! The rules: what changed between two specs' `/v1/` operations, each
//! finding breaking or informational, with the JSON pointer of where it is
//! written. A finding about a shared component is listed once, with every
//! operation it reaches.
//!
//! | part | breaking | information |
//! |---|---|---|
//! | paths, methods | removed | added |
//! | parameters | new required, became required, type or enum narrowed | new optional, removed, widened |
//! | request body | became required, media type removed, new required field, type or enum narrowed | new optional field, field removed, widened |
//! | responses | success status or media type removed, field removed, field no longer required, type widened or now null, new variant | added, enum values added or removed, narrowed |

use std::collections::{BTreeMap, BTreeSet, HashMap};

use oas3::Spec;
use oas3::spec::{MediaType, ObjectOrReference, Operation, Parameter, PathItem, Schema};
use serde_json::Value;

use super::schema::{Kind, Part, View, escape, signature, view};

/// Only these paths are compared (upstream's `--match-path '^/v1/'`).
pub(crate) const PREFIX: &str = "/v1/";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Breaking,
    Info,
}

/// Which document a finding's pointer is into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// The old spec (the baseline): for what is gone.
    Old,
    /// The new spec (the served one): for what is new or changed.
    New,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub side: Side,
    /// Where it is written, e.g. `/components/schemas/Conversation/properties/items`.
    pub pointer: String,
    pub message: String,
    /// `GET /v1/models`, ...: the operations it reaches.
    pub operations: BTreeSet<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

/// Which way data flows through a schema: what a client sends must still
/// be accepted (narrowing breaks), what it receives must still be
/// understood (widening and removal break).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Flow {
    Request,
    Response,
}

/// Every finding from `old` to `new`, breaking first, each group in
/// pointer order.
pub fn diff(old: &Spec, new: &Spec) -> Vec<Finding> {
    let mut d = Differ {
        old,
        new,
        found: Vec::new(),
        index: HashMap::new(),
        done: HashMap::new(),
        active: BTreeSet::new(),
        operation: String::new(),
    };
    let empty = oas3::Map::default();
    let old_paths = old.paths.as_ref().unwrap_or(&empty);
    let new_paths = new.paths.as_ref().unwrap_or(&empty);
    let names: BTreeSet<&String> = old_paths
        .keys()
        .chain(new_paths.keys())
        .filter(|p| p.starts_with(PREFIX))
        .collect();
    for path in names {
        let at = format!("/paths/{}", escape(path));
        match (old_paths.get(path), new_paths.get(path)) {
            (Some(o), None) => {
                d.operation = format!("{} {path}", methods(o).join(", "));
                d.add(
                    Severity::Breaking,
                    Side::Old,
                    at,
                    format!("removed path `{path}` ({})", methods(o).join(", ")),
                );
            }
            (None, Some(n)) => {
                d.operation = format!("{} {path}", methods(n).join(", "));
                d.add(
                    Severity::Info,
                    Side::New,
                    at,
                    format!("new path `{path}` ({})", methods(n).join(", ")),
                );
            }
            (Some(o), Some(n)) => d.path(path, &at, o, n),
            (None, None) => {}
        }
    }
    let mut found = d.found;
    found.sort_by(|a, b| {
        (a.severity, &a.pointer, &a.message).cmp(&(b.severity, &b.pointer, &b.message))
    });
    found
}

fn methods(item: &PathItem) -> Vec<String> {
    item.methods()
        .into_iter()
        .map(|(m, _)| m.as_str().to_owned())
        .collect()
}

fn operations(item: &PathItem) -> BTreeMap<String, &Operation> {
    item.methods()
        .into_iter()
        .map(|(m, op)| (m.as_str().to_owned(), op))
        .collect()
}

struct Differ<'a> {
    old: &'a Spec,
    new: &'a Spec,
    found: Vec<Finding>,
    /// (pointer, message) -> index in `found`, to merge operations.
    index: HashMap<(String, String), usize>,
    /// Schema pairs already compared in a flow, with the findings they gave,
    /// so a shared component is compared once and credited to every operation.
    done: HashMap<(String, String, Flow), Vec<usize>>,
    /// Pairs being compared now (a recursive schema stops here).
    active: BTreeSet<(String, String, Flow)>,
    /// `GET /v1/models`: the operation being compared.
    operation: String,
}

impl<'a> Differ<'a> {
    fn add(&mut self, severity: Severity, side: Side, pointer: String, message: String) -> usize {
        let key = (pointer.clone(), message.clone());
        let i = *self.index.entry(key).or_insert_with(|| {
            self.found.push(Finding {
                severity,
                side,
                pointer,
                message,
                operations: BTreeSet::new(),
            });
            self.found.len() - 1
        });
        self.found[i].operations.insert(self.operation.clone());
        i
    }

    /// [`Differ::add`], remembering the finding as one of a comparison's.
    fn mark(
        &mut self,
        touched: &mut Vec<usize>,
        severity: Severity,
        side: Side,
        pointer: impl Into<String>,
        message: String,
    ) {
        touched.push(self.add(severity, side, pointer.into(), message));
    }

    fn path(&mut self, path: &str, at: &str, o: &'a PathItem, n: &'a PathItem) {
        let (old_ops, new_ops) = (operations(o), operations(n));
        let all: BTreeSet<&String> = old_ops.keys().chain(new_ops.keys()).collect();
        for method in all {
            self.operation = format!("{method} {path}");
            let op_at = format!("{at}/{}", method.to_lowercase());
            match (old_ops.get(method), new_ops.get(method)) {
                (Some(_), None) => {
                    let message = format!("removed operation `{method} {path}`");
                    self.add(Severity::Breaking, Side::Old, op_at, message);
                }
                (None, Some(_)) => {
                    let message = format!("new operation `{method} {path}`");
                    self.add(Severity::Info, Side::New, op_at, message);
                }
                (Some(old_op), Some(new_op)) => {
                    self.parameters(&op_at, o, old_op, n, new_op);
                    self.request_body(&op_at, old_op, new_op);
                    self.responses(&op_at, old_op, new_op);
                }
                (None, None) => {}
            }
        }
    }

    fn parameters(
        &mut self,
        at: &str,
        o: &'a PathItem,
        old_op: &'a Operation,
        n: &'a PathItem,
        new_op: &'a Operation,
    ) {
        let old = params(self.old, at, o, old_op);
        let new = params(self.new, at, n, new_op);
        for (key @ (place, name), (pointer, p)) in &new {
            let what = format!("{place} parameter `{name}`");
            let required = p.required == Some(true);
            match old.get(key) {
                None if required => {
                    self.add(
                        Severity::Breaking,
                        Side::New,
                        pointer.clone(),
                        format!("new required {what}"),
                    );
                }
                None => {
                    self.add(
                        Severity::Info,
                        Side::New,
                        pointer.clone(),
                        format!("new optional {what}"),
                    );
                }
                Some((old_pointer, q)) => {
                    if required && q.required != Some(true) {
                        self.add(
                            Severity::Breaking,
                            Side::New,
                            pointer.clone(),
                            format!("{what} is now required"),
                        );
                    }
                    let (old, new) = ((&q.schema, old_pointer), (&p.schema, pointer));
                    self.held(old, new, Flow::Request);
                }
            }
        }
        for (key @ (place, name), (pointer, _)) in &old {
            if !new.contains_key(key) {
                let message = format!("{place} parameter `{name}` removed");
                self.add(Severity::Info, Side::Old, pointer.clone(), message);
            }
        }
    }

    fn request_body(&mut self, at: &str, old_op: &'a Operation, new_op: &'a Operation) {
        let pointer = format!("{at}/requestBody");
        match (body(self.old, at, old_op), body(self.new, at, new_op)) {
            (None, None) => {}
            (Some(_), None) => {
                self.add(
                    Severity::Info,
                    Side::Old,
                    pointer,
                    "request body removed".to_owned(),
                );
            }
            (None, Some((required, _))) => {
                let (severity, message) = if required {
                    (Severity::Breaking, "new required request body")
                } else {
                    (Severity::Info, "new optional request body")
                };
                self.add(severity, Side::New, pointer, message.to_owned());
            }
            (Some((was_required, old)), Some((required, new))) => {
                if required && !was_required {
                    let message = "request body is now required".to_owned();
                    self.add(Severity::Breaking, Side::New, pointer, message);
                }
                self.content(&old, &new, Flow::Request, "request body");
            }
        }
    }

    fn responses(&mut self, at: &str, old_op: &'a Operation, new_op: &'a Operation) {
        let old = responses(self.old, at, old_op);
        let new = responses(self.new, at, new_op);
        for (status, (pointer, old_content)) in &old {
            match new.get(status) {
                None => {
                    let severity = if status.starts_with('2') {
                        Severity::Breaking
                    } else {
                        Severity::Info
                    };
                    let message = format!("removed response `{status}`");
                    self.add(severity, Side::Old, pointer.clone(), message);
                }
                Some((_, new_content)) => {
                    let what = format!("response `{status}`");
                    self.content(old_content, new_content, Flow::Response, &what);
                }
            }
        }
        for (status, (pointer, _)) in new.iter().filter(|(s, _)| !old.contains_key(*s)) {
            let message = format!("new response `{status}`");
            self.add(Severity::Info, Side::New, pointer.clone(), message);
        }
    }

    fn content(&mut self, old: &Content<'a>, new: &Content<'a>, flow: Flow, what: &str) {
        for (media, (pointer, old_type)) in old {
            match new.get(media) {
                None => {
                    let message = format!("{what} no longer has media type `{media}`");
                    self.add(Severity::Breaking, Side::Old, pointer.clone(), message);
                }
                Some((new_pointer, new_type)) => {
                    let old = (&old_type.schema, pointer);
                    self.held(old, (&new_type.schema, new_pointer), flow);
                }
            }
        }
        for (media, (pointer, _)) in new.iter().filter(|(m, _)| !old.contains_key(*m)) {
            let message = format!("{what} has a new media type `{media}`");
            self.add(Severity::Info, Side::New, pointer.clone(), message);
        }
    }

    /// Compares the `schema`s of two parameters or media types, written
    /// at the pointers given.
    fn held(
        &mut self,
        old: (&'a Option<Schema>, &String),
        new: (&'a Option<Schema>, &String),
        flow: Flow,
    ) {
        if let ((Some(os), old_at), (Some(ns), new_at)) = (old, new) {
            let old_part = Part {
                schema: os,
                pointer: format!("{old_at}/schema"),
            };
            let new_part = Part {
                schema: ns,
                pointer: format!("{new_at}/schema"),
            };
            self.schema(&old_part, &new_part, flow);
        }
    }

    /// Compares two schemas in a flow, once per pair of places.
    fn schema(&mut self, old: &Part<'a>, new: &Part<'a>, flow: Flow) {
        let (o, n) = (view(self.old, old), view(self.new, new));
        let key = (o.pointer.clone(), n.pointer.clone(), flow);
        if let Some(earlier) = self.done.get(&key) {
            for &i in earlier.clone().iter() {
                self.found[i].operations.insert(self.operation.clone());
            }
            return;
        }
        if !self.active.insert(key.clone()) {
            return;
        }
        let before = self.found.len();
        let mut touched = Vec::new();
        self.compare(&o, &n, flow, &mut touched);
        self.active.remove(&key);
        touched.extend(before..self.found.len());
        touched.sort_unstable();
        touched.dedup();
        self.done.insert(key, touched);
    }

    fn compare(&mut self, o: &View<'a>, n: &View<'a>, flow: Flow, touched: &mut Vec<usize>) {
        if o.variants.is_empty() && n.variants.is_empty() {
            self.plain(o, n, flow, touched);
            return;
        }
        let expand = |spec: &'a Spec, v: &View<'a>| -> Vec<View<'a>> {
            if v.variants.is_empty() {
                vec![View {
                    variants: Vec::new(),
                    ..v.clone()
                }]
            } else {
                v.variants.iter().map(|p| view(spec, p)).collect()
            }
        };
        let olds = expand(self.old, o);
        let news = expand(self.new, n);
        let old_sigs: Vec<String> = olds.iter().map(|v| signature(self.old, v, 2)).collect();
        let new_sigs: Vec<String> = news.iter().map(|v| signature(self.new, v, 2)).collect();
        let mut matched_new = BTreeSet::new();
        for (i, ov) in olds.iter().enumerate() {
            match counterpart(ov, &old_sigs[i], &news, &new_sigs, &matched_new) {
                Some(j) => {
                    matched_new.insert(j);
                    let nv = &news[j];
                    if ov.variants.is_empty() && nv.variants.is_empty() {
                        self.nested(ov, nv, flow, touched);
                    }
                }
                None => {
                    let (severity, message) = match flow {
                        Flow::Request => (
                            Severity::Breaking,
                            format!("no longer accepts the {} form", ov.label()),
                        ),
                        Flow::Response => (
                            Severity::Info,
                            format!("is no longer the {} form", ov.label()),
                        ),
                    };
                    touched.push(self.add(severity, Side::Old, o.pointer.clone(), message));
                }
            }
        }
        let unmatched = news
            .iter()
            .enumerate()
            .filter(|(j, _)| !matched_new.contains(j));
        for (_, nv) in unmatched {
            let (severity, message) = match flow {
                Flow::Request => (
                    Severity::Info,
                    format!("now also accepts the {} form", nv.label()),
                ),
                Flow::Response => (
                    Severity::Breaking,
                    format!("may now also be the {} form", nv.label()),
                ),
            };
            touched.push(self.add(severity, Side::New, n.pointer.clone(), message));
        }
    }

    /// A matched pair of variants: compared as a schema pair of its own
    /// when both are components (so each is compared once), else in place.
    fn nested(&mut self, o: &View<'a>, n: &View<'a>, flow: Flow, touched: &mut Vec<usize>) {
        let key = (o.pointer.clone(), n.pointer.clone(), flow);
        if let Some(earlier) = self.done.get(&key) {
            for &i in earlier.clone().iter() {
                self.found[i].operations.insert(self.operation.clone());
                touched.push(i);
            }
            return;
        }
        if !self.active.insert(key.clone()) {
            return;
        }
        let before = self.found.len();
        let mut inner = Vec::new();
        self.plain(o, n, flow, &mut inner);
        self.active.remove(&key);
        inner.extend(before..self.found.len());
        touched.extend(inner.iter().copied());
        self.done.insert(key, inner);
    }

    /// Two schemas without alternatives: types, values, fields, items.
    fn plain(&mut self, o: &View<'a>, n: &View<'a>, flow: Flow, touched: &mut Vec<usize>) {
        let (old_kinds, new_kinds) = (o.kinds.as_ref(), n.kinds.as_ref());
        let narrowed = !covers(new_kinds, old_kinds);
        let widened = !covers(old_kinds, new_kinds);
        let types = |from, to| {
            format!(
                "type {} from `{}` to `{}`",
                from,
                View::kinds_text(old_kinds),
                View::kinds_text(to)
            )
        };
        match flow {
            Flow::Request if narrowed => self.mark(
                touched,
                Severity::Breaking,
                Side::New,
                &n.pointer,
                types("narrowed", new_kinds),
            ),
            Flow::Response if widened => self.mark(
                touched,
                Severity::Breaking,
                Side::New,
                &n.pointer,
                types("widened", new_kinds),
            ),
            _ if narrowed || widened => {
                let how = if narrowed { "narrowed" } else { "widened" };
                self.mark(
                    touched,
                    Severity::Info,
                    Side::New,
                    &n.pointer,
                    types(how, new_kinds),
                );
            }
            _ => {}
        }
        match (o.nullable, n.nullable, flow) {
            (true, false, Flow::Request) => self.mark(
                touched,
                Severity::Breaking,
                Side::New,
                &n.pointer,
                "no longer accepts null".to_owned(),
            ),
            (false, true, Flow::Response) => self.mark(
                touched,
                Severity::Breaking,
                Side::New,
                &n.pointer,
                "may now be null".to_owned(),
            ),
            (true, false, Flow::Response) => self.mark(
                touched,
                Severity::Info,
                Side::New,
                &n.pointer,
                "is no longer null".to_owned(),
            ),
            (false, true, Flow::Request) => self.mark(
                touched,
                Severity::Info,
                Side::New,
                &n.pointer,
                "now accepts null".to_owned(),
            ),
            _ => {}
        }
        match (&o.values, &n.values) {
            (Some(ov), Some(nv)) => {
                let gone = missing(ov, nv);
                let added = missing(nv, ov);
                if !gone.is_empty() {
                    let severity = if flow == Flow::Request {
                        Severity::Breaking
                    } else {
                        Severity::Info
                    };
                    self.mark(
                        touched,
                        severity,
                        Side::New,
                        &n.pointer,
                        format!("enum no longer has {gone}"),
                    );
                }
                if !added.is_empty() {
                    self.mark(
                        touched,
                        Severity::Info,
                        Side::New,
                        &n.pointer,
                        format!("enum now also has {added}"),
                    );
                }
            }
            (None, Some(nv)) if flow == Flow::Request => {
                let listed = nv
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                self.mark(
                    touched,
                    Severity::Breaking,
                    Side::New,
                    &n.pointer,
                    format!("now only accepts {listed}"),
                );
            }
            (Some(_), None) if flow == Flow::Response => {
                self.mark(
                    touched,
                    Severity::Breaking,
                    Side::New,
                    &n.pointer,
                    "is no longer limited to a list of values".to_owned(),
                );
            }
            _ => {}
        }
        self.fields(o, n, flow, touched);
        if let (Some(oi), Some(ni)) = (&o.items, &n.items) {
            self.schema(oi, ni, flow);
            let key = (view(self.old, oi).pointer, view(self.new, ni).pointer, flow);
            touched.extend(self.done.get(&key).into_iter().flatten().copied());
        }
    }

    fn fields(&mut self, o: &View<'a>, n: &View<'a>, flow: Flow, touched: &mut Vec<usize>) {
        use Severity::{Breaking, Info};
        for (name, np) in &n.properties {
            let required = n.required.contains(name);
            let was_required = o.required.contains(name);
            let found = match (o.properties.get(name), flow) {
                (None, Flow::Request) if required => (Breaking, "new required field `{}`"),
                (None, Flow::Request) => (Info, "new optional field `{}`"),
                (None, Flow::Response) => (Info, "new response field `{}`"),
                (Some(_), Flow::Request) if required && !was_required => {
                    (Breaking, "field `{}` is now required")
                }
                (Some(_), Flow::Response) if !required && was_required => {
                    (Breaking, "response field `{}` is no longer required")
                }
                _ => continue,
            };
            let (severity, message) = (found.0, found.1.replace("{}", name));
            self.mark(touched, severity, Side::New, np.pointer.clone(), message);
        }
        // Required without being a property (an open object's named key).
        let named = n
            .required
            .iter()
            .filter(|r| !n.properties.contains_key(*r) && !o.required.contains(*r));
        for name in named.filter(|_| flow == Flow::Request) {
            let at = format!("{}/required", n.pointer);
            let message = format!("new required field `{name}`");
            self.mark(touched, Breaking, Side::New, at, message);
        }
        for (name, op) in &o.properties {
            match (n.properties.get(name), flow) {
                (None, Flow::Response) => {
                    let message = format!("removed response field `{name}`");
                    self.mark(touched, Breaking, Side::Old, op.pointer.clone(), message);
                }
                (None, Flow::Request) => {
                    let message = format!("field `{name}` removed");
                    self.mark(touched, Info, Side::Old, op.pointer.clone(), message);
                }
                (Some(np), _) => {
                    self.schema(op, np, flow);
                    let key = (view(self.old, op).pointer, view(self.new, np).pointer, flow);
                    touched.extend(self.done.get(&key).into_iter().flatten().copied());
                }
            }
        }
    }
}

/// Every value of `a` covers... : `a` allows everything `b` does
/// (`None` is any type; a number allows an integer).
fn covers(a: Option<&BTreeSet<Kind>>, b: Option<&BTreeSet<Kind>>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => b
            .iter()
            .all(|k| a.contains(k) || (*k == Kind::Integer && a.contains(&Kind::Number))),
    }
}

/// The values of `a` that `b` lacks, as `"x", "y"`.
fn missing(a: &[Value], b: &[Value]) -> String {
    a.iter()
        .filter(|v| !b.contains(v))
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The variant of `news` that `ov` became: the same component, else one
/// of the same shape, else the only one of the same types.
fn counterpart(
    ov: &View<'_>,
    sig: &str,
    news: &[View<'_>],
    sigs: &[String],
    taken: &BTreeSet<usize>,
) -> Option<usize> {
    let free = || (0..news.len()).filter(|j| !taken.contains(j));
    if let Some(j) = free().find(|j| sigs[*j] == sig) {
        return Some(j);
    }
    if ov.name.is_some() {
        return None;
    }
    let same: Vec<usize> = free()
        .filter(|j| news[*j].name.is_none() && news[*j].kinds == ov.kinds)
        .collect();
    match same.as_slice() {
        [j] => Some(*j),
        _ => None,
    }
}

type Params<'a> = BTreeMap<(String, String), (String, &'a Parameter)>;
type Content<'a> = BTreeMap<String, (String, &'a MediaType)>;

/// The object `item` is, following a `$ref` into `components.<kind>`,
/// with the pointer of where it is written.
fn resolve<'a, T>(
    item: &'a ObjectOrReference<T>,
    pointer: String,
    kind: &str,
    table: Option<&'a oas3::Map<String, ObjectOrReference<T>>>,
) -> Option<(&'a T, String)> {
    match item {
        ObjectOrReference::Object(object) => Some((object, pointer)),
        ObjectOrReference::Ref { ref_path, .. } => {
            let name = ref_path.strip_prefix(&format!("#/components/{kind}/"))?;
            let target = table?.get(name)?;
            // A reference to a reference is followed once more, no further.
            match target {
                ObjectOrReference::Object(object) => {
                    Some((object, format!("/components/{kind}/{}", escape(name))))
                }
                ObjectOrReference::Ref { .. } => None,
            }
        }
    }
}

/// An operation's parameters (the path item's too), keyed by place and name,
/// with their pointers.
fn params<'a>(spec: &'a Spec, at: &str, item: &'a PathItem, op: &'a Operation) -> Params<'a> {
    let path_at = at.rsplit_once('/').map_or(at, |(p, _)| p);
    let table = spec.components.as_ref().map(|c| &c.parameters);
    let shared = item
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("{path_at}/parameters/{i}"), p));
    let own = op
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("{at}/parameters/{i}"), p));
    let mut out = BTreeMap::new();
    for (pointer, p) in shared.chain(own) {
        if let Some((p, pointer)) = resolve(p, pointer, "parameters", table) {
            let place = serde_json::to_value(p.location)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            out.insert((place, p.name.clone()), (pointer, p));
        }
    }
    out
}

/// Whether the request body is required, and its media types.
fn body<'a>(spec: &'a Spec, at: &str, op: &'a Operation) -> Option<(bool, Content<'a>)> {
    let table = spec.components.as_ref().map(|c| &c.request_bodies);
    let (body, pointer) = resolve(
        op.request_body.as_ref()?,
        format!("{at}/requestBody"),
        "requestBodies",
        table,
    )?;
    Some((
        body.required == Some(true),
        content(&pointer, &body.content),
    ))
}

fn content<'a>(at: &str, media: &'a oas3::Map<String, MediaType>) -> Content<'a> {
    media
        .iter()
        .map(|(name, m)| (name.clone(), (format!("{at}/content/{}", escape(name)), m)))
        .collect()
}

/// Each status's media types.
fn responses<'a>(
    spec: &'a Spec,
    at: &str,
    op: &'a Operation,
) -> BTreeMap<String, (String, Content<'a>)> {
    let table = spec.components.as_ref().map(|c| &c.responses);
    op.responses
        .iter()
        .flatten()
        .filter_map(|(status, r)| {
            let pointer = format!("{at}/responses/{}", escape(status));
            let (r, resolved) = resolve(r, pointer.clone(), "responses", table)?;
            Some((status.clone(), (pointer, content(&resolved, &r.content))))
        })
        .collect()
}

#[cfg(test)]
mod tests;
