//! What keeps a call safe around the tools: who the caller is ([`caller`]) and what they may do
//! ([`permission`]), confirmation of
//! destructive calls with sealed state ([`confirm`]), the audit trail ([`audit`]), redaction
//! of secrets in what is logged or shown ([`redact`]), and support mode's read-only
//! troubleshooting ([`support`]).

pub mod audit;
pub mod caller;
pub mod confirm;
pub mod permission;
pub mod redact;
pub mod support;
