//! CKAN's `datastore_search` answered by the data store: parameters in CKAN's shapes, the
//! answer in CKAN's shape, small counts suppressed, unknown columns refused.

use opendata::http::api::DatastoreSearch;
use serde_json::json;
use server::datastore_search::DatastoreBridge;

#[tokio::test]
async fn datastore_search_filters_sorts_and_pages_a_published_table_in_ckan_shapes() {
    let app = testkit::TestApp::new().await;
    app.load_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("schulen.csv");
    std::fs::write(
        &csv,
        "schule;gemeinde;schulform;anzahl\nAm Markt;Lindenbach;Grundschule;120\nWaldschule;Lindenbach;Grundschule;2\n\
         Gymnasium Auenthal;Auenthal;Gymnasium;850\nSee-Schule;Wiesental;Grundschule;95\n",
    )
    .unwrap();
    let county = app.tenant_id("kreis").await;
    let (id, report) =
        datastore::demo::import_published(&app.kernel, county, "Schulen", &csv, &["anzahl"]).await.unwrap();
    assert_eq!(report.rows, 4);
    let search = |params: serde_json::Value| {
        let params = params.as_object().unwrap().clone();
        let kernel = app.kernel.clone();
        let id = id.clone();
        async move { DatastoreBridge.search(&kernel, &id, &params).await }
    };

    let all = search(json!({ "sort": "anzahl desc", "limit": 2 })).await.unwrap();
    assert_eq!(all["total"], 4);
    assert_eq!(all["records"].as_array().unwrap().len(), 2);
    assert_eq!(all["records"][0]["schule"], "Gymnasium Auenthal");
    assert!(all["fields"].as_array().unwrap().contains(&json!({ "id": "anzahl", "type": "int" })));
    assert_eq!(all["_links"]["next"], format!("/api/3/action/datastore_search?resource_id={id}&offset=2&limit=2"));

    // filters as CKAN sends them (a JSON object, also as a string), and the full-text q.
    let lindenbach =
        search(json!({ "filters": "{\"gemeinde\": \"Lindenbach\"}", "fields": "schule,anzahl" })).await.unwrap();
    assert_eq!(lindenbach["total"], 2);
    assert_eq!(lindenbach["fields"].as_array().unwrap().len(), 2);
    // A count below k (3) is never shown.
    let small = lindenbach["records"].as_array().unwrap().iter().find(|r| r["schule"] == "Waldschule").unwrap();
    assert_eq!(small["anzahl"], serde_json::Value::Null);
    let two = search(json!({ "filters": { "gemeinde": ["Auenthal", "Wiesental"] } })).await.unwrap();
    assert_eq!(two["total"], 2);
    assert_eq!(search(json!({ "q": "Gymnasium" })).await.unwrap()["total"], 1);

    let unknown = search(json!({ "filters": { "ort": "x" } })).await.unwrap_err();
    assert_eq!((unknown.status, unknown.kind), (409, "Validation Error"));
    let bad_limit = search(json!({ "limit": "viele" })).await.unwrap_err();
    assert_eq!(bad_limit.status, 409);
    let missing =
        DatastoreBridge.search(&app.kernel, "00000000-0000-0000-0000-000000000000", &Default::default()).await;
    assert_eq!(missing.unwrap_err().status, 404);
}
