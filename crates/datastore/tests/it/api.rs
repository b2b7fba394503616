use datastore::query::DataQuery;
use datastore::service::{self, DataError, Reader};
use testkit::TestApp;

use crate::{county_editor, editor, load, publish, write};

const VEHICLES: &str = "ags;gemeinde;klasse;kraftstoff;anzahl\n\
05999008;Lindenbach;Pkw;Benzin;120\n\
05999008;Lindenbach;Pkw;Elektro;2\n\
05999008;Lindenbach;Lkw;Diesel;14\n\
05999012;Hohenmoor;Pkw;Benzin;80\n\
05999012;Hohenmoor;Pkw;Elektro;1\n\
05999012;Hohenmoor;Krad;Benzin;0\n";

const PLACES: &str = "ags,name,lat,lon\n05999008,Lindenbach,51.52,7.71\n05999012,Hohenmoor,51.60,7.80\n";

async fn vehicles(app: &TestApp) -> (String, String) {
    let proof = county_editor(app).await;
    let (id, _) = load(app, &proof, "Fahrzeugbestand", &write(app, "kfz.csv", VEHICLES.as_bytes())).await;
    publish(app, &proof, &id, 3, &["anzahl"]).await;
    let (places, _) = load(app, &proof, "Orte", &write(app, "orte.csv", PLACES.as_bytes())).await;
    publish(app, &proof, &places, 3, &[]).await;
    (id, places)
}

#[tokio::test]
async fn the_data_api_filters_sorts_selects_and_pages() {
    let app = TestApp::new().await;
    let (id, _) = vehicles(&app).await;
    let c = app.client();
    let r = c.get_json(&format!("/api/v1/data/{id}?klasse=Pkw&sort=-anzahl&fields=gemeinde,anzahl&limit=2")).await;
    r.assert_status(200);
    let j = r.json();
    assert_eq!(j["total"], 4);
    assert_eq!(j["fields"][0]["id"], "gemeinde");
    assert_eq!(j["fields"][1]["type"], "integer");
    assert_eq!(j["records"][0], serde_json::json!({"gemeinde": "Lindenbach", "anzahl": 120}));
    assert_eq!(j["records"][1], serde_json::json!({"gemeinde": "Hohenmoor", "anzahl": 80}));
    let next = j["next"].as_str().unwrap().to_owned();
    let j = c.get_json(&next).await.json();
    // Both small counts are hidden, so they sort last as empty cells.
    assert_eq!(j["records"][0]["anzahl"], serde_json::Value::Null);
    assert!(j.get("next").is_none());
    let j = c.get_json(&format!("/api/v1/data/{id}?q=hohen&kraftstoff__in=Benzin,Diesel")).await.json();
    assert_eq!(j["total"], 2);
    // Full text: every word, each a prefix, in any text or code column.
    for (q, total) in [("hohenmoor+benzin", 2), ("05999008", 3), ("PKW+linden", 2), ("lindenbach+krad", 0)] {
        let j = c.get_json(&format!("/api/v1/data/{id}?q={q}")).await.json();
        assert_eq!(j["total"], total, "{q}");
    }
    let j = c.get_json(&format!("/api/v1/data/{id}?gemeinde__contains=LINDEN&anzahl__gte=10")).await.json();
    assert_eq!(j["total"], 2);
}

#[tokio::test]
async fn a_table_without_words_finds_nothing_by_full_text() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let (id, _) = load(&app, &proof, "Werte", &write(&app, "werte.csv", b"jahr,wert\n2024,1\n2025,2\n")).await;
    publish(&app, &proof, &id, 3, &[]).await;
    let r = app.client().get_json(&format!("/api/v1/data/{id}?q=2024")).await;
    r.assert_status(200);
    assert_eq!(r.json()["total"], 0);
    assert_eq!(app.client().get_json(&format!("/api/v1/data/{id}")).await.json()["total"], 2);
}

#[tokio::test]
async fn an_unknown_column_is_a_400_listing_the_valid_columns() {
    let app = TestApp::new().await;
    let (id, _) = vehicles(&app).await;
    let r = app.client().get_json(&format!("/api/v1/data/{id}?farbe=rot")).await;
    r.assert_status(400);
    let j = r.json();
    assert_eq!(j["error"]["code"], "datastore.unknown_column");
    assert_eq!(j["error"]["valid_columns"], serde_json::json!(["ags", "gemeinde", "klasse", "kraftstoff", "anzahl"]));
    let r = app.client().get_json(&format!("/api/v1/data/{id}?anzahl__gt=viele")).await;
    r.assert_status(400);
    assert_eq!(r.json()["error"]["code"], "datastore.invalid_value");
    app.client().get_json("/api/v1/data/00000000-0000-4000-8000-000000000000").await.assert_status(404);
}

#[tokio::test]
async fn small_counts_are_suppressed_in_rows_filters_aggregates_and_csv() {
    let app = TestApp::new().await;
    let (id, _) = vehicles(&app).await;
    let c = app.client();
    let j = c.get_json(&format!("/api/v1/data/{id}?kraftstoff=Elektro")).await.json();
    assert_eq!(j["total"], 2);
    assert!(j["records"].as_array().unwrap().iter().all(|r| r["anzahl"].is_null()));
    assert_eq!(j["suppression"], serde_json::json!({"k": 3, "columns": ["anzahl"]}));
    // Filtering on the hidden value finds nothing: the filter sees what the reader sees.
    let j = c.get_json(&format!("/api/v1/data/{id}?anzahl=2")).await.json();
    assert_eq!(j["total"], 0);
    let j = c.get_json(&format!("/api/v1/data/{id}?anzahl__lt=3")).await.json();
    assert_eq!(j["total"], 0);
    // Group sums leave small cells out and hide a small result.
    let j = c
        .get_json(&format!("/api/v1/data/{id}?group_by=kraftstoff&aggregate=sum:anzahl,min:anzahl,count"))
        .await
        .json();
    let by: std::collections::HashMap<String, serde_json::Value> = j["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kraftstoff"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    assert_eq!(by["Benzin"]["sum_anzahl"], 200);
    assert_eq!(by["Benzin"]["count"], 3);
    assert_eq!(by["Benzin"]["min_anzahl"], 80);
    assert!(by["Elektro"]["sum_anzahl"].is_null());
    assert_eq!(by["Diesel"]["sum_anzahl"], 14);
    let csv = c.get(&format!("/api/v1/data/{id}.csv?kraftstoff=Elektro&fields=gemeinde,anzahl")).await;
    csv.assert_status(200);
    assert_eq!(csv.body, "gemeinde,anzahl\r\nLindenbach,\r\nHohenmoor,\r\n");
}

#[tokio::test]
async fn two_resources_join_on_the_municipality_key_and_points_become_geojson() {
    let app = TestApp::new().await;
    let (id, places) = vehicles(&app).await;
    let c = app.client();
    let url = format!(
        "/api/v1/data/{id}?join={places}:ags=ags&group_by=join.name,join.lat,join.lon&aggregate=sum:anzahl&sort=join.name"
    );
    let j = c.get_json(&url).await.json();
    assert_eq!(j["records"][0]["join.name"], "Hohenmoor");
    assert_eq!(j["records"][0]["sum_anzahl"], 80);
    assert_eq!(j["records"][1]["sum_anzahl"], 134);
    let g = c.get_json(&format!("/api/v1/data/{places}.geojson")).await;
    g.assert_status(200);
    let g = g.json();
    assert_eq!(g["type"], "FeatureCollection");
    assert_eq!(g["features"][0]["geometry"]["coordinates"], serde_json::json!([7.71, 51.52]));
    assert_eq!(g["features"][0]["properties"]["name"], "Lindenbach");
    c.get_json(&format!("/api/v1/data/{id}.geojson")).await.assert_status(400);
}

#[tokio::test]
async fn an_unpublished_table_is_hidden_from_the_public_and_from_other_tenants() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let county = editor(&app, &pw, "redaktion@kreis-auenthal.example", "kreis").await;
    let (id, _) = load(&app, &county, "Entwurf", &write(&app, "e.csv", b"a,b\n1,2\n")).await;
    app.client().get_json(&format!("/api/v1/data/{id}")).await.assert_status(404);
    let town = editor(&app, &pw, "verwaltung@lindenbach.example", "lindenbach").await;
    let q = DataQuery::default();
    assert!(matches!(service::query(&app.kernel, Reader::staff(&town), &id, &q).await, Err(DataError::NotFound)));
    assert!(service::own_resource(&app.kernel, &town, &id).await.is_err());
    assert_eq!(service::query(&app.kernel, Reader::staff(&county), &id, &q).await.unwrap().total, 1);
    let listed = app.client().get_json("/api/v1/data").await.json();
    assert_eq!(listed["items"], serde_json::json!([]));
}

#[tokio::test]
async fn a_changed_count_mark_or_k_applies_to_the_next_answer() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let (id, _) = load(&app, &proof, "Kfz", &write(&app, "kfz.csv", VEHICLES.as_bytes())).await;
    publish(&app, &proof, &id, 3, &["anzahl"]).await;
    let url = format!("/api/v1/data/{id}?kraftstoff=Elektro&fields=anzahl");
    let values =
        |j: serde_json::Value| j["records"].as_array().unwrap().iter().map(|r| r["anzahl"].clone()).collect::<Vec<_>>();
    assert_eq!(values(app.client().get_json(&url).await.json()), [serde_json::Value::Null, serde_json::Value::Null]);
    publish(&app, &proof, &id, 2, &["anzahl"]).await;
    assert_eq!(values(app.client().get_json(&url).await.json()), [serde_json::json!(2), serde_json::Value::Null]);
    publish(&app, &proof, &id, 2, &[]).await;
    assert_eq!(values(app.client().get_json(&url).await.json()), [serde_json::json!(2), serde_json::json!(1)]);
}

#[tokio::test]
async fn the_total_is_right_on_every_page_full_last_or_beyond_the_end() {
    let app = TestApp::new().await;
    let (id, _) = vehicles(&app).await;
    let c = app.client();
    // (limit, offset, rows on the page); the total is 6 on each, and 2 groups when grouped.
    for (limit, offset, rows) in [(2, 0, 2), (10, 0, 6), (4, 4, 2), (3, 3, 3), (2, 10, 0)] {
        let j = c.get_json(&format!("/api/v1/data/{id}?limit={limit}&offset={offset}")).await.json();
        assert_eq!((j["total"].as_i64(), j["records"].as_array().unwrap().len()), (Some(6), rows), "{limit} {offset}");
        let g = c.get_json(&format!("/api/v1/data/{id}?group_by=ags&limit={limit}&offset={offset}")).await.json();
        assert_eq!(g["total"], 2, "{limit} {offset} {g}");
    }
}
