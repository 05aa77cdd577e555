//! What keeps a call safe around the tools: who the caller is, confirmation of destructive calls with sealed state,
//! the audit trail, and redaction of secrets in what is logged or shown.

pub mod audit;
pub mod caller;
pub mod confirm;
pub mod redact;
