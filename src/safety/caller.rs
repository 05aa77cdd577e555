//! Who makes a call: the caller's name (the bearer token's name over HTTP, the client's declared
//! name otherwise), the client to ask for a confirmation, and what a call of protocol 2026-07-28
//! carries for the multi-round-trip confirmation.

use rmcp::model::InputResponses;
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};

/// Who made a call, and the client to ask for confirmation.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub peer: Option<Peer<RoleServer>>,
    /// The multi-round-trip part of the call (protocol 2026-07-28), for confirmation.
    pub round: Round,
    /// The caller's name (token name over HTTP, clientInfo name over stdio).
    pub caller: Option<String>,
}

/// The name bound to the bearer token of an HTTP request (set by the transport's guard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerName(pub String);

impl Origin {
    /// The origin of a request: the token's name when the transport put one in the HTTP
    /// request's extensions, else the client's declared name.
    pub fn of(context: &RequestContext<RoleServer>) -> Origin {
        let by_token = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<CallerName>())
            .or_else(|| context.extensions.get::<CallerName>())
            .map(|c| c.0.clone());
        let caller =
            by_token.or_else(|| context.client_info().map(|i| format!("client:{}", i.name)));
        Origin {
            peer: Some(context.peer.clone()),
            caller,
            round: Default::default(),
        }
    }
}

/// What a call of protocol 2026-07-28 carries for the multi-round-trip confirmation.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// The client speaks 2026-07-28 or newer: no server-to-client request during a call.
    pub newest: bool,
    /// It declared form elicitation for this request.
    pub can_elicit: bool,
    /// Its answers to an earlier input-required result.
    pub input_responses: Option<InputResponses>,
    /// The state of that result, echoed back.
    pub request_state: Option<String>,
}
