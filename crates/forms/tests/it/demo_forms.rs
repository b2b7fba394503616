//! The demo county's forms: all published at their services, and the §43 IfSG instruction from
//! the learning text through the quiz to a certificate whose QR code verifies it.

use testkit::TestApp;

use crate::journey::{page_at, pdf_text};

const IFSG: &str = "/antrag/kreis/infektionsschutzbelehrung";
const SUMMARY: &str = "18446744073709551615";

#[tokio::test]
async fn the_demo_forms_are_published_at_their_services() {
    let app = TestApp::new().await;
    app.load_demo().await;
    let c = app.client();
    for (path, title) in [
        ("/antrag/kreis/reitkennzeichen", "Reitkennzeichen bestellen"),
        ("/antrag/kreis/liegenschaftskarte", "Auszug aus der Liegenschaftskarte bestellen"),
        // Imported from a FIM schema of the shared test data (XDatenfelder 3).
        ("/antrag/kreis/fim-g60000000088", "Anschrift in Deutschland"),
    ] {
        c.get(path).await.assert_status(200).assert_contains(title).assert_contains("Schritt 1 von");
    }
    // Forms that need an account send the visitor to the login first.
    for path in [IFSG, "/antrag/kreis/baumfaellung"] {
        c.get(path).await.assert_status(303);
    }
    // The services link to their forms, which makes them "online applications" (OZG maturity).
    c.get("/leistungen/reitkennzeichen")
        .await
        .assert_contains("href=\"/antrag/kreis/reitkennzeichen\"")
        .assert_contains("Online-Antrag");
    // Loading the demo again changes nothing: still version 1 of each of the five.
    app.load_demo().await;
    let n = app.kernel.db.fetch_one(kernel::query("SELECT COUNT(*) AS n FROM form_versions")).await.unwrap();
    assert_eq!(n.get::<i64>("n").unwrap(), 5);
}

#[tokio::test]
async fn the_infection_protection_instruction_needs_the_pass_mark_and_issues_a_verifiable_certificate() {
    let app = TestApp::new().await;
    app.load_demo().await;
    let c = app.citizen("koch@example.org", "Lindenblüte im Juni").await;
    let profile =
        [("given_name", "Erika"), ("family_name", "Mustermann"), ("birth_date", "12.03.1980"), ("postcode", "59910")];
    c.post_form("/buergerkonto/profil", &profile).await.assert_status(303);
    let offered = c.get(IFSG).await;
    offered
        .assert_status(200)
        .assert_contains("Schritt 1 von 3")
        .assert_contains("Angaben aus Ihrem Bürgerkonto übernehmen?");
    // Nothing is taken over without the citizen's consent; with it, the consent is recorded.
    offered.assert_lacks("value=\"Mustermann\"");
    let first = page_at(&c, IFSG, &offered, "0", &[("aktion", "uebernehmen")], None).await;
    first.assert_status(200).assert_contains("value=\"Mustermann\"").assert_contains("value=\"59910\"");
    first.assert_lacks("Angaben aus Ihrem Bürgerkonto übernehmen?");
    c.get("/buergerkonto/datenschutz").await.assert_contains("Daten mit Einwilligung in ein Formular übernommen");
    let person = [
        ("vorname", "Erika"),
        ("nachname", "Mustermann"),
        ("geburtsdatum", "12.03.1980"),
        ("plz", "59910"),
        ("email", "koch@example.org"),
    ];
    let learn = page_at(&c, IFSG, &first, "0", &person, None).await;
    learn.assert_status(200).assert_contains("akute Magen-Darm-Infektionen");
    let questions = page_at(&c, IFSG, &learn, "1", &[], None).await;
    questions.assert_status(200).assert_contains("Sie haben seit gestern Durchfall");

    let wrong = [
        ("frage1", "a"),
        ("frage2", "fieber"),
        ("frage3", "ja"),
        ("frage4", "immer"),
        ("frage5", "arbeitgeber"),
        ("wahrheit", "ja"),
    ];
    let failed = page_at(&c, IFSG, &questions, "2", &wrong, None).await;
    failed
        .assert_status(422)
        .assert_contains("Sie haben 2/5 Fragen richtig beantwortet")
        .assert_contains("href=\"#f-frage1\"");

    let mut right = wrong.to_vec();
    right[0] = ("frage1", "b");
    right[2] = ("frage3", "nein");
    right.push(("frage2", "gelb"));
    let summary = page_at(&c, IFSG, &failed, "2", &right, None).await;
    summary.assert_status(200).assert_contains("25,00 €");
    let sent = page_at(&c, IFSG, &summary, SUMMARY, &[("aktion", "absenden")], None).await;
    sent.assert_status(200).assert_contains("Bescheinigung als PDF herunterladen");

    let link = sent.body.split("href=\"/antrag/eingang/").find(|s| s.contains("bescheinigung.pdf")).unwrap();
    let link = format!("/antrag/eingang/{}", link.split('"').next().unwrap().replace("&amp;", "&"));
    let pdf = c.get(&link).await;
    pdf.assert_status(200);
    let text = pdf_text(&pdf.raw);
    for expected in ["§ 43", "Erika", "Mustermann", "12.03.1980", "Kreis Auenthal", "Echtheit prüfen"] {
        assert!(text.contains(expected), "{expected} missing in the certificate: {text}");
    }
    let code = app
        .kernel
        .db
        .fetch_one(kernel::query("SELECT certificate_code FROM submissions"))
        .await
        .unwrap()
        .get::<String>("certificate_code")
        .unwrap();
    assert!(text.contains(&format!("/bescheinigung/{code}")));

    // Anyone holding the paper checks it with the code; the check is in the audit log.
    let check = app.client().get(&format!("/bescheinigung/{code}")).await;
    check.assert_status(200).assert_contains("Diese Bescheinigung ist echt.").assert_contains("Mustermann");
    let kreis = app.tenant_id("kreis").await;
    let actions: Vec<String> =
        kernel::audit::recent(&app.kernel.db, kreis, 5).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"forms.certificate.verified".to_owned()));
    app.client().get("/bescheinigung/7KQ2M-X9D4R-C").await.assert_status(404).assert_contains("Keine Bescheinigung");
    // Without the receipt link's token there is no certificate.
    let forged = link.split("?t=").next().unwrap().to_owned() + "?t=" + &"0".repeat(64);
    app.client().get(&forged).await.assert_status(404);
}
