//! The catalogue as a file: export, change, import; suggestions while typing.

use serde_json::{Value, json};
use testkit::{Client, TestApp};

const LIST: &str = "/verwaltung/mandanten/kreis/leistungen";
const IMPORT: &str = "/verwaltung/mandanten/kreis/leistungen/import";

async fn editor() -> (TestApp, Client) {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login("redaktion@kreis-auenthal.example", &pw).await;
    (app, c)
}

async fn upload(c: &Client, file: &Value) -> testkit::TestResponse {
    let bytes = serde_json::to_vec(file).unwrap();
    c.post_multipart(IMPORT, &[], ("datei", "leistungen.json", "application/json", &bytes)).await
}

fn entry<'a>(file: &'a Value, id: &str) -> &'a Value {
    file["services"].as_array().unwrap().iter().find(|e| e["id"] == id).unwrap()
}

#[tokio::test]
async fn an_exported_catalogue_changed_and_imported_again_is_the_new_catalogue() {
    let (app, c) = editor().await;
    let mut file = app.client().get("/api/v1/catalogue?tenant=kreis").await.json();
    assert_eq!((file["format"].as_str(), file["version"].as_u64()), (Some("kreishaus.catalogue"), Some(1)));
    assert!(file["services"].as_array().unwrap().iter().all(|e| e["tenant"] == "kreis" && e["level"] == "county"));
    let wohngeld = file["services"].as_array_mut().unwrap().iter_mut().find(|e| e["id"] == "wohngeld").unwrap();
    wohngeld["leika"] = json!("99102013000000");
    wohngeld["fees"] = json!([{ "label": "Antrag", "amount_cents": 0 }]);
    let mut new = wohngeld.clone();
    new["id"] = json!("lastenzuschuss");
    new["name"] = json!("Lastenzuschuss beantragen");
    new["summary"] = json!("Zuschuss zu den Kosten für selbst genutztes Wohneigentum.");
    file["services"].as_array_mut().unwrap().push(new);

    let done = upload(&c, &file).await;
    done.assert_status(303);
    let total = file["services"].as_array().unwrap().len();
    c.get(LIST).await.assert_contains(&format!("1 / {}", total - 1)).assert_contains("Lastenzuschuss beantragen");

    let again = app.client().get("/api/v1/catalogue?tenant=kreis").await.json();
    assert_eq!(entry(&again, "wohngeld"), entry(&file, "wohngeld"));
    assert_eq!(entry(&again, "lastenzuschuss")["name"], "Lastenzuschuss beantragen");
    let found = app.client().get("/leistungen?q=lastenzuschuss").await;
    found.assert_contains("href=\"/leistungen/lastenzuschuss");
}

#[tokio::test]
async fn a_file_with_errors_lists_each_entry_and_changes_nothing() {
    let (app, c) = editor().await;
    let mut file = app.client().get("/api/v1/catalogue?tenant=kreis").await.json();
    let services = file["services"].as_array_mut().unwrap();
    services[0]["name"] = json!("Geändert, aber nicht gespeichert");
    services[1]["leika"] = json!("123");
    services[2]["tenant"] = json!("lindenbach");
    services[3]["office"] = json!("Gibt es nicht");
    let res = upload(&c, &file).await;
    res.assert_status(422)
        .assert_contains("Eintrag 2 (")
        .assert_contains("14 Ziffern")
        .assert_contains("Eintrag 3 (")
        .assert_contains("gehört zu einer anderen Dienststelle")
        .assert_contains("Eintrag 4 (");
    c.get(LIST).await.assert_lacks("Geändert, aber nicht gespeichert");

    let not_json = c.post_multipart(IMPORT, &[], ("datei", "x.json", "application/json", b"<xml/>")).await;
    not_json.assert_status(422).assert_contains("keine Katalog-Datei");
    let nothing = c.post_multipart(IMPORT, &[], ("datei", "", "application/octet-stream", b"")).await;
    nothing.assert_status(422).assert_contains("Bitte wählen Sie eine Datei aus.");
}

#[tokio::test]
async fn only_the_tenants_redaktion_imports_and_the_token_is_required() {
    let (app, _) = editor().await;
    let file = app.client().get("/api/v1/catalogue?tenant=kreis").await.json();
    let pw = app.load_demo().await;
    let other = app.client();
    other.login("verwaltung@lindenbach.example", &pw).await;
    upload(&other, &file).await.assert_status(403);
    app.client().get("/api/v1/catalogue?tenant=gibt-es-nicht").await.assert_status(404);
    let all = app.client().get("/api/v1/catalogue").await.json();
    assert!(all["services"].as_array().unwrap().iter().any(|e| e["tenant"] == "lindenbach"));
}

#[tokio::test]
async fn suggestions_while_typing_name_services_for_word_beginnings_and_synonyms() {
    let app = TestApp::new().await;
    app.load_demo().await;
    let c = app.client();
    let perso = c.get("/api/v1/services/suggest?q=perso").await.json();
    assert_eq!(perso["suggestions"][0]["name"], "Personalausweis beantragen");
    assert_eq!(perso["suggestions"][0]["url"], "/leistungen/personalausweis-beantragen");
    let partial = c.get("/api/v1/services/suggest?q=f%C3%BChrersch").await.json();
    assert!(partial["suggestions"][0]["name"].as_str().unwrap().contains("Führerschein"), "{partial}");
    let empty = c.get("/api/v1/services/suggest?q=").await.json();
    assert_eq!(empty["suggestions"], json!([]));
    c.get("/").await.assert_contains("data-suggest=\"/api/v1/services/suggest\"").assert_contains("app.js");
}

#[tokio::test]
async fn a_service_is_exported_as_xzufi_for_its_provider() {
    let (app, c) = editor().await;
    c.get("/verwaltung/mandanten/kreis/leistungen/wohngeld")
        .await
        .assert_contains("href=\"/api/v1/services/wohngeld/xzufi?tenant=kreis\"");
    let res = app.client().get("/api/v1/services/wohngeld/xzufi").await;
    res.assert_status(200);
    assert_eq!(res.header("content-type"), Some("application/xml; charset=utf-8"));
    let doc = roxmltree::Document::parse(&res.body).unwrap();
    assert!(doc.root_element().has_tag_name((portal::xzufi::NAMESPACE, "leistung")));
    assert!(res.body.contains("Wohngeld"));
    let municipal = app.client().get("/api/v1/services/hundesteuer/xzufi").await;
    municipal.assert_status(422);
    let lindenbach = app.client().get("/api/v1/services/hundesteuer/xzufi?tenant=lindenbach").await;
    lindenbach.assert_status(200).assert_contains("schemeAgencyID=\"05999");
    app.client().get("/api/v1/services/gibt-es-nicht/xzufi").await.assert_status(404);
}
