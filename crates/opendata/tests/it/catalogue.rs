use testkit::TestApp;

use crate::{demo_app, python};

fn shapes_dir() -> String {
    let dir = testkit::repo_path("../shared/testdata/opendata/dcat-ap-de");
    assert!(dir.join("shacl-validation").is_dir(), "test data missing at {}", dir.display());
    dir.display().to_string()
}

/// Runs pyshacl with the DCAT-AP.de 3.0 shapes over the body; (conforms, report).
async fn validate(body: &str, format: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog");
    std::fs::write(&file, body).unwrap();
    let (ok, out, err) = python("shacl_check.py", &[&shapes_dir(), file.to_str().unwrap(), format]).await;
    (ok, format!("{out}\n{err}"))
}

#[tokio::test]
async fn the_catalogue_conforms_to_the_dcat_ap_de_shapes_in_turtle_rdf_xml_and_json_ld() {
    let (app, pw) = demo_app().await;
    // Besides the demo's links: a file with size and checksum, and an API.
    crate::editor::publish_with_file_and_api(&app, &pw).await;
    let c = app.client();
    for (path, content_type, format) in [
        ("/catalog.ttl", "text/turtle; charset=utf-8", "turtle"),
        ("/catalog.rdf", "application/rdf+xml; charset=utf-8", "xml"),
        ("/catalog.jsonld", "application/ld+json", "json-ld"),
    ] {
        let res = c.get(path).await;
        res.assert_status(200);
        assert_eq!(res.header("content-type"), Some(content_type));
        let (ok, report) = validate(&res.body, format).await;
        assert!(ok, "{path} does not conform:\n{report}");
        res.assert_contains("checksumAlgorithm_sha256")
            .assert_contains("https://daten.kreis-auenthal.example/api/radwege");
        // All five demo datasets with their distributions are in it.
        assert!(report.contains("triples: "), "{report}");
        for name in ["kfz-bestand", "schulen", "wahllokale", "schuleingangsuntersuchungen", "haushalt", "radwege"] {
            res.assert_contains(&format!("/daten/kreis/{name}"));
        }
    }
}

#[tokio::test]
async fn the_shapes_catch_a_dataset_without_title_or_publisher() {
    let (app, _) = demo_app().await;
    let ttl = app.client().get("/catalog.ttl").await.body;
    let broken: String = ttl
        .lines()
        .filter(|l| !(l.trim_start().starts_with("dct:title") && l.contains("Schulen im Kreis")))
        .filter(|l| !l.trim_start().starts_with("dct:publisher"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(broken.len(), ttl.len());
    let (ok, report) = validate(&broken, "turtle").await;
    assert!(!ok, "a broken catalogue passed:\n{report}");
    assert!(report.contains("dcterms:title MUSS MINDESTEN einmal vorkommen") || report.contains("title"), "{report}");
}

#[tokio::test]
async fn large_catalogues_are_paged_with_hydra_links() {
    let (mut app, _) = demo_app().await;
    let mut ctx = opendata::http::OpendataCtx::new(app.kernel.clone(), "https://daten.kreis-auenthal.example/");
    ctx.catalog_page_size = 2;
    app.router = opendata::http::routes(ctx);
    let app: TestApp = app;
    let c = app.client();
    let first = c.get("/catalog.ttl").await;
    first
        .assert_status(200)
        .assert_contains("<https://daten.kreis-auenthal.example/catalog.ttl?page=1> a hydra:PagedCollection")
        .assert_contains("hydra:totalItems \"5\"")
        .assert_contains("hydra:nextPage \"https://daten.kreis-auenthal.example/catalog.ttl?page=2\"")
        .assert_contains("hydra:lastPage \"https://daten.kreis-auenthal.example/catalog.ttl?page=3\"")
        .assert_lacks("hydra:previousPage");
    let last = c.get("/catalog.jsonld?page=3").await;
    last.assert_status(200).assert_contains("previousPage").assert_lacks("nextPage");
    let mut seen = 0;
    for n in 1..=3 {
        seen += c
            .get(&format!("/catalog.rdf?page={n}"))
            .await
            .body
            .matches("<rdf:type rdf:resource=\"http://www.w3.org/ns/dcat#Dataset\"/>")
            .count();
    }
    assert_eq!(seen, 5);
    c.get("/catalog.ttl?page=4").await.assert_status(404);
    c.get("/catalog.ttl?page=0").await.assert_status(422);
    let (ok, report) = validate(&first.body, "turtle").await;
    assert!(ok, "a page does not conform:\n{report}");
}
