//! The call's span ([`crate::logging::traces`]): once the call has ended, its tool, toolset,
//! effect and outcome are recorded on it (and the error code when it failed), from the same
//! closed sets as the metrics. No span, no work: traces are off.

use super::metrics::Labels;
use crate::logging::traces::record_call;
use crate::server::pipeline::{Call, Gate, Outcome};

pub struct Traces;

impl Gate for Traces {
    fn after(&self, call: &Call, outcome: &mut Outcome) {
        if call.span.is_none() {
            return;
        }
        let l = Labels::of(call, outcome);
        let error = match outcome {
            Outcome::Done(Err(e)) => Some(e.code()),
            Outcome::Unknown => Some("unknown_tool"),
            _ => None,
        };
        record_call(
            &call.span,
            l.tool,
            l.toolset,
            l.effect,
            l.outcome,
            call.flags.dry_run,
            error,
        );
    }
}
