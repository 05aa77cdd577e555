//! Vault (`/vault/api/v2`) and critical (`/critical/v2`) tokenization: two token stores with the
//! same four batch endpoints.
//!
//! A batch body is an object of text values (`{"field000": "..."}`), 1 to 4,096 values for the
//! vault and 1 to 1,024 for critical (else 400). The answer is `{"success": true, "data":
//! {<same keys>: <result>}}`:
//! - `POST /batch` tokenizes. With `X-ALTR-DETERMINISM: true` a value always gets the same
//!   token (one deterministic token per value and store); with `false` or no header every value
//!   gets a new token. Any other header value is a 400. Tokens look like ALTR's: vault
//!   `vaultd_<hex>` (deterministic) and `vaultn_<hex>` (random), critical `token_<64 hex>`. A
//!   value must be under 1,024 characters (vault) or 128 UTF-8 bytes (critical), else 400.
//! - `PUT /batch` detokenizes: the clear value, or `null` for a token the store does not hold
//!   (deleted); `message` then counts them. A value that is not token-shaped is a 400.
//! - `PUT /batch/partial`: tokens give their clear value, anything else comes back unchanged.
//! - `PUT /batch/delete`: `true` for a token deleted, `false` for one the store did not hold
//!   (anything not a token is ignored that way too).

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::store::{Id, Record, Spec};
use super::{lock, Body, Fail, Org, Reply, Seed, Shared, State};

/// One token store.
pub struct Vault {
    pub prefix: &'static str,
    pub spec: Spec,
    /// Most values per call.
    pub max: usize,
    /// Prefix of deterministic tokens, then of random ones.
    pub prefixes: [&'static str; 2],
    /// Least token length, prefix included.
    pub min_len: usize,
    /// A value's size limit (exclusive): characters, or UTF-8 bytes when `bytes`.
    pub value_limit: usize,
    pub bytes: bool,
}

impl Vault {
    /// Whether `text` has this store's token shape (case-sensitive).
    pub fn is_token(&self, text: &str) -> bool {
        text.len() >= self.min_len && self.prefixes.iter().any(|p| text.starts_with(p))
    }
}

pub static VAULT: Vault = Vault {
    prefix: "/vault/api/v2",
    spec: Spec {
        name: "vault.tokens",
        kind: "Vault token",
        items: "tokens",
        id: Id::Key("token"),
        updated: None,
        ..Spec::NEW
    },
    max: 4096,
    prefixes: ["vaultd_", "vaultn_"],
    min_len: 8,
    value_limit: 1024,
    bytes: false,
};

pub static CRITICAL: Vault = Vault {
    prefix: "/critical/v2",
    spec: Spec {
        name: "critical.tokens",
        kind: "Critical token",
        items: "tokens",
        id: Id::Key("token"),
        updated: None,
        ..Spec::NEW
    },
    max: 1024,
    // ALTR documents one critical token shape: `token_` and 64 or more characters.
    prefixes: ["token_", "token_"],
    min_len: 64,
    value_limit: 128,
    bytes: true,
};

/// Demo: in the vault, deterministic tokens for `555-12-3456` and `jane.doe@example.com`; in
/// critical, one for the card number `4111111111111111`.
pub(crate) fn seed(org: &mut Org, seed: Seed) {
    if seed != Seed::Demo {
        return;
    }
    for v in ["555-12-3456", "jane.doe@example.com"] {
        let _ = tokenize(org, &VAULT, v, true);
    }
    let _ = tokenize(org, &CRITICAL, "4111111111111111", true);
}

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    let mut r = Router::new();
    for v in [&VAULT, &CRITICAL] {
        r = r
            .route(
                &format!("{}/batch", v.prefix),
                post(move |s: State, h: HeaderMap, b: Bytes| tokenize_batch(s, v, h, b))
                    .put(move |s: State, b: Bytes| detokenize_batch(s, v, b, false)),
            )
            .route(
                &format!("{}/batch/partial", v.prefix),
                put(move |s: State, b: Bytes| detokenize_batch(s, v, b, true)),
            )
            .route(
                &format!("{}/batch/delete", v.prefix),
                put(move |s: State, b: Bytes| delete_batch(s, v, b)),
            );
    }
    r
}

/// The batch of a request: an object of 1 to `max` text values.
fn batch(v: &Vault, bytes: &Bytes) -> Result<Map<String, Value>, Fail> {
    let Body(map) = Body::parse(bytes)?;
    if map.is_empty() {
        return Err(Fail::bad_request("the batch holds no values"));
    }
    if map.len() > v.max {
        return Err(Fail::bad_request(format!(
            "the batch holds {} values; at most {} per request",
            map.len(),
            v.max
        )));
    }
    if let Some((k, _)) = map.iter().find(|(_, v)| !v.is_string()) {
        return Err(Fail::bad_request(format!("{k} must be a string")));
    }
    Ok(map)
}

fn record_of<'a>(org: &'a Org, v: &Vault, token: &str) -> Option<&'a Record> {
    org.store.get(&v.spec, &[], token).ok()
}

/// The token for `value`: the existing deterministic one, or a new one.
fn tokenize(org: &mut Org, v: &Vault, value: &str, deterministic: bool) -> Result<String, Fail> {
    if deterministic {
        let existing = org.store.list(&v.spec, &[])?.into_iter().find(|r| {
            r.get("deterministic") == Some(&Value::Bool(true))
                && r.get("value").and_then(Value::as_str) == Some(value)
        });
        if let Some(t) = existing
            .and_then(|r| r.get("token"))
            .and_then(Value::as_str)
        {
            return Ok(t.to_string());
        }
    }
    let [fixed, random] = v.prefixes;
    let prefix = if deterministic { fixed } else { random };
    let mut body = org.new_uuid().replace('-', "");
    while prefix.len() + body.len() < v.min_len.max(prefix.len() + 32) {
        body.push_str(&org.new_uuid().replace('-', ""));
    }
    let token = format!("{prefix}{body}");
    org.store.create(
        &v.spec,
        &[],
        json!({"token": token, "value": value, "deterministic": deterministic}),
    )?;
    Ok(token)
}

fn answer(data: Map<String, Value>, message: Option<String>) -> Reply {
    let mut body = Map::new();
    body.insert("success".into(), json!(true));
    body.insert("data".into(), Value::Object(data));
    if let Some(m) = message {
        body.insert("message".into(), json!(m));
    }
    Ok(Json(Value::Object(body)).into_response())
}

async fn tokenize_batch(
    AxumState(s): State,
    v: &'static Vault,
    headers: HeaderMap,
    bytes: Bytes,
) -> Reply {
    let deterministic = match headers
        .get("x-altr-determinism")
        .map(|h| h.to_str().unwrap_or("").trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(Fail::bad_request(
                "X-ALTR-DETERMINISM must be true or false",
            ))
        }
    };
    let map = batch(v, &bytes)?;
    let (unit, limit) = (
        if v.bytes { "UTF-8 bytes" } else { "characters" },
        v.value_limit,
    );
    for (k, value) in &map {
        let text = value.as_str().unwrap_or_default();
        let size = if v.bytes {
            text.len()
        } else {
            text.chars().count()
        };
        if size >= limit {
            return Err(Fail::bad_request(format!(
                "{k} is {size} {unit}; a value must be under {limit}"
            )));
        }
    }
    let mut org = lock(&s.org);
    let mut data = Map::new();
    for (k, value) in map {
        let token = tokenize(
            &mut org,
            v,
            value.as_str().unwrap_or_default(),
            deterministic,
        )?;
        data.insert(k, Value::String(token));
    }
    answer(data, None)
}

async fn detokenize_batch(
    AxumState(s): State,
    v: &'static Vault,
    bytes: Bytes,
    partial: bool,
) -> Reply {
    let map = batch(v, &bytes)?;
    if !partial {
        if let Some((k, _)) = map
            .iter()
            .find(|(_, t)| !t.as_str().is_some_and(|t| v.is_token(t)))
        {
            return Err(Fail::bad_request(format!(
                "{k} is not a token of this store; detokenize mixed values with {}/batch/partial",
                v.prefix
            )));
        }
    }
    let org = lock(&s.org);
    let mut data = Map::new();
    let mut missing = 0usize;
    for (k, token) in map {
        let found = token
            .as_str()
            .filter(|t| v.is_token(t))
            .and_then(|t| record_of(&org, v, t))
            .and_then(|r| r.get("value").cloned());
        let out = match (found, partial) {
            (Some(clear), _) => clear,
            (None, true) => token,
            (None, false) => {
                missing += 1;
                Value::Null
            }
        };
        data.insert(k, out);
    }
    let message = (missing > 0).then(|| format!("{missing} token(s) not found"));
    answer(data, message)
}

async fn delete_batch(AxumState(s): State, v: &'static Vault, bytes: Bytes) -> Reply {
    let map = batch(v, &bytes)?;
    let mut org = lock(&s.org);
    let mut data = Map::new();
    for (k, token) in map {
        let t = token.as_str().unwrap_or_default();
        let deleted = v.is_token(t) && org.store.delete(&v.spec, &[], t).is_ok();
        data.insert(k, Value::Bool(deleted));
    }
    answer(data, None)
}
