use serde_json::Value;

use crate::{demo_app, python, serve};

const DEMO: [&str; 5] = ["haushalt", "kfz-bestand", "schuleingangsuntersuchungen", "schulen", "wahllokale"];

#[tokio::test]
async fn ckan_answers_in_its_envelope_with_its_error_types() {
    let (app, _) = demo_app().await;
    let c = app.client();
    let list = c.get("/api/3/action/package_list").await;
    list.assert_status(200);
    let v = list.json();
    assert_eq!(v["success"], true);
    assert_eq!(v["help"], "http://127.0.0.1:8080/api/3/action/help_show?name=package_list");
    assert_eq!(v["result"], serde_json::json!(DEMO));
    assert_eq!(
        c.get("/api/3/action/package_list?limit=2&offset=1").await.json()["result"],
        serde_json::json!(&DEMO[1..3])
    );

    let missing = c.get("/api/3/action/package_show?id=nichts").await;
    missing.assert_status(404);
    let e = missing.json();
    assert_eq!(e["success"], false);
    assert_eq!(e["error"]["__type"], "Not Found Error");
    assert!(e.get("result").is_none());

    let bad = c.get("/api/3/action/package_search?rows=zehn").await;
    bad.assert_status(409);
    assert_eq!(bad.json()["error"], serde_json::json!({ "__type": "Validation Error", "rows": ["Invalid integer"] }));

    let unknown = c.get("/api/3/action/package_delete").await;
    unknown.assert_status(400);
    assert_eq!(unknown.json()["error"]["message"], "Bad request - Action name not known: package_delete");

    let query = c.get("/api/3/action/package_search?fq=farbe:rot").await;
    query.assert_status(409);
    assert_eq!(query.json()["error"]["__type"], "Search Query Error");
    let param = c.get("/api/3/action/package_search?colour=red").await.json();
    assert!(param["error"]["message"].as_str().unwrap().contains("Invalid search parameters: ['colour']"));

    assert_eq!(c.get("/api/3").await.json()["version"], 3);
}

#[tokio::test]
async fn package_search_filters_sorts_pages_and_counts_facets() {
    let (app, _) = demo_app().await;
    let c = app.client();
    let get = |q: &str| {
        let c = c.clone();
        let path = format!("/api/3/action/package_search?{q}");
        async move { c.get(&path).await.json()["result"].clone() }
    };
    let names = |r: &Value| {
        r["results"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };

    let all = get("").await;
    assert_eq!(all["count"], 5);
    assert_eq!(all["sort"], "score desc, metadata_modified desc");
    let by_name = get("sort=name%20asc&rows=2&start=2").await;
    assert_eq!(names(&by_name), ["schuleingangsuntersuchungen", "schulen"]);
    assert_eq!(by_name["count"], 5);

    // Free text: the title counts most.
    assert_eq!(names(&get("q=Schulen").await), ["schulen"]);
    let mut schools = names(&get("q=schule").await);
    schools.sort();
    assert_eq!(schools, ["schuleingangsuntersuchungen", "schulen"]);
    assert_eq!(get("q=Schule%20Kraftstoff").await["count"], 0);
    assert_eq!(names(&get("q=Schule%20-Kindergesundheit").await), ["schulen"]);

    let health = get("fq=groups:gesundheit").await;
    assert_eq!(names(&health), ["schuleingangsuntersuchungen"]);
    let not_health = get("fq=-groups:gesundheit%20license_id:dl-by-de/2.0").await;
    assert_eq!(names(&not_health), ["kfz-bestand"]);
    let tag = get("q=tags:%22Kindergesundheit%22").await;
    assert_eq!(names(&tag), ["schuleingangsuntersuchungen"]);

    let f = get("facet.field=%5B%22groups%22,%22license_id%22%5D&rows=0").await;
    assert_eq!(f["results"], serde_json::json!([]));
    assert_eq!(f["facets"]["groups"]["bildung"], 2);
    assert_eq!(f["facets"]["license_id"]["dl-zero-de/2.0"], 2);
    let items = f["search_facets"]["groups"]["items"].as_array().unwrap();
    assert_eq!(items[0]["name"], "bildung");
    assert_eq!(items[0]["display_name"], "Bildung und Schule");
    assert_eq!(items[0]["count"], 2);
}

#[tokio::test]
async fn the_other_list_and_show_actions_describe_the_catalogue() {
    let (app, _) = demo_app().await;
    let c = app.client();
    let r = |v: Value| v["result"].clone();
    let orgs = r(c.get("/api/3/action/organization_list?all_fields=true&sort=package_count%20desc").await.json());
    assert_eq!(orgs[0]["name"], "kreis");
    assert_eq!(orgs[0]["package_count"], 5);
    let org = r(c.get("/api/3/action/organization_show?id=kreis&include_datasets=true").await.json());
    assert_eq!(org["packages"].as_array().unwrap().len(), 5);
    assert_eq!(
        r(c.get(&format!("/api/3/action/organization_show?id={}", org["id"].as_str().unwrap())).await.json())["name"],
        "kreis"
    );
    let groups = r(c.get("/api/3/action/group_list").await.json());
    assert_eq!(
        groups,
        serde_json::json!(["bildung", "gesundheit", "haushalt-und-finanzen", "politik-und-wahlen", "verkehr"])
    );
    let tags = r(c.get("/api/3/action/tag_list?query=gesund").await.json());
    assert_eq!(tags, serde_json::json!(["Gesundheitsberichterstattung", "Kindergesundheit"]));
    let licences = r(c.get("/api/3/action/license_list").await.json());
    assert_eq!(licences[0]["id"], "dl-by-de/2.0");
    let pkg = r(c.get("/api/3/action/package_show?id=haushalt").await.json());
    let extras: Vec<(&str, &str)> = pkg["extras"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["key"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert!(extras.contains(&("spatial_uri", "http://dcat-ap.de/def/politicalGeocoding/districtKey/05999")));
    assert!(extras.contains(&("frequency", "http://publications.europa.eu/resource/authority/frequency/ANNUAL")));
    let res_id = pkg["resources"][0]["id"].as_str().unwrap();
    let res = r(c.get(&format!("/api/3/action/resource_show?id={res_id}")).await.json());
    assert_eq!(res["package_id"], pkg["id"]);
    assert_eq!(res["format"], "CSV");
    let with = r(c.get("/api/3/action/current_package_list_with_resources?limit=1").await.json());
    assert_eq!(with.as_array().unwrap().len(), 1);
    // POST with a JSON object, as CKAN clients send.
    let req = axum::http::Request::post("/api/3/action/package_show")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"id": "schulen"}"#))
        .unwrap();
    let posted = c.send(req).await;
    posted.assert_status(200);
    assert_eq!(posted.json()["result"]["name"], "schulen");
    // datastore_search: the budget's data table behind its first distribution.
    let ds = c.get(&format!("/api/3/action/datastore_search?resource_id={res_id}&limit=2")).await;
    ds.assert_status(200);
    assert_eq!(ds.json()["result"]["total"], 34);
    assert_eq!(ds.json()["result"]["records"].as_array().unwrap().len(), 2);
    let no_id = c.get("/api/3/action/datastore_search").await;
    assert_eq!(no_id.json()["error"]["resource_id"], serde_json::json!(["Missing value"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_ckanapi_client_reads_the_catalogue_by_post_and_by_get() {
    let (app, _) = demo_app().await;
    let base = serve(&app).await;
    for mode in ["post", "get"] {
        let (ok, out, err) = python("ckanapi_check.py", &[&base, mode]).await;
        assert!(ok, "ckanapi check failed ({mode}):\n{out}\n{err}");
        let seen: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(seen["package_list"], serde_json::json!(DEMO));
        assert_eq!(seen["package_show"]["license_id"], "dl-by-de/2.0");
        assert_eq!(seen["search_schulen"]["count"], 2);
        assert!(
            ["schulen", "schuleingangsuntersuchungen"].contains(&seen["search_schulen"]["first"].as_str().unwrap())
        );
        assert_eq!(seen["search_schulen"]["search_facets_groups"], serde_json::json!(["bildung", "gesundheit"]));
        assert_eq!(seen["search_gesundheit"], serde_json::json!(["schuleingangsuntersuchungen"]));
        assert_eq!(seen["search_page2"], serde_json::json!(["schuleingangsuntersuchungen", "schulen"]));
        assert_eq!(seen["organization_packages"], serde_json::json!(DEMO));
        assert_eq!(seen["group_bildung_count"], 2);
        assert_eq!(seen["with_resources"], 2);
        let errors = &seen["errors"];
        assert!(errors["not_found"].is_string(), "{errors}");
        assert_eq!(errors["validation"]["rows"], serde_json::json!(["Invalid integer"]));
        assert!(errors["search_query"].as_str().unwrap().contains("farbe"));
        assert_eq!(errors["missing_id"]["id"], serde_json::json!(["Missing value"]));
        assert!(errors["datastore_not_found"].is_string(), "{errors}");
        // 300 vehicle rows: 10 municipalities × 6 classes × 5 fuels, one of them Diesel.
        assert_eq!(seen["datastore_diesel_total"], 60);
    }
}

#[tokio::test]
async fn a_distribution_naming_a_data_store_table_is_marked_for_datastore_search() {
    let (app, pw) = demo_app().await;
    crate::editor::publish_with_file_and_api(&app, &pw).await;
    let c = app.client();
    let pkg = c.get("/api/3/action/package_show?id=radwege").await.json()["result"].clone();
    let res = pkg["resources"].as_array().unwrap();
    assert_eq!(res.len(), 2);
    assert_eq!(res[0]["url_type"], "upload");
    assert!(res[0]["url"].as_str().unwrap().starts_with("http://127.0.0.1:8080/daten/kreis/radwege/dateien/"));
    assert!(res[0]["hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(res[0]["datastore_active"], false);
    assert_eq!(res[1]["resource_type"], "api");
    assert_eq!(res[1]["datastore_active"], true);
    assert_eq!(res[1]["datastore_resource_id"], "0b7f5e1c-3c2a-4d8e-9f10-2a3b4c5d6e7f");
    // The data store has no table with that id: the call names the resource and finds nothing.
    let id = res[1]["id"].as_str().unwrap();
    let ds = c.get(&format!("/api/3/action/datastore_search?resource_id={id}")).await;
    ds.assert_status(404);
    assert_eq!(ds.json()["error"]["message"], format!("Resource \"{id}\" was not found."));
    // A search by format finds it beside the demo datasets, whose data tables have a JSON API.
    let found = c.get("/api/3/action/package_search?fq=res_format:JSON&rows=0").await.json();
    assert_eq!(found["result"]["count"], 6);
    let found = c.get("/api/3/action/package_search?fq=res_format:JSON&q=radwege").await.json();
    assert_eq!(found["result"]["results"][0]["name"], "radwege");
}

#[tokio::test]
async fn the_demo_links_each_data_table_to_its_dataset_once() {
    let (app, _) = demo_app().await;
    app.load_open_data(300).await; // as a restart with `serve --demo` does: nothing is added twice
    let c = app.client();
    let pkg = c.get("/api/3/action/package_show?id=haushalt").await.json()["result"].clone();
    let formats: Vec<&str> =
        pkg["resources"].as_array().unwrap().iter().map(|r| r["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["CSV", "JSON", "HTML", "HTML"]);
    let table = pkg["resources"][0]["datastore_resource_id"].as_str().unwrap();
    assert!(pkg["resources"].as_array().unwrap().iter().all(|r| r["datastore_resource_id"] == table));
    // The CSV download and the interactive budget answer.
    let csv = c.get(&format!("/api/v1/data/{table}.csv")).await;
    csv.assert_status(200).assert_contains("produktbereich");
    let drill = pkg["resources"][3]["url"].as_str().unwrap().trim_start_matches("http://127.0.0.1:8080").to_owned();
    c.get(&drill).await.assert_status(200).assert_contains("Erträge").assert_contains("Aufwendungen");
    // The dataset page links the preview.
    c.get("/daten/kreis/haushalt").await.assert_contains(&format!("/datentabellen/{table}"));
}
