//! OAuth 2.1 resource-server support for the HTTP transports (MCP authorization): the server
//! accepts bearer access tokens issued by an external authorization server, checks them with
//! [`validate`] and publishes what clients need with [`resource`].

pub mod resource;
pub mod validate;
