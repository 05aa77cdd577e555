//! The call's metrics ([`crate::metrics`]): one count by tool, toolset, effect and outcome, and
//! its duration by toolset, recorded where the audit record is written, after every other gate.
//! A call of a name no tool has is counted under `(unknown)`, never under the name sent.

use crate::safety::audit::{effect_name, outcome_label};
use crate::server::pipeline::{Call, Gate, Outcome, Purpose};

pub struct Metrics;

/// What a call is counted and traced under, all from closed sets: tool, toolset, effect, outcome.
pub struct Labels {
    pub tool: &'static str,
    pub toolset: &'static str,
    pub effect: &'static str,
    pub outcome: &'static str,
}

impl Labels {
    pub fn of(call: &Call, outcome: &Outcome) -> Labels {
        let (tool, toolset) = match &call.def {
            Some(def) => (def.name, def.toolset.id),
            None => ("(unknown)", "(none)"),
        };
        Labels {
            tool,
            toolset,
            effect: call.effect().map_or("(none)", effect_name),
            outcome: match outcome {
                Outcome::Done(result) => outcome_label(result, call.flags.dry_run),
                Outcome::Ask(_) => "input_required",
                Outcome::Unknown => "unknown_tool",
            },
        }
    }
}

impl Gate for Metrics {
    fn after(&self, call: &Call, outcome: &mut Outcome) {
        if call.purpose == Purpose::Preview {
            return;
        }
        let l = Labels::of(call, outcome);
        crate::metrics::tool_call(
            l.tool,
            l.toolset,
            l.effect,
            l.outcome,
            call.started.elapsed().as_secs_f64(),
        );
    }
}
