//! What keeps a call safe around the tools: who the caller is ([`caller`]), confirmation of
//! destructive calls with sealed state ([`confirm`]), the audit trail ([`audit`]), and redaction
//! of secrets in what is logged or shown ([`redact`]).

pub mod audit;
pub mod caller;
pub mod confirm;
pub mod redact;
