//! One schema as the diff rules see it ([`View`]): `$ref`s followed to the
//! component they name, `allOf` merged, `anyOf`/`oneOf` split into a
//! nullability flag and the remaining variants (so FastAPI's `anyOf: [X,
//! {type: null}]` reads as "X or null"), and every part with the JSON
//! pointer of where it is written in its document.

use std::collections::{BTreeMap, BTreeSet};

use oas3::Spec;
use oas3::spec::{
    ObjectOrReference, ObjectSchema, Schema, SchemaType as Type, SchemaTypeSet as TypeSet,
};
use serde_json::Value;

/// How deep `$ref` chains and `allOf` nesting are followed; a spec deeper
/// than this is cyclic or absurd, and the rest is not compared.
const MAX_DEPTH: usize = 32;

/// A JSON type, ordered so sets of them print the same way every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Array,
    Boolean,
    Integer,
    Number,
    Object,
    String,
}

impl Kind {
    fn of(t: Type) -> Option<Kind> {
        Some(match t {
            Type::Array => Kind::Array,
            Type::Boolean => Kind::Boolean,
            Type::Integer => Kind::Integer,
            Type::Number => Kind::Number,
            Type::Object => Kind::Object,
            Type::String => Kind::String,
            Type::Null => return None,
        })
    }

    fn of_value(v: &Value) -> Option<Kind> {
        Some(match v {
            Value::Null => return None,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => Kind::Integer,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Array => "array",
            Kind::Boolean => "boolean",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Object => "object",
            Kind::String => "string",
        }
    }
}

/// A part of a schema and where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Part<'a> {
    pub schema: &'a Schema,
    pub pointer: String,
}

/// What the rules compare of one schema.
#[derive(Debug, Clone, Default)]
pub(crate) struct View<'a> {
    /// Where the schema is written (the component, for a `$ref`).
    pub pointer: String,
    /// The component's name, when the schema is one.
    pub name: Option<String>,
    /// `None`: any type.
    pub kinds: Option<BTreeSet<Kind>>,
    pub nullable: bool,
    /// `enum` (or `const`), without `null`.
    pub values: Option<Vec<Value>>,
    pub properties: BTreeMap<String, Part<'a>>,
    pub required: BTreeSet<String>,
    pub items: Option<Part<'a>>,
    /// The non-null alternatives of an `anyOf`/`oneOf` of two or more.
    pub variants: Vec<Part<'a>>,
}

impl View<'_> {
    /// `integer | string`, `any`, `null`; nullability is told apart.
    pub(crate) fn kinds_text(kinds: Option<&BTreeSet<Kind>>) -> String {
        match kinds {
            None => "any".to_owned(),
            Some(k) if k.is_empty() => "nothing".to_owned(),
            Some(k) => k.iter().map(|k| k.name()).collect::<Vec<_>>().join(" | "),
        }
    }

    /// How messages name this schema as a variant: its component, else its types.
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("`{name}`"),
            None => format!("`{}`", Self::kinds_text(self.kinds.as_ref())),
        }
    }
}

/// `/` and `~` escaped, for one segment of a JSON pointer.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The schema a `$ref` names (`#/components/schemas/<name>`), with its pointer.
fn component<'a>(spec: &'a Spec, reference: &str) -> Option<(&'a Schema, String, String)> {
    let name = reference.strip_prefix("#/components/schemas/")?;
    let schema = spec.components.as_ref()?.schemas.get(name)?;
    Some((
        schema,
        format!("/components/schemas/{}", escape(name)),
        name.to_owned(),
    ))
}

/// The view of `part` in `spec`.
pub(crate) fn view<'a>(spec: &'a Spec, part: &Part<'a>) -> View<'a> {
    view_at(spec, part.schema, part.pointer.clone(), 0)
}

fn view_at<'a>(spec: &'a Spec, schema: &'a Schema, pointer: String, depth: usize) -> View<'a> {
    let unknown = |pointer| View {
        pointer,
        ..View::default()
    };
    if depth > MAX_DEPTH {
        return unknown(pointer);
    }
    let object = match schema {
        Schema::Boolean(b) if b.0 => return unknown(pointer),
        Schema::Boolean(_) => {
            return View {
                pointer,
                kinds: Some(BTreeSet::new()),
                ..View::default()
            };
        }
        Schema::Object(boxed) => match boxed.as_ref() {
            ObjectOrReference::Object(object) => object,
            ObjectOrReference::Ref { ref_path, .. } => {
                return match component(spec, ref_path) {
                    Some((target, pointer, name)) => {
                        let mut v = view_at(spec, target, pointer, depth + 1);
                        v.name.get_or_insert(name);
                        v
                    }
                    // An unresolvable reference compares as "anything".
                    None => unknown(pointer),
                };
            }
        },
    };
    let mut v = own(object, &pointer);
    for (i, member) in object.all_of.iter().enumerate() {
        let m = view_at(spec, member, format!("{pointer}/allOf/{i}"), depth + 1);
        merge(&mut v, m, object.all_of.len() == 1);
    }
    let (alternatives, key) = if object.one_of.is_empty() {
        (&object.any_of, "anyOf")
    } else {
        (&object.one_of, "oneOf")
    };
    let mut others = Vec::new();
    for (i, alt) in alternatives.iter().enumerate() {
        let at = format!("{pointer}/{key}/{i}");
        let alt_view = view_at(spec, alt, at.clone(), depth + 1);
        if alt_view.kinds.as_ref().is_some_and(BTreeSet::is_empty) && alt_view.nullable {
            v.nullable = true;
        } else {
            others.push((alt, at, alt_view));
        }
    }
    if others.len() > 1 && others.iter().all(|(_, _, o)| is_literal(o)) {
        // `anyOf` of constants (pydantic's `Literal["a", "b"]`): an enum.
        let mut values = Vec::new();
        let mut kinds = BTreeSet::new();
        for (_, _, o) in others.drain(..) {
            values.extend(o.values.into_iter().flatten());
            kinds.extend(o.kinds.into_iter().flatten());
        }
        merge(
            &mut v,
            View {
                pointer: String::new(),
                kinds: Some(kinds),
                values: Some(values),
                ..View::default()
            },
            false,
        );
    }
    if others.len() == 1 {
        // `X or null`: X itself.
        let (_, _, alt_view) = others.pop().expect("one alternative");
        let nullable = v.nullable || alt_view.nullable;
        merge(&mut v, alt_view, true);
        v.nullable = nullable;
    } else {
        v.variants = others
            .into_iter()
            .map(|(schema, pointer, _)| Part { schema, pointer })
            .collect();
    }
    v
}

/// A constant or an enum of scalars, and nothing else.
fn is_literal(v: &View<'_>) -> bool {
    v.values.is_some()
        && v.name.is_none()
        && v.properties.is_empty()
        && v.items.is_none()
        && v.variants.is_empty()
}

/// What tells variants of a union apart when they have no component name:
/// their types, values and (one level down) their items'.
pub(crate) fn signature(spec: &Spec, v: &View<'_>, depth: usize) -> String {
    if let Some(name) = &v.name {
        return name.clone();
    }
    let mut sig = View::kinds_text(v.kinds.as_ref());
    if let Some(values) = &v.values {
        sig.push_str(&serde_json::to_string(values).unwrap_or_default());
    }
    if let (Some(items), true) = (&v.items, depth > 0) {
        let inner = view(spec, items);
        sig.push_str(&format!("[{}]", signature(spec, &inner, depth - 1)));
    }
    sig
}

/// What the schema object says itself, before `allOf` and alternatives.
fn own<'a>(object: &'a ObjectSchema, pointer: &str) -> View<'a> {
    let mut nullable = false;
    let mut kinds = object.schema_type.as_ref().map(|set| {
        let types: Vec<Type> = match set {
            TypeSet::Single(t) => vec![*t],
            TypeSet::Multiple(ts) => ts.clone(),
        };
        nullable = types.contains(&Type::Null);
        types
            .into_iter()
            .filter_map(Kind::of)
            .collect::<BTreeSet<_>>()
    });
    let listed: Option<Vec<Value>> = match &object.const_value {
        Some(c) => Some(vec![c.clone()]),
        None if !object.enum_values.is_empty() => Some(object.enum_values.clone()),
        None => None,
    };
    let values = listed.map(|vals| {
        nullable |= vals.iter().any(Value::is_null);
        if kinds.is_none() {
            kinds = Some(vals.iter().filter_map(Kind::of_value).collect());
        }
        vals.into_iter().filter(|v| !v.is_null()).collect()
    });
    View {
        pointer: pointer.to_owned(),
        name: None,
        kinds,
        nullable,
        values,
        properties: object
            .properties
            .iter()
            .map(|(name, schema)| {
                let at = format!("{pointer}/properties/{}", escape(name));
                (
                    name.clone(),
                    Part {
                        schema,
                        pointer: at,
                    },
                )
            })
            .collect(),
        required: object.required.iter().cloned().collect(),
        items: object.items.as_deref().map(|schema| Part {
            schema,
            pointer: format!("{pointer}/items"),
        }),
        variants: Vec::new(),
    }
}

/// Adds what `other` (an `allOf` member, or the one non-null alternative)
/// says to `v`. A sole member also lends its name and pointer, so the
/// schema reads as the component it wraps.
fn merge<'a>(v: &mut View<'a>, other: View<'a>, sole: bool) {
    v.kinds = match (v.kinds.take(), other.kinds) {
        (None, k) | (k, None) => k,
        (Some(a), Some(b)) => Some(a.intersection(&b).copied().collect()),
    };
    v.nullable |= other.nullable;
    if v.values.is_none() {
        v.values = other.values;
    }
    for (name, part) in other.properties {
        v.properties.entry(name).or_insert(part);
    }
    v.required.extend(other.required);
    if v.items.is_none() {
        v.items = other.items;
    }
    if v.variants.is_empty() {
        v.variants = other.variants;
    }
    if sole && v.name.is_none() {
        v.name = other.name;
    }
    if sole && other.pointer.starts_with("/components/") {
        v.pointer = other.pointer;
    }
}
