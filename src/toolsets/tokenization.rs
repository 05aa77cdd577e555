//! Tokenization: vault tokens (up to 4,096 values per call, each under 1,024 characters;
//! `vaultd_` deterministic, `vaultn_` random) and critical tokens (up to 1,024 values per call,
//! each under 128 UTF-8 bytes; `token_` and 64 or more characters). The API takes a batch as `{field000: value, field001: ...}`; the tools take
//! the caller's own keys, number them in order, and map the answer back.
//!
//! The detokenize tools return protected data in clear text: they are [`Effect::ClearText`],
//! hidden unless ALTR_ALLOW_CLEARTEXT is set, and their inputs (`tokens`, `values`) are redacted
//! in every log line like the tokenize inputs; results are never logged.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::client::{ApiRequest, Method, Service};
use crate::registry::{Ctx, Effect, ToolDef, ToolResult, Toolset};

pub static SET: Toolset = Toolset {
    id: "tokenization",
    title: "Tokenization",
    description: "Vault and critical tokenization: turn sensitive values into tokens, delete tokens, and (only with ALTR_ALLOW_CLEARTEXT) turn tokens back into clear text.",
    in_default: false,
    tools,
};

/// Most values one vault call may carry (the API's documented limit).
pub const VAULT_MAX: usize = 4096;
/// Most values one critical call may carry (the API's documented limit).
pub const CRITICAL_MAX: usize = 1024;

/// A vault value must be shorter than this many characters (the API's documented limit).
pub const VAULT_VALUE_CHARS: usize = 1024;
/// A critical value must be shorter than this many UTF-8 bytes (the API's documented limit).
pub const CRITICAL_VALUE_BYTES: usize = 128;

/// The header that asks for deterministic tokens.
pub const DETERMINISM: &str = "X-ALTR-DETERMINISM";

/// A batch: the caller's keys mapped to text values, 1 to `MAX` entries, in the caller's order.
/// A refused batch is described without repeating any key or value.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<const MAX: usize>(pub Map<String, Value>);

impl<'de, const MAX: usize> Deserialize<'de> for Batch<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Value::Object(map) = Value::deserialize(d)? else {
            return Err(serde::de::Error::custom(
                "must be an object mapping your keys to text values",
            ));
        };
        if map.is_empty() {
            return Err(serde::de::Error::custom("must hold at least one value"));
        }
        if map.len() > MAX {
            return Err(serde::de::Error::custom(format!(
                "holds {} values; one call takes at most {MAX}: split the batch",
                map.len()
            )));
        }
        if !map.values().all(Value::is_string) {
            return Err(serde::de::Error::custom("every value must be a string"));
        }
        Ok(Batch(map))
    }
}

impl<const MAX: usize> JsonSchema for Batch<MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("Batch{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": {"type": "string"},
            "minProperties": 1,
            "maxProperties": MAX,
        })
    }
}

impl<const MAX: usize> Batch<MAX> {
    /// The wire body (`field000`, `field001`, ... in the caller's order, zero-padded to three
    /// digits) and the caller's key for each wire key.
    pub fn to_wire(&self) -> (Map<String, Value>, Vec<(String, String)>) {
        let mut body = Map::new();
        let mut keys = Vec::with_capacity(self.0.len());
        for (i, (key, value)) in self.0.iter().enumerate() {
            let wire = format!("field{i:03}");
            body.insert(wire.clone(), value.clone());
            keys.push((wire, key.clone()));
        }
        (body, keys)
    }
}

/// Values to tokenize: a [`Batch`] whose every value is under its store's size limit (critical,
/// `MAX` = [`CRITICAL_MAX`]: [`CRITICAL_VALUE_BYTES`] UTF-8 bytes; vault: [`VAULT_VALUE_CHARS`]
/// characters). A refusal names the key (shortened), never the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Plain<const MAX: usize>(pub Batch<MAX>);

impl<'de, const MAX: usize> Deserialize<'de> for Plain<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let batch = Batch::<MAX>::deserialize(d)?;
        let critical = MAX == CRITICAL_MAX;
        let (limit, unit) = if critical {
            (CRITICAL_VALUE_BYTES, "UTF-8 bytes")
        } else {
            (VAULT_VALUE_CHARS, "characters")
        };
        for (key, value) in &batch.0 {
            let text = value.as_str().unwrap_or_default();
            let size = if critical {
                text.len()
            } else {
                text.chars().count()
            };
            if size >= limit {
                let mut label: String = key.chars().take(40).collect();
                if label.len() < key.len() {
                    label.push('…');
                }
                return Err(serde::de::Error::custom(format!(
                    "the value of key {label:?} is {size} {unit}; each value must be under {limit}"
                )));
            }
        }
        Ok(Plain(batch))
    }
}

impl<const MAX: usize> JsonSchema for Plain<MAX> {
    fn schema_name() -> Cow<'static, str> {
        Batch::<MAX>::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Batch::<MAX>::json_schema(generator)
    }
}

/// The answer with `data`'s wire keys turned back into the caller's keys (keys the tool did not
/// send are kept as they are). An answer that is not `{"success": true, "data": {...}}` is
/// returned untouched.
pub fn map_back(answer: Value, keys: &[(String, String)]) -> Value {
    let ok = answer.get("success") == Some(&Value::Bool(true));
    match answer {
        Value::Object(mut o) if ok => match o.shift_remove("data") {
            Some(Value::Object(data)) => Value::Object(
                data.into_iter()
                    .map(|(k, v)| {
                        let caller = keys
                            .iter()
                            .find(|(wire, _)| *wire == k)
                            .map(|(_, c)| c.clone())
                            .unwrap_or(k);
                        (caller, v)
                    })
                    .collect(),
            ),
            Some(other) => {
                o.insert("data".into(), other);
                Value::Object(o)
            }
            None => Value::Object(o),
        },
        other => other,
    }
}

/// Send one batch and map the answer back to the caller's keys.
async fn send_batch<const MAX: usize>(ctx: Ctx, req: ApiRequest, batch: &Batch<MAX>) -> ToolResult {
    let (body, keys) = batch.to_wire();
    let answer = ctx.send(req.json(Value::Object(body))).await?;
    Ok(map_back(answer, &keys))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tokenize<const MAX: usize> {
    #[schemars(extend("x-doc" = "The values to tokenize, as an object mapping your own labels to text, e.g. {\"ssn\": \"123-45-6789\"}; the tokens come back under the same labels. 1 to 4,096 values per vault call, each under 1,024 characters; 1 to 1,024 per critical call, each under 128 UTF-8 bytes."))]
    pub values: Plain<MAX>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "true asks for deterministic tokens: the same value always gets the same token, so tokens can be joined and compared (vault: vaultd_ tokens; random ones are vaultn_). Default false. Sent as the X-ALTR-DETERMINISM header."))]
    pub deterministic: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tokens<const MAX: usize> {
    #[schemars(extend("x-doc" = "The tokens, as an object mapping your own labels to token text; the answer uses the same labels. 1 to 4,096 tokens per vault call, 1 to 1,024 per critical call."))]
    pub tokens: Batch<MAX>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mixed<const MAX: usize> {
    #[schemars(extend("x-doc" = "An object mapping your own labels to text that may be a token or plain text; tokens are turned into clear text, plain text comes back unchanged, under the same labels. 1 to 4,096 values per vault call, 1 to 1,024 per critical call."))]
    pub values: Batch<MAX>,
}

/// Tokenize a batch: the determinism header is always sent, "true" or "false".
async fn tokenize<const MAX: usize>(ctx: Ctx, service: Service, p: Tokenize<MAX>) -> ToolResult {
    let flag = if p.deterministic { "true" } else { "false" };
    let req = ApiRequest::new(Method::POST, service, "/batch").header(DETERMINISM, flag);
    send_batch(ctx, req, &p.values.0).await
}

pub fn tools() -> Vec<ToolDef> {
    use Service::{Critical, Vault};
    vec![
        SET.tool("vault_tokenize", "Vault tokenize", Effect::Additive)
            .description("Tokenize values {label: text} (each <1024 chars) to vault tokens, same labels back: vaultn_ random, vaultd_ if deterministic (same value, same token). Vault quota (all vault_*): 492 calls/month, 50/s.")
            .handler(|ctx: Ctx, p: Tokenize<VAULT_MAX>| tokenize(ctx, Vault, p)),
        SET.tool("vault_detokenize", "Vault detokenize (clear text)", Effect::ClearText)
            .description("Clear text behind vault tokens {label: token}, same labels back; fails on any non-token. Protected data: only when truly needed.")
            .handler(|ctx: Ctx, p: Tokens<VAULT_MAX>| async move {
                send_batch(ctx, ApiRequest::put(Vault, "/batch"), &p.tokens).await
            }),
        SET.tool("vault_partial_detokenize", "Vault partial detokenize (clear text)", Effect::ClearText)
            .description("As vault_detokenize, but values may mix tokens and plain text (returned unchanged). Clear text.")
            .handler(|ctx: Ctx, p: Mixed<VAULT_MAX>| async move {
                send_batch(ctx, ApiRequest::put(Vault, "/batch/partial"), &p.values).await
            }),
        SET.tool("vault_delete_tokens", "Delete vault tokens", Effect::Destructive)
            .description("Delete vault tokens {label: token}: never detokenizable again; retokenizing the value gives a new token.")
            .handler(|ctx: Ctx, p: Tokens<VAULT_MAX>| async move {
                send_batch(ctx, ApiRequest::put(Vault, "/batch/delete"), &p.tokens).await
            }),
        SET.tool("critical_tokenize", "Critical tokenize", Effect::Additive)
            .description("As vault_tokenize (values, deterministic), for highly sensitive data: token_ tokens (64+ chars); each value <128 UTF-8 bytes.")
            .handler(|ctx: Ctx, p: Tokenize<CRITICAL_MAX>| tokenize(ctx, Critical, p)),
        SET.tool("critical_detokenize", "Critical detokenize (clear text)", Effect::ClearText)
            .description("As vault_detokenize, for critical tokens {label: token}.")
            .handler(|ctx: Ctx, p: Tokens<CRITICAL_MAX>| async move {
                send_batch(ctx, ApiRequest::put(Critical, "/batch"), &p.tokens).await
            }),
        SET.tool("critical_partial_detokenize", "Critical partial detokenize (clear text)", Effect::ClearText)
            .description("As critical_detokenize, but values may mix tokens and plain text (returned unchanged). Clear text.")
            .handler(|ctx: Ctx, p: Mixed<CRITICAL_MAX>| async move {
                send_batch(ctx, ApiRequest::put(Critical, "/batch/partial"), &p.values).await
            }),
        SET.tool("critical_delete_tokens", "Delete critical tokens", Effect::Destructive)
            .description("As vault_delete_tokens, for critical tokens; non-tokens are ignored.")
            .handler(|ctx: Ctx, p: Tokens<CRITICAL_MAX>| async move {
                send_batch(ctx, ApiRequest::put(Critical, "/batch/delete"), &p.tokens).await
            }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_keys_are_numbered_in_order_and_padded() {
        let b: Batch<4096> = serde_json::from_value(json!({"z": "1", "a": "2", "m": "3"})).unwrap();
        let (body, keys) = b.to_wire();
        assert_eq!(
            body.keys().collect::<Vec<_>>(),
            ["field000", "field001", "field002"]
        );
        assert_eq!(body["field000"], "1");
        assert_eq!(keys[1], ("field001".to_string(), "a".to_string()));
    }

    #[test]
    fn answers_map_back_and_other_shapes_pass_through() {
        let keys = vec![("field000".to_string(), "ssn".to_string())];
        assert_eq!(
            map_back(
                json!({"success": true, "data": {"field000": "t", "extra": 1}}),
                &keys
            ),
            json!({"ssn": "t", "extra": 1})
        );
        for same in [
            json!({"success": true}),
            json!({"success": false, "data": {"field000": "x"}}),
            json!({"success": true, "data": "text"}),
            json!([1]),
        ] {
            assert_eq!(map_back(same.clone(), &keys), same);
        }
    }

    #[test]
    fn batches_are_bounded_and_refusals_do_not_echo() {
        let many: Map<String, Value> = (0..5).map(|i| (format!("k{i}"), json!("v"))).collect();
        let e = serde_json::from_value::<Batch<4>>(Value::Object(many)).unwrap_err();
        assert!(e.to_string().contains("at most 4"), "{e}");
        assert!(serde_json::from_value::<Batch<4>>(json!({})).is_err());
        let e = serde_json::from_value::<Batch<4>>(json!({"k": 12345})).unwrap_err();
        assert!(!e.to_string().contains("12345"));
    }
}
