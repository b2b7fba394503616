//! The FIM import in the form editor: a file becomes a draft with its report, a broken file is
//! refused with the reason, and only the Redaktion of the tenant may import.

use testkit::TestApp;

const IMPORT: &str = "/verwaltung/mandanten/kreis/fim-import";

pub fn fixture(name: &str) -> Vec<u8> {
    let path =
        testkit::repo_path("../shared/testdata/forms/fim/xdatenfelder-ts-fixtures/modules/xdatenfelder-xml/tests")
            .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn the_redaktion_imports_a_fim_schema_as_a_draft_and_publishes_it() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", &pw).await;
    let xml = fixture("v2-data/simple.xml");
    let res = editor.post_multipart(IMPORT, &[], ("datei", "simple.xml", "application/xml", &xml)).await;
    res.assert_status(200)
        .assert_contains("Das Datenschema wurde als Entwurf übernommen.")
        .assert_contains("R60000037:1.2: rule „MindestEineAngabe“")
        .assert_contains("fim-t1234");
    let form = "/verwaltung/mandanten/kreis/formulare/fim-t1234";
    editor.get(form).await.assert_status(200).assert_contains("Entwurf").assert_contains("f60000227");
    editor.post_form(form, &[("aktion", "veroeffentlichen")]).await.assert_status(303);
    app.client().get("/antrag/kreis/fim-t1234").await.assert_status(200).assert_contains("Familienname");

    // A second import of the schema is a new draft beside the published version.
    editor.post_multipart(IMPORT, &[], ("datei", "simple.xml", "application/xml", &xml)).await.assert_status(200);
    editor.get(form).await.assert_contains("Version 2: Entwurf").assert_contains("Version 1: Veröffentlicht");
    let kreis = app.tenant_id("kreis").await;
    let entries = kernel::audit::recent(&app.kernel.db, kreis, 500).await.unwrap();
    let imports = entries.iter().filter(|e| e.action == "forms.form.fim_imported" && e.subject == "form:fim-t1234");
    assert_eq!(imports.count(), 2);
}

#[tokio::test]
async fn a_broken_file_is_refused_with_its_reason_and_others_may_not_import() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", &pw).await;
    let xml = fixture("v3-data/empty-id-node.xml");
    editor
        .post_multipart(IMPORT, &[], ("datei", "kaputt.xml", "application/xml", &xml))
        .await
        .assert_status(422)
        .assert_contains("Die Datei wurde nicht übernommen: Missing content (node &#60;xdf:id&#62;, line 10");
    editor
        .post_multipart(IMPORT, &[], ("datei", "", "application/xml", b""))
        .await
        .assert_status(422)
        .assert_contains("Bitte wählen Sie eine XDatenfelder-Datei aus.");
    editor.get("/verwaltung/mandanten/kreis/formulare").await.assert_lacks("fim-g123");

    let other = app.client();
    other.login("sachbearbeitung@lindenbach.example", &pw).await;
    let ok = fixture("v2-data/simple.xml");
    other.post_multipart(IMPORT, &[], ("datei", "simple.xml", "application/xml", &ok)).await.assert_status(403);
}
