use testkit::TestApp;

const BUDGET: &str = "produktbereich;produkt;betrag\n\
01 Innere Verwaltung;01.01 Kreistag;120000\n\
01 Innere Verwaltung;01.02 Personal;380000\n\
06 Kinder und Jugend;06.01 Kitas;900000\n";

#[tokio::test]
async fn staff_upload_a_file_follow_the_import_and_publish_it_as_a_chart_and_a_drill_down() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login("redaktion@kreis-auenthal.example", &pw).await;
    let list = "/verwaltung/mandanten/kreis/datentabellen";
    c.get(list).await.assert_status(200).assert_contains("enctype=\"multipart/form-data\"");
    let posted = c
        .post_multipart(list, &[("title", "Haushalt 2026")], ("file", "haushalt.csv", "text/csv", BUDGET.as_bytes()))
        .await;
    posted.assert_status(303);
    let page = posted.location().unwrap().to_owned();
    let id = page.rsplit('/').next().unwrap().to_owned();
    // The import runs in the background; the page shows its progress until it is done.
    let mut body = String::new();
    for _ in 0..400 {
        body = c.get(&page).await.body;
        // Done, and the page shows the imported columns (the page may be read between the two).
        if body.contains("Fertig eingelesen") && body.contains("produktbereich") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(body.contains("Fertig eingelesen") && body.contains("produktbereich"), "{page} {}", body.len());
    // Column types in plain words.
    assert!(body.contains(">Ganze Zahl</option>") && body.contains(">Schlüssel (z. B. AGS)</option>"), "{body}");
    app.client().get(&format!("/datentabellen/{id}")).await.assert_status(404);
    c.post_form(
        &page,
        &[
            ("title", "Haushalt 2026"),
            ("k", "3"),
            ("published", "1"),
            ("typ_1", "text"),
            ("typ_2", "text"),
            ("typ_3", "integer"),
        ],
    )
    .await
    .assert_status(303);
    let public = app.client();
    public.get("/datentabellen").await.assert_contains("Haushalt 2026");
    public
        .get(&format!("/datentabellen/{id}?diagramm_x=produktbereich&diagramm_y=sum:betrag&diagramm_art=pie"))
        .await
        .assert_status(200)
        .assert_contains("<svg")
        .assert_contains("06 Kinder und Jugend: 900000");
    let drill =
        public.get(&format!("/datentabellen/{id}/aufschluesselung?ebenen=produktbereich,produkt&wert=betrag")).await;
    drill.assert_status(200).assert_contains("500000");
    let deeper = drill
        .body
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|u| u.contains("Innere"))
        .unwrap()
        .replace("&#38;", "&");
    public.get(&deeper).await.assert_contains("01.02 Personal").assert_contains("380000").assert_lacks("Kitas");
    // A wrong parameter on the page gives a page that says what is wrong, not a JSON error.
    let wrong = public.get(&format!("/datentabellen/{id}?diagramm_x=produktbereich&diagramm_y=sum:produkt")).await;
    wrong.assert_status(422).assert_contains("<html").assert_contains("nur mit Zahlenspalten");
    public
        .get(&format!("/datentabellen/{id}?sort=farbe"))
        .await
        .assert_status(422)
        .assert_contains("Diese Spalte gibt es in der Tabelle nicht.");
    let svg = public.get(&format!("/datentabellen/{id}/diagramm.svg?x=produktbereich&y=sum:betrag")).await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
}

#[tokio::test]
async fn point_data_gets_a_static_map_and_another_tenant_cannot_open_the_staff_page() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login("verwaltung@lindenbach.example", &pw).await;
    c.get("/verwaltung/mandanten/kreis/datentabellen").await.assert_status(403);
    let proof = crate::editor(&app, &pw, "redaktion@kreis-auenthal.example", "kreis").await;
    let path = crate::write(&app, "wahllokale.csv", b"name,lat,lon\nSchule Nord,51.52,7.71\nRathaus,51.60,7.80\n");
    let (id, _) = crate::load(&app, &proof, "Wahllokale", &path).await;
    crate::publish(&app, &proof, &id, 3, &[]).await;
    app.client()
        .get(&format!("/datentabellen/{id}"))
        .await
        .assert_contains("<circle")
        .assert_contains("Rathaus")
        .assert_contains(&format!("data-map-geojson=\"/api/v1/data/{id}.geojson?limit=10000\""))
        .assert_contains("leaflet/leaflet.js")
        .assert_lacks("data-map-tiles");
    // With a tile server configured, the page names it and the CSP allows its images only.
    let app = TestApp::with_config(|c| {
        c.web.map_tiles = "https://tiles.example.org/{z}/{x}/{y}.png".into();
        c.web.map_attribution = "© Beispiel".into();
    })
    .await;
    let res = app.client().get("/datentabellen").await;
    assert!(res.header("content-security-policy").unwrap().contains("img-src 'self' data: https://tiles.example.org;"));
}
