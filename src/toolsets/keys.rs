//! Key management (KMA): tweaks and namespaced keys, each with numbered sequences (versions) that
//! can be rotated and deactivated. Names and sequences are path segments, always encoded.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::client::{Method, Service::Kma};
use crate::registry::params::{ContiguousId, Id, Limit, Name};
use crate::registry::{Effect, ToolDef, Toolset};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "keys",
    title: "Key management",
    description: "Encryption keys (per namespace) and tweaks with numbered sequences: list, create, rotate to a new sequence, deactivate an old one.",
    in_default: false,
    tools,
};

wire_enum! {
    /// Which sequences a listing includes.
    pub enum KeyStatus { Active = "active", Deactivated = "deactivated", Any = "any" }
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
    #[schemars(extend("x-doc" = "The name for the new tweak; it starts at sequence 1."))]
    pub name: Name,
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
    #[schemars(extend("x-doc" = "The key namespace to list; keys are grouped by namespace and a key's name is unique within it."))]
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
    #[schemars(extend("x-doc" = "The namespace to create the key in; it is sent in the request body with the name."))]
    pub namespace: Name,
    #[schemars(extend("x-doc" = "The name for the new key; it must be unique within the namespace, and the key starts at sequence 1."))]
    pub name: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySequence {
    #[schemars(extend("x-doc" = "The namespace the key belongs to."))]
    pub namespace: Name,
    #[schemars(extend("x-doc" = "The key's name within the namespace, as list_keys returns it."))]
    pub name: Name,
    #[schemars(extend("x-doc" = "The key's sequence (version) number, as get_key shows it: for deactivate_key the sequence to deactivate, for rotate_key the current sequence to rotate from."))]
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
            .description("New tokenization tweak name, at sequence 1.")
            .request::<CreateTweak>(Method::POST, Kma, "/tweaks"),
        SET.tool("deactivate_tweak", "Deactivate tweak", Effect::Destructive)
            .description("Deactivate sequence (get_tweak) of tweak name; data protected with it becomes unprocessable. Returns {before, after}.")
            .before("/tweaks/{name}")
            .request::<TweakSequence>(Method::PATCH, Kma, "/tweaks/{name}/sequence/{sequence}/deactivate"),
        SET.tool("list_keys", "List keys", Effect::ReadOnly)
            .description("Keys of namespace with their sequences; filters: contain (in name), status.")
            .request::<ListKeys>(Method::GET, Kma, "/keys/{namespace}"),
        SET.tool("get_key", "Get key", Effect::ReadOnly)
            .description("Key name (list_keys) of namespace at its current or given sequence.")
            .request::<GetKey>(Method::GET, Kma, "/keys/{namespace}/{name}"),
        SET.tool("create_key", "Create key", Effect::Additive)
            .description("New key name, unique in namespace, at sequence 1.")
            .request::<CreateKey>(Method::POST, Kma, "/keys"),
        SET.tool("deactivate_key", "Deactivate key", Effect::Destructive)
            .description("Deactivate sequence (get_key) of key name in namespace (e.g. old one after rotate_key); data encrypted with it becomes undecryptable. Returns {before, after}.")
            .before("/keys/{namespace}/{name}")
            .request::<KeySequence>(Method::PATCH, Kma, "/keys/{namespace}/{name}/sequence/{sequence}/deactivate"),
        SET.tool("rotate_key", "Rotate key", Effect::Additive)
            .description("New sequence of key name in namespace from current sequence (get_key); old one stays active until deactivate_key.")
            .request::<KeySequence>(Method::PATCH, Kma, "/keys/{namespace}/{name}/sequence/{sequence}/rotate"),
    ]
}
