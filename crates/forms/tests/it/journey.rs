use serde_json::json;
use testkit::{Client, TestApp, TestResponse};

const FORMS: &str = "/verwaltung/mandanten/kreis/formulare";
const APPLY: &str = "/antrag/kreis/sondernutzung";

pub fn definition() -> String {
    json!({
        "id": "sondernutzung",
        "title": { "de": "Sondernutzung beantragen", "en": "Apply for a special use permit" },
        "intro": { "de": "Für Stände und Baustellen auf Kreisstraßen." },
        "steps": [
            { "id": "person", "title": { "de": "Zu Ihrer Person" }, "fields": [
                { "name": "name", "type": "text", "label": { "de": "Vor- und Nachname" }, "required": true, "max_length": 60 },
                { "name": "email", "type": "email", "label": { "de": "E-Mail-Adresse" } },
                { "name": "geboren", "type": "date", "label": { "de": "Geburtsdatum" }, "required": true, "not_after_today": true }
            ] },
            { "id": "antrag", "title": { "de": "Ihr Vorhaben" }, "fields": [
                { "name": "art", "type": "radio", "label": { "de": "Art" }, "required": true,
                  "options": [ { "value": "markt", "label": { "de": "Marktstand" } }, { "value": "baustelle", "label": { "de": "Baustelle" } } ] },
                { "name": "von", "type": "date", "label": { "de": "Von" }, "required": true },
                { "name": "bis", "type": "date", "label": { "de": "Bis" }, "required": true },
                { "name": "anschrift", "type": "address", "label": { "de": "Ihre Anschrift" }, "required": true },
                { "name": "plan", "type": "file", "label": { "de": "Lageplan (PDF)" }, "required": true, "accept": ["application/pdf"], "max_bytes": 100000 }
            ] }
        ],
        "rules": [ { "rule": "not_before", "end": "bis", "start": "von", "message": { "de": "Ende vor Beginn" } } ],
        "fee": { "label": { "de": "Gebühr" }, "base_cents": 5000, "add": [ { "field": "art", "value": "markt", "cents": 1000 } ] }
    })
    .to_string()
}

/// The value of the hidden `_state` input, unescaped.
fn state(body: &str) -> String {
    let raw = body.split("name=\"_state\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    [("&#34;", "\""), ("&#39;", "'"), ("&#60;", "<"), ("&#62;", ">"), ("&quot;", "\""), ("&#38;", "&"), ("&amp;", "&")]
        .iter()
        .fold(raw.to_owned(), |s, (e, c)| s.replace(e, c))
}

/// The text of a PDF, read with a real PDF library.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("its text")
}

/// Posts a page of the form as the browser would: the carried state, the step, the fields.
async fn page(
    c: &Client,
    from: &TestResponse,
    step: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> TestResponse {
    page_at(c, APPLY, from, step, fields, file).await
}

/// Posts a page of the form at `path`.
pub(crate) async fn page_at(
    c: &Client,
    path: &str,
    from: &TestResponse,
    step: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> TestResponse {
    let state = state(&from.body);
    let mut all = vec![("_state", state.as_str()), ("_step", step)];
    all.extend_from_slice(fields);
    let (name, file_name, bytes) = file.unwrap_or(("_kein", "", b""));
    c.post_multipart(path, &all, (name, file_name, "application/octet-stream", bytes)).await
}

pub async fn publish_demo_form(app: &TestApp, password: &str) {
    publish_form(app, password, &definition()).await;
}

async fn publish_form(app: &TestApp, password: &str, definition: &str) {
    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", password).await;
    let created = editor.post_form(FORMS, &[("definition", definition)]).await;
    created.assert_status(303);
    let kreis = app.tenant_id("kreis").await;
    let units = identity::service::org_units(&app.kernel, kreis).await.unwrap();
    let office = units.iter().find(|u| u.name == "Straßenverkehrsamt").unwrap().id.0.to_string();
    let form = format!("{FORMS}/sondernutzung");
    editor
        .post_form(&form, &[("aktion", "zuordnen"), ("service", "sondernutzung"), ("org_unit", &office)])
        .await
        .assert_status(303);
    editor.post_form(&form, &[("aktion", "veroeffentlichen")]).await.assert_status(303);
    editor.get(&form).await.assert_contains("Veröffentlicht").assert_contains("/antrag/kreis/sondernutzung");
    app.client().get("/leistungen/sondernutzung").await.assert_contains("href=\"/antrag/kreis/sondernutzung\"");
}

pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

#[tokio::test]
async fn a_citizen_applies_page_by_page_and_a_clerk_works_the_application() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    app.client().get(APPLY).await.assert_status(404);
    publish_demo_form(&app, &pw).await;

    let c = app.client();
    let first = c.get(APPLY).await;
    first.assert_status(200).assert_contains("Schritt 1 von 2").assert_contains("Für Stände und Baustellen");
    let wrong = page(&c, &first, "0", &[("name", ""), ("geboren", "2030-01-01"), ("email", "kein-at")], None).await;
    wrong
        .assert_status(422)
        .assert_contains("href=\"#f-name\"")
        .assert_contains("Das Datum darf nicht in der Zukunft liegen.")
        .assert_contains("value=\"kein-at\"");
    let second = page(
        &c,
        &wrong,
        "0",
        &[("name", "Erika Mustermann"), ("geboren", "12.03.1980"), ("email", "erika@example.org")],
        None,
    )
    .await;
    second.assert_status(200).assert_contains("Schritt 2 von 2").assert_contains("Lageplan (PDF)");

    let fields = [
        ("art", "markt"),
        ("von", "2026-12-10"),
        ("bis", "2026-12-09"),
        ("anschrift.street", "Am Markt 1"),
        ("anschrift.postcode", "59910"),
        ("anschrift.city", "Lindenbach"),
    ];
    let not_pdf = page(&c, &second, "1", &fields, Some(("plan", "plan.pdf", b"MZ\x90\x00 this is no pdf"))).await;
    not_pdf
        .assert_status(422)
        .assert_contains("Der Dateiinhalt zählt, nicht der Name")
        .assert_contains("Das Ende darf nicht vor dem Beginn liegen.");
    let mut fixed = fields.to_vec();
    fixed[2] = ("bis", "2026-12-12");
    let summary = page(&c, &not_pdf, "1", &fixed, Some(("plan", "lageplan.pdf", PDF))).await;
    summary
        .assert_status(200)
        .assert_contains("Ihre Angaben prüfen")
        .assert_contains("Erika Mustermann")
        .assert_contains("Marktstand")
        .assert_contains("lageplan.pdf")
        .assert_contains("60,00 €");

    let sent = page(&c, &summary, "18446744073709551615", &[("aktion", "absenden")], None).await;
    sent.assert_status(200).assert_contains("Ihr Antrag ist eingegangen");
    let tracking = sent.body.split("<strong class=\"kh-mono\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(forms::tracking::normalize(&tracking).as_deref(), Some(tracking.as_str()));
    // The back button and a second click send the same page again: still one application.
    let again = page(&c, &summary, "18446744073709551615", &[("aktion", "absenden")], None).await;
    again.assert_contains(&tracking);
    let pdf_path =
        sent.body.split("href=\"/antrag/eingang/").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let pdf = app.client().get(&format!("/antrag/eingang/{pdf_path}")).await;
    pdf.assert_status(200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    let text = pdf_text(&pdf.raw);
    for expected in
        [tracking.as_str(), "Eingangsbestätigung", "Erika Mustermann", "Marktstand", "lageplan.pdf", "60,00 €"]
    {
        assert!(text.contains(expected), "{expected} missing in the receipt: {text}");
    }
    let sha = app.kernel.db.fetch_one(kernel::query("SELECT data_sha256 FROM submissions")).await.unwrap();
    assert!(text.contains(&sha.get::<String>("data_sha256").unwrap()));
    let forged = format!("/antrag/eingang/{tracking}/quittung.pdf?t={}", "0".repeat(64));
    app.client().get(&forged).await.assert_status(404);
    let count = app.kernel.db.fetch_one(kernel::query("SELECT COUNT(*) AS n FROM submissions")).await.unwrap();
    assert_eq!(count.get::<i64>("n").unwrap(), 1);

    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    let inbox = clerk.get("/verwaltung/mandanten/kreis/eingang").await;
    inbox.assert_status(200).assert_contains(&tracking);
    let detail_path = format!("/verwaltung/mandanten/kreis/eingang/{tracking}");
    let detail = clerk.get(&detail_path).await;
    detail.assert_status(200).assert_contains("Erika Mustermann").assert_contains("lageplan.pdf");
    let file_link = detail.body.split("/dateien/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let download = clerk.get(&format!("{detail_path}/dateien/{file_link}")).await;
    download.assert_status(200);
    assert_eq!(download.body.as_bytes(), PDF);
    assert!(download.header("content-disposition").unwrap().starts_with("attachment"));
    clerk
        .post_form(
            &detail_path,
            &[("status", "waiting"), ("notiz", "Bitte reichen Sie die Genehmigung des Eigentümers nach.")],
        )
        .await
        .assert_status(303);

    let status =
        app.client().post_form("/antrag/status", &[("vorgang", &tracking.to_lowercase()), ("plz", "59910")]).await;
    status
        .assert_status(200)
        .assert_contains("Wartet auf Ihre Rückmeldung")
        .assert_contains("Genehmigung des Eigentümers");
    let wrong_postcode = app.client().post_form("/antrag/status", &[("vorgang", &tracking), ("plz", "59911")]).await;
    wrong_postcode.assert_status(422).assert_contains("keinen Antrag gefunden").assert_lacks("Wartet auf");

    let kreis = app.tenant_id("kreis").await;
    let actions: Vec<String> =
        kernel::audit::recent(&app.kernel.db, kreis, 10).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(
        actions.contains(&"forms.submission.read".to_owned())
            && actions.contains(&"forms.submission.status".to_owned())
    );
}

#[tokio::test]
async fn a_form_taken_offline_refuses_applications_and_other_offices_see_nothing() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    publish_demo_form(&app, &pw).await;
    let other = app.client();
    other.login("sachbearbeitung@lindenbach.example", &pw).await;
    other.get("/verwaltung/mandanten/kreis/eingang").await.assert_status(403);
    other.post_form(FORMS, &[("definition", &definition())]).await.assert_status(403);

    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", &pw).await;
    editor.post_form(&format!("{FORMS}/sondernutzung"), &[("aktion", "offline")]).await.assert_status(303);
    app.client().get(APPLY).await.assert_status(409).assert_contains("wird zurzeit nicht angenommen");
    // The service no longer offers the form it cannot take.
    app.client().get("/leistungen/sondernutzung").await.assert_lacks("href=\"/antrag/kreis/sondernutzung\"");
}

#[tokio::test]
async fn a_broken_definition_names_its_problems_and_a_new_version_leaves_the_published_one_alone() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", &pw).await;
    let broken = definition()
        .replace("\"name\": \"von\"", "\"name\": \"Von Datum\"")
        .replace("\"required\":true", "\"requried\":true");
    let res = editor.post_form(FORMS, &[("definition", &broken)]).await;
    res.assert_status(422).assert_contains("JSON:");
    publish_demo_form(&app, &pw).await;
    let form = format!("{FORMS}/sondernutzung");
    let changed = definition().replace("Sondernutzung beantragen", "Sondernutzung beantragen (neu)");
    editor.post_form(&form, &[("aktion", "speichern"), ("definition", &changed)]).await.assert_status(303);
    editor.get(&form).await.assert_contains("Version 2: Entwurf").assert_contains("Version 1: Veröffentlicht");
    app.client().get(APPLY).await.assert_contains("<h1 class=\"kern-heading-large\">Sondernutzung beantragen</h1>");
    let preview = editor.post_form(&form, &[("aktion", "pruefen"), ("definition", &changed)]).await;
    preview.assert_status(200).assert_contains("Vorschau").assert_contains("Lageplan (PDF)");
}

#[tokio::test]
async fn a_logged_in_citizen_keeps_a_draft_resumes_it_and_follows_the_status_in_my_applications() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let mut def: serde_json::Value = serde_json::from_str(&definition()).unwrap();
    def["trust_level"] = json!("basic");
    publish_form(&app, &pw, &def.to_string()).await;

    // The form needs an account: the anonymous visitor is sent to the login and back.
    let anonymous = app.client().get(APPLY).await;
    anonymous.assert_status(303);
    assert_eq!(anonymous.location(), Some("/buergerkonto/anmelden?weiter=%2Fantrag%2Fkreis%2Fsondernutzung"));

    let c = app.citizen("erika@example.org", "Lindenblüte im Juni").await;
    let first = c.get(APPLY).await;
    first.assert_status(200).assert_contains("Zwischenspeichern");
    let person = [("name", "Erika Mustermann"), ("geboren", "12.03.1980"), ("email", "erika@example.org")];
    let mut saving = person.to_vec();
    saving.push(("aktion", "speichern"));
    page(&c, &first, "0", &saving, None).await.assert_status(200).assert_contains("Ihre Angaben sind gespeichert");
    c.get("/buergerkonto/antraege")
        .await
        .assert_contains("Sondernutzung beantragen")
        .assert_contains("Weiter ausfüllen");

    let resumed = c.get(APPLY).await;
    resumed.assert_contains("gespeicherten Antrag weiter").assert_contains("value=\"Erika Mustermann\"");
    let second = page(&c, &resumed, "0", &person, None).await;
    let fields = [
        ("art", "baustelle"),
        ("von", "2026-12-10"),
        ("bis", "2026-12-12"),
        ("anschrift.street", "Am Markt 1"),
        ("anschrift.postcode", "59910"),
        ("anschrift.city", "Lindenbach"),
    ];
    let summary = page(&c, &second, "1", &fields, Some(("plan", "lageplan.pdf", PDF))).await;
    let sent = page(&c, &summary, "18446744073709551615", &[("aktion", "absenden")], None).await;
    sent.assert_status(200);
    let tracking = sent.body.split("<strong class=\"kh-mono\">").nth(1).unwrap().split('<').next().unwrap().to_owned();

    let mine = c.get("/buergerkonto/antraege").await;
    mine.assert_contains(&tracking).assert_contains("Eingegangen").assert_contains("keine angefangenen Anträge");
    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    let detail = format!("/verwaltung/mandanten/kreis/eingang/{tracking}");
    clerk
        .post_form(&detail, &[("status", "in_progress"), ("notiz", "Wir prüfen die Unterlagen.")])
        .await
        .assert_status(303);
    c.get("/buergerkonto/antraege")
        .await
        .assert_contains("In Bearbeitung")
        .assert_contains("Wir prüfen die Unterlagen.");
    // Another citizen sees none of it.
    let other = app.citizen("max@example.org", "Lindenblüte im Juni").await;
    other.get("/buergerkonto/antraege").await.assert_lacks(&tracking);

    // A form at level "high" sends a citizen with a basic account to the step-up page.
    def["trust_level"] = json!("high");
    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", &pw).await;
    let form = format!("{FORMS}/sondernutzung");
    editor.post_form(&form, &[("definition", &def.to_string())]).await;
    editor.post_form(&form, &[("aktion", "veroeffentlichen")]).await.assert_status(303);
    let high = c.get(APPLY).await;
    high.assert_status(303);
    assert!(high.location().unwrap().starts_with("/buergerkonto/vertrauensniveau?niveau=high"));
}

#[tokio::test]
async fn a_draft_of_an_older_version_is_explained_and_keeps_the_answers_that_still_fit() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let mut def: serde_json::Value = serde_json::from_str(&definition()).unwrap();
    def["trust_level"] = json!("basic");
    publish_form(&app, &pw, &def.to_string()).await;
    let c = app.citizen("erika@example.org", "Lindenblüte im Juni").await;
    let first = c.get(APPLY).await;
    let saving = [
        ("name", "Erika Mustermann"),
        ("geboren", "12.03.1980"),
        ("email", "erika@example.org"),
        ("aktion", "speichern"),
    ];
    page(&c, &first, "0", &saving, None).await.assert_status(200).assert_contains("Ihre Angaben sind gespeichert");

    // Version 2: names of at most ten characters, no e-mail field.
    def["steps"][0]["fields"][0]["max_length"] = json!(10);
    def["steps"][0]["fields"].as_array_mut().unwrap().remove(1);
    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", &pw).await;
    let form = format!("{FORMS}/sondernutzung");
    editor.post_form(&form, &[("definition", &def.to_string())]).await.assert_status(303);
    editor.post_form(&form, &[("aktion", "veroeffentlichen")]).await.assert_status(303);

    let resumed = c.get(APPLY).await;
    resumed
        .assert_status(200)
        .assert_contains("Das Formular wurde inzwischen geändert. Bitte prüfen Sie Ihre Angaben.")
        .assert_contains("Schritt 1 von 2")
        .assert_contains("value=\"12.03.1980\"")
        .assert_lacks("Erika Mustermann")
        .assert_lacks("&#34;email&#34;");
    let second = page(&c, &resumed, "0", &[("name", "Erika M."), ("geboren", "12.03.1980")], None).await;
    second.assert_status(200).assert_contains("Schritt 2 von 2");
    // The draft is now of the current version: resuming it again needs no explanation.
    let saved = page(&c, &second, "1", &[("art", "markt"), ("aktion", "speichern")], None).await;
    saved.assert_status(200);
    c.get(APPLY).await.assert_contains("gespeicherten Antrag weiter").assert_lacks("inzwischen geändert");
}
