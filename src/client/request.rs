//! One request to an ALTR service, as tools build it.

use std::fmt::Display;

use reqwest::Method;
use serde_json::Value;

use super::path::ApiPath;
use super::service::Service;

/// One request to an ALTR service.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    pub method: Method,
    pub service: Service,
    /// The path below the service's base URL, already encoded, starting with `/`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
    /// Whether repeating this request is safe after a failure that may have been processed
    /// (500/502/504, a timeout, a broken connection). `None`: the calling tool's effect decides,
    /// else the HTTP method.
    pub idempotent: Option<bool>,
    /// Return a 2xx body that says `"success": false` as data instead of failing, for a caller
    /// that reports it itself (tools through `Ctx::send`, whose results the server checks).
    pub keep_unsuccessful: bool,
    /// The path's template (`/api/policies/{policy_id}/rules`), what traces show of the path.
    pub route: String,
}

impl ApiRequest {
    pub fn new(method: Method, service: Service, path: impl Into<ApiPath>) -> Self {
        let ApiPath { path, route } = path.into();
        Self {
            method,
            service,
            path,
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
            idempotent: None,
            keep_unsuccessful: false,
            route,
        }
    }
    pub fn get(service: Service, path: impl Into<ApiPath>) -> Self {
        Self::new(Method::GET, service, path)
    }
    pub fn post(service: Service, path: impl Into<ApiPath>) -> Self {
        Self::new(Method::POST, service, path)
    }
    pub fn put(service: Service, path: impl Into<ApiPath>) -> Self {
        Self::new(Method::PUT, service, path)
    }
    pub fn patch(service: Service, path: impl Into<ApiPath>) -> Self {
        Self::new(Method::PATCH, service, path)
    }
    pub fn delete(service: Service, path: impl Into<ApiPath>) -> Self {
        Self::new(Method::DELETE, service, path)
    }

    /// Add a query parameter.
    pub fn query(mut self, key: &str, value: impl Display) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    /// Add a query parameter when the value is present.
    pub fn query_opt<T: Display>(self, key: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }
    /// Add one `key=value` pair per item (repeated keys).
    pub fn query_each<T: Display>(mut self, key: &str, values: &[T]) -> Self {
        for v in values {
            self = self.query(key, v);
        }
        self
    }
    /// Replace every value of `key` with this one.
    pub fn set_query(mut self, key: &str, value: impl Display) -> Self {
        self.query.retain(|(k, _)| k != key);
        self.query(key, value)
    }
    /// Set the JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    /// Return a `{"success": false}` answer as data rather than as an error.
    pub fn keep_unsuccessful(mut self) -> Self {
        self.keep_unsuccessful = true;
        self
    }
    /// Name the template of the path (with named holes, `{policy_id}`), for traces.
    pub fn route(mut self, template: impl Into<String>) -> Self {
        self.route = template.into();
        self
    }
    /// Say whether this request may be repeated after a failure that may have been processed,
    /// whatever its method (a PUT that adds something is not idempotent; a POST that only reads is).
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }
}
