//! Support mode ([`crate::safety::support`]): while the session has it on, only the lookups and
//! the control tools run, and the one tool the operator unlocked runs once. Checking and
//! spending the unlock are one step, and the call that spent it is noted in its audit record.
//! A preview (the confirmation's dry run) is the inside of a call that already passed here.

use crate::safety::support::Admission;
use crate::server::pipeline::{Call, Gate, GateFuture, Pipeline, Purpose};

pub struct Support;

impl Gate for Support {
    fn before<'a>(&'a self, call: &'a mut Call, _pipeline: &'a Pipeline) -> GateFuture<'a> {
        let result = match (&call.support, &call.def) {
            (Some(mode), Some(def)) if call.purpose == Purpose::Call => {
                mode.admit(def, call.flags.dry_run).map(|admitted| {
                    if admitted == Admission::Unlocked {
                        call.notes.insert("support_unlock".into(), true.into());
                    }
                })
            }
            _ => Ok(()),
        };
        Box::pin(std::future::ready(result.map_err(Into::into)))
    }
}
