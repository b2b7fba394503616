//! The web shell: error pages, envelopes, limits, headers, language, flash messages.

use testkit::TestApp;

#[tokio::test]
async fn an_unknown_page_gets_the_accessible_404_page_in_german() {
    let app = TestApp::new().await;
    let res = app.client().get("/gibt-es-nicht").await;
    res.assert_status(404)
        .assert_contains("<html lang=\"de\">")
        .assert_contains("Diese Seite gibt es nicht")
        .assert_contains("Zur Startseite")
        .assert_contains("href=\"#inhalt\"");
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
}

#[tokio::test]
async fn an_unknown_api_route_gets_the_json_error_envelope() {
    let app = TestApp::new().await;
    let res = app.client().get("/api/v1/gibt-es-nicht").await;
    res.assert_status(404);
    let body = res.json();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].as_str().unwrap().len() > 10);
    assert_eq!(body["error"]["fields"], serde_json::json!([]));
}

#[tokio::test]
async fn english_is_chosen_from_the_browser_or_the_switch_and_sets_the_lang_attribute() {
    let app = TestApp::new().await;
    let c = app.client();
    let req = axum::http::Request::get("/")
        .header("accept-language", "en-GB,en;q=0.9")
        .body(axum::body::Body::empty())
        .unwrap();
    c.send(req).await.assert_contains("<html lang=\"en\">").assert_contains("Skip to content");
    let switch = c.get("/sprache/en?zurueck=/anmelden").await;
    switch.assert_status(303);
    assert_eq!(switch.location(), Some("/anmelden"));
    c.get("/anmelden")
        .await
        .assert_contains("<html lang=\"en\">")
        .assert_contains("Staff login")
        .assert_contains("hreflang=\"de\"");
    c.get("/sprache/de?zurueck=//evil.example").await;
    assert_eq!(c.get("/sprache/de?zurueck=//evil.example").await.location(), Some("/"));
}

#[tokio::test]
async fn every_response_carries_a_strict_csp_and_the_security_headers() {
    let app = TestApp::new().await;
    let res = app.client().get("/").await;
    let csp = res.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'self'")
            && csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.header("x-frame-options"), Some("DENY"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("x-request-id").map(str::len), Some(16));
    assert!(!res.body.contains("style=\""), "no inline styles");
    let scripts: Vec<&str> = res.body.split("<script").skip(1).collect();
    assert!(
        scripts.iter().all(|s| s.starts_with(" src=\"/assets/") && s.contains("></script>")),
        "only scripts from /assets"
    );
}

#[tokio::test]
async fn static_assets_are_served_from_the_binary_with_long_caching() {
    let app = TestApp::new().await;
    let css = app.client().get(&web::assets::url("kern/kern.min.css")).await;
    css.assert_status(200).assert_contains(".kern-btn");
    assert_eq!(css.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    app.client().get(&web::assets::url("kern/LICENSE.md")).await.assert_contains("EUPL");
    app.client().get(&web::assets::url("kern/fonts/OFL.txt")).await.assert_contains("SIL OPEN FONT LICENSE");
    app.client().get(&web::assets::url("nicht/da.css")).await.assert_status(404);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::with_config(|c| c.web.max_body_bytes = 1024).await;
    let c = app.client();
    let big = "x".repeat(4096);
    c.post_form("/anmelden", &[("email", &big)]).await.assert_status(413).assert_contains("zu groß");
}

#[tokio::test]
async fn an_internal_error_shows_a_request_id_and_never_the_cause() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login("it@kreis-auenthal.example", &pw).await;
    app.kernel.db.execute_script("DROP TABLE role_assignments".into()).await.unwrap();
    let res = c.get("/konto").await;
    res.assert_status(500)
        .assert_contains("Fehlernummer")
        .assert_lacks("role_assignments")
        .assert_lacks("no such table");
    let id = res.header("x-request-id").unwrap();
    res.assert_contains(id);
}

#[tokio::test]
async fn a_flash_message_is_shown_once_after_the_redirect() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login("verwaltung@lindenbach.example", &pw).await;
    c.post_form("/abmelden", &[]).await.assert_status(303);
    c.get("/").await.assert_contains("Sie sind abgemeldet").assert_contains("role=\"status\"");
    c.get("/").await.assert_lacks("Sie sind abgemeldet");
}

#[test]
fn every_message_exists_in_german_and_in_english() {
    let i18n = server::app::messages().unwrap();
    assert_eq!(i18n.missing_keys(), Vec::<String>::new());
}
