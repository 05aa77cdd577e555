//! Vault (`/vault/api/v2`) and critical (`/critical/v2`) tokenization: two token stores with the
//! same four batch endpoints.
//!
//! A batch body is an object of text values (`{"field000": "..."}`), 1 to 4,096 values for the
//! vault and 1 to 1,024 for critical (else 400). The answer is `{"success": true, "data":
//! {<same keys>: <result>}}`:
//! - `POST /batch` tokenizes. With `X-ALTR-DETERMINISM: true` a value always gets the same
//!   token (one deterministic token per value and store); with `false` or no header every value
//!   gets a new token. Any other header value is a 400.
//! - `PUT /batch` detokenizes: the clear value, or `null` for a token the store does not hold
//!   (never issued or deleted); `message` then counts them.
//! - `PUT /batch/partial`: tokens give their clear value, anything else comes back unchanged.
//! - `PUT /batch/delete`: `true` for a token deleted, `false` for one the store did not hold.

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
    /// Tokens start with this.
    pub token_prefix: &'static str,
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
    token_prefix: "vlt_",
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
    token_prefix: "crt_",
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
    let token = format!("{}{}", v.token_prefix, org.new_uuid().replace('-', ""));
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
    let org = lock(&s.org);
    let mut data = Map::new();
    let mut missing = 0usize;
    for (k, token) in map {
        let found = token
            .as_str()
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
        let deleted = org.store.delete(&v.spec, &[], t).is_ok();
        data.insert(k, Value::Bool(deleted));
    }
    answer(data, None)
}
