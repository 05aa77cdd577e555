//! Keeping secrets out of logs and tool output: argument redaction by key pattern; the escaping
//! of control characters in log lines is the logging's own, re-exported here. (Our own
//! credentials are scrubbed from upstream text by the client, [`crate::client::scrub`].) It
//! imports only the logging, a leaf.
use serde_json::Value;

/// Argument names whose values are secrets, or the protected values themselves: never shown,
/// neither in a log nor in a dry run's `would_send`.
const SECRETS: &[&str] = &[
    "values",
    "connection_string",
    "passphrase",
    "api_key",
    "access_key",
    "tokens",
    "aws_secrets_manager",
    "azure_key_vault",
];

/// Argument names that carry people's words or query filters: kept out of logs (they may hold
/// personal data), but shown in a dry run, where the person who wrote them reviews the write.
const WORDS: &[&str] = &[
    "text",
    "comment",
    "comments",
    "attestation",
    "justification",
    "reason",
    "confirmation",
    "statement_text_contains",
    "filters",
    "filter_tree",
];

/// Any argument name containing one of these (case-insensitive) is a secret.
const SECRET_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "private_key",
    "privatekey",
    "credential",
    "passphrase",
];

/// Whether an argument's value is a secret (or a value to protect).
pub fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SECRETS.contains(&n.as_str()) || SECRET_PARTS.iter().any(|p| n.contains(p))
}

/// Whether an argument's value must not be logged: secrets, and people's words.
pub fn is_sensitive(name: &str) -> bool {
    is_secret(name) || WORDS.contains(&name.to_ascii_lowercase().as_str())
}

/// A copy of tool arguments safe to log: sensitive values replaced, recursively, keys kept.
pub fn redact(v: &Value) -> Value {
    redact_by(v, is_sensitive)
}

/// A copy safe to show a person reviewing a write (a dry run): only secrets replaced, by field.
pub fn redact_secrets(v: &Value) -> Value {
    redact_by(v, is_secret)
}

fn redact_by(v: &Value, hidden: fn(&str) -> bool) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if hidden(k) {
                        mask(v)
                    } else {
                        redact_by(v, hidden)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|i| redact_by(i, hidden)).collect()),
        other => other.clone(),
    }
}

fn mask(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::String(s) if s.is_empty() => v.clone(),
        Value::Object(map) => Value::Object(
            map.keys()
                .map(|k| (k.clone(), Value::String("<redacted>".into())))
                .collect(),
        ),
        _ => Value::String("<redacted>".into()),
    }
}

pub use crate::logging::{escape_log_text, is_unsafe_in_log};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::borrow::Cow;

    #[test]
    fn redaction_keeps_shape_but_not_values() {
        let v = json!({
            "database_password": "hunter2",
            "values": {"ssn": "123-45-6789"},
            "nested": [{"secret": "x", "name": "ok"}],
            "justification": "",
            "comment": null,
            "tag_name": "PII",
        });
        assert_eq!(
            redact(&v),
            json!({
                "database_password": "<redacted>",
                "values": {"ssn": "<redacted>"},
                "nested": [{"secret": "<redacted>", "name": "ok"}],
                "justification": "",
                "comment": null,
                "tag_name": "PII",
            })
        );
    }

    #[test]
    fn keys_are_redacted_by_pattern_not_only_by_exact_name() {
        for key in [
            "password",
            "dbPassword",
            "PASSWD_HINT",
            "client_secret_value",
            "secretKey",
            "access_token",
            "tokenValue",
            "ssh_private_key_pem",
            "credentials_json",
            "snowflake_credential",
            "passphrase2",
        ] {
            assert!(is_sensitive(key), "{key}");
            let r = redact(&json!({ key: "leak-me" }));
            assert!(!r.to_string().contains("leak-me"), "{key}: {r}");
        }
        for key in ["tag_name", "database_id", "policy_id", "limit", "role"] {
            assert!(!is_sensitive(key), "{key}");
        }
    }

    #[test]
    fn log_text_cannot_forge_lines() {
        assert_eq!(
            escape_log_text("a\nINFO forged\r\0b"),
            "a\\nINFO forged\\r\\0b"
        );
        assert_eq!(escape_log_text("x\u{202e}y"), "x\\u{202e}y");
        assert!(matches!(escape_log_text("plain é ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn secret_backends_and_mixed_case_names_are_redacted() {
        let v = json!({
            "aws_secrets_manager": {"secret_name": "prod/db", "region": "us-east-1"},
            "Snowflake_PASSWD": "x",
            "azure_key_vault": "{\"vault_url\": \"https://kv\"}",
        });
        assert_eq!(
            redact(&v),
            json!({
                "aws_secrets_manager": {"secret_name": "<redacted>", "region": "<redacted>"},
                "Snowflake_PASSWD": "<redacted>",
                "azure_key_vault": "<redacted>",
            })
        );
    }
}
