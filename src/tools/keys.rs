//! Key management (KMA): tweaks and namespaced keys, each with numbered sequences (versions) that
//! can be rotated and deactivated. Names and sequences are path segments, always encoded.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::params::{ContiguousId, Id, Limit, Name};
use super::{Effect, ToolDef, Toolset};
use crate::client::{Method, Service::Kma};
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
    /// The previous page's contiguous_id; omit for the first page.
    pub contiguous_id: Option<ContiguousId>,
    /// Most tweaks to return in one page (1-1000).
    pub limit: Option<Limit<1000>>,
    /// Only tweaks whose name contains this text.
    pub contain: Option<String>,
    /// Only sequences in this state: active, deactivated or any.
    pub status: Option<KeyStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTweak {
    /// Tweak name (from list_tweaks).
    pub name: Name,
    /// Sequence number to show; omit for the current one.
    pub sequence: Option<Id>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTweak {
    /// Name of the new tweak.
    pub name: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TweakSequence {
    /// Tweak name (from list_tweaks).
    pub name: Name,
    /// Sequence number to deactivate (from get_tweak).
    pub sequence: Id,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListKeys {
    /// Key namespace.
    pub namespace: Name,
    /// The previous page's contiguous_id; omit for the first page.
    pub contiguous_id: Option<ContiguousId>,
    /// Most keys to return in one page (1-1000).
    pub limit: Option<Limit<1000>>,
    /// Only keys whose name contains this text.
    pub contain: Option<String>,
    /// Only sequences in this state: active, deactivated or any.
    pub status: Option<KeyStatus>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetKey {
    /// Key namespace.
    pub namespace: Name,
    /// Key name (from list_keys).
    pub name: Name,
    /// Sequence number to show; omit for the current one.
    pub sequence: Option<Id>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Namespace to create the key in.
    pub namespace: Name,
    /// Name of the new key (unique in its namespace).
    pub name: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySequence {
    /// Key namespace.
    pub namespace: Name,
    /// Key name (from list_keys).
    pub name: Name,
    /// Sequence number (from get_key).
    pub sequence: Id,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("list_tweaks", "List tweaks", Effect::ReadOnly)
            .description("List tokenization tweaks with their sequences, one page at a time (pass contiguous_id back for the next page); filter by name text or sequence status.")
            .request::<ListTweaks>(Method::GET, Kma, "/tweaks"),
        SET.tool("get_tweak", "Get a tweak", Effect::ReadOnly)
            .description("Show one tweak and its current sequence, or a given sequence.")
            .request::<GetTweak>(Method::GET, Kma, "/tweaks/{name}"),
        SET.tool("create_tweak", "Create a tweak", Effect::Additive)
            .description("Create a tokenization tweak; it starts at sequence 1.")
            .request::<CreateTweak>(Method::POST, Kma, "/tweaks"),
        SET.tool("deactivate_tweak", "Deactivate a tweak sequence", Effect::Destructive)
            .description("Deactivate one sequence of a tweak; data protected with it can no longer be processed with that sequence. Check get_tweak first. Returns {before, after}: the state read first, and the API's answer.")
            .before("/tweaks/{name}")
            .request::<TweakSequence>(Method::PATCH, Kma, "/tweaks/{name}/sequence/{sequence}/deactivate"),
        SET.tool("list_keys", "List keys", Effect::ReadOnly)
            .description("List the keys of a namespace with their sequences, one page at a time (pass contiguous_id back for the next page); filter by name text or sequence status.")
            .request::<ListKeys>(Method::GET, Kma, "/keys/{namespace}"),
        SET.tool("get_key", "Get a key", Effect::ReadOnly)
            .description("Show one key of a namespace and its current sequence, or a given sequence.")
            .request::<GetKey>(Method::GET, Kma, "/keys/{namespace}/{name}"),
        SET.tool("create_key", "Create a key", Effect::Additive)
            .description("Create a key in a namespace; it starts at sequence 1.")
            .request::<CreateKey>(Method::POST, Kma, "/keys"),
        SET.tool("deactivate_key", "Deactivate a key sequence", Effect::Destructive)
            .description("Deactivate one sequence of a key, e.g. the old one after rotate_key; data encrypted with it can no longer be decrypted with that sequence. Returns {before, after}: the state read first, and the API's answer.")
            .before("/keys/{namespace}/{name}")
            .request::<KeySequence>(Method::PATCH, Kma, "/keys/{namespace}/{name}/sequence/{sequence}/deactivate"),
        SET.tool("rotate_key", "Rotate a key", Effect::Additive)
            .description("Rotate a key: create a new sequence from the given current one, which stays active until deactivate_key. Each call creates another sequence.")
            .request::<KeySequence>(Method::PATCH, Kma, "/keys/{namespace}/{name}/sequence/{sequence}/rotate"),
    ]
}
