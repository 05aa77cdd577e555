//! The audit record (ALTR_AUDIT_LOG): one line per call and per refusal, written before the
//! result returns; a line that cannot be written fails the call ([`crate::safety::audit`]).

use std::sync::Arc;

use crate::registry::error::ToolError;
use crate::safety::audit::{self as trail, AuditLog};
use crate::server::pipeline::{Call, Gate, Outcome, Purpose};

pub struct Audit {
    log: Arc<AuditLog>,
}

impl Audit {
    pub fn new(log: Arc<AuditLog>) -> Self {
        Self { log }
    }

    fn write(&self, call: &Call, outcome: &str, code: Option<&str>) -> Result<(), ToolError> {
        let mut line = trail::entry(
            &call.name,
            call.effect(),
            outcome,
            code,
            &call.statuses(),
            call.started.elapsed().as_millis() as u64,
            &call.logged_args,
            call.origin.caller.as_deref(),
        );
        if let Some(o) = line.as_object_mut() {
            // The signed-in user (OAuth) and the client beside the caller's name.
            if let Some(user) = &call.origin.user {
                o.insert("user".into(), user.clone().into());
            }
            if let Some(client) = &call.origin.client {
                o.insert("client".into(), client.clone().into());
            }
            o.extend(call.notes.clone());
        }
        self.log.write(&line)
    }
}

impl Gate for Audit {
    fn after(&self, call: &Call, outcome: &mut Outcome) {
        if call.purpose == Purpose::Preview {
            return;
        }
        match outcome {
            Outcome::Done(result) => {
                let code = result.as_ref().err().map(ToolError::code);
                let written = self.write(call, &trail::outcome(result, call.flags.dry_run), code);
                if let Err(e) = written {
                    *result = Err(e);
                }
            }
            Outcome::Ask(_) => {
                if let Err(e) = self.write(call, "input_required", Some("input_required")) {
                    *outcome = Outcome::Done(Err(e));
                }
            }
            // Refused at protocol level; recorded all the same (a failed write changes nothing).
            Outcome::Unknown => {
                let _ = self.write(call, "refused", Some("unknown_tool"));
            }
        }
    }
}
