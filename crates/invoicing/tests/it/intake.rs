use invoicing::model::Status;
use invoicing::service;

use crate::{KREIS_LEITWEG, setup, suite_invoice};

#[tokio::test]
async fn an_organisation_sends_an_invoice_and_the_same_bytes_again_change_nothing() {
    let s = setup().await;
    let xml = suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG);
    let res = s.send(xml.clone()).await;
    res.assert_status(201);
    let receipt = res.json();
    assert_eq!(receipt["status"], "received");
    assert_eq!(receipt["verdict"], "accept");
    assert_eq!(receipt["leitweg_id"], KREIS_LEITWEG);
    assert_eq!(receipt["sha256"], kernel::blobs::BlobHash::of(xml.as_bytes()).as_str());
    let again = s.send(xml).await;
    again.assert_status(200);
    assert_eq!(again.json()["id"], receipt["id"]);
    assert_eq!(again.json()["repeated"], true);
    let list = s.app.client();
    let req = axum::http::Request::builder()
        .uri(format!("/api/v1/invoices?organisation={}", s.org))
        .header("authorization", format!("Bearer {}", s.bearer))
        .body(axum::body::Body::empty())
        .unwrap();
    let items = list.send(req).await.json()["items"].as_array().unwrap().len();
    assert_eq!(items, 1);
    // The intake is in the county's audit log, naming the citizen and the organisation.
    let county = s.app.tenant_id("kreis").await;
    let log = kernel::audit::recent(&s.app.kernel.db, county, 20).await.unwrap();
    let entry = log.iter().find(|e| e.action == "invoicing.invoice.received").unwrap();
    assert_eq!(entry.on_behalf_of.as_deref(), Some(format!("organisation:{}", s.org).as_str()));
}

#[tokio::test]
async fn an_invoice_in_utf16_is_taken_in_and_its_original_kept_as_sent() {
    let s = setup().await;
    let xml = suite_invoice("01.01a-INVOICE_uncefact.xml", KREIS_LEITWEG).replacen("UTF-8", "UTF-16", 1);
    let utf16: Vec<u8> = [0xFE, 0xFF].into_iter().chain(xml.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    let res = s.send(utf16.clone()).await;
    res.assert_status(201);
    let receipt = res.json();
    assert_eq!((receipt["verdict"].as_str(), receipt["leitweg_id"].as_str()), (Some("accept"), Some(KREIS_LEITWEG)));
    // The original is kept as sent, byte for byte.
    assert_eq!(receipt["sha256"], kernel::blobs::BlobHash::of(&utf16).as_str());
}

#[tokio::test]
async fn refusals_give_the_sender_a_reason_to_act_on() {
    let s = setup().await;
    let cases: Vec<(Vec<u8>, u16, &str, &str)> = vec![
        (b"Hallo Kreis".to_vec(), 422, "invoicing.unreadable", "kein wohlgeformtes XML"),
        (b"%PDF-1.7\n%%EOF".to_vec(), 422, "invoicing.unreadable", "PDF"),
        (vec![0x50, 0x4b, 0x03, 0x04, 0x00], 422, "invoicing.unreadable", "Binärdaten"),
        (
            br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>"#.to_vec(),
            422,
            "invoicing.unreadable",
            "Dokumenttyp-Deklaration",
        ),
        (
            br#"<!DOCTYPE x [<!ENTITY e SYSTEM "http://198.51.100.1/">]><x>&e;</x>"#.to_vec(),
            422,
            "invoicing.unreadable",
            "Dokumenttyp-Deklaration",
        ),
        (
            suite_invoice("01.01a-INVOICE_ubl.xml", "05999000-RE1-18").into_bytes(),
            422,
            "invoicing.leitweg_invalid",
            "richtig wäre 17",
        ),
        (
            suite_invoice("01.01a-INVOICE_ubl.xml", "Einkauf").into_bytes(),
            422,
            "invoicing.leitweg_invalid",
            "keine Leitweg-ID",
        ),
        (
            suite_invoice("01.01a-INVOICE_ubl.xml", "05999008-RE1-88").into_bytes(),
            422,
            "invoicing.leitweg_unknown",
            "gehört zu keiner Stelle",
        ),
    ];
    for (body, status, code, text) in cases {
        let res = s.send(body).await;
        res.assert_status(status);
        let j = res.json();
        assert_eq!(j["error"]["code"], code, "{}", res.body);
        let reason = j["error"]["reasons"][0]["message"].as_str().unwrap();
        assert!(reason.contains(text), "{reason}");
    }
    // Too large for the server at all: refused before anything is read.
    s.send(vec![b' '; 11 * 1024 * 1024]).await.assert_status(413);
    // Nothing of this was stored.
    let county = s.app.tenant_id("kreis").await;
    let stored = invoicing::store::list(&s.app.kernel.db, county, None, None, 10).await.unwrap();
    assert!(stored.is_empty());
}

#[tokio::test]
async fn an_invoice_that_breaks_rules_is_stored_as_rejected_with_the_rule_ids() {
    let s = setup().await;
    let xml = suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG);
    // A payable amount that no longer matches the totals (BR-CO-16).
    let start = xml.find("<cbc:PayableAmount").unwrap();
    let end = start + xml[start..].find("</cbc:PayableAmount>").unwrap();
    let broken = format!("{}<cbc:PayableAmount currencyID=\"EUR\">1.00{}", &xml[..start], &xml[end..]);
    let res = s.send(broken).await;
    res.assert_status(422);
    let j = res.json();
    assert_eq!(j["error"]["code"], "invoicing.rejected");
    let rules: Vec<&str> =
        j["error"]["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"BR-CO-16"), "{rules:?}");
    assert_eq!(j["invoice"]["status"], "rejected");
}

#[tokio::test]
async fn the_schema_step_runs_as_in_the_validator_an_element_out_of_order_rejects() {
    let s = setup().await;
    let xml = suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG);
    // The issue date after the type code: every business rule still holds, the schema's order not.
    let issue = "<cbc:IssueDate>2016-04-04</cbc:IssueDate>";
    let code = "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>";
    let swapped = xml.replacen(issue, "@@", 1).replacen(code, issue, 1).replacen("@@", code, 1);
    assert_ne!(swapped, xml);
    let res = s.send(swapped.clone()).await;
    res.assert_status(422);
    let reasons = res.json()["error"]["reasons"].clone();
    let rules: Vec<&str> = reasons.as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, [einvoice::schema::SCHEMA_RULE], "{reasons}");
    // `kreishaus invoice validate` gives the same verdict on the same bytes.
    let report = einvoice::validate::validate(swapped.as_bytes());
    assert_eq!(report.verdict, einvoice::validate::Verdict::Reject);
}

#[tokio::test]
async fn a_second_invoice_with_the_same_seller_number_amount_and_date_is_flagged_as_a_duplicate() {
    let s = setup().await;
    let xml = suite_invoice("01.02a-INVOICE_uncefact.xml", KREIS_LEITWEG);
    let first = s.send(xml.clone()).await.json();
    // The same invoice again, but other bytes (sent as a new file, re-encoded): a duplicate.
    let res = s.send(xml.replacen("?>", "?>\n<!-- erneut gesendet -->", 1)).await;
    res.assert_status(201);
    let second = res.json();
    assert_eq!(second["status"], "duplicate");
    assert_eq!(second["duplicate_of"], first["id"]);
    // A duplicate does not enter the approval: it waits to be set aside or cleared.
    let clerk = s.staff("sachbearbeitung").await;
    let path = format!("/verwaltung/mandanten/kreis/rechnungen/{}", second["id"]);
    clerk.post_form(&path, &[("aktion", "sachlich")]).await.assert_status(303);
    clerk.get(&path).await.assert_contains("Mögliche Doppelrechnung").assert_contains("gerade nicht möglich");
    clerk.post_form(&path, &[("aktion", "zuruecklegen"), ("grund", "")]).await.assert_status(303);
    clerk.post_form(&path, &[("aktion", "zuruecklegen"), ("grund", "Doppelt gesendet")]).await.assert_status(303);
    clerk.get(&path).await.assert_contains("Zurückgelegt").assert_contains("Doppelt gesendet");
    // The sender reads the reason over the API; the first invoice has none.
    let listed = s.api_get(&format!("/api/v1/invoices?organisation={}", s.org)).await.json();
    let reason_of = |id: &serde_json::Value| {
        listed["items"].as_array().unwrap().iter().find(|i| i["id"] == *id).unwrap()["reason"].clone()
    };
    assert_eq!(reason_of(&second["id"]), "Doppelt gesendet");
    assert!(reason_of(&first["id"]).is_null());
}

#[tokio::test]
async fn a_sender_by_mail_is_told_by_mail_why_their_invoice_is_set_aside() {
    let s = setup().await;
    let submission = invoicing::service::Submission {
        bytes: suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG).into(),
        channel: invoicing::model::Channel::Mail,
        sender: "mail:rechnung@lieferant.example".into(),
        actor: kernel::audit::Actor::system(),
    };
    let id = invoicing::service::intake(&s.app.kernel, submission).await.unwrap().invoice.id;
    let clerk = s.staff("sachbearbeitung").await;
    let path = format!("/verwaltung/mandanten/kreis/rechnungen/{id}");
    clerk.get(&path).await.assert_contains("Der Rechnungssteller erfährt diesen Grund");
    let reason = "Die Leistung wurde nicht erbracht. Bitte senden Sie eine Gutschrift.";
    clerk.post_form(&path, &[("aktion", "zuruecklegen"), ("grund", reason)]).await.assert_status(303);
    let mails: Vec<_> =
        crate::outbox(&s.app).await.into_iter().filter(|m| m.to == "rechnung@lieferant.example").collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].subject.contains("wird nicht bezahlt"), "{}", mails[0].subject);
    assert!(mails[0].body.contains(reason) && mails[0].body.contains(KREIS_LEITWEG), "{}", mails[0].body);
}

#[tokio::test]
async fn every_invoice_of_the_test_suite_is_taken_in_routed_and_rendered() {
    let s = setup().await;
    let county = s.app.tenant_id("kreis").await;
    let dir = testkit::repo_path("../shared/testdata/einvoice/xrechnung-testsuite/src/test/business-cases/standard");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.retain(|n| n.ends_with(".xml"));
    names.sort();
    assert!(names.len() > 40);
    let clerk = s.staff("sachbearbeitung").await;
    let mut intake_time = std::time::Duration::ZERO;
    for name in &names {
        let xml = suite_invoice(name, KREIS_LEITWEG);
        let submission = service::Submission {
            bytes: xml.into_bytes().into(),
            channel: invoicing::model::Channel::Api,
            sender: "test".into(),
            actor: kernel::audit::Actor::system(),
        };
        let started = std::time::Instant::now();
        let intake =
            service::intake(&s.app.kernel, submission).await.unwrap_or_else(|e| panic!("{name}: {}", e.reason()));
        intake_time += started.elapsed();
        assert_eq!(intake.invoice.tenant, county);
        assert_ne!(intake.invoice.status, Status::Rejected, "{name}: {:?}", intake.invoice.errors());
        let page = clerk.get(&format!("/verwaltung/mandanten/kreis/rechnungen/{}", intake.invoice.id)).await;
        page.assert_status(200).assert_contains("Rechnungspositionen").assert_contains(KREIS_LEITWEG);
    }
    // A figure for the report, not a limit: intake = read, validate, store, audit.
    eprintln!("intake of {} invoices: {:?} ({:?} each)", names.len(), intake_time, intake_time / names.len() as u32);
}

#[tokio::test]
async fn a_member_acting_for_an_organisation_uploads_an_invoice_in_the_citizen_area() {
    let s = setup().await;
    let browser = s.app.client();
    let email = "inhaberin@baeckerei.example";
    let pw = "Sauerteig und Geduld";
    let fields = [("email", email), ("password", pw), ("repeat_password", pw)];
    browser.post_form("/buergerkonto/registrieren", &fields).await.assert_status(200);
    let token = crate::outbox_token(&s.app, email).await;
    browser.post_form("/buergerkonto/bestaetigen", &[("t", &token)]).await.assert_status(303);
    browser.post_form("/buergerkonto/anmelden", &[("email", email), ("password", pw)]).await.assert_status(303);
    browser.get("/buergerkonto/rechnungen").await.assert_status(200).assert_contains("Wählen Sie zuerst");
    let res = browser.post_form("/buergerkonto/organisationen", &[("name", "Bäckerei Sauer")]).await;
    let org = res.location().unwrap().rsplit('/').next().unwrap().to_owned();
    browser.post_form("/buergerkonto/handeln-fuer", &[("organisation", &org)]).await.assert_status(303);

    let upload = |bytes: Vec<u8>| {
        let browser = &browser;
        async move {
            browser.post_multipart("/buergerkonto/rechnungen", &[], ("datei", "r.xml", "application/xml", &bytes)).await
        }
    };
    let wrong = upload(suite_invoice("01.01a-INVOICE_ubl.xml", "05999000-RE1-71").into_bytes()).await;
    wrong.assert_status(422).assert_contains("Prüfziffern der Leitweg-ID").assert_contains("richtig wäre 17");
    // The form takes PDFs too (ZUGFeRD/Factur-X); a mere printout is refused with what to send.
    browser.get("/buergerkonto/rechnungen").await.assert_contains(r#"accept=".xml,.pdf,"#);
    let printout =
        kernel::pdf::Document::new("Rechnung").paragraph("Nur ein Ausdruck").to_pdf(kernel::Timestamp::from_millis(0));
    let res = browser
        .post_multipart("/buergerkonto/rechnungen", &[], ("datei", "r.pdf", "application/pdf", &printout.unwrap()))
        .await;
    res.assert_status(422).assert_contains("keine elektronische Rechnung (ZUGFeRD/Factur-X)");
    // An invoice that fails validation is refused with the rules it breaks, and the list of sent
    // invoices keeps saying why.
    let xml = suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG);
    let (start, end) = (xml.find("<cac:PaymentMeans>").unwrap(), xml.rfind("</cac:PaymentMeans>").unwrap());
    let without_payment = format!("{}{}", &xml[..start], &xml[end + "</cac:PaymentMeans>".len()..]);
    upload(without_payment.into_bytes()).await.assert_status(422).assert_contains("BR-DE-1");
    let ok = upload(suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG).into_bytes()).await;
    ok.assert_status(303);
    browser
        .get("/buergerkonto/rechnungen")
        .await
        .assert_contains("Die Rechnung ist eingegangen")
        .assert_contains("Eingegangen")
        .assert_contains("<strong>Abgewiesen</strong><ul class=\"kern-list\"><li>Regel BR-DE-1 (Fehler)");
    let county = s.app.tenant_id("kreis").await;
    let stored = invoicing::store::list(&s.app.kernel.db, county, None, None, 10).await.unwrap();
    assert_eq!(stored[0].sender, format!("organisation:{org}"));
    assert_eq!(stored[0].channel, invoicing::model::Channel::Portal);
    // Another organisation's member does not see it.
    let others = service::sent_by(&s.app.kernel, &format!("organisation:{}", s.org)).await.unwrap();
    assert!(others.is_empty());
}

#[tokio::test]
async fn a_sender_reads_only_its_own_invoices_over_the_api() {
    let s = setup().await;
    let id = s.send(suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let get = |path: String| {
        axum::http::Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {}", s.bearer))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let own = s.app.client().send(get(format!("/api/v1/invoices/{id}?organisation={}", s.org))).await;
    own.assert_status(200);
    assert_eq!(own.json()["status"], "received");
    // An organisation the citizen does not belong to: not found, as is an unknown invoice.
    s.app.client().send(get(format!("/api/v1/invoices/{id}?organisation={}", s.org + 1000))).await.assert_status(404);
    s.app.client().send(get(format!("/api/v1/invoices/{}?organisation={}", id + 1000, s.org))).await.assert_status(404);
    // Without a session: 401; without naming an organisation: 422 with the reason.
    let anonymous =
        axum::http::Request::builder().uri(format!("/api/v1/invoices/{id}")).body(axum::body::Body::empty()).unwrap();
    s.app.client().send(anonymous).await.assert_status(401);
    let res = s.app.client().send(get(format!("/api/v1/invoices/{id}"))).await;
    res.assert_status(422);
    assert_eq!(res.json()["error"]["code"], "invoicing.organisation_required");
}

#[tokio::test]
async fn two_copies_sent_at_the_same_moment_are_one_invoice_and_one_duplicate() {
    let s = setup().await;
    let xml = suite_invoice("01.05a-INVOICE_ubl.xml", KREIS_LEITWEG);
    let submit = |bytes: String| {
        let kernel = s.app.kernel.clone();
        tokio::spawn(async move {
            let submission = service::Submission {
                bytes: bytes.into_bytes().into(),
                channel: invoicing::model::Channel::Api,
                sender: "test".into(),
                actor: kernel::audit::Actor::system(),
            };
            service::intake(&kernel, submission).await.map(|i| i.invoice.status).map_err(|e| e.reason())
        })
    };
    let a = submit(xml.clone());
    let b = submit(xml.replacen("?>", "?>\n", 1));
    let mut statuses = vec![a.await.unwrap().unwrap(), b.await.unwrap().unwrap()];
    statuses.sort_by_key(|s| s.as_str());
    assert_eq!(statuses, vec![Status::Duplicate, Status::Received]);
}

#[tokio::test]
async fn a_zugferd_pdf_is_read_by_its_embedded_invoice_and_a_plain_pdf_is_refused_with_the_reason() {
    let s = setup().await;
    // A ZUGFeRD/Factur-X PDF (EN 16931 profile) is read: it gets as far as its Leitweg-ID.
    let pdf =
        std::fs::read(testkit::repo_path("../shared/testdata/einvoice/mustang/library-samples/EN16931_Einfach.pdf"))
            .unwrap();
    let res = s.send(pdf).await;
    let code = res.json()["error"]["code"].as_str().unwrap_or_default().to_owned();
    assert!(code.starts_with("invoicing.leitweg"), "the PDF's invoice was not read: {}", res.body);
    // A PDF without an embedded invoice says what to send instead.
    let plain = kernel::pdf::Document::new("Rechnung")
        .paragraph("Nur ein Bild der Rechnung")
        .to_pdf(kernel::Timestamp::from_millis(0));
    let res = s.send(plain.unwrap()).await;
    res.assert_status(422);
    let reason = res.json()["error"]["reasons"][0]["message"].as_str().unwrap().to_owned();
    assert!(reason.contains("keine elektronische Rechnung (ZUGFeRD/Factur-X)"), "{reason}");
}

#[tokio::test]
async fn senders_find_the_leitweg_ids_and_check_theirs_before_sending() {
    let app = testkit::TestApp::with_config(|c| {
        c.invoicing.mailbox_address = "rechnungseingang@kreis-auenthal.example".into()
    })
    .await;
    app.load_demo().await;
    let anyone = app.client();
    anyone
        .get("/e-rechnung")
        .await
        .assert_status(200)
        .assert_contains(KREIS_LEITWEG)
        .assert_contains("Straßenverkehrsamt")
        .assert_contains("mailto:rechnungseingang@kreis-auenthal.example")
        .assert_lacks("Die Leitweg-ID ist richtig");
    // Lower case and spaces are fine; the unit it reaches is named.
    anyone
        .get("/e-rechnung?leitweg_id=+05999000-re1-17+")
        .await
        .assert_status(200)
        .assert_contains("Die Leitweg-ID ist richtig")
        .assert_contains("05999000-RE1-17: Kreis Auenthal, Straßenverkehrsamt");
    // A typo in the check digits, an ID of somebody else, no ID at all: the reason intake gives.
    anyone.get("/e-rechnung?leitweg_id=05999000-RE1-18").await.assert_contains("richtig wäre 17");
    anyone.get("/e-rechnung?leitweg_id=04011000-12345-03").await.assert_contains("gehört zu keiner Stelle");
    anyone
        .get("/e-rechnung?leitweg_id=%3Cscript%3E")
        .await
        .assert_status(200)
        .assert_contains("ist keine Leitweg-ID")
        .assert_contains("&#60;script&#62;")
        .assert_lacks("<script>");
}
