//! Confirmation of destructive calls (ALTR_CONFIRM, ALTR_CONFIRM_TOOLS): the policy, the question
//! put to the human, and the sealed state of the 2026-07-28 rounds. The confirmation gate of the
//! call pipeline (`server::gates::confirmation`) asks.
//!
//! A call the policy covers is first previewed (a dry run through the same call pipeline:
//! validation and reads, no write; see [`crate::registry::dryrun`]), so a refused call is refused
//! as usual and the human is shown what will be sent and what is there now. The confirmation gate
//! ([`crate::server::gates::confirmation`]) applies this policy on every call. Then:
//! - `elicit` (default): a client that declared form elicitation is asked; decline, cancel or no
//!   answer sends nothing and fails with `declined`. Other clients proceed.
//! - `required`: as `elicit`, but a client that cannot be asked gets `confirmation_required`
//!   (with what would be sent) unless the call carries `confirm: true`.
//! - `never`: no confirmation.
//!
//! Clients of protocol 2026-07-28 cannot be sent a request in the middle of a call; when they
//! declare form elicitation, the call answers with an input-required result instead: the
//! question, and a `requestState` sealed with a per-process key (HMAC-SHA256), bound to the
//! caller, the tool and its exact arguments, valid for [`ANSWER_TIME`] and redeemable once. The
//! client asks the human and calls again with the answer and the state; altered, expired, replayed
//! or misplaced state is refused and nothing is sent.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rmcp::model::{
    ElicitResult, ElicitationAction, InputRequest, InputRequiredResult, JsonObject,
    ProtocolVersion, RequestStateCodec, RequestStateError, SealOptions,
};
use rmcp::service::ElicitationMode;
use rmcp::{Peer, RoleServer};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::Origin;
use crate::registry::effect::Effect;
use crate::registry::error::ToolError;
use crate::registry::tool::ToolDef;

/// How long a human has to answer a confirmation.
pub const ANSWER_TIME: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Elicit,
    Required,
    Never,
}

/// Which calls need a human's yes, and how it is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfirmPolicy {
    pub mode: Mode,
    /// Tools confirmed although not destructive (`+name`).
    pub added: BTreeSet<String>,
    /// Destructive tools not confirmed (`-name`).
    pub removed: BTreeSet<String>,
}

impl ConfirmPolicy {
    /// From ALTR_CONFIRM and the ALTR_CONFIRM_TOOLS list, checked against every tool the server
    /// knows (`tools`); the problems, one per message.
    pub fn parse(mode: &str, overrides: &[String], tools: &[ToolDef]) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mode = match mode.trim().to_ascii_lowercase().as_str() {
            "" | "elicit" => Mode::Elicit,
            "required" => Mode::Required,
            "never" => Mode::Never,
            _ => {
                problems.push("ALTR_CONFIRM: must be one of elicit, required, never".to_string());
                Mode::Elicit
            }
        };
        let mut policy = ConfirmPolicy {
            mode,
            ..Default::default()
        };
        let mut unknown = Vec::new();
        for item in overrides {
            let (set, name) = match (item.strip_prefix('+'), item.strip_prefix('-')) {
                (Some(n), _) => (&mut policy.added, n.trim()),
                (_, Some(n)) => (&mut policy.removed, n.trim()),
                _ => {
                    problems.push(format!(
                        "ALTR_CONFIRM_TOOLS: `{}` must start with + (confirm this tool) or - (do not)",
                        crate::client::error::truncate(item, 60)
                    ));
                    continue;
                }
            };
            // An earlier name names the tool it stands for.
            match tools
                .iter()
                .find(|t| t.name == name || t.formerly.contains(&name))
            {
                Some(t) if t.effect.is_read_only() => problems.push(format!(
                    "ALTR_CONFIRM_TOOLS: {name} changes nothing and cannot need confirmation"
                )),
                Some(t) => {
                    set.insert(t.name.to_string());
                }
                None => unknown.push(crate::client::error::truncate(name, 60)),
            }
        }
        if !unknown.is_empty() {
            problems.push(format!(
                "ALTR_CONFIRM_TOOLS: unknown tool name(s) {}; run `altr-mcp tools` to see every name",
                unknown.join(", ")
            ));
        }
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(problems)
        }
    }

    /// Whether calls of this tool need confirmation.
    pub fn covers(&self, def: &ToolDef) -> bool {
        self.mode != Mode::Never
            && (def.effect == Effect::Destructive || self.added.contains(def.name))
            && !self.removed.contains(def.name)
    }

    /// Whether the tool's listed schema shows `confirm`: only where this mode can use it
    /// (ALTR_CONFIRM=required), on the tools it covers. It is taken out of the arguments of a
    /// covered tool in any mode.
    pub fn lists_confirm(&self, def: &ToolDef) -> bool {
        self.mode == Mode::Required && self.covers(def)
    }

    /// Whether the policy adds `confirm` to this tool although it is not destructive (`+name`).
    pub fn adds(&self, name: &str) -> bool {
        self.added.contains(name)
    }
}

/// The failure of a call the human did not let go ahead.
pub fn declined(def: &ToolDef, how: &str) -> ToolError {
    ToolError::Failed {
        code: "declined",
        message: format!(
            "The user {how} {}; nothing was sent to ALTR. Do not retry unless they ask for it.",
            def.name
        ),
        details: None,
    }
}

/// The key of the one question in an input-required result.
const QUESTION: &str = "confirm";

/// The key that seals confirmation state, and the states already redeemed here (until they
/// expire). Replay protection is this process's own: replicas sharing keys (MCP_STATE_KEYS)
/// each refuse a second use of a state they redeemed.
struct Sealer {
    codec: RequestStateCodec,
    redeemed: Mutex<HashMap<String, Instant>>,
}

static SEALER: OnceLock<Option<Sealer>> = OnceLock::new();

/// Seal with these keys (MCP_STATE_KEYS: the first seals, every one opens) instead of a random
/// per-process key; called once at start-up, before the first call. An error names the problem.
pub fn use_state_keys(keys: Vec<(String, Vec<u8>)>) -> Result<(), String> {
    let Some((active, _)) = keys.first() else {
        return Ok(());
    };
    let active = active.clone();
    let ring = keys;
    let codec = RequestStateCodec::new_with_keyring(active, ring)
        .map_err(|e| format!("MCP_STATE_KEYS: {e}"))?;
    SEALER
        .set(Some(Sealer {
            codec,
            redeemed: Mutex::new(HashMap::new()),
        }))
        .map_err(|_| "MCP_STATE_KEYS: the confirmation keys were already in use".to_string())
}

fn sealer() -> Result<&'static Sealer, ToolError> {
    SEALER
        .get_or_init(|| {
            let key: [u8; 32] = rand::random();
            RequestStateCodec::try_new(key.to_vec())
                .ok()
                .map(|codec| Sealer {
                    codec,
                    redeemed: Mutex::new(HashMap::new()),
                })
        })
        .as_ref()
        .ok_or_else(|| ToolError::Failed {
            code: "confirmation_failed",
            message: "The confirmation could not be prepared; nothing was sent to ALTR.".into(),
            details: None,
        })
}

/// What sealed state is bound to: the caller, the tool and its exact arguments (keys sorted, so
/// a client that reorders them is not refused).
fn binding(def: &ToolDef, args: &JsonObject, origin: &Origin) -> Vec<u8> {
    fn canonical(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: std::collections::BTreeMap<&String, Value> =
                    m.iter().map(|(k, v)| (k, canonical(v))).collect();
                json!(sorted)
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let args = canonical(&Value::Object(args.clone()));
    format!(
        "altr-mcp/confirm\n{}\n{}\n{args}",
        origin.caller.as_deref().unwrap_or(""),
        def.name
    )
    .into_bytes()
}

/// The input-required result that asks the human about this call.
pub fn ask(
    def: &ToolDef,
    args: &JsonObject,
    origin: &Origin,
    shown: &Value,
) -> Result<InputRequiredResult, ToolError> {
    let sealer = sealer()?;
    let nonce: [u8; 16] = rand::random();
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let bound = binding(def, args, origin);
    let state = sealer.codec.seal_with(
        nonce.as_bytes(),
        &SealOptions::new().associated_data(&bound).ttl(ANSWER_TIME),
    );
    let question: InputRequest = serde_json::from_value(json!({
        "method": "elicitation/create",
        "params": {
            "mode": "form",
            "message": describe(def, args, shown),
            "requestedSchema": {
                "type": "object",
                "properties": {"confirm": {"type": "boolean", "title": "Confirm", "description": "Check to let the call go ahead."}},
                "required": ["confirm"]
            }
        }
    }))
    .map_err(|_| ToolError::Failed {
        code: "confirmation_failed",
        message: "The confirmation question could not be built; nothing was sent to ALTR.".into(),
        details: None,
    })?;
    Ok(InputRequiredResult::new(
        Some([(QUESTION.to_string(), question)].into()),
        Some(state),
    ))
}

/// Check the state and the answer a client of protocol 2026-07-28 sent back: `Ok` to send the
/// call, else why not (nothing sent).
pub fn redeem(def: &ToolDef, args: &JsonObject, origin: &Origin) -> Result<(), ToolError> {
    let refuse = |code: &'static str, why: &str| {
        ToolError::Failed {
        code,
        message: format!(
            "{why} Nothing was sent to ALTR. To go ahead, call {} again without requestState so the user is asked again.",
            def.name
        ),
        details: None,
    }
    };
    let Some(state) = origin.round.request_state.as_deref() else {
        return Err(refuse(
            "confirmation_invalid",
            "The call carries answers but no requestState from this server.",
        ));
    };
    let sealer = sealer()?;
    let nonce = match sealer
        .codec
        .open_with(state, &binding(def, args, origin))
    {
        Ok(n) => String::from_utf8_lossy(&n).into_owned(),
        Err(RequestStateError::Expired) => {
            return Err(refuse(
                "confirmation_expired",
                "The confirmation expired (answers are accepted for 10 minutes).",
            ))
        }
        Err(_) => {
            return Err(refuse(
                "confirmation_invalid",
                "The requestState was altered or belongs to another tool, other arguments or another caller.",
            ))
        }
    };
    {
        let mut redeemed = sealer.redeemed.lock().map_err(|_| {
            refuse(
                "confirmation_failed",
                "The confirmation could not be checked.",
            )
        })?;
        let now = Instant::now();
        redeemed.retain(|_, until| *until > now);
        if redeemed.contains_key(&nonce) {
            return Err(refuse(
                "confirmation_replayed",
                "This confirmation was already used once.",
            ));
        }
        redeemed.insert(nonce, now + ANSWER_TIME);
    }
    let answer = origin
        .round
        .input_responses
        .as_ref()
        .and_then(|r| r.get(QUESTION))
        .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok());
    let declined = |how: &str| declined(def, how);
    match answer {
        None => Err(refuse(
            "confirmation_invalid",
            "The call carries no answer to the confirmation question.",
        )),
        Some(r) => match r.action {
            ElicitationAction::Accept
                if r.content.as_ref().and_then(|c| c.get("confirm"))
                    == Some(&Value::Bool(true)) =>
            {
                Ok(())
            }
            ElicitationAction::Accept => Err(declined("did not confirm")),
            ElicitationAction::Decline => Err(declined("declined")),
            _ => Err(declined("cancelled")),
        },
    }
}

/// The form a human answers.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Confirmation {
    /// Check to let the call go ahead.
    pub confirm: bool,
}

rmcp::elicit_safe!(Confirmation);

/// Whether this client can be asked with a form (declared it, on a protocol that allows
/// server-to-client requests).
pub fn can_elicit(peer: &Peer<RoleServer>) -> bool {
    let old_protocol = peer
        .peer_info()
        .is_none_or(|i| i.protocol_version < ProtocolVersion::V_2026_07_28);
    old_protocol
        && peer
            .supported_elicitation_modes()
            .contains(&ElicitationMode::Form)
}

/// The question put to the human: the tool, the ids given, what goes with it, the requests.
pub fn describe(def: &ToolDef, args: &JsonObject, shown: &Value) -> String {
    let ids: Vec<String> = args
        .iter()
        .filter(|(k, _)| k.ends_with("id") || k.ends_with("ids") || k.ends_with("name"))
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k} {}", crate::client::error::truncate(s, 120)),
            other => format!(
                "{k} {}",
                crate::client::error::truncate(&other.to_string(), 120)
            ),
        })
        .collect();
    let mut text = format!("Confirm {} ({})", def.title, def.name);
    if !ids.is_empty() {
        text.push_str(&format!(" for {}", ids.join(", ")));
    }
    text.push('.');
    if let Some(before) = shown.get("before") {
        let rules = before.get("rules").and_then(Value::as_array).map(Vec::len);
        let name = before
            .pointer("/policy/name")
            .or_else(|| before.get("name"))
            .and_then(Value::as_str);
        if let Some(n) = name {
            text.push_str(&format!(
                " It is named \"{}\".",
                crate::client::error::truncate(n, 120)
            ));
        }
        if let Some(n) = rules {
            text.push_str(&format!(" Its {n} rule(s) go with it."));
        }
    }
    let sends: Vec<String> = shown
        .get("would_send")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|w| {
            format!(
                "{} {}",
                w["method"].as_str().unwrap_or_default(),
                w["path"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if !sends.is_empty() {
        text.push_str(&format!(" It will send: {}.", sends.join("; ")));
    }
    text.push_str(" This cannot be undone.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safety::caller::Round;
    use crate::toolsets::all_tools;

    fn def(name: &str) -> &'static ToolDef {
        Box::leak(Box::new(all_tools()))
            .iter()
            .find(|t| t.name == name)
            .unwrap()
    }

    fn origin(caller: &str, answer: Option<Value>, state: Option<String>) -> Origin {
        Origin {
            caller: Some(caller.into()),
            round: Round {
                newest: true,
                can_elicit: true,
                input_responses: answer.map(|a| [(QUESTION.to_string(), a)].into()),
                request_state: state,
            },
            ..Default::default()
        }
    }

    fn obj(v: Value) -> JsonObject {
        v.as_object().unwrap().clone()
    }

    fn code(e: &ToolError) -> &str {
        match e {
            ToolError::Failed { code, .. } => code,
            _ => "",
        }
    }

    #[test]
    fn sealed_state_is_bound_to_caller_tool_and_arguments_in_any_key_order() {
        let tool = def("delete_rule");
        let args = obj(json!({"policy_id": "TAG#1", "rule_id": "r1"}));
        let reordered = obj(json!({"rule_id": "r1", "policy_id": "TAG#1"}));
        let a = binding(tool, &args, &origin("alice", None, None));
        assert_eq!(a, binding(tool, &reordered, &origin("alice", None, None)));
        assert_ne!(a, binding(tool, &args, &origin("bob", None, None)));
        assert_ne!(
            a,
            binding(def("delete_policy"), &args, &origin("alice", None, None))
        );
        let other = obj(json!({"policy_id": "TAG#1", "rule_id": "r2"}));
        assert_ne!(a, binding(tool, &other, &origin("alice", None, None)));

        // Asked by alice, answered by bob with the same state: refused.
        let q = ask(tool, &args, &origin("alice", None, None), &json!({})).unwrap();
        let state = q.request_state.unwrap();
        let yes = json!({"action": "accept", "content": {"confirm": true}});
        let e = redeem(
            tool,
            &args,
            &origin("bob", Some(yes.clone()), Some(state.clone())),
        )
        .unwrap_err();
        assert!(e.to_string().contains("another caller"), "{e}");
        // alice, with the arguments reordered: accepted once.
        redeem(
            tool,
            &reordered,
            &origin("alice", Some(yes.clone()), Some(state.clone())),
        )
        .unwrap();
        let e = redeem(tool, &args, &origin("alice", Some(yes), Some(state))).unwrap_err();
        assert_eq!(code(&e), "confirmation_replayed", "{e}");
    }

    #[test]
    fn expired_state_and_answers_other_than_yes_send_nothing() {
        let tool = def("delete_policy");
        let args = obj(json!({"policy_id": "TAG#1"}));
        let who = origin("alice", None, None);
        let sealer = sealer().unwrap();
        let bound = binding(tool, &args, &who);
        let stale = sealer.codec.seal_with(
            b"n-stale",
            &SealOptions::new()
                .associated_data(&bound)
                .ttl(Duration::from_millis(1)),
        );
        std::thread::sleep(Duration::from_millis(20));
        let yes = json!({"action": "accept", "content": {"confirm": true}});
        let e = redeem(tool, &args, &origin("alice", Some(yes), Some(stale))).unwrap_err();
        assert_eq!(code(&e), "confirmation_expired", "{e}");
        for (answer, expected) in [
            (
                json!({"action": "accept", "content": {"confirm": false}}),
                "declined",
            ),
            (json!({"action": "decline"}), "declined"),
            (json!({"action": "cancel"}), "declined"),
            (json!({"unexpected": true}), "confirmation_invalid"),
        ] {
            let q = ask(tool, &args, &who, &json!({})).unwrap();
            let e = redeem(
                tool,
                &args,
                &origin("alice", Some(answer.clone()), q.request_state),
            )
            .unwrap_err();
            assert_eq!(code(&e), expected, "{answer}: {e}");
        }
    }

    #[test]
    fn modes_and_overrides_parse_and_unknown_names_are_refused() {
        let p = ConfirmPolicy::parse(
            "required",
            &["+add_rules".into(), "-delete_rule".into()],
            &all_tools(),
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Required);
        let tools = all_tools();
        let get = |n: &str| tools.iter().find(|t| t.name == n).unwrap();
        assert!(p.covers(get("add_rules")));
        assert!(!p.covers(get("delete_rule")));
        assert!(p.covers(get("delete_policy")));
        assert!(!p.covers(get("get_rules")));
        let never = ConfirmPolicy::parse("never", &[], &all_tools()).unwrap();
        assert!(!never.covers(get("delete_policy")));
        let e = ConfirmPolicy::parse(
            "sometimes",
            &["+no_such_tool".into(), "x".into(), "+get_rules".into()],
            &all_tools(),
        )
        .unwrap_err();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e.iter().any(|m| m.contains("no_such_tool")));
    }
}
