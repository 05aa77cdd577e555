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
    pub contain: Option<String>,
    pub status: Option<KeyStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTweak {
    pub name: Name,
    pub sequence: Option<Id>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTweak {
    pub name: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TweakSequence {
    pub name: Name,
    pub sequence: Id,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListKeys {
    pub namespace: Name,
    pub contiguous_id: Option<ContiguousId>,
    pub limit: Option<Limit<1000>>,
    pub contain: Option<String>,
    pub status: Option<KeyStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetKey {
    pub namespace: Name,
    pub name: Name,
    pub sequence: Option<Id>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub namespace: Name,
    pub name: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySequence {
    pub namespace: Name,
    pub name: Name,
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
