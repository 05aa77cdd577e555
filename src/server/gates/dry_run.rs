//! Dry runs (`dry_run: true`): the handler runs with its writes recorded instead of sent, and
//! the result becomes `{dry_run, would_send, before}` with secrets redacted (only secrets: the
//! person reviewing the write sees every other field it sends)
//! ([`crate::registry::dryrun`]).

use std::sync::Arc;

use crate::registry::dryrun::Rehearsal;
use crate::safety::redact::redact_secrets;
use crate::server::pipeline::{Call, Gate, GateFuture, Outcome, Pipeline};

pub struct DryRun;

impl Gate for DryRun {
    fn before<'a>(&'a self, call: &'a mut Call, _pipeline: &'a Pipeline) -> GateFuture<'a> {
        if call.flags.dry_run {
            call.rehearsal = Some(Arc::new(Rehearsal::default()));
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn after(&self, call: &Call, outcome: &mut Outcome) {
        if let (Some(rehearsal), Outcome::Done(result)) = (&call.rehearsal, outcome) {
            let ran = std::mem::replace(result, Ok(serde_json::Value::Null));
            *result = rehearsal.finish(ran, redact_secrets);
        }
    }
}
