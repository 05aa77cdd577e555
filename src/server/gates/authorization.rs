//! May this caller call this tool? Over HTTP an OAuth access token, or a scoped static token,
//! carries a permission ([`crate::safety::permission`]): a scope per kind of tool (read, write,
//! destructive, clear text), optionally on some toolsets only. A call beyond it sends nothing
//! and is refused naming the scope it needs. Without a permission (stdio, unscoped tokens) the
//! caller may call whatever the server exposes; a permission only ever narrows that.

use serde_json::json;

use crate::registry::error::ToolError;
use crate::server::pipeline::{Call, Gate, GateFuture, Pipeline};

pub struct Authorization;

impl Gate for Authorization {
    fn before<'a>(&'a self, call: &'a mut Call, _pipeline: &'a Pipeline) -> GateFuture<'a> {
        let refused = match (&call.origin.permission, &call.def) {
            (Some(permission), Some(def)) => permission.refusal(def).map(|r| {
                let scope = permission.scope_for(def).to_string();
                let message = if r.toolset {
                    format!(
                        "Your sign-in does not cover the `{}` toolset, so {} is refused; nothing was sent to ALTR. Ask an administrator to grant it.",
                        def.toolset.id, def.name
                    )
                } else {
                    format!(
                        "{} needs the scope `{scope}`, which your sign-in does not carry; nothing was sent to ALTR. Ask an administrator for it, then sign in again.",
                        def.name
                    )
                };
                crate::metrics::auth_refused("insufficient_scope");
                ToolError::Failed {
                    code: "insufficient_scope",
                    message,
                    details: Some(json!({"required_scope": scope, "toolset": def.toolset.id})),
                }
            }),
            _ => None,
        };
        Box::pin(std::future::ready(match refused {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }))
    }
}
