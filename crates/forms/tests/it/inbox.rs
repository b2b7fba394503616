//! The clerks' inbox beyond status: a submission downloaded as JSON and as XML (escaped, read
//! back with an XML parser), access checked and recorded; assignment to oneself or a colleague
//! of the unit, with the "mine" and "unassigned" filters, invisible to the applicant.

use serde_json::{Value, json};
use testkit::TestApp;

use crate::api::{application, post_json};
use crate::journey::{PDF, publish_demo_form};

const SUBMIT: &str = "/api/v1/forms/sondernutzung/submissions";
const INBOX: &str = "/verwaltung/mandanten/kreis/eingang";

async fn audited(app: &TestApp, action: &str) -> i64 {
    let q = kernel::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = $1").bind(action);
    app.kernel.db.fetch_one(q).await.unwrap().get::<i64>("n").unwrap()
}

async fn send(app: &TestApp, name: &str) -> String {
    let mut body = application("markt");
    body["answers"]["name"] = json!(name);
    let sent = post_json(&app.client(), SUBMIT, &body, None).await;
    sent.assert_status(201);
    sent.json()["tracking_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn staff_download_a_submission_as_json_and_as_escaped_xml_and_each_download_is_recorded() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    publish_demo_form(&app, &pw).await;
    let name = "Erika <Müller> & \"Söhne\"";
    let tracking = send(&app, name).await;
    let base = format!("{INBOX}/{tracking}");

    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    clerk
        .get(&base)
        .await
        .assert_contains(&format!("{base}/antrag.xml"))
        .assert_contains(&format!("{base}/antrag.json"));

    let json = clerk.get(&format!("{base}/antrag.json")).await;
    json.assert_status(200);
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert!(json.header("content-disposition").unwrap().contains(&format!("{tracking}.json")));
    let doc: Value = json.json();
    assert_eq!(doc["tracking_id"], tracking.as_str());
    assert_eq!(doc["data"]["name"], name);
    let file_url = doc["files"][0]["download_url"].as_str().unwrap().to_owned();
    assert_eq!(clerk.get(&file_url).await.raw, PDF);

    let xml = clerk.get(&format!("{base}/antrag.xml")).await;
    xml.assert_status(200);
    assert!(xml.header("content-type").unwrap().starts_with("application/xml"));
    assert!(xml.body.contains("Erika &lt;Müller&gt; &amp;"), "{}", xml.body);
    let parsed = roxmltree::Document::parse(&xml.body).unwrap();
    let root = parsed.root_element();
    assert_eq!((root.tag_name().name(), root.tag_name().namespace()), ("submission", Some(forms::export::NAMESPACE)));
    assert_eq!(root.attribute("tracking-id"), Some(tracking.as_str()));
    assert_eq!(root.attribute("form-version"), Some("1"));
    let field = |name: &str| {
        root.descendants().find(|n| {
            n.attribute("name") == Some(name) && n.has_tag_name(("urn:kreishaus:forms:submission:1", "field"))
        })
    };
    assert_eq!(field("name").unwrap().text(), Some(name));
    assert_eq!(field("anschrift").unwrap().children().filter(|c| c.is_element()).count(), 3);
    let sha = root.children().find(|n| n.has_tag_name(("urn:kreishaus:forms:submission:1", "data-sha256"))).unwrap();
    assert_eq!(sha.text(), doc["data_sha256"].as_str());
    let file = root.descendants().find(|n| n.tag_name().name() == "file").unwrap();
    assert_eq!(file.attribute("href"), Some(file_url.as_str()));
    assert_eq!(file.attribute("media-type"), Some("application/pdf"));
    assert_eq!(audited(&app, "forms.submission.exported").await, 2);

    // Another tenant's clerk, and the public, get nothing; nothing more is recorded.
    let other = app.client();
    other.login("sachbearbeitung@lindenbach.example", &pw).await;
    let foreign = other.get(&format!("{base}/antrag.xml")).await;
    assert!(matches!(foreign.status.as_u16(), 403 | 404), "{}", foreign.status);
    let anonymous = app.client().get(&format!("{base}/antrag.json")).await;
    assert!(!anonymous.body.contains(name) && anonymous.status.as_u16() != 200);
    assert_eq!(audited(&app, "forms.submission.exported").await, 2);
    clerk.get(&format!("{base}/antrag.pdf")).await.assert_status(404);
}

async fn staff_id(app: &TestApp, email: &str) -> String {
    let q = kernel::query("SELECT id FROM staff WHERE email = $1").bind(email);
    app.kernel.db.fetch_one(q).await.unwrap().get::<i64>("id").unwrap().to_string()
}

async fn mails(app: &TestApp) -> i64 {
    let q = kernel::query("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'mail.send'");
    app.kernel.db.fetch_one(q).await.unwrap().get::<i64>("n").unwrap()
}

#[tokio::test]
async fn a_clerk_takes_on_a_submission_or_assigns_a_colleague_of_the_unit_and_the_applicant_sees_none_of_it() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    publish_demo_form(&app, &pw).await;
    let first = send(&app, "Erika Mustermann").await;
    let second = send(&app, "Max Mustermann").await;
    let mails_before = mails(&app).await;

    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    let detail = |t: &str| format!("{INBOX}/{t}");
    clerk
        .get(&detail(&first))
        .await
        .assert_contains("<span id=\"assignee\">Niemand</span>")
        .assert_contains("Mir zuweisen");
    clerk.post_form(&detail(&first), &[("aktion", "zuweisen"), ("zustaendig", "ich")]).await.assert_status(303);
    clerk
        .get(&detail(&first))
        .await
        .assert_contains("<span id=\"assignee\">Sabine Acker</span>")
        .assert_lacks("Mir zuweisen");

    let mine = clerk.get(&format!("{INBOX}?zuweisung=mir")).await;
    mine.assert_contains(&first).assert_lacks(&second);
    let open = clerk.get(&format!("{INBOX}?zuweisung=niemand")).await;
    open.assert_contains(&second).assert_lacks(&first);
    clerk.get(INBOX).await.assert_contains(&first).assert_contains(&second);

    // A colleague of the unit: the head of office; someone of another unit is refused.
    let head = staff_id(&app, "amtsleitung@kreis-auenthal.example").await;
    clerk.post_form(&detail(&second), &[("aktion", "zuweisen"), ("zustaendig", &head)]).await.assert_status(303);
    let head_client = app.client();
    head_client.login("amtsleitung@kreis-auenthal.example", &pw).await;
    head_client.get(&format!("{INBOX}?zuweisung=mir")).await.assert_contains(&second).assert_lacks(&first);
    let cashier = staff_id(&app, "kasse@kreis-auenthal.example").await;
    let refused = clerk.post_form(&detail(&second), &[("aktion", "zuweisen"), ("zustaendig", &cashier)]).await;
    refused.assert_status(422);
    head_client.get(&detail(&second)).await.assert_contains("<span id=\"assignee\">Achim Lenz</span>");
    // Another tenant's clerk cannot assign it.
    let other = app.client();
    other.login("sachbearbeitung@lindenbach.example", &pw).await;
    let foreign = other.post_form(&detail(&first), &[("aktion", "zuweisen"), ("zustaendig", "ich")]).await;
    assert!(matches!(foreign.status.as_u16(), 403 | 404), "{}", foreign.status);
    assert_eq!(audited(&app, "forms.submission.assigned").await, 2);

    // The applicant: the same status and history, no mail, no name.
    let status = app.client().get_json(&format!("/api/v1/submissions/{first}/status?postcode=59910")).await;
    status.assert_status(200).assert_lacks("Sabine").assert_lacks("assign");
    assert_eq!(status.json()["history"].as_array().unwrap().len(), 1);
    assert_eq!(mails(&app).await, mails_before);
}
