//! Takes the server's own arguments (`dry_run`, and `confirm` where the tool takes it) out of the
//! tool's arguments before the tool parses its own; a wrongly typed one is refused.

use crate::registry::flags;
use crate::server::pipeline::{Call, Gate, GateFuture, Pipeline};

pub struct ServerArguments;

impl Gate for ServerArguments {
    fn before<'a>(&'a self, call: &'a mut Call, pipeline: &'a Pipeline) -> GateFuture<'a> {
        let result = match &call.def {
            Some(def) => {
                let added = pipeline.confirm().adds(def.name);
                flags::take(def, added, &mut call.args).map(|taken| {
                    // A preview arrives with dry-run already on.
                    call.flags.dry_run |= taken.dry_run;
                    call.flags.confirm |= taken.confirm;
                })
            }
            None => Ok(()),
        };
        Box::pin(std::future::ready(result.map_err(Into::into)))
    }
}
