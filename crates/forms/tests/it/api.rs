//! The forms' JSON API: the list and the definition of forms online, applications checked like
//! the web journey (422 with one entry per field), idempotent by `Idempotency-Key`, and the
//! status behind the tracking id and the postcode, with a limit on guessing.

use axum::body::Body;
use axum::http::{Method, Request, header};
use base64::Engine;
use serde_json::{Value, json};
use testkit::{Client, TestApp, TestResponse};

use crate::journey::{PDF, publish_demo_form};

const SUBMIT: &str = "/api/v1/forms/sondernutzung/submissions";

pub(crate) async fn post_json(c: &Client, path: &str, body: &Value, key: Option<&str>) -> TestResponse {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json");
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    c.send(req.body(Body::from(body.to_string())).unwrap()).await
}

pub(crate) fn application(art: &str) -> Value {
    json!({
        "answers": {
            "name": "Erika Mustermann", "email": "erika@example.org", "geboren": "1980-03-12",
            "art": art, "von": "2026-12-10", "bis": "2026-12-12",
            "anschrift.street": "Am Markt 1", "anschrift.postcode": "59910", "anschrift.city": "Lindenbach"
        },
        "files": [ { "field": "plan", "file_name": "lageplan.pdf",
                     "content_base64": base64::engine::general_purpose::STANDARD.encode(PDF) } ]
    })
}

pub(crate) async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    app.kernel.db.fetch_one(kernel::query_owned(sql)).await.unwrap().get::<i64>("n").unwrap()
}

/// The items of `GET /api/v1/forms` with this id (the demo county has forms of its own).
async fn listed(c: &Client, id: &str) -> Vec<Value> {
    let list = c.get_json("/api/v1/forms").await.json();
    list["items"].as_array().unwrap().iter().filter(|i| i["id"] == id).cloned().collect()
}

fn field_codes(res: &TestResponse) -> Vec<(String, String)> {
    let body = res.json();
    body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_owned(), f["code"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_api_lists_forms_and_takes_an_application_once_per_idempotency_key() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    assert!(listed(&c, "sondernutzung").await.is_empty());
    c.get_json("/api/v1/forms/sondernutzung").await.assert_status(404);
    publish_demo_form(&app, &pw).await;

    c.get_json("/api/v1/forms").await.assert_status(200);
    assert_eq!(
        listed(&c, "sondernutzung").await,
        [json!({ "id": "sondernutzung", "tenant": "kreis", "title": "Sondernutzung beantragen", "version": 1,
                 "service": "sondernutzung", "url": "/antrag/kreis/sondernutzung" })]
    );
    assert_eq!(c.get_json("/api/v1/forms?tenant=lindenbach").await.json()["items"], json!([]));
    let detail = c.get_json("/api/v1/forms/sondernutzung").await;
    detail.assert_status(200);
    let definition = &detail.json()["definition"];
    assert_eq!(definition["steps"][1]["fields"][4]["type"], "file");
    assert_eq!(definition["rules"][0]["rule"], "not_before");

    // Each invalid field has its own entry; nothing is stored.
    let mut bad = application("markt");
    bad["answers"]["name"] = json!("");
    bad["answers"]["bis"] = json!("2026-12-09");
    bad["answers"]["email"] = json!("kein-at");
    bad["files"][0]["content_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(b"MZ no pdf"));
    let refused = post_json(&c, SUBMIT, &bad, None).await;
    refused.assert_status(422);
    assert_eq!(refused.json()["error"]["code"], "invalid");
    let codes = field_codes(&refused);
    for expected in [("name", "forms.required"), ("email", "forms.email_invalid"), ("plan", "forms.file_type")] {
        assert!(codes.iter().any(|(f, c)| f == expected.0 && c == expected.1), "{expected:?} in {codes:?}");
    }
    assert!(codes.iter().any(|(f, _)| f == "bis"), "{codes:?}");
    assert_eq!(count(&app, "submissions").await, 0);
    // A file answer given directly (a reference to some stored file) does not count.
    let mut direct = application("markt");
    direct["answers"]["plan"] = json!(format!("sha256:{}", kernel::sha256_hex("anything")));
    direct["files"] = json!([]);
    let refused = post_json(&c, SUBMIT, &direct, None).await;
    assert_eq!(field_codes(&refused), [("plan".to_owned(), "forms.file_required".to_owned())]);

    let sent = post_json(&c, SUBMIT, &application("markt"), Some("antrag-4711")).await;
    sent.assert_status(201);
    let receipt = sent.json();
    let tracking = receipt["tracking_id"].as_str().unwrap().to_owned();
    assert_eq!(forms::tracking::normalize(&tracking).as_deref(), Some(tracking.as_str()));
    assert_eq!(receipt["fee"], json!({ "amount_cents": 6000, "currency": "EUR" }));
    assert_eq!(receipt["data_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(receipt["status_url"], format!("/api/v1/submissions/{tracking}/status"));

    // A retry after a timeout: the first receipt, still one application with its file.
    let again = post_json(&c, SUBMIT, &application("markt"), Some("antrag-4711")).await;
    again.assert_status(201);
    assert_eq!(again.json()["tracking_id"], tracking.as_str());
    assert_eq!(count(&app, "submissions").await, 1);
    assert_eq!(count(&app, "submission_files").await, 1);
    let other = post_json(&c, SUBMIT, &application("baustelle"), Some("antrag-4711")).await;
    other.assert_status(409);
    assert_eq!(other.json()["error"]["code"], "forms.idempotency_key_reused");
    // Sent twice at the same moment: still one application.
    let body = application("baustelle");
    let (a, b) = tokio::join!(
        post_json(&c, SUBMIT, &body, Some("gleichzeitig")),
        post_json(&c, SUBMIT, &body, Some("gleichzeitig"))
    );
    a.assert_status(201);
    b.assert_status(201);
    assert_eq!(a.json()["tracking_id"], b.json()["tracking_id"]);
    assert_eq!(count(&app, "submissions").await, 2);
    // Without a key every send is a new application.
    post_json(&c, SUBMIT, &application("baustelle"), None).await.assert_status(201);
    assert_eq!(count(&app, "submissions").await, 3);

    let status = c.get_json(&format!("/api/v1/submissions/{}/status?postcode=59910", tracking.to_lowercase())).await;
    status.assert_status(200);
    let s = status.json();
    assert_eq!((s["tracking_id"].as_str(), s["status"].as_str()), (Some(tracking.as_str()), Some("received")));
    assert_eq!(s["history"].as_array().unwrap().len(), 1);
    let wrong = c.get_json(&format!("/api/v1/submissions/{tracking}/status?postcode=59911")).await;
    wrong.assert_status(422);
    assert_eq!(wrong.json()["error"]["code"], "forms.status_not_found");
}

#[tokio::test]
async fn status_lookups_are_limited_and_closed_or_unknown_forms_refuse_applications() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    publish_demo_form(&app, &pw).await;
    let c = app.client();
    let sent = post_json(&c, SUBMIT, &application("markt"), None).await;
    let tracking = sent.json()["tracking_id"].as_str().unwrap().to_owned();
    let url = |postcode: &str| format!("/api/v1/submissions/{tracking}/status?postcode={postcode}");
    for i in 0..forms::service::STATUS_LOOKUP_MAX_FAILURES {
        c.get_json(&url(&format!("{:05}", 10000 + i))).await.assert_status(422);
    }
    // Now even the right postcode is refused, on the page as in the API, until the window passed.
    let limited = c.get_json(&url("59910")).await;
    limited.assert_status(429);
    assert_eq!(limited.json()["error"]["code"], "forms.too_many_status_lookups");
    assert!(limited.header("retry-after").is_some());
    app.client()
        .post_form("/antrag/status", &[("vorgang", &tracking), ("plz", "59910")])
        .await
        .assert_status(429)
        .assert_contains("Zu viele erfolglose Abfragen");
    app.kernel.clock.advance_secs(forms::service::STATUS_LOOKUP_WINDOW_SECS + 1);
    c.get_json(&url("59910")).await.assert_status(200);

    // Offline: the form is no longer listed, and an application is refused with the reason.
    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", &pw).await;
    editor
        .post_form("/verwaltung/mandanten/kreis/formulare/sondernutzung", &[("aktion", "offline")])
        .await
        .assert_status(303);
    assert!(listed(&c, "sondernutzung").await.is_empty());
    let closed = post_json(&c, SUBMIT, &application("markt"), None).await;
    closed.assert_status(409);
    assert_eq!(closed.json()["error"]["code"], "forms.closed");
    post_json(&c, "/api/v1/forms/gibts-nicht/submissions", &application("markt"), None).await.assert_status(404);
}

#[tokio::test]
async fn a_form_id_of_two_tenants_needs_the_tenant_and_a_trust_level_needs_a_login() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    publish_demo_form(&app, &pw).await;
    let lindenbach = app.client();
    lindenbach.login("verwaltung@lindenbach.example", &pw).await;
    let mut definition: Value = serde_json::from_str(&crate::journey::definition()).unwrap();
    definition["trust_level"] = json!("basic");
    let forms = "/verwaltung/mandanten/lindenbach/formulare";
    lindenbach.post_form(forms, &[("definition", &definition.to_string())]).await.assert_status(303);
    lindenbach.post_form(&format!("{forms}/sondernutzung"), &[("aktion", "veroeffentlichen")]).await.assert_status(303);

    let c = app.client();
    let tenants: Vec<Value> = listed(&c, "sondernutzung").await.iter().map(|i| i["tenant"].clone()).collect();
    assert_eq!(tenants, [json!("kreis"), json!("lindenbach")]);
    let ambiguous = c.get_json("/api/v1/forms/sondernutzung").await;
    ambiguous.assert_status(422);
    assert_eq!(ambiguous.json()["error"]["code"], "forms.tenant_required");
    let theirs = c.get_json("/api/v1/forms/sondernutzung?tenant=lindenbach").await;
    theirs.assert_status(200);
    assert_eq!(theirs.json()["definition"]["trust_level"], "basic");

    let anonymous = post_json(&c, &format!("{SUBMIT}?tenant=lindenbach"), &application("markt"), None).await;
    anonymous.assert_status(401);
    post_json(&c, &format!("{SUBMIT}?tenant=kreis"), &application("markt"), None).await.assert_status(201);
    post_json(&c, SUBMIT, &application("markt"), None).await.assert_status(422);
}
