//! What a tool handler works with: the ALTR client, the server's shared state, and the one
//! place every request of a tool call goes through ([`Ctx::send`]).

use std::sync::{Arc, Mutex};

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};

use super::ToolResult;
use crate::client::{AltrClient, ApiRequest};

/// State shared by every tool call of a server.
#[derive(Debug, Default)]
pub struct Shared {
    /// Masking levels the API allows on tag policies, once a lookup has succeeded.
    pub tag_masking_levels: Mutex<Option<Vec<i64>>>,
}

/// What a handler gets: the ALTR client and the server's shared state.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub client: Arc<AltrClient>,
    pub shared: Arc<Shared>,
    /// Where this call reports progress, when the client asked for it.
    pub progress: Option<Progress>,
}

/// The client of one tool call and the progress token it gave.
#[derive(Clone)]
pub struct Progress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").finish_non_exhaustive()
    }
}

impl Ctx {
    pub fn new(client: Arc<AltrClient>) -> Self {
        Self {
            client,
            shared: Arc::new(Shared::default()),
            progress: None,
        }
    }

    /// This context, reporting progress to `peer` under `token`.
    pub fn with_progress(mut self, peer: Peer<RoleServer>, token: ProgressToken) -> Self {
        self.progress = Some(Progress { peer, token });
        self
    }

    /// Tell the client how far a long call has got (nothing when it gave no progress token).
    pub async fn progress(&self, done: f64, total: Option<f64>, message: &str) {
        let Some(p) = &self.progress else { return };
        let mut param = ProgressNotificationParam::new(p.token.clone(), done);
        param.total = total;
        param.message = Some(message.to_string());
        if let Err(e) = p.peer.notify_progress(param).await {
            tracing::debug!(error = %e, "progress notification not sent");
        }
    }

    /// Send one request and return its JSON payload.
    pub async fn send(&self, req: ApiRequest) -> ToolResult {
        Ok(self.client.send(&req).await?)
    }
}
