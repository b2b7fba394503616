//! The Redaktion edits a tenant's services; citizens see the result on the service page.

use testkit::{Client, TestApp};

const COUNTY_EDITOR: &str = "redaktion@kreis-auenthal.example";
const EDIT: &str = "/verwaltung/mandanten/kreis/leistungen/wohngeld";

async fn editor() -> (TestApp, Client) {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login(COUNTY_EDITOR, &pw).await;
    (app, c)
}

fn form<'a>(fees: &'a str, description: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Wohngeld beantragen"),
        ("summary", "Zuschuss zur Miete oder zu den Kosten für Wohneigentum."),
        ("description", description),
        ("documents", "Personalausweis\nMietvertrag\n\nEinkommensnachweise"),
        ("fees", fees),
        ("legal_basis", "Wohngeldgesetz (WoGG)"),
        ("processing_time", "etwa sechs Wochen"),
        ("online_url", "https://wohngeld.kreis-auenthal.example/antrag"),
        ("org_unit", ""),
    ]
}

#[tokio::test]
async fn the_redaktion_finds_its_catalogue_and_a_preview_saves_nothing() {
    let (app, c) = editor().await;
    c.get("/verwaltung").await.assert_status(200).assert_contains("/verwaltung/leistungen");
    c.get("/verwaltung/leistungen").await.assert_status(200).assert_contains("/verwaltung/mandanten/kreis/leistungen");
    c.get("/verwaltung/mandanten/kreis/leistungen").await.assert_contains("Wohngeld beantragen");
    let mut fields = form("Antrag: 0,00 €", "**Wichtig:** Antrag vor dem Monat stellen.");
    fields.push(("aktion", "vorschau"));
    let preview = c.post_form(EDIT, &fields).await;
    preview.assert_status(200).assert_contains("<strong>Wichtig:</strong>").assert_contains("Mietvertrag");
    app.client().get("/leistungen/wohngeld").await.assert_lacks("Wichtig:");
}

#[tokio::test]
async fn saved_details_appear_on_the_citizens_service_page_without_foreign_markup() {
    let (app, c) = editor().await;
    let mut fields =
        form("Antrag: 0\nBescheinigung: 1.250,5 €", "Text <script>alert(1)</script> [Rechner](javascript:alert(2))");
    fields.push(("aktion", "speichern"));
    c.post_form(EDIT, &fields).await.assert_status(303);
    let page = app.client().get("/leistungen/wohngeld?gemeinde=lindenbach").await;
    page.assert_status(200)
        .assert_contains("Mietvertrag")
        .assert_contains("1.250,50 €")
        .assert_contains("Wohngeldgesetz (WoGG)")
        .assert_contains("href=\"https://wohngeld.kreis-auenthal.example/antrag\"")
        .assert_contains("&lt;script&gt;")
        .assert_lacks("<script>alert")
        .assert_lacks("javascript:");
    let kreis = app.tenant_id("kreis").await;
    assert_eq!(kernel::audit::recent(&app.kernel.db, kreis, 1).await.unwrap()[0].action, "portal.service.updated");
}

#[tokio::test]
async fn a_bad_fee_line_or_link_is_refused_and_what_was_typed_is_kept() {
    let (_app, c) = editor().await;
    let mut fields = form("Antrag kostet nichts", "Beschreibung bleibt");
    fields.retain(|(k, _)| *k != "online_url");
    fields.push(("online_url", "ftp://alt.example"));
    fields.push(("aktion", "speichern"));
    let res = c.post_form(EDIT, &fields).await;
    res.assert_status(422)
        .assert_contains("Doppelpunkt und Betrag")
        .assert_contains("Antrag kostet nichts")
        .assert_contains("Beschreibung bleibt");
}

#[tokio::test]
async fn only_the_tenants_own_redaktion_edits_its_services() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    clerk.get(EDIT).await.assert_status(403);
    clerk.get("/verwaltung/leistungen").await.assert_status(403);
    let other = app.client();
    other.login("verwaltung@lindenbach.example", &pw).await;
    other.get(EDIT).await.assert_status(403);
    let mut fields = form("", "Übernommen");
    fields.push(("aktion", "speichern"));
    other.post_form(EDIT, &fields).await.assert_status(403);
    // Lindenbach edits its own offer of a municipal service, not another municipality's.
    other.get("/verwaltung/mandanten/lindenbach/leistungen/hundesteuer").await.assert_status(200);
    other.get("/verwaltung/mandanten/lindenbach/leistungen/wohngeld").await.assert_status(404);
}

#[tokio::test]
async fn the_online_maturity_follows_what_is_offered_and_is_summed_up_per_tenant() {
    let (app, c) = editor().await;
    let list = c.get("/verwaltung/mandanten/kreis/leistungen").await;
    list.assert_status(200)
        .assert_contains("Online-Reifegrad der Leistungen")
        .assert_contains("Stufe 1 – Informationen online");
    let mut fields = form("", "Beschreibung");
    fields.push(("aktion", "speichern"));
    c.post_form(EDIT, &fields).await.assert_status(303);
    app.client().get("/leistungen/wohngeld").await.assert_contains("Online-Reifegrad: Stufe 3 – Online-Antrag");
    let after = c.get("/verwaltung/mandanten/kreis/leistungen").await;
    let row = after.body.split("/leistungen/wohngeld\">").nth(1).unwrap().split("</tr>").next().unwrap().to_owned();
    assert!(row.contains("Stufe 3 – Online-Antrag"), "{row}");
}

#[tokio::test]
async fn leika_key_situations_and_every_way_to_use_a_service_are_edited_and_shown() {
    let (app, c) = editor().await;
    let mut fields = form("", "Beschreibung");
    fields.extend([
        ("leika", "99102013000000"),
        ("life_situations", "Wohnen; Soziales ;;Familie"),
        ("business_situations", "Mitarbeitende"),
        ("appointment_url", "https://termine.kreis-auenthal.example/wohngeld"),
        ("form_url", "https://kreis-auenthal.example/formulare/wohngeld.pdf"),
        ("aktion", "speichern"),
    ]);
    c.post_form(EDIT, &fields).await.assert_status(303);
    c.get(EDIT)
        .await
        .assert_contains("value=\"99102013000000\"")
        .assert_contains("value=\"Wohnen; Soziales; Familie\"");
    let page = app.client().get("/leistungen/wohngeld").await;
    page.assert_contains("href=\"/lebenslagen/familie\"")
        .assert_contains("href=\"/unternehmenslagen/mitarbeitende\"")
        .assert_contains("Termin buchen")
        .assert_contains("href=\"https://kreis-auenthal.example/formulare/wohngeld.pdf\"");
    let business = app.client().get("/unternehmenslagen/mitarbeitende").await;
    business.assert_status(200).assert_contains("Wohngeld beantragen");
}

#[tokio::test]
async fn a_leika_key_that_is_not_14_digits_is_refused_with_what_to_do() {
    let (_app, c) = editor().await;
    let mut fields = form("", "Beschreibung");
    fields.extend([("leika", "9910-2013"), ("appointment_url", "termine.example"), ("aktion", "speichern")]);
    c.post_form(EDIT, &fields)
        .await
        .assert_status(422)
        .assert_contains("Ein LeiKa-Schlüssel hat 14 Ziffern")
        .assert_contains("href=\"#f-appointment_url\"")
        .assert_contains("value=\"9910-2013\"");
}
