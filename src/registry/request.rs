//! Declarative one-request tools: a params struct plus an [`Endpoint`] (method, service, path
//! template and a few wire rules) is a whole tool. The arguments are parsed into the struct, then
//! serialized back (so `#[serde(rename(serialize = "..."))]` gives the wire name while the schema
//! keeps the parameter name); `{name}` holes in the path take their fields, percent-encoded as one
//! segment each (`{name~}`: decoded first, so `TAG%23x` and `TAG#x` agree); nulls are dropped; the
//! other fields go to the query (GET, DELETE) or the JSON body (POST, PUT, PATCH), unless the
//! endpoint says otherwise. Lists in the query become repeated keys.

use serde_json::{Map, Value};

use super::error::ToolError;
use crate::client::{path, seg, seg_decoded, ApiRequest, Method, Seg, Service};

/// Where the fields that are not path holes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Query for GET and DELETE, body for POST, PUT and PATCH.
    ByMethod,
    /// Always the query (some POSTs take only query parameters).
    Query,
    /// Always the JSON body (a DELETE with a body).
    Body,
}

/// The request a one-request tool sends, and the rules for building it from the arguments.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub method: Method,
    pub service: Service,
    /// The path below the service's base URL, with `{field}` / `{field~}` holes.
    pub template: &'static str,
    pub placement: Placement,
    /// Fields sent in the query whatever the placement.
    pub in_query: &'static [&'static str],
    /// Send `{}` when no field is left for the body (otherwise no body at all).
    pub empty_object: bool,
    /// Refuse a call that would send an empty body (an update with nothing to change).
    pub require_change: bool,
    /// The optional parameters an update may change (named when nothing is given).
    pub changeable: Vec<String>,
    /// Of these fields, exactly one must be given.
    pub exactly_one_of: &'static [&'static str],
    /// Of these fields, at most one may be given.
    pub at_most_one_of: &'static [&'static str],
    /// Fixed body fields added to every request.
    pub fixed: &'static [(&'static str, &'static str)],
    /// A GET path template (holes from the same fields) read before the change: the tool then
    /// returns `{before, after}`.
    pub before: Option<&'static str>,
}

impl Endpoint {
    pub fn new(method: Method, service: Service, template: &'static str) -> Self {
        Self {
            method,
            service,
            template,
            placement: Placement::ByMethod,
            in_query: &[],
            empty_object: false,
            require_change: false,
            changeable: Vec::new(),
            exactly_one_of: &[],
            at_most_one_of: &[],
            fixed: &[],
            before: None,
        }
    }

    /// The read of the state before the change (see [`Endpoint::before`]), from the same
    /// serialized parameters: only the fields that fill its path holes are used.
    pub fn before_request(&self, params: &Value) -> Option<Result<ApiRequest, ToolError>> {
        let template = self.before?;
        let read = Endpoint::new(Method::GET, self.service, template);
        let holes: Vec<&str> = read.holes().into_iter().map(|(n, _)| n).collect();
        let fields: Map<String, Value> = params
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| holes.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(read.build(Value::Object(fields)))
    }

    /// The path holes of the template: (field name, decode first).
    pub fn holes(&self) -> Vec<(&'static str, bool)> {
        let mut out = Vec::new();
        let mut rest = self.template;
        while let Some(start) = rest.find('{') {
            let after = rest.get(start + 1..).unwrap_or_default();
            let Some(end) = after.find('}') else { break };
            let name = after.get(..end).unwrap_or_default();
            match name.strip_suffix('~') {
                Some(n) => out.push((n, true)),
                None => out.push((name, false)),
            }
            rest = after.get(end + 1..).unwrap_or_default();
        }
        out
    }

    fn body_by_default(&self) -> bool {
        match self.placement {
            Placement::Query => false,
            Placement::Body => true,
            Placement::ByMethod => !matches!(self.method, Method::GET | Method::DELETE),
        }
    }

    /// Build the request from the serialized parameters (an object; wire names as keys).
    pub fn build(&self, params: Value) -> Result<ApiRequest, ToolError> {
        let mut fields: Map<String, Value> = match params {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        fields.retain(|_, v| !v.is_null());
        if !self.exactly_one_of.is_empty() {
            let given: Vec<&str> = self
                .exactly_one_of
                .iter()
                .copied()
                .filter(|f| fields.contains_key(*f))
                .collect();
            let names = self.exactly_one_of.join(" or ");
            match given.as_slice() {
                [_] => {}
                [] => {
                    return Err(ToolError::invalid(
                        self.exactly_one_of.join(","),
                        format!("give exactly one of {names}"),
                    ))
                }
                [_, second, ..] => {
                    return Err(ToolError::invalid(
                        *second,
                        format!("give only one of {names}, not both"),
                    ))
                }
            }
        }
        if let [_, second, ..] = self
            .at_most_one_of
            .iter()
            .copied()
            .filter(|f| fields.contains_key(*f))
            .collect::<Vec<_>>()
            .as_slice()
        {
            return Err(ToolError::invalid(
                *second,
                format!(
                    "give at most one of {}, not several",
                    self.at_most_one_of.join(" or ")
                ),
            ));
        }

        // The path: each hole takes (and removes) its field.
        let holes = self.holes();
        let mut template = String::with_capacity(self.template.len());
        let mut values: Vec<(String, String, bool)> = Vec::with_capacity(holes.len());
        let mut rest = self.template;
        for (name, decode) in &holes {
            let marker = if *decode {
                format!("{{{name}~}}")
            } else {
                format!("{{{name}}}")
            };
            let Some(at) = rest.find(&marker) else { break };
            template.push_str(rest.get(..at).unwrap_or_default());
            template.push_str("{}");
            rest = rest.get(at + marker.len()..).unwrap_or_default();
            let value = match fields.shift_remove(*name) {
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) => n.to_string(),
                Some(other) => other.to_string(),
                None => return Err(ToolError::invalid(*name, "is required")),
            };
            values.push((name.to_string(), value, *decode));
        }
        template.push_str(rest);
        let segs: Vec<Seg<'_>> = values
            .iter()
            .map(|(n, v, decode)| {
                if *decode {
                    seg_decoded(n, v)
                } else {
                    seg(n, v)
                }
            })
            .collect();
        let path = path(&template, &segs)?;

        let route = self.template.replace("~}", "}");
        let mut req = ApiRequest::new(self.method.clone(), self.service, path).route(route);
        let to_body = self.body_by_default();
        let mut body = Map::new();
        for (key, value) in fields {
            if to_body && !self.in_query.contains(&key.as_str()) {
                body.insert(key, value);
            } else {
                req = add_query(req, &key, value);
            }
        }
        for (key, value) in self.fixed {
            body.insert(key.to_string(), Value::String(value.to_string()));
        }
        if self.require_change && body.is_empty() {
            return Err(nothing_to_update(&self.changeable));
        }
        if !body.is_empty() || self.empty_object {
            req = req.json(Value::Object(body));
        }
        Ok(req)
    }
}

/// `{before, after}`: the state read before a change (or, when that read failed, `before: null`
/// and `before_error`; the change is still made) and the API's answer.
pub fn before_after(before: Result<Value, ToolError>, after: Value) -> Value {
    match before {
        Ok(b) => serde_json::json!({"before": b, "after": after}),
        Err(e) => serde_json::json!({"before": null, "before_error": e.to_json(), "after": after}),
    }
}

/// The refusal of an update that changes nothing: it names the parameters that could change.
pub fn nothing_to_update<S: AsRef<str>>(changeable: &[S]) -> ToolError {
    let names: Vec<&str> = changeable.iter().map(AsRef::as_ref).collect();
    ToolError::invalid(
        names.join(","),
        format!(
            "nothing to update: give at least one of {}",
            names.join(", ")
        ),
    )
}

/// Add a field to the query: lists as repeated keys, objects as JSON text, the rest as text.
fn add_query(req: ApiRequest, key: &str, value: Value) -> ApiRequest {
    match value {
        Value::Array(items) => items
            .into_iter()
            .fold(req, |r, item| r.query(key, query_text(item))),
        other => req.query(key, query_text(other)),
    }
}

fn query_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ep(method: Method, template: &'static str) -> Endpoint {
        Endpoint::new(method, Service::ScControl, template)
    }

    #[test]
    fn holes_query_and_body() {
        let e = ep(Method::GET, "/v1/repos/{repo_name}/users");
        let r = e
            .build(json!({"repo_name": "a/b", "limit": 5, "contiguous_id": null, "names": ["x", "y"], "on": true}))
            .unwrap();
        assert_eq!(r.path, "/v1/repos/a%2Fb/users");
        assert_eq!(
            r.query,
            vec![
                ("limit".into(), "5".into()),
                ("names".into(), "x".into()),
                ("names".into(), "y".into()),
                ("on".into(), "true".into())
            ]
        );
        assert_eq!(r.body, None);

        let e = ep(Method::PATCH, "/v1/p/{policy_id~}/rules/{rule_id}");
        let r = e
            .build(json!({"policy_id": "TAG%23p", "rule_id": 7, "role": "R"}))
            .unwrap();
        assert_eq!(r.path, "/v1/p/TAG%23p/rules/7");
        assert_eq!(r.body, Some(json!({"role": "R"})));
    }

    #[test]
    fn bodies_empty_objects_and_query_only_posts() {
        let r = ep(Method::POST, "/v1/x/{id}/confirm")
            .build(json!({"id": "1"}))
            .unwrap();
        assert_eq!(r.body, None);
        let mut e = ep(Method::POST, "/v1/import");
        e.empty_object = true;
        assert_eq!(e.build(json!({})).unwrap().body, Some(json!({})));
        let mut e = ep(Method::POST, "/v1/audits");
        e.placement = Placement::Query;
        let r = e.build(json!({"limit": 2, "user": ["a"]})).unwrap();
        assert_eq!(r.body, None);
        assert_eq!(r.query.len(), 2);
        let mut e = ep(Method::DELETE, "/v1/tag/");
        e.placement = Placement::Body;
        e.in_query = &["ignore_errors"];
        let r = e.build(json!({"a": 1, "ignore_errors": false})).unwrap();
        assert_eq!(r.body, Some(json!({"a": 1})));
        assert_eq!(r.query, vec![("ignore_errors".into(), "false".into())]);
    }

    #[test]
    fn refusals_name_the_parameter() {
        let mut e = ep(Method::PATCH, "/v1/agents/{agent_id}");
        e.require_change = true;
        e.changeable = vec!["name".into(), "description".into()];
        let err = e.build(json!({"agent_id": "a"})).unwrap_err();
        assert!(
            matches!(err, ToolError::Invalid { ref parameter, .. } if parameter == "name,description")
        );
        let err = ep(Method::GET, "/v1/agents/{agent_id}")
            .build(json!({"agent_id": ".."}))
            .unwrap_err();
        assert!(matches!(err, ToolError::Invalid { ref parameter, .. } if parameter == "agent_id"));
        let mut e = ep(Method::POST, "/v1/users");
        e.exactly_one_of = &["aws", "azure"];
        assert!(e.build(json!({})).is_err());
        assert!(e.build(json!({"aws": {}, "azure": {}})).is_err());
        assert!(e.build(json!({"aws": {}})).is_ok());
    }

    #[test]
    fn at_most_one_allows_none_or_one_and_names_the_second() {
        let mut e = ep(Method::PATCH, "/v1/users/{u}");
        e.at_most_one_of = &["aws", "azure"];
        assert!(e.build(json!({"u": "x", "resource": "r"})).is_ok());
        assert!(e.build(json!({"u": "x", "aws": {}, "azure": null})).is_ok());
        let err = e
            .build(json!({"u": "x", "aws": {"k": 1}, "azure": {"k": 2}}))
            .unwrap_err();
        assert!(matches!(err, ToolError::Invalid { ref parameter, .. } if parameter == "azure"));
    }
}
