//! What the classification sub-resources share: enumerations, the classification type, classifier
//! name lists, scope checks, job paths and whole-list reads.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::client::path::ApiPath;
use crate::client::{path, seg, ApiRequest, Service::Classification};
use crate::registry::paging::{collect_pages, NextPage, Pages};
use crate::registry::params::Name;
use crate::registry::{Ctx, ToolError, ToolResult};
use crate::{open_enum, wire_enum};

/// Page size cap where the API documents none.
pub const MAX_PAGE: u32 = 1000;

wire_enum! {
    /// A classification job's status.
    pub enum JobStatus {
        Running = "RUNNING",
        Paused = "PAUSED",
        Completed = "COMPLETED",
        Cancelled = "CANCELLED",
        Failed = "FAILED",
        AwaitingReview = "AWAITING_REVIEW",
    }
}

wire_enum! {
    /// A status a job can be moved to.
    pub enum JobStatusChange { Paused = "PAUSED", Cancelled = "CANCELLED", Running = "RUNNING" }
}

wire_enum! {
    /// Whether a job scans everything or only what changed since the last job.
    pub enum JobType { Full = "FULL", Incremental = "INCREMENTAL" }
}

wire_enum! {
    /// Sort order by creation time.
    pub enum Order { Asc = "asc", Desc = "desc" }
}

wire_enum! {
    /// A review decision on a finding.
    pub enum ConfirmedStatus { Approved = "approved", Rejected = "rejected" }
}

wire_enum! {
    /// How confident a classifier's match is.
    pub enum Confidence { High = "HIGH", Medium = "MEDIUM", Low = "LOW" }
}

open_enum! {
    /// How an OLTP job samples: rows of data, both rows and metadata, or metadata only
    /// (others are passed on).
    pub enum SampleStrategy { Rows = "ROWS", Combined = "COMBINED", Metadata = "METADATA" }
}

open_enum! {
    /// The review state findings are filtered by: ALTR documents approved and rejected for
    /// decisions; findings not yet reviewed are pending. Others are passed on.
    pub enum StatusFilter { Approved = "approved", Rejected = "rejected", Pending = "pending" }
}

wire_enum! {
    /// How sample_size counts: a number of rows, or a percentage (1-100).
    pub enum SampleType { Rows = "ROWS", Percent = "PERCENT" }
}

/// A classification type, 1 to 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassificationType(pub u8);

impl std::fmt::Display for ClassificationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for ClassificationType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match crate::registry::params::lenient_int(d)? {
            Some(n @ 1..=6) => Ok(ClassificationType(n as u8)),
            _ => Err(serde::de::Error::custom("must be one of 1, 2, 3, 4, 5, 6")),
        }
    }
}

impl Serialize for ClassificationType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}

impl JsonSchema for ClassificationType {
    fn schema_name() -> Cow<'static, str> {
        "ClassificationType".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "enum": [1, 2, 3, 4, 5, 6]})
    }
}

/// One classifier name or a list of them; at least one, none empty. Sent as a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierNames(pub Vec<Name>);

impl<'de> Deserialize<'de> for ClassifierNames {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wrong = || serde::de::Error::custom("must be a classifier name or a list of them");
        let empty = || serde::de::Error::custom("must name at least one classifier");
        let items = match Value::deserialize(d)? {
            Value::String(s) => vec![Value::String(s)],
            Value::Array(items) => items,
            _ => return Err(wrong()),
        };
        if items.is_empty() {
            return Err(empty());
        }
        items
            .into_iter()
            .map(|v| match v {
                Value::String(s) if s.trim().is_empty() => Err(serde::de::Error::custom(
                    "classifier names must not be empty",
                )),
                Value::String(s) => Ok(Name(s)),
                _ => Err(wrong()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ClassifierNames)
    }
}

impl Serialize for ClassifierNames {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl JsonSchema for ClassifierNames {
    fn schema_name() -> Cow<'static, str> {
        "ClassifierNames".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1})
    }
}

pub fn is_empty<T>(v: &[T]) -> bool {
    v.is_empty()
}

/// Refuse a narrower scope level given without the broader ones above it.
pub fn check_scope(levels: &[(&str, bool)]) -> Result<(), ToolError> {
    let mut missing: Option<&str> = None;
    for (name, given) in levels {
        match (given, missing) {
            (true, Some(m)) => {
                return Err(ToolError::invalid(
                    m,
                    format!("is required when `{name}` is given"),
                ))
            }
            (false, None) => missing = Some(name),
            _ => {}
        }
    }
    Ok(())
}

pub fn job_path(job_id: &str, rest: &str) -> Result<ApiPath, ToolError> {
    Ok(path(
        &format!("/v1/jobs/{{}}{rest}"),
        &[seg("job_id", job_id)],
    )?)
}

pub const CONTIGUOUS: NextPage = NextPage::Cursor {
    at: &["/contiguous_id", "/data/contiguous_id"],
    param: "contiguous_id",
};

pub async fn list_all(ctx: Ctx, path: &'static str, key: &'static str) -> ToolResult {
    let items: &'static [&'static str] = match key {
        "classifiers" => &["/classifiers", "/data/classifiers"],
        "collections" => &["/collections", "/data/collections"],
        _ => &["/jobs", "/data/jobs"],
    };
    let pages = Pages {
        items,
        next: CONTIGUOUS,
    };
    let all = collect_pages(&ctx, ApiRequest::get(Classification, path), pages).await?;
    Ok(all.result(key))
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobId {
    #[schemars(extend("x-doc" = "The classification job's id, from get_jobs or the answer of the create_*_job tool that started it."))]
    pub job_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scope_needs_its_broader_levels() {
        let ok = check_scope(&[("database", true), ("schema", true), ("table", false)]);
        assert!(ok.is_ok());
        let e = check_scope(&[("database", false), ("schema", true)]).unwrap_err();
        assert!(matches!(e, ToolError::Invalid { ref parameter, .. } if parameter == "database"));
        let e = check_scope(&[("database", true), ("schema", false), ("table", true)]).unwrap_err();
        assert!(matches!(e, ToolError::Invalid { ref parameter, .. } if parameter == "schema"));
        assert!(check_scope(&[("database", false), ("schema", false)]).is_ok());
    }

    #[test]
    fn classification_types_and_names() {
        assert_eq!(
            serde_json::from_value::<ClassificationType>(json!("3")).unwrap(),
            ClassificationType(3)
        );
        for bad in [json!(0), json!(7), json!("x"), json!(2.5)] {
            assert!(serde_json::from_value::<ClassificationType>(bad).is_err());
        }
        let n: ClassifierNames = serde_json::from_value(json!("EMAIL")).unwrap();
        assert_eq!(serde_json::to_value(&n).unwrap(), json!(["EMAIL"]));
        assert!(serde_json::from_value::<ClassifierNames>(json!([])).is_err());
        assert!(serde_json::from_value::<ClassifierNames>(json!([""])).is_err());
    }
}
