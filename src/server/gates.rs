//! The gates of the call pipeline (see [`super::pipeline`]), one file each: [`selection`],
//! [`arguments`], [`authorization`], [`support`], [`confirmation`], [`dry_run`], [`metrics`],
//! [`traces`] and [`audit`], run in that order ([`standard`]).
//! Each is a small type with one job; adding one is a file here and a line in [`standard`].

pub mod arguments;
pub mod audit;
pub mod authorization;
pub mod confirmation;
pub mod dry_run;
pub mod metrics;
pub mod selection;
pub mod support;
pub mod traces;

use std::sync::Arc;

use super::pipeline::Gate;
use crate::safety::audit::AuditLog;
use crate::safety::confirm::ConfirmPolicy;

/// The gates every call goes through, in order:
/// 1. selection: is the tool exposed here (toolsets, read-only mode, RESTRICTED_TOOLS, the
///    clear-text gate, the session's dynamic toolsets)?
/// 2. arguments: take the server's own `dry_run` and `confirm` out of the tool's arguments;
/// 3. authorization: may this caller (an OAuth or scoped token's permission) call this tool?
/// 4. support: while the session is in support mode, lookups only (and the one unlocked call);
///    after authorization, so support mode narrows what the caller may do and never widens it;
/// 5. confirmation: a human's yes for destructive calls (ALTR_CONFIRM);
/// 6. dry run: writes recorded instead of sent;
/// 7. then the handler runs, under its deadline and cancellation;
/// 8. metrics: the call counted by tool, toolset, effect and outcome, and timed (MCP_METRICS_ADDR);
/// 9. traces: the call's span gets its tool, toolset, effect and outcome (OTEL_* variables);
/// 10. audit, only when an audit trail is configured: the record of the outcome (ALTR_AUDIT_LOG),
///     written before the result returns.
pub fn standard(confirm: Arc<ConfirmPolicy>, audit: Option<Arc<AuditLog>>) -> Vec<Arc<dyn Gate>> {
    let mut gates: Vec<Arc<dyn Gate>> = vec![
        Arc::new(selection::Selection),
        Arc::new(arguments::ServerArguments),
        Arc::new(authorization::Authorization),
        Arc::new(support::Support),
        Arc::new(confirmation::Confirmation::new(confirm)),
        Arc::new(dry_run::DryRun),
        Arc::new(metrics::Metrics),
        Arc::new(traces::Traces),
    ];
    if let Some(log) = audit {
        gates.push(Arc::new(audit::Audit::new(log)));
    }
    gates
}
