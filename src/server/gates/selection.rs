//! Is the tool exposed here? Finds the called tool among those the server's selection exposes
//! (toolsets, ALTR_READ_ONLY, RESTRICTED_TOOLS, the clear-text gate) and, with dynamic toolsets,
//! among those this session has enabled. A call by an earlier name of a tool is the call of that
//! tool, under its current name.

use crate::registry::error::ToolError;
use crate::server::pipeline::{Call, Gate, GateFuture, Pipeline, Stop};

pub struct Selection;

fn unavailable(message: String) -> Stop {
    Stop::Refused(ToolError::Failed {
        code: "tool_unavailable",
        message,
        details: None,
    })
}

impl Gate for Selection {
    fn before<'a>(&'a self, call: &'a mut Call, pipeline: &'a Pipeline) -> GateFuture<'a> {
        let registry = pipeline.registry();
        // An earlier name runs the tool it stands for, under its current name.
        if let Some(current) = registry.alias(&call.name) {
            let alias = std::mem::replace(&mut call.name, current.to_string());
            call.notes.insert("called_as".into(), alias.into());
        }
        let name = call.name.as_str();
        let found = match registry.get(name) {
            Some(def) => match &call.session {
                Some(session) if !session.visible(registry, name) => Err(unavailable(format!(
                    "Tool '{name}' is in the `{id}` toolset, which this session has not enabled; call enable_toolset with toolset `{id}` first.",
                    id = def.toolset.id
                ))),
                _ => Ok(def.clone()),
            },
            None => match registry.unavailable(name) {
                Some(why) => Err(unavailable(why)),
                None => Err(Stop::Unknown),
            },
        };
        let result = found.map(|def| call.def = Some(def));
        Box::pin(std::future::ready(result))
    }
}
