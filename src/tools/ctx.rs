//! What a tool handler works with: the ALTR client, the server's shared state, and the one
//! place every request of a tool call goes through ([`Ctx::send`]).

use std::sync::{Arc, Mutex};

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
}

impl Ctx {
    pub fn new(client: Arc<AltrClient>) -> Self {
        Self {
            client,
            shared: Arc::new(Shared::default()),
        }
    }

    /// Send one request and return its JSON payload.
    pub async fn send(&self, req: ApiRequest) -> ToolResult {
        Ok(self.client.send(&req).await?)
    }
}
