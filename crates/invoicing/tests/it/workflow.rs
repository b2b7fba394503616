use invoicing::model::Status;
use invoicing::service;

use crate::{KREIS_LEITWEG, setup, suite_invoice};

const INBOX: &str = "/verwaltung/mandanten/kreis/rechnungen";

#[tokio::test]
async fn three_different_people_approve_an_invoice_and_the_kasse_exports_the_booking() {
    let s = setup().await;
    let xml = suite_invoice("01.10a-INVOICE_ubl.xml", KREIS_LEITWEG);
    let receipt = s.send(xml.clone()).await.json();
    let id = receipt["id"].as_i64().unwrap();
    let path = format!("{INBOX}/{id}");
    let county = s.app.tenant_id("kreis").await;
    let invoice = invoicing::store::invoice(&s.app.kernel.db, county, id).await.unwrap().unwrap();
    assert!(invoice.skonto.is_some() && invoice.skonto_until.is_some(), "BT-20 holds a Skonto line");
    let total = invoicing::model::csv_amount(invoice.total_cents);

    let clerk = s.staff("sachbearbeitung").await;
    let checker = s.staff("rechnungspruefung").await;
    let head = s.staff("amtsleitung").await;
    clerk.get(INBOX).await.assert_status(200).assert_contains(&format!("{INBOX}/{id}"));
    // The German rendering of the invoice.
    clerk
        .get(&path)
        .await
        .assert_status(200)
        .assert_contains("Rechnungspositionen")
        .assert_contains("Aufschlüsselung der Umsatzsteuer")
        .assert_contains("Skonto: 1,00 %")
        .assert_contains("Fälliger Betrag");

    // Sachlich richtig by the clerk; the same clerk cannot sign rechnerisch richtig too.
    clerk.post_form(&path, &[("aktion", "sachlich"), ("notiz", "Ware vollständig")]).await.assert_status(303);
    clerk.post_form(&path, &[("aktion", "rechnerisch")]).await.assert_status(303);
    clerk.get(&path).await.assert_contains("bereits einen anderen Schritt");
    assert_eq!(status(&s, id).await, Status::FactuallyCorrect);
    checker.post_form(&path, &[("aktion", "rechnerisch")]).await.assert_status(303);
    assert_eq!(status(&s, id).await, Status::ArithmeticallyCorrect);

    // The payment order needs a complete assignment, and a third person.
    head.post_form(&path, &[("aktion", "anordnung")]).await.assert_status(303);
    head.get(&path).await.assert_contains("Kontierung vollständig");
    let short = checker
        .post_form(
            &path,
            &[
                ("aktion", "kontierung"),
                ("zeile1_konto", "542100"),
                ("zeile1_kostenstelle", "3600"),
                ("zeile1_produkt", "1.12.01"),
                ("zeile1_betrag", "1,00"),
            ],
        )
        .await;
    short.assert_status(422).assert_contains("ergeben zusammen nicht den Rechnungsbetrag").assert_contains("1,00");
    let part = invoice.total_cents / 3;
    let rest = invoicing::model::csv_amount(invoice.total_cents - part);
    let part = invoicing::model::csv_amount(part);
    checker.post_form(&path, &assignment_form(&part, &rest)).await.assert_status(303);
    checker.post_form(&path, &[("aktion", "anordnung")]).await.assert_status(403);
    head.post_form(&path, &[("aktion", "anordnung")]).await.assert_status(303);
    assert_eq!(status(&s, id).await, Status::Ordered);
    head.get(&path).await.assert_contains("Angeordnet").assert_contains("Achim Lenz").assert_contains("Sabine Acker");

    // The original is kept unchanged and hash-verified.
    let original = clerk.get(&format!("{path}/original")).await;
    original.assert_status(200);
    assert_eq!(original.body, xml);

    // The Kasse exports the booking: one row per assignment line, once.
    let kasse = s.staff("kasse").await;
    clerk.get("/verwaltung/mandanten/kreis/buchungsexport").await.assert_status(403);
    kasse.post_form("/verwaltung/mandanten/kreis/buchungsexport", &[]).await.assert_status(303);
    let page = kasse.get("/verwaltung/mandanten/kreis/buchungsexport").await;
    let link = page.body.split("href=\"/verwaltung/mandanten/kreis/buchungsexport/").nth(1).unwrap();
    let export_id: String = link.chars().take_while(char::is_ascii_digit).collect();
    let csv = kasse.get(&format!("/verwaltung/mandanten/kreis/buchungsexport/{export_id}")).await;
    csv.assert_status(200);
    let rows: Vec<&str> = csv.body.lines().collect();
    assert_eq!(rows.len(), 3, "{}", csv.body);
    assert!(rows[0].starts_with("Rechnung;Leitweg-ID;"));
    assert!(rows[1].contains(";542100;3600;1.12.01;") && rows[1].ends_with(invoice.blob_sha256.as_str()));
    assert!(rows[2].contains(&format!(";542200;3610;1.12.02;{rest};")));
    assert!(rows.iter().skip(1).all(|r| r.contains(&format!(";{total};EUR;"))));
    // Payment data from the original: the invoice type (BT-3), the first account (BT-84) and,
    // without BT-83, the invoice number as remittance information.
    let number = &invoice.invoice_number;
    assert!(rows[1].contains(&format!(";EUR;380;DE79000000001234567890;;{number};")), "{}", rows[1]);
    assert_eq!(status(&s, id).await, Status::Exported);
    kasse.post_form("/verwaltung/mandanten/kreis/buchungsexport", &[]).await.assert_status(303);
    kasse.get("/verwaltung/mandanten/kreis/buchungsexport").await.assert_contains("keine angeordneten Rechnungen");

    // Every step is in the audit log.
    let log = kernel::audit::recent(&s.app.kernel.db, county, 100).await.unwrap();
    let subject = format!("invoice:{id}");
    let actions: Vec<&str> = log.iter().filter(|e| e.subject == subject).map(|e| e.action.as_str()).collect();
    for action in [
        "invoicing.invoice.received",
        "invoicing.invoice.signed",
        "invoicing.invoice.assigned",
        "invoicing.invoice.opened",
    ] {
        assert!(actions.contains(&action), "{action} missing in {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| **a == "invoicing.invoice.signed").count(), 3);
    assert!(log.iter().any(|e| e.action == "invoicing.export.created"));
}

#[tokio::test]
async fn the_next_invoice_of_a_seller_proposes_the_last_assignment_until_one_is_saved() {
    let s = setup().await;
    let xml = suite_invoice("01.10a-INVOICE_ubl.xml", KREIS_LEITWEG);
    let first = s.send(xml.clone()).await.json()["id"].as_i64().unwrap();
    let clerk = s.staff("sachbearbeitung").await;
    let county = s.app.tenant_id("kreis").await;
    let total = invoicing::store::invoice(&s.app.kernel.db, county, first).await.unwrap().unwrap().total_cents;
    let (part, rest) = (invoicing::model::csv_amount(total / 4), invoicing::model::csv_amount(total - total / 4));
    let lines = assignment_form(&part, &rest);
    // Nothing to propose from yet.
    clerk.get(&format!("{INBOX}/{first}")).await.assert_status(200).assert_lacks("Kontierungsvorschlag");
    clerk.post_form(&format!("{INBOX}/{first}"), &lines).await.assert_status(303);

    // The seller's next invoice (another number) proposes those lines with their shares.
    let next = xml.replacen("<cbc:ID>Rechnungsnummer</cbc:ID>", "<cbc:ID>Rechnungsnummer-2</cbc:ID>", 1);
    let second = s.send(next).await.json()["id"].as_i64().unwrap();
    let page = clerk.get(&format!("{INBOX}/{second}")).await;
    page.assert_status(200).assert_contains("Kontierungsvorschlag").assert_contains("Nr. Rechnungsnummer,");
    for (_, value) in &lines[1..] {
        page.assert_contains(&format!("value=\"{value}\""));
    }
    // A proposal only: nothing is assigned until the clerk saves it.
    assert!(invoicing::store::assignment(&s.app.kernel.db, second).await.unwrap().is_empty());
    clerk.post_form(&format!("{INBOX}/{second}"), &lines).await.assert_status(303);
    clerk.get(&format!("{INBOX}/{second}")).await.assert_lacks("Kontierungsvorschlag");
}

#[tokio::test]
async fn two_exports_at_the_same_moment_never_book_an_invoice_twice() {
    let s = setup().await;
    let k = &s.app.kernel;
    let county = s.app.tenant_id("kreis").await;
    for name in ["01.01a-INVOICE_ubl.xml", "01.02a-INVOICE_ubl.xml", "01.10a-INVOICE_ubl.xml"] {
        let id = s.send(suite_invoice(name, KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
        // Ordered as the workflow test orders one (three people and an assignment).
        let total = invoicing::store::invoice(&k.db, county, id).await.unwrap().unwrap().total_cents;
        let line = invoicing::model::AssignmentLine {
            account: "542100".into(),
            cost_centre: "3600".into(),
            product: "1.12.01".into(),
            amount_cents: total,
        };
        let mut tx = k.db.begin().await.unwrap();
        invoicing::store::replace_assignment(&mut tx, id, &[line]).await.unwrap();
        tx.execute(kernel::query("UPDATE invoices SET status = 'ordered' WHERE id = $1").bind(id)).await.unwrap();
        tx.commit().await.unwrap();
    }
    // The Kasse holds its role in its own unit; exporting covers every unit of the tenant.
    let proof = unit_proof::<service::ExportBookings>(&s, "kasse").await;

    let (a, b) = tokio::join!(service::export(k, &proof), service::export(k, &proof));
    let made: Vec<_> = [a, b]
        .into_iter()
        .filter_map(|r| match r {
            Ok(made) => made,
            Err(kernel::AppError::Conflict { code }) => {
                assert_eq!(code, "invoicing.export_taken");
                None
            }
            Err(e) => panic!("{e}"),
        })
        .collect();
    assert_eq!(made.len(), 1, "one export takes all three invoices, the other none");
    let exports = service::exports(k, &proof).await.unwrap();
    assert_eq!(exports.iter().map(|(_, invoices, _)| invoices).collect::<Vec<_>>(), [&3]);
    let exported = invoicing::store::list(&k.db, county, None, Some(Status::Exported), 10).await.unwrap();
    assert!(exported.len() == 3 && exported.iter().all(|i| i.export_id == Some(made[0].0)));
    // An assignment saved while the payment order is signed finds the row closed in its
    // transaction; a received invoice is open.
    let received = s.send(suite_invoice("01.03a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let mut tx = k.db.begin().await.unwrap();
    let received = invoicing::store::invoice(&k.db, county, received).await.unwrap().unwrap();
    assert!(!invoicing::store::lock_if_assignable(&mut tx, &exported[0]).await.unwrap());
    assert!(invoicing::store::lock_if_assignable(&mut tx, &received).await.unwrap());
}

#[tokio::test]
async fn the_kasse_takes_in_the_payment_file_and_the_sender_sees_the_payment_date() {
    let s = setup().await;
    let k = &s.app.kernel;
    let county = s.app.tenant_id("kreis").await;
    let id = s.send(suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let waiting = s.send(suite_invoice("01.02a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    k.db.execute(kernel::query("UPDATE invoices SET status = 'ordered' WHERE id = $1").bind(id)).await.unwrap();
    let kasse = s.staff("kasse").await;
    let page = "/verwaltung/mandanten/kreis/buchungsexport";
    kasse.post_form(page, &[]).await.assert_status(303);
    let invoice = invoicing::store::invoice(&k.db, county, id).await.unwrap().unwrap();
    assert_eq!(invoice.status, Status::Exported);
    let amount = invoicing::model::csv_amount(invoice.due_cents);
    let too_much = invoicing::model::csv_amount(invoice.due_cents + 1);
    let today = k.clock.now().german_date();
    let today = format!("{:02}.{:02}.{}", today.day(), u8::from(today.month()), today.year());
    let upload = |file: String| {
        let kasse = &kasse;
        async move {
            kasse
                .post_multipart(
                    &format!("{page}/zahlungen"),
                    &[],
                    ("datei", "zahlungen.csv", "text/csv", file.as_bytes()),
                )
                .await
        }
    };

    // Every problem by line, nothing taken in.
    let wrong = format!(
        "Rechnung;Bezahlt_am;Betrag\n999999;{today};1,00\n{id};01.01.2999;{amount}\n{waiting};{today};1,00\n\
         {id};{today};1,00\n"
    );
    let refused = upload(wrong).await;
    refused.assert_status(422).assert_contains("nicht übernommen");
    for expected in [
        "Zeile 2: Diese Rechnung gibt es bei uns nicht.",
        "Zeile 3: Das Zahlungsdatum liegt in der Zukunft.",
        "Zeile 4: Diese Rechnung ist noch nicht an das Finanzverfahren exportiert",
        "Zeile 5: Diese Rechnung steht schon in einer früheren Zeile",
    ] {
        refused.assert_contains(expected);
    }
    let high = upload(format!("Rechnung;Bezahlt_am;Betrag\n{id};{today};{too_much}\n")).await;
    high.assert_status(422).assert_contains("Zeile 2: Der Betrag ist höher");
    assert_eq!(invoicing::store::invoice(&k.db, county, id).await.unwrap().unwrap().status, Status::Exported);

    // The good file, with columns of the finance system's own around ours.
    let good = format!("Buchungsnr;Rechnung;Betrag;Bezahlt_am;Empfänger\n4711;{id};{amount};{today};Lieferant\n");
    upload(good.clone()).await.assert_status(303);
    kasse.get(page).await.assert_contains("Als bezahlt eingetragen: 1 (0 waren schon eingetragen)");
    let paid = invoicing::store::invoice(&k.db, county, id).await.unwrap().unwrap();
    assert_eq!((paid.status, paid.paid_cents), (Status::Paid, Some(invoice.due_cents)));
    // Again: nothing changes. Another date for the same invoice is refused.
    upload(good).await.assert_status(303);
    kasse.get(page).await.assert_contains("Als bezahlt eingetragen: 0 (1 waren schon eingetragen)");
    let other = format!("Rechnung;Bezahlt_am;Betrag\n{id};01.01.2020;{amount}\n");
    upload(other).await.assert_status(422).assert_contains("schon eine Zahlung mit anderem Datum");

    // The sender sees it over the API, the clerk on the invoice.
    let receipt = s.api_get(&format!("/api/v1/invoices/{id}?organisation={}", s.org)).await.json();
    assert_eq!((receipt["status"].as_str(), receipt["paid_on"].as_str()), (Some("paid"), paid.paid_on.as_deref()));
    s.staff("sachbearbeitung").await.get(&format!("{INBOX}/{id}")).await.assert_contains("Bezahlt am");
    let log = kernel::audit::recent(&k.db, county, 100).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "invoicing.invoice.paid").count(), 1);
    assert_eq!(log.iter().filter(|e| e.action == "invoicing.payments.imported").count(), 2);
    // The invoices of a file are read 500 ids at a time, only the tenant's.
    let ids: Vec<i64> = (1..=1_200).collect();
    let mut read: Vec<i64> =
        invoicing::store::invoices(&k.db, county, &ids).await.unwrap().iter().map(|i| i.id).collect();
    read.sort_unstable();
    let mut all: Vec<i64> =
        invoicing::store::list(&k.db, county, None, None, 10_000).await.unwrap().iter().map(|i| i.id).collect();
    all.sort_unstable();
    assert!(read.contains(&id) && read.contains(&waiting));
    assert_eq!(read, all);
    let lindenbach = s.app.tenant_id("lindenbach").await;
    assert!(invoicing::store::invoices(&k.db, lindenbach, &ids).await.unwrap().is_empty());
    // The clerk of a unit cannot take in payments.
    s.staff("sachbearbeitung")
        .await
        .post_multipart(&format!("{page}/zahlungen"), &[], ("datei", "z.csv", "text/csv", b"x"))
        .await
        .assert_status(403);
}

/// The assignment form with two lines of these amounts.
fn assignment_form<'a>(first: &'a str, second: &'a str) -> [(&'static str, &'a str); 9] {
    [
        ("aktion", "kontierung"),
        ("zeile1_konto", "542100"),
        ("zeile1_kostenstelle", "3600"),
        ("zeile1_produkt", "1.12.01"),
        ("zeile1_betrag", first),
        ("zeile2_konto", "542200"),
        ("zeile2_kostenstelle", "3610"),
        ("zeile2_produkt", "1.12.02"),
        ("zeile2_betrag", second),
    ]
}

async fn status(s: &crate::Setup, id: i64) -> Status {
    let county = s.app.tenant_id("kreis").await;
    invoicing::store::invoice(&s.app.kernel.db, county, id).await.unwrap().unwrap().status
}

#[tokio::test]
async fn staff_of_another_tenant_or_unit_cannot_see_the_invoice() {
    let s = setup().await;
    let id = s.send(suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let path = format!("{INBOX}/{id}");
    let other_tenant = s.app.client();
    other_tenant.login("sachbearbeitung@lindenbach.example", &s.password).await;
    other_tenant.get(&path).await.assert_status(403);
    other_tenant.get(&format!("{path}/original")).await.assert_status(403);
    other_tenant.get("/verwaltung/mandanten/lindenbach/rechnungen").await.assert_status(200).assert_lacks(&path);
    // The Kasse works in another unit of the county: not this unit's inbox.
    let kasse = s.staff("kasse").await;
    kasse.get(&path).await.assert_status(403);
    kasse.get(INBOX).await.assert_status(200).assert_lacks(&path);
    // An invoice id of another tenant is not found through this tenant's address.
    let lindenbach = s.app.tenant_id("lindenbach").await;
    assert!(invoicing::store::invoice(&s.app.kernel.db, lindenbach, id).await.unwrap().is_none());
}

#[tokio::test]
async fn an_administrator_routes_a_new_leitweg_id_to_an_org_unit() {
    let s = setup().await;
    let admin = s.staff("it").await;
    let page = "/verwaltung/mandanten/kreis/leitweg-ids";
    admin.get(page).await.assert_status(200).assert_contains(KREIS_LEITWEG);
    let county = s.app.tenant_id("kreis").await;
    let units = identity::service::org_units(&s.app.kernel, county).await.unwrap();
    let youth = units.iter().find(|u| u.name == "Jugendamt").unwrap().id;
    let unit = youth.0.to_string();
    let wrong = admin
        .post_form(page, &[("aktion", "hinzufuegen"), ("leitweg_id", "05999000-51-00"), ("org_unit", &unit)])
        .await;
    wrong.assert_status(422).assert_contains("Prüfziffern");
    let check = invoicing::model::leitweg_check_digits("05999000-51");
    let id = format!("05999000-51-{check}");
    admin
        .post_form(
            page,
            &[("aktion", "hinzufuegen"), ("leitweg_id", &id), ("org_unit", &unit), ("beschreibung", "Jugendamt")],
        )
        .await
        .assert_status(303);
    admin
        .post_form(page, &[("aktion", "hinzufuegen"), ("leitweg_id", &id), ("org_unit", &unit)])
        .await
        .assert_status(422);
    let receipt = s.send(suite_invoice("01.01a-INVOICE_ubl.xml", &id)).await.json();
    let stored =
        invoicing::store::invoice(&s.app.kernel.db, county, receipt["id"].as_i64().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.org_unit, youth);
    s.staff("sachbearbeitung").await.get(page).await.assert_status(403);
}

#[tokio::test]
async fn the_drop_folder_takes_each_file_in_once_and_explains_refusals() {
    let s = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let good = suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG);
    std::fs::write(dir.path().join("a.xml"), &good).unwrap();
    std::fs::write(dir.path().join("b-kopie.xml"), &good).unwrap();
    std::fs::write(dir.path().join("c.xml"), suite_invoice("01.02a-INVOICE_uncefact.xml", "12345-00")).unwrap();
    // A 100 MB file is refused by its size, without being read.
    std::fs::File::create(dir.path().join("d-gross.xml")).unwrap().set_len(100 * 1024 * 1024).unwrap();
    let report = service::scan_folder(&s.app.kernel, dir.path()).await.unwrap();
    assert_eq!(report, service::FolderReport { received: 1, refused: 2, known: 1 });
    let big = std::fs::read_to_string(dir.path().join(service::FOLDER_REFUSED).join("d-gross.xml.grund.txt")).unwrap();
    assert!(big.contains("höchstens 20971520 Bytes"), "{big}");
    let done = dir.path().join(service::FOLDER_DONE);
    assert!(done.join("a.xml").exists() && done.join("b-kopie.xml").exists());
    let reason = std::fs::read_to_string(dir.path().join(service::FOLDER_REFUSED).join("c.xml.grund.txt")).unwrap();
    assert!(reason.contains("Leitweg-ID"), "{reason}");
    // A second run finds nothing; the same file dropped again is not stored twice.
    assert_eq!(service::scan_folder(&s.app.kernel, dir.path()).await.unwrap(), service::FolderReport::default());
    std::fs::write(dir.path().join("a.xml"), &good).unwrap();
    assert_eq!(service::scan_folder(&s.app.kernel, dir.path()).await.unwrap().known, 1);
    assert!(done.join("1-a.xml").exists());
    let county = s.app.tenant_id("kreis").await;
    assert_eq!(invoicing::store::list(&s.app.kernel.db, county, None, None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_unit_is_reminded_once_before_the_skonto_deadline_and_the_due_date() {
    let s = setup().await;
    // 01.10a carries a Skonto line; its deadline (issue date + 14 days) lies before the test clock.
    let id = s.send(suite_invoice("01.10a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let sent = service::send_reminders(&s.app.kernel).await.unwrap();
    assert!(sent >= 1);
    assert_eq!(service::send_reminders(&s.app.kernel).await.unwrap(), 0, "each reminder only once");
    let county = s.app.tenant_id("kreis").await;
    let log = kernel::audit::recent(&s.app.kernel.db, county, 20).await.unwrap();
    assert!(log.iter().any(|e| e.action == "invoicing.invoice.reminded" && e.subject == format!("invoice:{id}")));
    let mails = crate::outbox(&s.app).await.iter().filter(|m| m.subject.contains("Skontofrist")).count();
    assert_eq!(mails, 1);
}

#[tokio::test]
async fn the_drop_folder_job_runs_once_per_time_slot_on_any_node() {
    let s = setup().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.xml"), suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG)).unwrap();
    let cfg = invoicing::jobs::InvoicingConfig { drop_folder: dir.path().display().to_string(), ..Default::default() };
    let mut runner = kernel::jobs::Runner::default();
    invoicing::jobs::register(&mut runner, &cfg);
    invoicing::jobs::enqueue_periodic(&s.app.kernel, &cfg).await.unwrap();
    // A second node in the same time slot adds nothing.
    invoicing::jobs::enqueue_periodic(&s.app.kernel, &cfg).await.unwrap();
    let mut done = 0;
    // The outbox's mails have no handler on this runner; they fail and are counted apart.
    loop {
        match runner.run_next(&s.app.kernel, "node-a").await.unwrap() {
            kernel::jobs::Ran::Nothing => break,
            kernel::jobs::Ran::Done(_) => done += 1,
            kernel::jobs::Ran::Failed(..) => {}
        }
    }
    assert_eq!(done, 2, "one scan and one reminder run");
    assert!(dir.path().join(service::FOLDER_DONE).join("r.xml").exists());
    let county = s.app.tenant_id("kreis").await;
    let stored = invoicing::store::list(&s.app.kernel.db, county, None, None, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].channel, invoicing::model::Channel::Folder);
}

#[tokio::test]
async fn the_rendering_is_also_a_pdf_with_the_same_german_text() {
    let s = setup().await;
    let id = s.send(suite_invoice("01.10a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let clerk = s.staff("sachbearbeitung").await;
    let req = axum::http::Request::builder().uri(format!("{INBOX}/{id}/pdf")).body(axum::body::Body::empty()).unwrap();
    let res = clerk.send(req).await;
    res.assert_status(200);
    assert_eq!(res.header("content-type"), Some("application/pdf"));
    // The stored rendering is the one the original makes (deterministic), kept by its hash.
    let county = s.app.tenant_id("kreis").await;
    let units = identity::service::org_units(&s.app.kernel, county).await.unwrap();
    let unit = units.iter().find(|u| u.name == "Straßenverkehrsamt").unwrap().id;
    let staff =
        identity::service::authenticate(&s.app.kernel, &s.app.config.identity, &clerk.cookie("kh_session").unwrap())
            .await
            .unwrap()
            .unwrap();
    let proof = staff.authorize_in_unit::<service::WorkInvoices>(county, unit).unwrap();
    let (invoice, stored) = service::rendering(&s.app.kernel, &proof, id).await.unwrap();
    assert_eq!(invoice.rendering_sha256.as_deref(), Some(kernel::blobs::BlobHash::of(&stored).as_str()));
    let (_, xml) = service::original(&s.app.kernel, &proof, id).await.unwrap();
    let rendering = invoicing::render::Rendering::of(&service::document_of(&xml).unwrap());
    let pdf = invoicing::render::pdf::pdf(&rendering).unwrap();
    assert_eq!(stored.as_ref(), pdf.as_slice());
    assert!(pdf.starts_with(b"%PDF-1.7"));
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let text = doc.extract_text(&doc.get_pages().keys().copied().collect::<Vec<_>>()).unwrap();
    assert!(res.body.starts_with("%PDF-1.7") && res.body.len() > 1000);
    for needle in
        ["Rechnungspositionen", "Summen", "Zahlungsbedingungen", "Skonto: 1,00 %", &rendering.parties[0].facts[0].value]
    {
        assert!(text.contains(needle), "{needle} missing");
    }
}

#[tokio::test]
async fn an_attachment_of_the_invoice_opens_as_a_download_for_the_unit_only_and_is_logged() {
    let s = setup().await;
    // 01.15a carries a PDF as its supporting document (BG-24, BT-125).
    let id = s.send(suite_invoice("01.15a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let clerk = s.staff("sachbearbeitung").await;
    let link = format!("{INBOX}/{id}/anlagen/0");
    clerk.get(&format!("{INBOX}/{id}")).await.assert_status(200).assert_contains(&format!("href=\"{link}\""));
    let req = axum::http::Request::builder().uri(&link).body(axum::body::Body::empty()).unwrap();
    let res = clerk.send(req).await;
    res.assert_status(200);
    assert_eq!(res.header("content-type"), Some("application/pdf"));
    assert!(res.header("content-disposition").is_some_and(|d| d.starts_with("attachment; filename=\"")));
    assert!(res.body.starts_with("%PDF"), "not the PDF");
    clerk.get(&format!("{INBOX}/{id}/anlagen/1")).await.assert_status(404);
    let other_tenant = s.app.client();
    other_tenant.login("sachbearbeitung@lindenbach.example", &s.password).await;
    other_tenant.get(&link).await.assert_status(403);
    s.staff("kasse").await.get(&link).await.assert_status(403);
    let county = s.app.tenant_id("kreis").await;
    let log = kernel::audit::recent(&s.app.kernel.db, county, 100).await.unwrap();
    assert!(log.iter().any(|e| e.action == "invoicing.attachment.opened"));
}

/// The proof of `P` that a demo member of the county's staff holds in their org unit.
async fn unit_proof<P: identity::Permission>(s: &crate::Setup, local: &str) -> identity::Authorized<P> {
    let client = s.staff(local).await;
    let k = &s.app.kernel;
    let session = client.cookie("kh_session").unwrap();
    let staff = identity::service::authenticate(k, &s.app.config.identity, &session).await.unwrap().unwrap();
    let county = s.app.tenant_id("kreis").await;
    staff.roles.iter().find_map(|g| g.org_unit.and_then(|u| staff.authorize_in_unit::<P>(county, u).ok())).unwrap()
}

/// A clerk of the county's Jugendamt (the demo has none), logged in.
async fn youth_office_clerk(s: &crate::Setup) -> (testkit::Client, kernel::OrgUnitId) {
    let k = &s.app.kernel;
    let county = s.app.tenant_id("kreis").await;
    let units = identity::service::org_units(k, county).await.unwrap();
    let youth = units.iter().find(|u| u.name == "Jugendamt").unwrap().id;
    let setup = identity::service::Setup { kernel: k };
    let hash = identity::service::hash_password(s.password.clone()).await.unwrap();
    let email = format!("jugendamt@{}", crate::DOMAIN);
    let clerk = setup.staff(county, &email, "Jana Ufer", &hash, false).await.unwrap();
    setup.role(county, clerk, identity::Role::Clerk, Some(youth)).await.unwrap();
    (s.staff("jugendamt").await, youth)
}

#[tokio::test]
async fn the_central_receipt_forwards_an_invoice_to_the_office_that_ordered() {
    let s = setup().await;
    let county = s.app.tenant_id("kreis").await;
    let id = s.send(suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let path = format!("{INBOX}/{id}");
    let (youth_clerk, youth) = youth_office_clerk(&s).await;
    youth_clerk.get(&path).await.assert_status(403);
    let clerk = s.staff("sachbearbeitung").await;
    let page = clerk.get(&path).await;
    page.assert_status(200).assert_contains("Weiterleiten").assert_contains(&format!("<option value=\"{youth}\">"));

    // Not to the unit it is in, not to a unit of another tenant.
    let lindenbach = s.app.tenant_id("lindenbach").await;
    let foreign = identity::service::org_units(&s.app.kernel, lindenbach).await.unwrap()[0].id.to_string();
    let here = invoicing::store::invoice(&s.app.kernel.db, county, id).await.unwrap().unwrap().org_unit.to_string();
    for unit in [foreign.as_str(), here.as_str(), "x", ""] {
        clerk.post_form(&path, &[("aktion", "weiterleiten"), ("einheit", unit)]).await.assert_status(303);
        clerk.get(&path).await.assert_contains("kern-alert--danger");
        assert_eq!(
            invoicing::store::invoice(&s.app.kernel.db, county, id).await.unwrap().unwrap().org_unit.to_string(),
            here
        );
    }

    let note = "Bestellung des Jugendamts (Wohngruppe Lindenhof)";
    let youth_id = youth.to_string();
    let moved = clerk.post_form(&path, &[("aktion", "weiterleiten"), ("einheit", &youth_id), ("notiz", note)]).await;
    moved.assert_status(303);
    assert_eq!(moved.header("location"), Some(INBOX));
    // The Jugendamt's address is told.
    let told = crate::outbox(&s.app).await.into_iter().find(|m| m.subject.contains("an Sie weitergeleitet")).unwrap();
    assert!(told.to.starts_with("jugendamt@") && told.body.contains(note), "{told:?}");
    // Now in the Jugendamt's inbox and no longer in the Straßenverkehrsamt's.
    clerk.get(&path).await.assert_status(403);
    clerk.get(INBOX).await.assert_lacks(&path);
    youth_clerk.get(INBOX).await.assert_status(200).assert_contains(&path);
    youth_clerk
        .get(&path)
        .await
        .assert_status(200)
        .assert_contains("Weitergeleitet von Straßenverkehrsamt an Jugendamt: Sabine Acker")
        .assert_contains(note);

    // Staff who see every unit filter by unit; others see their own whatever they ask for.
    let admin = s.staff("it").await;
    let by_unit = |unit: &str| format!("{INBOX}?einheit={unit}");
    admin.get(&by_unit(&youth_id)).await.assert_contains(&path).assert_contains("Alle Einheiten");
    admin.get(&by_unit(&here)).await.assert_lacks(&path);
    clerk.get(&by_unit(&youth_id)).await.assert_lacks(&path).assert_lacks("Alle Einheiten");

    // The Jugendamt signs; after the first sign-off it can no longer be handed on.
    youth_clerk.post_form(&path, &[("aktion", "sachlich")]).await.assert_status(303);
    let back = youth_clerk.post_form(&path, &[("aktion", "weiterleiten"), ("einheit", &here)]).await;
    back.assert_status(303);
    youth_clerk.get(&path).await.assert_contains("nicht mehr weitergeleitet").assert_lacks("name=\"einheit\"");
    let stored = invoicing::store::invoice(&s.app.kernel.db, county, id).await.unwrap().unwrap();
    assert_eq!((stored.org_unit, stored.status), (youth, Status::FactuallyCorrect));

    let log = kernel::audit::recent(&s.app.kernel.db, county, 100).await.unwrap();
    let forwarded: Vec<_> = log.iter().filter(|e| e.action == "invoicing.invoice.forwarded").collect();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].subject, format!("invoice:{id}"));

    // The unit holds invoices now: it cannot be deleted (the files keep it), and says so.
    let delete = format!("/verwaltung/mandanten/kreis/organisationseinheiten/{youth}/entfernen");
    admin.post_form(&delete, &[]).await.assert_status(409).assert_contains("Einheit wird noch gebraucht");
}

#[tokio::test]
async fn a_forward_and_a_sign_off_at_the_same_moment_never_both_happen() {
    let s = setup().await;
    let k = &s.app.kernel;
    let county = s.app.tenant_id("kreis").await;
    let id = s.send(suite_invoice("01.02a-INVOICE_ubl.xml", KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap();
    let (_, youth) = youth_office_clerk(&s).await;
    let proof = unit_proof::<service::WorkInvoices>(&s, "sachbearbeitung").await;
    let (forwarded, signed) = tokio::join!(
        service::forward(k, &proof, id, youth, ""),
        service::check(k, &proof, id, invoicing::model::Step::Factual, "")
    );
    let stored = invoicing::store::invoice(&k.db, county, id).await.unwrap().unwrap();
    let forwards = invoicing::store::forwards(&k.db, id).await.unwrap();
    match (forwarded.is_ok(), signed.is_ok()) {
        (true, false) => assert!(stored.org_unit == youth && stored.status == Status::Received && forwards.len() == 1),
        (false, true) => {
            assert!(stored.org_unit != youth && stored.status == Status::FactuallyCorrect && forwards.is_empty())
        }
        other => panic!("exactly one must happen: {other:?}"),
    }
}

#[tokio::test]
async fn the_inbox_finds_invoices_by_seller_number_or_leitweg_id_and_pages_them() {
    let s = setup().await;
    let clerk = s.staff("sachbearbeitung").await;
    let mut ids = Vec::new();
    for name in ["01.01a-INVOICE_ubl.xml", "01.02a-INVOICE_ubl.xml", "01.10a-INVOICE_ubl.xml"] {
        ids.push(s.send(suite_invoice(name, KREIS_LEITWEG)).await.json()["id"].as_i64().unwrap());
    }
    let county = s.app.tenant_id("kreis").await;
    let k = &s.app.kernel;
    let stored = |id: i64| async move { invoicing::store::invoice(&k.db, county, id).await.unwrap().unwrap() };
    let first = stored(ids[0]).await;
    let link = |id: i64| format!("{INBOX}/{id}\"");

    // By part of the invoice number, in another case.
    let number: String = first.invoice_number.chars().skip(1).collect::<String>().to_uppercase();
    let found = clerk.get(&format!("{INBOX}?suche={}", urlencode(&number))).await;
    found.assert_status(200).assert_contains(&link(ids[0]));
    // By part of the seller's name (ASCII letters in any case) and by the Leitweg-ID.
    let seller: String = first.seller_name.chars().filter(char::is_ascii_alphabetic).take(4).collect();
    clerk.get(&format!("{INBOX}?suche={}", seller.to_lowercase())).await.assert_contains(&link(ids[0]));
    let all = clerk.get(&format!("{INBOX}?suche={KREIS_LEITWEG}")).await;
    for id in &ids {
        all.assert_contains(&link(*id));
    }
    // Umlauts in any case, on either engine.
    let umlauts = invoicing::model::StoredInvoice {
        seller_name: "ÖKOBAU Ärztebedarf GmbH".into(),
        blob_sha256: format!("{:064x}", 999),
        ..first.clone()
    };
    let mut tx = k.db.begin().await.unwrap();
    let umlaut_id = invoicing::store::insert_invoice(&mut tx, &umlauts, k.clock.now()).await.unwrap();
    tx.commit().await.unwrap();
    for needle in ["ökobau", "%C3%84RZTE", "%C3%B6kobau%20%C3%A4rzte"] {
        clerk.get(&format!("{INBOX}?suche={needle}")).await.assert_contains(&link(umlaut_id));
    }
    // `%` and `_` are letters like others, not wildcards.
    clerk.get(&format!("{INBOX}?suche=%25")).await.assert_contains("0 Rechnungen gefunden");
    clerk.get(&format!("{INBOX}?suche=_")).await.assert_contains("0 Rechnungen gefunden");

    // The open ones: a dismissed invoice leaves the work list.
    let path = format!("{INBOX}/{}", ids[1]);
    clerk.post_form(&path, &[("aktion", "zuruecklegen"), ("grund", "Doppelt bestellt")]).await.assert_status(303);
    let open = clerk.get(&format!("{INBOX}?status=offen")).await;
    open.assert_contains(&link(ids[0])).assert_contains(&link(ids[2])).assert_lacks(&link(ids[1]));
    open.assert_contains("<option value=\"offen\" selected>");

    // Nearest deadline first: the invoice with a Skonto deadline before those without.
    let q = invoicing::model::InboxQuery {
        order: invoicing::model::InboxOrder::Deadline,
        ..invoicing::model::InboxQuery::default()
    };
    let (by_deadline, total) = invoicing::store::search(&k.db, county, None, &q).await.unwrap();
    let deadline = |i: &invoicing::model::StoredInvoice| i.skonto_until.clone().or(i.due_date.clone());
    let deadlines: Vec<_> = by_deadline.iter().map(deadline).collect();
    let mut expected = deadlines.clone();
    expected.sort_by_key(|d| (d.is_none(), d.clone()));
    assert_eq!(deadlines, expected);
    assert!(deadlines[0].is_some(), "{deadlines:?}");

    // Pages of 50 with links that keep the query; the count covers all pages.
    let mut tx = k.db.begin().await.unwrap();
    for n in 0..60 {
        // Listed only, never opened: the hash need not name a stored object.
        let copy = invoicing::model::StoredInvoice {
            invoice_number: format!("PAGE-{n:02}"),
            blob_sha256: format!("{n:064x}"),
            ..first.clone()
        };
        invoicing::store::insert_invoice(&mut tx, &copy, k.clock.now()).await.unwrap();
    }
    tx.commit().await.unwrap();
    let page1 = clerk.get(&format!("{INBOX}?suche=page-")).await;
    page1.assert_contains("60 Rechnungen gefunden").assert_contains("Seite 1 von 2");
    page1.assert_contains(
        "href=\"/verwaltung/mandanten/kreis/rechnungen?suche=page%2D&#38;sortierung=eingang&#38;seite=2\"",
    );
    assert_eq!(page1.body.matches("PAGE-").count(), 50);
    let page2 = clerk.get(&format!("{INBOX}?suche=page-&seite=2")).await;
    assert_eq!(page2.body.matches("PAGE-").count(), 10);
    page2.assert_contains("Vorherige Seite").assert_lacks("Nächste Seite");
    clerk.get(&format!("{INBOX}?suche=page-&seite=9")).await.assert_contains("Zur ersten Seite");
    assert_eq!(total, 4, "three sent, one with umlauts");
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
