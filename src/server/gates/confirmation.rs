//! A human's yes before a destructive call (ALTR_CONFIRM, ALTR_CONFIRM_TOOLS). A covered call is
//! first previewed (the same pipeline with dry-run on), so a refused call is refused as usual and
//! the human sees what will be sent and what is there now; the policy and the sealed state of
//! the 2026-07-28 rounds are [`crate::safety::confirm`].

use std::sync::Arc;

use rmcp::service::ElicitationError;

use crate::registry::error::{CallError, ToolError};
use crate::safety::confirm::{
    ask, can_elicit, declined, describe, redeem, ConfirmPolicy, Confirmation as Form, Mode,
    ANSWER_TIME,
};
use crate::server::pipeline::{Call, Gate, GateFuture, Pipeline, Stop};

pub struct Confirmation {
    policy: Arc<ConfirmPolicy>,
}

impl Confirmation {
    pub fn new(policy: Arc<ConfirmPolicy>) -> Self {
        Self { policy }
    }

    async fn check(&self, call: &Call, pipeline: &Pipeline) -> Result<(), Stop> {
        let Some(def) = &call.def else {
            return Ok(());
        };
        if call.flags.dry_run || !self.policy.covers(def) {
            return Ok(());
        }
        let (args, origin) = (&call.args, &call.origin);
        let round = &origin.round;
        // A client of the newest protocol answering an earlier question: check the state, then
        // the answer.
        if round.request_state.is_some() || round.input_responses.is_some() {
            let answered = redeem(def, args, origin);
            counted(answered.as_ref().err());
            return answered.map_err(Stop::Refused);
        }
        let ask_in_result = round.newest && round.can_elicit;
        let peer = origin.peer.as_ref();
        let can_ask = ask_in_result || peer.is_some_and(can_elicit);
        if !can_ask && (self.policy.mode == Mode::Elicit || call.flags.confirm) {
            return Ok(());
        }
        let shown = pipeline.preview(call).await?;
        if ask_in_result {
            let question = ask(def, args, origin, &shown)?;
            crate::metrics::confirmation("asked");
            return Err(Stop::Ask(question));
        }
        let Some(peer) = peer.filter(|_| can_ask) else {
            return Err(Stop::Refused(ToolError::Failed {
                code: "confirmation_required",
                message: format!("{} deletes or disables something and this server requires a human's confirmation (ALTR_CONFIRM=required), which this client cannot ask for. Nothing was sent. Show the user what would be sent (details) and, only if they agree, call again with `confirm: true`.", def.name),
                details: Some(shown),
            }));
        };
        let message = describe(def, args, &shown);
        crate::metrics::confirmation("asked");
        let answer = tokio::select! {
            a = peer.elicit_with_timeout::<Form>(message, Some(ANSWER_TIME)) => a,
            _ = call.cancel.cancelled() => {
                return Err(Stop::Refused(ToolError::Call(CallError::Cancelled { during: "confirmation" })));
            }
        };
        let decided = match answer {
            Ok(Some(Form { confirm: true })) => Ok(()),
            Ok(_) => Err(declined(def, "did not confirm").into()),
            Err(ElicitationError::UserDeclined) => Err(declined(def, "declined").into()),
            Err(ElicitationError::UserCancelled) => Err(declined(def, "cancelled").into()),
            Err(ElicitationError::Service(rmcp::ServiceError::Timeout { .. })) => {
                Err(declined(def, "gave no answer in time to").into())
            }
            Err(e) => Err(Stop::Refused(ToolError::Failed {
                code: "confirmation_failed",
                message: format!(
                    "The confirmation of {} could not be obtained ({}); nothing was sent to ALTR.",
                    def.name,
                    crate::client::error::truncate(&e.to_string(), 200)
                ),
                details: None,
            })),
        };
        match &decided {
            Err(Stop::Refused(e)) => counted(Some(e)),
            _ => counted(None),
        }
        decided
    }
}

/// Count a human's answer: accepted (no refusal), or declined (a failure to ask is neither).
fn counted(refusal: Option<&ToolError>) {
    match refusal {
        None => crate::metrics::confirmation("accepted"),
        Some(e) if e.code() == "declined" => crate::metrics::confirmation("declined"),
        Some(_) => {}
    }
}

impl Gate for Confirmation {
    fn before<'a>(&'a self, call: &'a mut Call, pipeline: &'a Pipeline) -> GateFuture<'a> {
        Box::pin(self.check(call, pipeline))
    }
}
