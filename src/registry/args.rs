//! Parameter plumbing shared by every tool: parsing arguments into typed structs with errors that
//! name the parameter (and never echo the rejected value), input schemas, and the few argument
//! shapes the ALTR tools accept (a value or a list of values, an object or its JSON text).

use std::borrow::Cow;
use std::marker::PhantomData;

use rmcp::model::JsonObject;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::error::ToolError;

/// Parameters of a tool that takes none.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Parse tool arguments into `P`. Text this server returned fenced as
/// `{"untrusted_text": "..."}` ([`super::untrusted`]) is accepted back wherever text is: the
/// fence is taken off first, so a value read can be sent back as it came.
pub fn parse<P: DeserializeOwned>(raw: JsonObject) -> Result<P, ToolError> {
    let value = unfence(Value::Object(raw));
    serde_path_to_error::deserialize::<_, P>(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        describe(&path, &message)
    })
}

/// `v` with every `{"untrusted_text": <text>}` (that member alone) replaced by its text.
pub fn unfence(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(text)) = map.get("untrusted_text") {
                    return Value::String(text.clone());
                }
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, unfence(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(unfence).collect()),
        other => other,
    }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// Turn a serde error into one that names the parameter and says what is expected, without
/// repeating the value that was rejected.
fn describe(path: &str, message: &str) -> ToolError {
    // Errors from inside a JsonOr value carry their own inner path: "at [0].role: ...".
    if let Some((inner, rest)) = message.strip_prefix("at ").and_then(|m| m.split_once(": ")) {
        let joined = if inner.starts_with('[') {
            format!("{path}{inner}")
        } else {
            format!("{path}.{inner}")
        };
        return describe(&joined, rest);
    }
    let at = |p: &str| {
        if path == "." || path.is_empty() {
            p.to_string()
        } else {
            format!("{path}.{p}")
        }
    };
    if message.starts_with("missing field") {
        let field = backticked(message).unwrap_or("?");
        return ToolError::invalid(at(field), "is required");
    }
    if message.starts_with("unknown field") {
        let field = backticked(message).unwrap_or("?");
        let allowed = message
            .split_once("expected ")
            .map(|(_, rest)| rest.replace('`', ""))
            .unwrap_or_default();
        let hint = if allowed.is_empty() {
            "this tool takes no parameters".to_string()
        } else {
            format!("allowed: {allowed}")
        };
        let parameter = if path == field || path.ends_with(&format!(".{field}")) {
            path.to_string()
        } else {
            at(field)
        };
        return ToolError::invalid(parameter, format!("unknown parameter; {hint}"));
    }
    if message.starts_with("unknown variant") {
        // "unknown variant `X`, expected one of `A`, `B`": name the allowed values only.
        let allowed = message
            .split_once("expected ")
            .map(|(_, rest)| rest.replace('`', ""))
            .unwrap_or_default();
        let parameter = if path == "." || path.is_empty() {
            "arguments".to_string()
        } else {
            path.to_string()
        };
        return ToolError::invalid(parameter, format!("must be {allowed}"));
    }
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
            let kind = got
                .split(['`', '"'])
                .next()
                .unwrap_or(got)
                .trim()
                .to_string();
            let parameter = if path == "." || path.is_empty() {
                "arguments".to_string()
            } else {
                path.to_string()
            };
            return ToolError::invalid(parameter, format!("expected {expected}, got {kind}"));
        }
    }
    let parameter = if path == "." || path.is_empty() {
        "arguments".to_string()
    } else {
        path.to_string()
    };
    // Messages from our own deserializers say what is wrong without the value.
    ToolError::invalid(parameter, message.to_string())
}

/// Parameters many tools share, documented once (in the server instructions and here) instead of in
/// every schema that has them: tools/list is paid for in every prompt.
pub const SHARED_PARAMETERS: &[(&str, &str)] = &[
    ("limit", "How many items to return (a page); the schema's maximum is the cap, the API's default applies when omitted."),
    ("contiguous_id", "The value the previous page returned; omit for the first page."),
    ("page_token", "The previous page's next_page_token; omit for the first page."),
    ("cursor", "The previous page's cursor; omit for the first page."),
    ("dry_run", "true rehearses: validation and reads run, no write is sent, and the answer shows would_send (and the before state)."),
    ("confirm", "true only after a human approved this call (ALTR_CONFIRM=required)."),
];

/// The shared description of a parameter, if it is one of [`SHARED_PARAMETERS`].
pub fn shared_doc(name: &str) -> Option<&'static str> {
    SHARED_PARAMETERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
}

/// The key of a parameter's long description, for the reference docs only: a field written
/// `#[schemars(extend("x-doc" = "..."))]` is documented at length in the tool reference
/// (`altr-mcp tools`, `docs/index.md`), while tools/list (paid for in every prompt) carries only
/// its short form: its `///` doc if it has one, else nothing (the tool's description names it).
pub const DOC_ONLY: &str = "x-doc";

/// The input schema of `P` as listed: self-contained (no `$ref`), object-rooted, without
/// `$schema`/`title`, and without the doc-only long descriptions.
pub fn schema<P: JsonSchema>() -> JsonObject {
    schema_with::<P>(false)
}

/// [`schema`] with each parameter's doc-only long description ([`DOC_ONLY`]) kept, for the docs.
pub fn documented_schema<P: JsonSchema>() -> JsonObject {
    schema_with::<P>(true)
}

fn schema_with<P: JsonSchema>(keep_docs: bool) -> JsonObject {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    let schema = settings.into_generator().into_root_schema_for::<P>();
    let mut obj = match schema.to_value() {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    };
    obj.remove("$schema");
    obj.remove("title");
    obj.remove("description");
    // Unknown arguments are refused server-side (every params struct denies unknown fields).
    obj.remove("additionalProperties");
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for (name, p) in props.iter_mut() {
            // Before simplifying: its removals move the last key (a long description comes
            // last) into the removed key's place, which would reorder the listed schema.
            if let (Value::Object(o), false) = (&mut *p, keep_docs) {
                o.shift_remove(DOC_ONLY);
            }
            simplify(p);
            if let Value::Object(o) = p {
                if shared_doc(name).is_some() {
                    o.shift_remove("description");
                }
            }
        }
    }
    if obj.get("type").is_none() {
        obj.insert("type".into(), Value::String("object".into()));
    }
    if !obj.contains_key("properties") {
        obj.insert("properties".into(), Value::Object(Map::new()));
    }
    obj
}

/// Make a parameter schema lean for the model (every tools/list pays for it): optional-ness is
/// already in `required`, so null alternatives and null defaults go; integer formats go; checks
/// the server makes anyway and that tell the model nothing go (`additionalProperties` true or
/// false: unknown fields are refused by the parameter types; `minLength: 1`: the non-empty text
/// types refuse empty text); a list's items lose their description, which repeats the list's.
fn simplify(v: &mut Value) {
    let Value::Object(o) = v else { return };
    o.remove("format");
    if matches!(o.get("additionalProperties"), Some(Value::Bool(_))) {
        o.remove("additionalProperties");
    }
    // Lower bounds of one are checked by the server, whose error names the parameter and the fix.
    for bound in ["minLength", "minimum", "minItems"] {
        if o.get(bound) == Some(&Value::from(1)) {
            o.remove(bound);
        }
    }
    if o.get("default") == Some(&Value::Null) {
        o.remove("default");
    }
    if let Some(Value::Object(items)) = o.get_mut("items") {
        items.remove("description");
    }
    if let Some(Value::Array(values)) = o.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if let Some(Value::Array(types)) = o.get("type") {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if let [only] = kept.as_slice() {
            o.insert("type".into(), only.clone());
        }
    }
    if let Some(Value::Array(alts)) = o.get_mut("anyOf") {
        alts.retain(|a| a.get("type") != Some(&Value::String("null".into())));
        if alts.len() == 1 {
            let only = alts.remove(0);
            o.remove("anyOf");
            if let Value::Object(inner) = only {
                for (k, val) in inner {
                    o.entry(k).or_insert(val);
                }
            }
        }
    }
    for key in ["items", "properties", "anyOf", "additionalProperties"] {
        match o.get_mut(key) {
            Some(Value::Object(map)) if key == "properties" => map.values_mut().for_each(simplify),
            Some(Value::Array(items)) => items.iter_mut().for_each(simplify),
            Some(item @ Value::Object(_)) => simplify(item),
            _ => {}
        }
    }
}

/// A value or a list of values; a bare value is sent as a one-item list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Always sent as a list.
impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v).serialize(s),
            OneOrMany::Many(v) => v.serialize(s),
        }
    }
}

impl<T: JsonSchema> JsonSchema for OneOrMany<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrMany_{}", T::schema_name()).into()
    }
    /// Advertised as a list (a single item is accepted too), to keep schemas short.
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<Vec<T>>()
    }
}

/// A JSON value given either as itself or as its JSON text (some clients send nested objects as
/// strings). Text that is not valid JSON is refused with the parse error.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonOr<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for JsonOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let v = match v {
            Value::String(s) => serde_json::from_str::<Value>(&s).map_err(|e| {
                serde::de::Error::custom(format!("the text given is not valid JSON ({e})"))
            })?,
            other => other,
        };
        serde_path_to_error::deserialize::<_, T>(v)
            .map(JsonOr)
            .map_err(|e| {
                let inner = scrub(&e.inner().to_string());
                let at = e.path().to_string();
                if at == "." || at.is_empty() {
                    serde::de::Error::custom(inner)
                } else {
                    serde::de::Error::custom(format!("at {at}: {inner}"))
                }
            })
    }
}

/// Sent as the value itself (text given is sent parsed).
impl<T: Serialize> Serialize for JsonOr<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: JsonSchema> JsonSchema for JsonOr<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("JsonOr_{}", T::schema_name()).into()
    }
    /// Advertised as the value itself (its JSON text is accepted too), to keep schemas short.
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
}

/// Remove the quoted value from a serde message ("invalid type: string \"x\"" -> "a string").
fn scrub(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
            let kind = got.split(['`', '"']).next().unwrap_or(got).trim();
            return format!("expected {expected}, got {kind}");
        }
    }
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_string()
}

/// An integer that may also arrive as a numeric string ("10001").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LenientInt<T>(pub i64, PhantomData<T>);

impl<T> LenientInt<T> {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<T> Serialize for LenientInt<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de, T> Deserialize<'de> for LenientInt<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .map(|i| LenientInt(i, PhantomData))
                .ok_or_else(|| serde::de::Error::custom("expected a whole number")),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(|i| LenientInt(i, PhantomData))
                .map_err(|_| serde::de::Error::custom("expected a whole number")),
            _ => Err(serde::de::Error::custom("expected a whole number")),
        }
    }
}

/// Marker for masking levels in schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level;

impl JsonSchema for LenientInt<Level> {
    fn schema_name() -> Cow<'static, str> {
        "MaskingLevel".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": 10000,
            "maximum": 10009,
            "description": "Masking level 10000-10009 (see the server instructions)."
        })
    }
}

/// A JSON object built from `pairs`, leaving out the ones whose value is null.
pub fn object_without_nulls<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Refuse an empty list with a message naming the parameter.
pub fn non_empty<T>(parameter: &str, items: &[T]) -> Result<(), ToolError> {
    if items.is_empty() {
        return Err(ToolError::invalid(parameter, "must name at least one item"));
    }
    Ok(())
}

/// Refuse a value outside `allowed` (compared case-insensitively), naming the allowed values.
pub fn one_of(parameter: &str, value: &str, allowed: &[&str]) -> Result<(), ToolError> {
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(value)) {
        Ok(())
    } else {
        Err(ToolError::invalid(
            parameter,
            format!("must be one of {}", allowed.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct P {
        /// An id.
        id: i64,
        /// Names.
        names: Option<OneOrMany<String>>,
        /// Data.
        data: Option<JsonOr<Vec<i64>>>,
    }

    fn obj(v: Value) -> JsonObject {
        match v {
            Value::Object(o) => o,
            _ => unreachable!(),
        }
    }

    #[test]
    fn errors_name_the_parameter_and_hide_the_value() {
        let e = parse::<P>(obj(json!({"id": "topsecret"}))).unwrap_err();
        let ToolError::Invalid { parameter, message } = &e else {
            panic!()
        };
        assert_eq!(parameter, "id");
        assert!(!message.contains("topsecret"), "{message}");
        let e = parse::<P>(obj(json!({}))).unwrap_err();
        assert!(matches!(e, ToolError::Invalid { ref parameter, .. } if parameter == "id"));
        let e = parse::<P>(obj(json!({"id": 1, "bogus": 2}))).unwrap_err();
        assert!(matches!(e, ToolError::Invalid { ref parameter, .. } if parameter == "bogus"));
        let e = parse::<P>(obj(json!({"id": 1, "data": "[1, oops"}))).unwrap_err();
        assert!(matches!(e, ToolError::Invalid { ref parameter, .. } if parameter == "data"));
    }

    #[test]
    fn flexible_shapes() {
        let p = parse::<P>(obj(json!({"id": 1, "names": "a", "data": "[1,2]"}))).unwrap();
        assert_eq!(p.names.unwrap().into_vec(), vec!["a".to_string()]);
        assert_eq!(p.data.unwrap().0, vec![1, 2]);
        let p = parse::<P>(obj(json!({"id": 1, "names": ["a", "b"], "data": [3]}))).unwrap();
        assert_eq!(p.names.unwrap().into_vec().len(), 2);
        assert_eq!(p.data.unwrap().0, vec![3]);
    }

    #[test]
    fn schemas_are_object_rooted_and_inline() {
        let s = schema::<P>();
        assert_eq!(s["type"], "object");
        assert!(!Value::Object(s.clone()).to_string().contains("$ref"));
        assert_eq!(s["properties"]["id"]["description"], "An id.");
        let empty = schema::<NoParams>();
        assert_eq!(empty["type"], "object");
    }
}
