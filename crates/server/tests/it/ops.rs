//! Health, readiness, metrics and the OpenAPI document.

use testkit::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_does() {
    let app = TestApp::new().await;
    app.client().get("/healthz").await.assert_status(200).assert_contains("ok");
    let ready = app.client().get("/readyz").await;
    ready.assert_status(200);
    assert_eq!(ready.json()["database"], true);
    app.kernel.db.close().await;
    let down = app.client().get("/readyz").await;
    down.assert_status(503);
    assert_eq!(down.json()["database"], false);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_job_queue() {
    let app = TestApp::new().await;
    let c = app.client();
    c.get("/").await;
    c.get("/").await;
    c.get("/nirgends").await;
    let mut tx = app.kernel.db.begin().await.unwrap();
    kernel::jobs::enqueue(
        &mut tx,
        app.kernel.clock.now(),
        kernel::jobs::NewJob::new("test.noop", serde_json::json!({})),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let m = c.get("/metrics").await;
    m.assert_status(200)
        .assert_contains("kreishaus_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 2")
        .assert_contains("kreishaus_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1")
        .assert_contains("kreishaus_http_request_duration_seconds_bucket{method=\"GET\",route=\"/\",le=\"+Inf\"} 2")
        .assert_contains("kreishaus_jobs{state=\"queued\"} 1");
    assert!(m.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_matches_the_snapshot() {
    let app = TestApp::new().await;
    let res = app.client().get("/api/v1/openapi.json").await;
    res.assert_status(200);
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/tenants"]["get"].is_object());
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
    insta::assert_snapshot!("openapi", serde_json::to_string_pretty(&doc).unwrap());
}
