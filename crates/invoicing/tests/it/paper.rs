//! Paper invoices: a clerk uploads the scan and types in the facts; the invoice then takes the
//! e-invoices' way (duplicate check, sign-offs, assignment, booking export), the scan kept as
//! the hash-verified original.

use invoicing::model::{Channel, Skonto, Status};

use crate::{Setup, setup};

const INBOX: &str = "/verwaltung/mandanten/kreis/rechnungen";
const CAPTURE: &str = "/verwaltung/mandanten/kreis/rechnungen/erfassen";

/// A real PDF without an e-invoice inside: what a scanner writes.
fn scanned_pdf() -> Vec<u8> {
    let path = "../shared/testdata/records/xdomea/toolkit/message_generation/test_data/pdfa/2b/test_pdf_a2-b.pdf";
    std::fs::read(testkit::repo_path(path)).unwrap()
}

/// A 1 × 1 grey PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\
\x08\x00\x00\x00\x00\x3a\x7e\x9b\x55\x00\x00\x00\x0a\x49\x44\x41\x54\x78\x9c\x63\xf8\x0f\x00\x01\x01\x01\x00\xb1\x38\
\xf6\x14\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

const FACTS: [(&str, &str); 9] = [
    ("lieferant", "Druckerei Weber"),
    ("ust_id", "DE 123456789"),
    ("rechnungsnummer", "R-2026-117"),
    ("rechnungsdatum", "2026-11-20"),
    ("betrag", "1.190,00"),
    ("faellig_am", "2026-12-20"),
    ("skonto_prozent", "2"),
    ("skonto_tage", "10"),
    ("iban", "DE89 3704 0044 0532 0130 00"),
];

async fn capture(
    client: &testkit::Client,
    fields: &[(&str, &str)],
    file: (&str, &str, &[u8]),
) -> testkit::TestResponse {
    let (name, media_type, bytes) = file;
    client.post_multipart(CAPTURE, fields, ("datei", name, media_type, bytes)).await
}

/// The id of the invoice a capture led to (its address in the redirect).
fn invoice_id(res: &testkit::TestResponse) -> i64 {
    res.assert_status(303);
    res.location().unwrap().split('/').next_back().unwrap().parse().unwrap()
}

async fn invoice(s: &Setup, id: i64) -> invoicing::model::StoredInvoice {
    let county = s.app.tenant_id("kreis").await;
    invoicing::store::invoice(&s.app.kernel.db, county, id).await.unwrap().unwrap()
}

async fn invoice_count(s: &Setup) -> i64 {
    let row = s.app.kernel.db.fetch_one(kernel::query("SELECT COUNT(*) AS n FROM invoices")).await.unwrap();
    row.get("n").unwrap()
}

#[tokio::test]
async fn a_scanned_paper_invoice_takes_the_same_way_as_an_e_invoice() {
    let s = setup().await;
    let clerk = s.staff("sachbearbeitung").await;
    clerk.get(INBOX).await.assert_status(200).assert_contains(CAPTURE);
    clerk
        .get(CAPTURE)
        .await
        .assert_status(200)
        .assert_contains("Papierrechnung erfassen")
        .assert_contains("Skontofrist");
    let scan = scanned_pdf();
    let res = capture(&clerk, &FACTS, ("scan.pdf", "application/pdf", &scan)).await;
    let id = invoice_id(&res);
    let path = format!("{INBOX}/{id}");
    assert_eq!(res.location(), Some(path.as_str()));

    let captured = invoice(&s, id).await;
    assert_eq!((captured.channel, captured.status), (Channel::Paper, Status::Received));
    assert_eq!((captured.seller_name.as_str(), captured.invoice_number.as_str()), ("Druckerei Weber", "R-2026-117"));
    assert_eq!((captured.total_cents, captured.due_cents, captured.currency.as_str()), (119_000, 119_000, "EUR"));
    assert_eq!(captured.seller_key, "vat:DE123456789");
    assert_eq!(captured.due_date.as_deref(), Some("2026-12-20"));
    assert_eq!(captured.skonto, Some(Skonto { days: 10, percent_bp: 200, base_cents: None }));
    assert_eq!(captured.skonto_until.as_deref(), Some("2026-11-30"));
    assert_eq!(captured.leitweg_id, "");
    let clerk_unit = invoice(&s, id).await.org_unit;
    let units = identity::service::org_units(&s.app.kernel, s.app.tenant_id("kreis").await).await.unwrap();
    assert!(units.iter().any(|u| u.id == clerk_unit));

    // The page shows the typed facts and the scan, not a rendering of XML it does not have.
    let page = clerk.get(&path).await;
    page.assert_status(200).assert_contains("Erfasst von").assert_contains("DE123456789");
    page.assert_contains("DE89370400440532013000").assert_contains("20.11.2026").assert_lacks("staff:");
    page.assert_contains("Teilen Sie den Grund dem Lieferanten selbst mit");
    page.assert_contains("Scan herunterladen").assert_contains("1.190,00 EUR").assert_contains("Papierrechnung:");
    page.assert_lacks("Rechnungspositionen").assert_lacks("Leitweg-ID )");
    let original = clerk.get(&format!("{path}/original")).await;
    original.assert_status(200);
    assert_eq!(original.raw, scan);
    assert_eq!(original.header("content-type"), Some("application/pdf"));
    assert!(original.header("content-disposition").unwrap().contains(&format!("rechnung-{id}.pdf")));
    clerk.get(&format!("{path}/pdf")).await.assert_status(404);
    clerk.get(&format!("{path}/anlagen/0")).await.assert_status(404);

    // The same scan again is the same invoice; the same facts on another scan are a duplicate.
    let count = invoice_count(&s).await;
    let again = capture(&clerk, &FACTS, ("scan.pdf", "application/pdf", &scan)).await;
    assert_eq!(invoice_id(&again), id);
    clerk.get(&path).await.assert_contains("schon erfasst");
    assert_eq!(invoice_count(&s).await, count);
    let copy = invoice_id(&capture(&clerk, &FACTS, ("kopie.png", "image/png", PNG)).await);
    let copy = invoice(&s, copy).await;
    assert_eq!((copy.status, copy.duplicate_of), (Status::Duplicate, Some(id)));
    let png = clerk.get(&format!("{INBOX}/{}/original", copy.id)).await;
    assert_eq!((png.raw.as_slice(), png.header("content-type")), (PNG, Some("image/png")));

    // Sign-offs by three people, the assignment, the payment order and the booking export.
    let checker = s.staff("rechnungspruefung").await;
    let head = s.staff("amtsleitung").await;
    clerk.post_form(&path, &[("aktion", "sachlich")]).await.assert_status(303);
    checker.post_form(&path, &[("aktion", "rechnerisch")]).await.assert_status(303);
    let line = [
        ("aktion", "kontierung"),
        ("zeile1_konto", "542100"),
        ("zeile1_kostenstelle", "3600"),
        ("zeile1_produkt", "1.12.01"),
        ("zeile1_betrag", "1190,00"),
    ];
    checker.post_form(&path, &line).await.assert_status(303);
    head.post_form(&path, &[("aktion", "anordnung")]).await.assert_status(303);
    assert_eq!(invoice(&s, id).await.status, Status::Ordered);
    let kasse = s.staff("kasse").await;
    kasse.post_form("/verwaltung/mandanten/kreis/buchungsexport", &[]).await.assert_status(303);
    let page = kasse.get("/verwaltung/mandanten/kreis/buchungsexport").await;
    let link = page.body.split("href=\"/verwaltung/mandanten/kreis/buchungsexport/").nth(1).unwrap();
    let export: String = link.chars().take_while(char::is_ascii_digit).collect();
    let csv = kasse.get(&format!("/verwaltung/mandanten/kreis/buchungsexport/{export}")).await;
    let row = csv.body.lines().find(|l| l.contains("R-2026-117")).unwrap().to_owned();
    assert!(row.contains(";542100;3600;1.12.01;1190,00;") && row.ends_with(&captured.blob_sha256), "{row}");
    // What the Kasse pays to: an invoice (380) to the typed IBAN, the number as remittance.
    assert!(row.contains(";EUR;380;DE89370400440532013000;;R-2026-117;DE123456789;;;"), "{row}");
    assert_eq!(invoice(&s, id).await.status, Status::Exported);

    let county = s.app.tenant_id("kreis").await;
    let log = kernel::audit::recent(&s.app.kernel.db, county, 200).await.unwrap();
    let captures: Vec<_> = log.iter().filter(|e| e.action == "invoicing.invoice.captured").collect();
    assert_eq!(captures.len(), 2, "the repeated scan is no new capture");
    assert!(captures.iter().any(|e| e.subject == format!("invoice:{id}")));
}

#[tokio::test]
async fn a_capture_names_what_to_correct_and_stores_nothing() {
    let s = setup().await;
    let clerk = s.staff("sachbearbeitung").await;
    let count = invoice_count(&s).await;

    let xml = b"<?xml version=\"1.0\"?><Invoice/>";
    let wrong = capture(&clerk, &[("betrag", "0"), ("skonto_tage", "14")], ("r.xml", "application/xml", xml)).await;
    wrong.assert_status(422).assert_contains("Der Scan muss eine PDF-, PNG-, JPEG- oder TIFF-Datei sein.");
    for expected in [
        "href=\"#f-lieferant\"",
        "Geben Sie die Rechnungsnummer an",
        "Geben Sie das Rechnungsdatum an",
        "Geben Sie den Rechnungsbetrag über 0 an",
        "Geben Sie den Skontosatz über 0",
        "value=\"14\"",
    ] {
        wrong.assert_contains(expected);
    }
    let mut future = FACTS;
    future[3] = ("rechnungsdatum", "2999-01-01");
    capture(&clerk, &future, ("scan.pdf", "application/pdf", &scanned_pdf()))
        .await
        .assert_status(422)
        .assert_contains("Das Rechnungsdatum liegt in der Zukunft");
    // A ZUGFeRD PDF is an e-invoice: it is validated as one, not typed in.
    let zugferd =
        std::fs::read(testkit::repo_path("../shared/testdata/einvoice/mustang/library-samples/EN16931_Einfach.pdf"))
            .unwrap();
    capture(&clerk, &FACTS, ("zugferd.pdf", "application/pdf", &zugferd))
        .await
        .assert_status(422)
        .assert_contains("enthält eine E-Rechnung (ZUGFeRD/Factur-X)");
    capture(&clerk, &FACTS, ("", "application/octet-stream", b""))
        .await
        .assert_status(422)
        .assert_contains("Wählen Sie den Scan der Rechnung aus.");
    assert_eq!(invoice_count(&s).await, count);
}

#[tokio::test]
async fn only_staff_who_work_invoices_capture_them_into_a_unit_of_their_own() {
    let s = setup().await;
    let pdf = scanned_pdf();
    // Staff of another tenant cannot capture into the county's inbox.
    let other = s.app.client();
    other.login("sachbearbeitung@lindenbach.example", &s.password).await;
    other.get(CAPTURE).await.assert_status(403);
    capture(&other, &FACTS, ("scan.pdf", "application/pdf", &pdf)).await.assert_status(403);

    // A unit clerk names no unit, or only their own: another unit is refused.
    let clerk = s.staff("sachbearbeitung").await;
    let county = s.app.tenant_id("kreis").await;
    let units = identity::service::org_units(&s.app.kernel, county).await.unwrap();
    let youth = units.iter().find(|u| u.name == "Jugendamt").unwrap().id.to_string();
    let mut elsewhere = FACTS.to_vec();
    elsewhere.push(("einheit", &youth));
    capture(&clerk, &elsewhere, ("scan.pdf", "application/pdf", &pdf))
        .await
        .assert_status(422)
        .assert_contains("Wählen Sie eine Organisationseinheit dieses Mandanten.");

    // Staff who see every unit choose one; the invoice lands in that unit's inbox.
    let admin = s.staff("it").await;
    admin.get(CAPTURE).await.assert_status(200).assert_contains("f-einheit").assert_contains("Jugendamt");
    capture(&admin, &FACTS, ("scan.pdf", "application/pdf", &pdf))
        .await
        .assert_status(422)
        .assert_contains("Wählen Sie eine Organisationseinheit dieses Mandanten.");
    let id = invoice_id(&capture(&admin, &elsewhere, ("scan.pdf", "application/pdf", &pdf)).await);
    assert_eq!(invoice(&s, id).await.org_unit.to_string(), youth);
    clerk.get(&format!("{INBOX}/{id}")).await.assert_status(403);
    // The same scan in another office: refused as known there, without leading to the invoice.
    let count = invoice_count(&s).await;
    capture(&clerk, &FACTS, ("scan.pdf", "application/pdf", &pdf))
        .await
        .assert_status(422)
        .assert_contains("Dieser Scan wurde schon erfasst. Die Rechnung liegt bei einer anderen")
        .assert_lacks(&format!("{INBOX}/{id}"));
    assert_eq!(invoice_count(&s).await, count);
}
