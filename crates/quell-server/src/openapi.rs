//! The OpenAPI 3.1 document served at `/api/openapi.json`, kept as a file (`openapi.json`).
//! A test checks that it names every API route of [`crate::router::router`] and nothing else.

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The API paths of the router (`{id}` placeholders as in the document), for the test.
pub const API_PATHS: &[&str] = &[
    "/api/v1/reports",
    "/api/v1/reports/{id}",
    "/api/v1/me",
    "/api/v1/me/openpgp-key",
    "/api/v1/hosts",
    "/api/v1/hosts/{id}",
    "/api/v1/hosts/{id}/reports",
    "/api/v1/inventory",
    "/api/v1/search",
    "/api/v1/trend",
    "/api/v1/users/{id}",
    "/api/v1/users/{id}/disable",
    "/api/v1/users/{id}/enable",
    "/api/v1/users/{id}/reset-link",
    "/api/v1/users/{id}/two-factor",
    "/api/v1/two-factor/policy",
    "/api/v1/me/password",
    "/api/v1/audit",
    "/api/v1/components",
    "/api/v1/inventories",
    "/api/v1/sboms",
    "/api/v1/orgs",
    "/api/v1/tokens",
    "/api/v1/tokens/{id}",
    "/api/v1/users",
    "/api/v1/sharing",
    "/api/v1/orgs/{id}/inventory",
    "/api/v1/orgs/{id}/hosts",
    "/api/v1/indicators",
    "/api/v1/indicators/pool",
    "/api/v1/indicators/days",
    "/api/v1/indicators/feed",
    "/api/v1/indicators/lines",
    "/api/v1/packs",
    "/api/v1/packs/{name}",
    "/api/v1/packs/{name}/history",
    "/api/openapi.json",
    "/healthz",
    "/metrics",
];

/// The registry's API paths (routed in [`crate::router`]), for the test.
pub const REGISTRY_PATHS: &[&str] = &[
    "/api/v1/registry/import",
    "/api/v1/registry/entries",
    "/api/v1/registry/entries/{id}",
    "/api/v1/registry/entries/{id}/history",
    "/api/v1/registry/entries/{id}/merge",
    "/api/v1/registry/export.csv",
    "/api/v1/registry/export.json",
    "/api/v1/registry/export.md",
    "/api/v1/registry/export/full.json",
    "/api/v1/registry/suppliers/{supplier}/csaf.json",
    "/api/v1/registry/proposals",
    "/api/v1/registry/proposals/{id}",
    "/api/v1/registry/proposals/{id}/accept",
    "/api/v1/registry/proposals/{id}/reject",
    "/api/v1/registry/my-products",
    "/api/v1/registry/my-products/status",
    "/api/v1/registry/my-products/{id}",
    "/api/v1/registry/notifications",
    "/api/v1/registry/notifications/{id}/read",
    "/api/v1/registry/supplier-orgs/{id}",
    "/api/v1/registry/confirmations",
    "/api/v1/registry/confirmations/{id}/answer",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_parses_and_names_every_route() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented: Vec<&str> = doc["paths"].as_object().expect("paths").keys().map(String::as_str).collect();
        let mut routed = API_PATHS.to_vec();
        routed.extend(crate::advisories::API_PATHS);
        routed.extend_from_slice(REGISTRY_PATHS);
        documented.sort_unstable();
        routed.sort_unstable();
        assert_eq!(documented, routed);
        let source = include_str!("router.rs");
        for path in API_PATHS {
            assert!(source.contains(&format!("\"{path}\"")), "{path} is not routed in router.rs");
        }
        let router = include_str!("router.rs");
        for path in REGISTRY_PATHS {
            assert!(router.contains(&format!("\"{path}\"")), "{path} is not routed in router.rs");
        }
    }
}
