//! The county's Redaktion maintains the search's synonym list.

use testkit::TestApp;

const PATH: &str = "/verwaltung/suche/synonyme";

#[tokio::test]
async fn a_new_rule_is_tried_without_saving_then_saved_and_used_by_every_search() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login("redaktion@kreis-auenthal.example", &pw).await;
    c.get("/verwaltung/leistungen").await.assert_contains("href=\"/verwaltung/suche/synonyme\"");
    let page = c.get(PATH).await;
    page.assert_status(200).assert_contains("mitgelieferte Liste").assert_contains("lappen, fleppe");
    let before = app.client().get("/leistungen?q=wauwau").await;
    before.assert_contains("keine Leistung gefunden");

    let rules = format!("{}\nwauwau => hund\n", crate::synonyms_text(&page.body));
    let tried = c.post_form(PATH, &[("rules", rules.as_str()), ("test", "wauwau"), ("aktion", "testen")]).await;
    tried.assert_status(200).assert_contains("(hundesteuer)");
    app.client().get("/leistungen?q=wauwau").await.assert_contains("keine Leistung gefunden");

    c.post_form(PATH, &[("rules", rules.as_str()), ("aktion", "speichern")]).await.assert_status(303);
    let after = app.client().get("/leistungen?q=wauwau").await;
    after.assert_contains("href=\"/leistungen/hundesteuer");
    c.get(PATH).await.assert_contains("Zuletzt gespeichert am").assert_contains("wauwau =&#62; hund");
    let kreis = app.tenant_id("kreis").await;
    assert_eq!(kernel::audit::recent(&app.kernel.db, kreis, 1).await.unwrap()[0].action, "portal.synonyms.saved");
}

#[tokio::test]
async fn a_broken_rule_names_its_line_and_what_to_do_and_nothing_is_saved() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login("redaktion@kreis-auenthal.example", &pw).await;
    let res = c.post_form(PATH, &[("rules", "perso => personalausweis\n\nwauwau hund"), ("aktion", "speichern")]).await;
    res.assert_status(422)
        .assert_contains("fehlt der Pfeil")
        .assert_contains("(Zeile 3)")
        .assert_contains("wauwau hund");
    c.get(PATH).await.assert_contains("mitgelieferte Liste");
}

#[tokio::test]
async fn only_the_countys_redaktion_maintains_the_synonyms() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let municipal = app.client();
    municipal.login("verwaltung@lindenbach.example", &pw).await;
    municipal.get(PATH).await.assert_status(403);
    municipal.post_form(PATH, &[("rules", "a => b"), ("aktion", "speichern")]).await.assert_status(403);
    municipal.get("/verwaltung/leistungen").await.assert_lacks("/verwaltung/suche/synonyme");
    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    clerk.get(PATH).await.assert_status(403);
    app.client().get(PATH).await.assert_status(303);
}
