//! Who makes a call: the caller's name (the bearer token's name or the OAuth subject over HTTP,
//! the client's declared name otherwise), the signed-in user and what they may do, the client to
//! ask for a confirmation, and what a call of protocol 2026-07-28 carries for the
//! multi-round-trip confirmation.

use std::sync::Arc;

use rmcp::model::InputResponses;
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};

use super::permission::Permission;

/// Who made a call, and the client to ask for confirmation.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub peer: Option<Peer<RoleServer>>,
    /// The multi-round-trip part of the call (protocol 2026-07-28), for confirmation.
    pub round: Round,
    /// The caller's name (token name or OAuth subject over HTTP, clientInfo name over stdio).
    pub caller: Option<String>,
    /// The signed-in user's email or username (OAuth), when the token names one.
    pub user: Option<String>,
    /// The client's declared name (clientInfo).
    pub client: Option<String>,
    /// What the caller may do; `None`: everything the server exposes.
    pub permission: Option<Arc<Permission>>,
}

/// Who the transport's guard found behind an HTTP request: a named static token, or a valid
/// OAuth access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's name (MCP_AUTH_TOKENS) or the OAuth subject (`sub`).
    pub name: String,
    /// The user's email or preferred_username, when the token names one.
    pub user: Option<String>,
    /// What the token allows; `None`: everything the server exposes.
    pub permission: Option<Arc<Permission>>,
}

impl Origin {
    /// The origin of a request: the identity the transport put in the HTTP request's
    /// extensions, else the client's declared name.
    pub fn of(context: &RequestContext<RoleServer>) -> Origin {
        let identity = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<Identity>())
            .or_else(|| context.extensions.get::<Identity>())
            .cloned();
        let client = context.client_info().map(|i| i.name.clone());
        let caller = identity
            .as_ref()
            .map(|i| i.name.clone())
            .or_else(|| client.as_ref().map(|c| format!("client:{c}")));
        Origin {
            peer: Some(context.peer.clone()),
            caller,
            user: identity.as_ref().and_then(|i| i.user.clone()),
            client,
            permission: identity.and_then(|i| i.permission),
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
