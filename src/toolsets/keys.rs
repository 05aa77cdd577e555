//! Key management (KMA): FPE tweaks and namespaced FPE keys, each with numbered sequences
//! (versions). Rotating a key's sequence re-wraps its data key under a new envelope key (the key
//! material stays); deactivating a sequence stops its use. Names and sequences are path
//! segments, always encoded.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::client::{Method, Service::Kma};
use crate::registry::params::{ContiguousId, Id, Limit, Name};
use crate::registry::{Effect, ToolDef, Toolset};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "keys",
    title: "Key management",
    description: "FPE encryption keys (per namespace) and tweaks with numbered sequences: list, create, rotate a key's envelope, deactivate a sequence.",
    in_default: false,
    tools,
};

wire_enum! {
    /// Which sequences a listing includes.
    pub enum KeyStatus { Active = "active", Deactivated = "deactivated", Any = "any" }
}

/// The name of a new key or tweak, or a new key's namespace: not empty, without leading or
/// trailing spaces, and at most `MAX` characters (ALTR's rules; `usize::MAX`: no length limit).
/// Checked before anything is sent; a refusal does not repeat the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewName<const MAX: usize>(pub String);

/// Most characters in the name of a new key or tweak.
pub const NAME_MAX: usize = 256;

impl<'de, const MAX: usize> Deserialize<'de> for NewName<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Value::String(s) = Value::deserialize(d)? else {
            return Err(serde::de::Error::custom("must be a string"));
        };
        if s.trim().is_empty() {
            return Err(serde::de::Error::custom("must be a non-empty string"));
        }
        if s.trim() != s {
            return Err(serde::de::Error::custom(
                "must not start or end with spaces",
            ));
        }
        if s.chars().count() > MAX {
            return Err(serde::de::Error::custom(format!(
                "must be at most {MAX} characters"
            )));
        }
        Ok(NewName(s))
    }
}

impl<const MAX: usize> Serialize for NewName<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<const MAX: usize> JsonSchema for NewName<MAX> {
    fn schema_name() -> Cow<'static, str> {
        "NewName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "minLength": 1})
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTweaks {
    pub contiguous_id: Option<ContiguousId>,
    pub limit: Option<Limit<1000>>,
    #[schemars(extend("x-doc" = "Text a tweak's name must contain; only matching tweaks are listed. Omit to list all."))]
    pub contain: Option<String>,
    #[schemars(extend("x-doc" = "Which sequences to include: active, deactivated or any. Not sent when omitted, so the API's default applies."))]
    pub status: Option<KeyStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTweak {
    #[schemars(extend("x-doc" = "The tweak's name, as list_tweaks returns it."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "The sequence (version) number to read, from get_tweak or list_tweaks. Omitted: the tweak's current sequence."))]
    pub sequence: Option<Id>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTweak {
    #[schemars(extend("x-doc" = "The name for the new tweak, 1 to 256 characters without leading or trailing spaces; it starts at sequence 1."))]
    pub name: NewName<NAME_MAX>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TweakSequence {
    #[schemars(extend("x-doc" = "The tweak's name, as list_tweaks returns it."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "The sequence (version) number to deactivate, as get_tweak shows it."))]
    pub sequence: Id,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListKeys {
    #[schemars(extend("x-doc" = "The key namespace to list, e.g. fpe (the usual one for format-preserving encryption keys); keys are grouped by namespace and a key's name is unique within it."))]
    pub namespace: Name,
    pub contiguous_id: Option<ContiguousId>,
    pub limit: Option<Limit<1000>>,
    #[schemars(extend("x-doc" = "Text a key's name must contain; only matching keys are listed. Omit to list all keys of the namespace."))]
    pub contain: Option<String>,
    #[schemars(extend("x-doc" = "Which sequences to include: active, deactivated or any. Not sent when omitted, so the API's default applies."))]
    pub status: Option<KeyStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetKey {
    #[schemars(extend("x-doc" = "The namespace the key belongs to."))]
    pub namespace: Name,
    #[schemars(extend("x-doc" = "The key's name within the namespace, as list_keys returns it."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "The sequence (version) number to read, from get_key or list_keys. Omitted: the key's current sequence."))]
    pub sequence: Option<Id>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    #[schemars(extend("x-doc" = "The namespace to create the key in (e.g. fpe), without leading or trailing spaces; it is sent in the request body with the name."))]
    pub namespace: NewName<{ usize::MAX }>,
    #[schemars(extend("x-doc" = "The name for the new key, 1 to 256 characters without leading or trailing spaces; it must be unique within the namespace, and the key starts at sequence 1."))]
    pub name: NewName<NAME_MAX>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySequence {
    #[schemars(extend("x-doc" = "The namespace the key belongs to."))]
    pub namespace: Name,
    #[schemars(extend("x-doc" = "The key's name within the namespace, as list_keys returns it."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "The key's sequence (version) number, as get_key shows it: for deactivate_key the sequence to deactivate, for rotate_key the sequence whose data key is re-wrapped under a new envelope key."))]
    pub sequence: Id,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("list_tweaks", "List tweaks", Effect::ReadOnly)
            .description("Tweaks with their sequences; filters: contain (in name), status.")
            .request::<ListTweaks>(Method::GET, Kma, "/tweaks"),
        SET.tool("get_tweak", "Get tweak", Effect::ReadOnly)
            .description("Tweak name (list_tweaks) at its current or given sequence.")
            .request::<GetTweak>(Method::GET, Kma, "/tweaks/{name}"),
        SET.tool("create_tweak", "Create tweak", Effect::Additive)
            .description("New FPE tweak name, starting at sequence 1.")
            .request::<CreateTweak>(Method::POST, Kma, "/tweaks"),
        SET.tool("deactivate_tweak", "Deactivate tweak", Effect::Destructive)
            .description("Deactivate sequence (get_tweak) of tweak name; data protected with it becomes unprocessable. Returns {before, after}.")
            .before("/tweaks/{name}")
            .request::<TweakSequence>(Method::PATCH, Kma, "/tweaks/{name}/sequence/{sequence}/deactivate"),
        SET.tool("list_keys", "List keys", Effect::ReadOnly)
            .description("Keys of namespace (e.g. fpe) with their sequences; filters: contain (in name), status.")
            .request::<ListKeys>(Method::GET, Kma, "/keys/{namespace}"),
        SET.tool("get_key", "Get key", Effect::ReadOnly)
            .description("Key name (list_keys) of namespace at its current or given sequence.")
            .request::<GetKey>(Method::GET, Kma, "/keys/{namespace}/{name}"),
        SET.tool("create_key", "Create key", Effect::Additive)
            .description("New key name, unique in namespace, at sequence 1.")
            .request::<CreateKey>(Method::POST, Kma, "/keys"),
        SET.tool("deactivate_key", "Deactivate key", Effect::Destructive)
            .description("Deactivate sequence (get_key) of key name in namespace; data encrypted with it becomes undecryptable. Returns {before, after}.")
            .before("/keys/{namespace}/{name}")
            .request::<KeySequence>(Method::PATCH, Kma, "/keys/{namespace}/{name}/sequence/{sequence}/deactivate"),
        SET.tool("rotate_key", "Rotate key", Effect::Additive)
            .description("Re-wrap sequence (get_key) of key name in namespace under a new envelope key; key material and sequence stay, data stays readable.")
            .request::<KeySequence>(Method::PATCH, Kma, "/keys/{namespace}/{name}/sequence/{sequence}/rotate"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn new_names_follow_altrs_rules_without_echo() {
        let ok = |v: Value| serde_json::from_value::<CreateKey>(v).is_ok();
        assert!(ok(json!({"namespace": "fpe", "name": "card-key"})));
        assert!(ok(json!({"namespace": "fpe", "name": "k".repeat(256)})));
        for (namespace, name) in [
            ("fpe", " card-key".to_string()),
            ("fpe", "card-key ".to_string()),
            (" fpe", "card-key".to_string()),
            ("fpe", "k".repeat(257)),
            ("fpe", String::new()),
        ] {
            let e =
                serde_json::from_value::<CreateKey>(json!({"namespace": namespace, "name": name}))
                    .unwrap_err()
                    .to_string();
            assert!(!e.contains("card-key"), "{e}");
        }
        let e = serde_json::from_value::<CreateTweak>(json!({"name": "t".repeat(300)}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("256"), "{e}");
    }
}
