//! Collections: named groups of classifiers a job runs, and the ALTR-managed collection.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::*;
use crate::client::{Method, Service::Classification};
use crate::registry::args::NoParams;
use crate::registry::params::{ContiguousId, Limit, Name};
use crate::registry::{Ctx, Effect, ToolDef, Toolset};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionName {
    #[schemars(extend("x-doc" = "The collection's name, as get_collections returns it."))]
    pub collection_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    #[schemars(extend("x-doc" = "The new collection's name; it starts with no classifiers."))]
    pub collection_name: Name,
    #[serde(default)]
    #[schemars(extend("x-doc" = "What the collection is for; default empty text, always sent."))]
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCollection {
    #[schemars(extend("x-doc" = "The collection's name, as get_collections returns it."))]
    pub collection_name: String,
    #[schemars(extend("x-doc" = "The new description, replacing the old one; required."))]
    pub description: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPage {
    #[schemars(extend("x-doc" = "The collection's name, as get_collections returns it."))]
    pub collection_name: String,
    pub limit: Option<Limit<MAX_PAGE>>,
    pub contiguous_id: Option<ContiguousId>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionMembers {
    #[schemars(extend("x-doc" = "The collection's name, as get_collections returns it."))]
    pub collection_name: String,
    #[schemars(extend("x-doc" = "The classifiers to add to or remove from the collection: one name or a list of at least one, names from get_classifiers. Always sent as a list. To add, each must exist and not be a member yet; the ALTR Managed collection takes no additions."))]
    pub classifier_names: ClassifierNames,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagedPage {
    pub limit: Option<Limit<MAX_PAGE>>,
    pub contiguous_id: Option<ContiguousId>,
}

pub fn tools(set: &'static Toolset) -> Vec<ToolDef> {
    use Effect::{Additive, Destructive, Idempotent, ReadOnly};
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    const PATCH: Method = Method::PATCH;
    const DELETE: Method = Method::DELETE;
    vec![
        set.tool("get_collections", "List collections", ReadOnly)
            .in_default()
            .description("Every classifier collection (a job runs one).")
            .handler(|ctx: Ctx, _: NoParams| list_all(ctx, "/v1/collections", "collections")),
        set.tool("get_collection", "Get collection", ReadOnly)
            .description("Description and classifier count of collection_name.")
            .request::<CollectionName>(GET, Classification, "/v1/collections/{collection_name}"),
        set.tool("create_collection", "Create collection", Additive)
            .description("Empty classifier collection collection_name with description.")
            .request::<CreateCollection>(POST, Classification, "/v1/collections"),
        set.tool("update_collection", "Update collection", Idempotent)
            .description("Replace collection_name's description; classifiers unchanged.")
            .request::<UpdateCollection>(
                PATCH,
                Classification,
                "/v1/collections/{collection_name}",
            ),
        set.tool("delete_collection", "Delete collection", Destructive)
            .description("Delete collection_name; its classifiers remain.")
            .request::<CollectionName>(DELETE, Classification, "/v1/collections/{collection_name}"),
        set.tool("get_collection_classifiers", "Collection members", ReadOnly)
            .description("Classifiers in collection_name, one page.")
            .request::<CollectionPage>(
                GET,
                Classification,
                "/v1/collections/{collection_name}/classifiers",
            ),
        set.tool(
            "add_classifiers_to_collection",
            "Add to collection",
            Idempotent,
        )
        .description("Add existing classifier_names, not yet members, to collection_name (not ALTR Managed).")
        .request::<CollectionMembers>(
            PATCH,
            Classification,
            "/v1/collections/{collection_name}/classifiers/append",
        ),
        set.tool(
            "remove_classifiers_from_collection",
            "Remove from collection",
            Destructive,
        )
        .description("Remove classifier_names from collection_name; classifiers remain.")
        .request::<CollectionMembers>(
            PATCH,
            Classification,
            "/v1/collections/{collection_name}/classifiers/remove",
        ),
        set.tool(
            "import_altr_managed_classifiers",
            "Import ALTR classifiers",
            Idempotent,
        )
        .description("Import or refresh ALTR-managed classifiers and the ALTR Managed collection.")
        .empty_object()
        .request::<NoParams>(POST, Classification, "/v1/collections/altr-managed/import"),
        set.tool("get_altr_managed_timestamp", "ALTR import time", ReadOnly)
            .description("Installed and latest ALTR-managed classifier versions.")
            .request::<NoParams>(
                GET,
                Classification,
                "/v1/collections/altr-managed/timestamp",
            ),
        set.tool(
            "list_altr_managed_classifiers",
            "List ALTR classifiers",
            ReadOnly,
        )
        .description("One page of the classifiers ALTR manages, imported or not.")
        .request::<ManagedPage>(
            GET,
            Classification,
            "/v1/collections/altr-managed/classifiers",
        ),
    ]
}
