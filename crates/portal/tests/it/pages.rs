//! Search and service pages, the services API, and the jurisdiction finder.

use testkit::TestApp;

/// The service id of the first result on a search page.
fn first_result(body: &str) -> &str {
    let link = body.split("<li class=\"kh-result\">").nth(1).expect("a result");
    link.split("href=\"/leistungen/").nth(1).expect("a link").split(['?', '"']).next().expect("an id")
}

async fn demo() -> TestApp {
    let app = TestApp::new().await;
    app.load_demo().await;
    app
}

#[tokio::test]
async fn the_start_page_offers_the_search_which_works_without_javascript() {
    let app = demo().await;
    let c = app.client();
    c.get("/").await.assert_contains("action=\"/leistungen\"").assert_contains("name=\"q\"");
    let res = c.get("/leistungen?q=perso+beantragen").await;
    res.assert_status(200).assert_contains("Zuständig ist Ihre Stadt oder Gemeinde");
    assert_eq!(first_result(&res.body), "personalausweis-beantragen");
}

#[tokio::test]
async fn life_situations_lead_from_the_start_page_to_their_services_and_who_is_responsible() {
    let app = demo().await;
    let c = app.client();
    c.get("/").await.assert_contains("href=\"/lebenslagen/mobilitaet\"").assert_contains("Mobilität");
    let mobility = c.get("/lebenslagen/mobilitaet").await;
    mobility.assert_status(200).assert_contains("Fahrzeug zulassen").assert_contains("Wählen Sie Ihre Stadt");
    let for_lindenbach = c.get("/lebenslagen/ausweise?gemeinde=lindenbach").await;
    for_lindenbach
        .assert_contains("Zuständig für Sie: Stadt Lindenbach")
        .assert_contains("/leistungen/personalausweis-beantragen?gemeinde=lindenbach");
    c.get("/lebenslagen/gibt-es-nicht").await.assert_status(404);
}

#[tokio::test]
async fn a_demo_service_page_shows_office_contacts_fees_documents_and_every_way_to_use_it() {
    let app = demo().await;
    let page = app.client().get("/leistungen/kfz-ausserbetriebsetzung").await;
    page.assert_status(200)
        .assert_contains("Straßenverkehrsamt")
        .assert_contains("mailto:strassenverkehrsamt@kreis-auenthal.example")
        .assert_contains("12,20 €")
        .assert_contains("Zulassungsbescheinigung Teil I")
        .assert_contains("Termin buchen")
        .assert_contains("Öffnungszeiten");
    let home = app.client().get("/").await;
    home.assert_contains("Für Unternehmen").assert_contains("href=\"/unternehmenslagen/gruendung\"");
    let founding = app.client().get("/unternehmenslagen/gruendung?gemeinde=lindenbach").await;
    founding.assert_contains("Gewerbe anmelden").assert_contains("Beratung der Wirtschaftsförderung");
}

#[tokio::test]
async fn a_postcode_decides_who_is_responsible_for_municipal_and_county_services() {
    let app = demo().await;
    let c = app.client();
    let municipal = c.get("/leistungen?q=personalausweis&gemeinde=59910").await;
    municipal
        .assert_contains("Zuständig für Sie: Stadt Lindenbach")
        .assert_contains("/leistungen/personalausweis-beantragen?gemeinde=lindenbach");
    let county = c.get("/leistungen?q=wohngeld&gemeinde=lindenbach").await;
    county.assert_contains("Zuständig für Sie: Kreis Auenthal");
    let page = c.get("/leistungen/personalausweis-beantragen?gemeinde=Stadt%20Wiesental").await;
    page.assert_status(200).assert_contains("Stadt Wiesental").assert_contains("Am Rathaus 2");
}

#[tokio::test]
async fn a_municipality_or_postcode_in_the_query_decides_who_is_responsible() {
    let app = demo().await;
    let c = app.client();
    let named = c.get("/leistungen?q=hundesteuer+Lindenbach").await;
    named.assert_contains("Zuständig für Sie: Stadt Lindenbach");
    assert_eq!(first_result(&named.body), "hundesteuer");
    let postcode = c.get("/leistungen?q=perso+59910").await;
    postcode.assert_contains("Zuständig für Sie: Stadt Lindenbach");
    assert_eq!(first_result(&postcode.body), "personalausweis-beantragen");
    // A town's name alone is a search for it, not a residence with nothing to look for.
    c.get("/leistungen?q=Lindenbach").await.assert_status(200).assert_lacks("Zuständig für Sie: Stadt Lindenbach");
    // A place chosen explicitly wins over a name in the query.
    let chosen = c.get("/leistungen?q=hundesteuer+lindenbach&gemeinde=wiesental").await;
    chosen.assert_contains("Zuständig für Sie: Stadt Wiesental");
}

#[tokio::test]
async fn an_unknown_postcode_says_so_and_offers_the_municipalities() {
    let app = demo().await;
    let res = app.client().get("/leistungen?q=hund&gemeinde=10115").await;
    res.assert_status(200)
        .assert_contains("gehört nicht zum Kreis")
        .assert_contains("„10115“")
        .assert_contains("Gemeinde Kalkstein");
    let service = app.client().get("/leistungen/hundesteuer").await;
    service
        .assert_status(200)
        .assert_contains("Wählen Sie Ihre Stadt oder Gemeinde")
        .assert_contains("/leistungen/hundesteuer?gemeinde=kalkstein");
    app.client().get("/leistungen/gibt-es-nicht").await.assert_status(404);
}

#[tokio::test]
async fn the_api_answers_in_the_pages_ranking_with_the_responsible_tenant() {
    let app = demo().await;
    let c = app.client();
    let res = c.get_json("/api/v1/services?q=auto%20abmelden&municipality=lindenbach&limit=3").await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["municipality"], "lindenbach");
    assert_eq!(body["items"][0]["id"], "kfz-ausserbetriebsetzung");
    assert_eq!(body["items"][0]["tenant"], "kreis");
    assert!(body["items"].as_array().unwrap().len() <= 3);
    let municipal = c.get_json("/api/v1/services?q=sperrm%C3%BCll&municipality=59935").await.json();
    assert_eq!(
        (municipal["items"][0]["id"].clone(), municipal["items"][0]["tenant"].clone()),
        ("abfall-sperrmuell".into(), "kalkstein".into())
    );
    let unknown = c.get_json("/api/v1/services?q=pass&municipality=atlantis").await;
    unknown.assert_status(422);
    assert_eq!(unknown.json()["error"]["fields"][0]["field"], "municipality");
    let page = c.get("/leistungen?q=auto+abmelden&gemeinde=lindenbach").await;
    assert_eq!(first_result(&page.body), "kfz-ausserbetriebsetzung");
}

#[tokio::test]
async fn absurd_queries_get_an_ordinary_answer_and_nothing_is_reflected_as_markup() {
    let app = demo().await;
    let c = app.client();
    let long = "x".repeat(10_000);
    for q in ["%3Cscript%3Ealert(1)%3C%2Fscript%3E", "'%20OR%201%3D1%20--", "!!!%3F%3F%3F", "%20", long.as_str()] {
        let page = c.get(&format!("/leistungen?q={q}")).await;
        page.assert_status(200).assert_lacks("<script>alert(1)");
        c.get_json(&format!("/api/v1/services?q={q}")).await.assert_status(200);
    }
    c.get("/leistungen?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await.assert_contains("&#60;script&#62;alert(1)");
}

#[tokio::test]
async fn importing_the_catalogue_again_changes_nothing_and_is_audited() {
    let app = demo().await;
    let count = || async {
        app.kernel
            .db
            .fetch_one(kernel::query("SELECT COUNT(*) AS n FROM services"))
            .await
            .unwrap()
            .get::<i64>("n")
            .unwrap()
    };
    let before = count().await;
    let catalogue = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/search/services.tsv");
    let services = portal::catalogue::parse_services(&std::fs::read_to_string(catalogue).unwrap()).unwrap();
    let summary = portal::service::import_catalogue(&app.kernel, &services).await.unwrap();
    assert_eq!(count().await, before);
    let municipal = services.iter().filter(|s| s.level == portal::catalogue::Level::Municipality).count();
    assert_eq!(summary.offers, services.len() - municipal + municipal * 7);
    let kreis = app.tenant_id("kreis").await;
    assert_eq!(kernel::audit::recent(&app.kernel.db, kreis, 1).await.unwrap()[0].action, "portal.catalogue.imported");
}

#[tokio::test]
async fn the_chosen_municipality_is_remembered_for_later_searches() {
    let app = demo().await;
    let c = app.client();
    c.get("/leistungen?q=hund").await.assert_contains("Zuständig ist Ihre Stadt oder Gemeinde");
    c.get("/leistungen?q=hund&gemeinde=10115").await;
    assert_eq!(c.cookie("kh_gemeinde"), None, "an unknown place is not remembered");
    c.get("/leistungen?q=hund&gemeinde=59935").await;
    assert_eq!(c.cookie("kh_gemeinde").as_deref(), Some("kalkstein"));
    c.get("/leistungen?q=hundesteuer")
        .await
        .assert_contains("Zuständig für Sie: Gemeinde Kalkstein")
        .assert_contains("value=\"kalkstein\"");
    c.get("/leistungen/personalausweis-beantragen").await.assert_contains("Hauptstraße 40");
}
