use testkit::Client;

use crate::demo_app;

const LIST: &str = "/verwaltung/mandanten/kreis/daten";
const EDIT: &str = "/verwaltung/mandanten/kreis/daten/radwege";

fn metadata<'a>(title: &'a str, licence: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "radwege"),
        ("title", title),
        ("description", "Alle Radwege an Kreisstraßen mit Breite, Belag und Beleuchtung."),
        ("keywords", "Radverkehr, Radwege, radverkehr"),
        ("themes", "TRAN"),
        ("themes", "REGI"),
        ("licence", licence),
        ("contact_name", "Straßenverkehrsamt"),
        ("contact_email", "verkehr@kreis-auenthal.example"),
        ("spatial", "05999"),
        ("temporal_start", "2025-01-01"),
        ("temporal_end", "2025-12-31"),
        ("frequency", "ANNUAL"),
    ]
}

async fn editor(app: &testkit::TestApp, password: &str) -> Client {
    let c = app.client();
    c.login("redaktion@kreis-auenthal.example", password).await;
    c
}

async fn act(c: &Client, action: &str) -> testkit::TestResponse {
    let res = c.post_form(EDIT, &[("aktion", action), ("keine_personendaten", "ja")]).await;
    res.assert_status(303);
    c.get(EDIT).await
}

const CSV: &[u8] = b"strasse;laenge_km;belag\nK 12;4,2;Asphalt\nK 17;2,9;Pflaster\n";

/// Adds the CSV file as a distribution of the dataset being edited.
async fn upload_csv(c: &Client) {
    c.post_multipart(
        &format!("{EDIT}/verteilungen"),
        &[("kind", "file"), ("dist_title", "Radwege (CSV)"), ("format", "CSV")],
        ("file", "radwege.csv", "text/csv", CSV),
    )
    .await
    .assert_status(303);
}

#[tokio::test]
async fn the_redaktion_describes_a_dataset_and_publishes_it_only_once_it_is_free_of_personal_data() {
    let (app, pw) = demo_app().await;
    let c = editor(&app, &pw).await;

    // Wrong metadata: every problem is named, what was typed stays.
    let mut wrong = metadata("", "proprietaer");
    wrong.retain(|(k, _)| *k != "themes");
    let refused = c.post_form(LIST, &wrong).await;
    refused
        .assert_status(422)
        .assert_contains("Bitte geben Sie einen Titel an.")
        .assert_contains("Bitte wählen Sie mindestens eine Kategorie.")
        .assert_contains("Bitte wählen Sie eine Lizenz aus der Liste.")
        .assert_contains("href=\"#f-title\"")
        .assert_contains("Straßenverkehrsamt");

    let created = c.post_form(LIST, &metadata("Radwege an Kreisstraßen", "dl-by-de/2.0")).await;
    created.assert_status(303);
    assert_eq!(created.location(), Some(EDIT));
    let page = c.get(EDIT).await;
    page.assert_status(200).assert_contains("nicht veröffentlicht").assert_contains("Angelegt");
    // The keywords were tidied: duplicates in another case are one keyword.
    page.assert_contains("value=\"Radverkehr, Radwege\"");

    // Not public yet: neither the page nor CKAN knows it.
    app.client().get("/daten/kreis/radwege").await.assert_status(404);
    app.client().get("/api/3/action/package_show?id=radwege").await.assert_status(404);

    // A file and a link as distributions.
    let upload = format!("{EDIT}/verteilungen");
    let no_file = c
        .post_multipart(
            &upload,
            &[("kind", "file"), ("dist_title", "Radwege (CSV)"), ("format", "CSV")],
            ("file", "", "text/csv", b""),
        )
        .await;
    no_file.assert_status(422).assert_contains("Bitte wählen Sie eine Datei.");
    upload_csv(&c).await;
    let bad_link = c
        .post_multipart(
            &upload,
            &[
                ("kind", "link"),
                ("dist_title", "Karte"),
                ("format", "HTML"),
                ("url", "ftp://x"),
                ("datastore_resource", "kein-uuid"),
            ],
            ("file", "", "application/octet-stream", b""),
        )
        .await;
    bad_link
        .assert_status(422)
        .assert_contains("Bitte geben Sie eine Adresse an, die mit https:// oder http:// beginnt.")
        .assert_contains("Die Kennung muss eine UUID sein");
    c.post_multipart(
        &upload,
        &[
            ("kind", "link"),
            ("dist_title", "Karte"),
            ("format", "HTML"),
            ("url", "https://karte.kreis-auenthal.example/radwege"),
        ],
        ("file", "", "application/octet-stream", b""),
    )
    .await
    .assert_status(303);

    // The privacy guard: publishing before the confirmation is refused.
    let refused = c.post_form(EDIT, &[("aktion", "veroeffentlichen")]).await;
    refused.assert_status(303);
    c.get(EDIT).await.assert_contains("Veröffentlichen geht erst, wenn bestätigt ist");
    let unticked = c.post_form(EDIT, &[("aktion", "datenschutz")]).await;
    unticked
        .assert_status(422)
        .assert_contains("Bitte bestätigen Sie, dass der Datensatz keine personenbezogenen Daten enthält.");
    act(&c, "datenschutz").await.assert_contains("Frei von personenbezogenen Daten bestätigt am");
    act(&c, "veroeffentlichen").await.assert_contains("/daten/kreis/radwege");

    // Public: the page, the file as uploaded, the CKAN description.
    let public = app.client().get("/daten/kreis/radwege").await;
    public.assert_status(200).assert_contains("Radwege an Kreisstraßen").assert_contains("Datenlizenz Deutschland");
    let href = public.body.split("href=\"/daten/kreis/radwege/dateien/").nth(1).unwrap().split('"').next().unwrap();
    let file = app.client().get(&format!("/daten/kreis/radwege/dateien/{href}")).await;
    file.assert_status(200);
    assert_eq!(file.body.as_bytes(), CSV);
    assert_eq!(file.header("content-type"), Some("text/csv"));
    let pkg = app.client().get("/api/3/action/package_show?id=radwege").await.json();
    assert_eq!(pkg["result"]["num_resources"], 2);
    assert_eq!(pkg["result"]["resources"][0]["size"], CSV.len());
    app.client().get("/daten?q=radwege").await.assert_contains("Radwege an Kreisstraßen");

    // An edit is in the history with the fields it changed.
    let mut changed = metadata("Radwege an Kreisstraßen 2025", "cc-by/4.0");
    changed.push(("aktion", "speichern"));
    c.post_form(EDIT, &changed).await.assert_status(303);
    let history = c.get(EDIT).await;
    history
        .assert_contains("Geändert: title, licence")
        .assert_contains("Veröffentlicht")
        .assert_contains("Rainer Dahl");

    // Withdrawing the confirmation takes it offline at once.
    act(&c, "datenschutz_zuruecknehmen").await.assert_contains("nicht veröffentlicht");
    app.client().get("/daten/kreis/radwege").await.assert_status(404);
    app.client().get(&format!("/daten/kreis/radwege/dateien/{href}")).await.assert_status(404);
    // The lists and the search, read from each node's cache, know it at once too.
    app.client().get("/daten?q=radwege").await.assert_status(200).assert_lacks("Radwege an Kreisstraßen");
    let search = app.client().get("/api/3/action/package_search?q=radwege").await.json();
    assert_eq!(search["result"]["count"], 0);

    // Every step is in the tenant's audit log.
    let n = app
        .kernel
        .db
        .fetch_one(kernel::query("SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'opendata.dataset.%' AND subject = 'dataset:radwege'"))
        .await
        .unwrap()
        .get::<i64>("n")
        .unwrap();
    assert_eq!(n, 7);
}

/// Publishes a dataset with a file and an API distribution (naming a data store table) through
/// the editor, as the Redaktion would.
pub async fn publish_with_file_and_api(app: &testkit::TestApp, password: &str) {
    let c = editor(app, password).await;
    c.post_form(LIST, &metadata("Radwege an Kreisstraßen", "cc-by/4.0")).await.assert_status(303);
    let upload = format!("{EDIT}/verteilungen");
    upload_csv(&c).await;
    let api = [
        ("kind", "api"),
        ("dist_title", "Radwege (Daten-API)"),
        ("format", "JSON"),
        ("url", "https://daten.kreis-auenthal.example/api/radwege"),
        ("datastore_resource", "0B7F5E1C-3C2A-4D8E-9F10-2A3B4C5D6E7F"),
    ];
    c.post_multipart(&upload, &api, ("file", "", "application/octet-stream", b"")).await.assert_status(303);
    act(&c, "datenschutz").await;
    act(&c, "veroeffentlichen").await.assert_contains("/daten/kreis/radwege");
}

#[tokio::test]
async fn another_tenants_staff_can_neither_see_nor_change_the_countys_datasets() {
    let (app, pw) = demo_app().await;
    let other = app.client();
    other.login("verwaltung@auenthal.example", &pw).await;
    other.get(LIST).await.assert_status(403);
    other.get("/verwaltung/mandanten/kreis/daten/kfz-bestand").await.assert_status(403);
    other
        .post_form("/verwaltung/mandanten/kreis/daten/kfz-bestand", &[("aktion", "zurueckziehen")])
        .await
        .assert_status(403);
    // Its own list is empty: the county's datasets are not its.
    let own = other.get("/verwaltung/mandanten/auenthal/daten").await;
    own.assert_status(200).assert_contains("Noch keine Datensätze.").assert_lacks("Kraftfahrzeugbestand");
    // A clerk of the county holds no right to edit data either.
    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    clerk.get(LIST).await.assert_status(403);
    // Nobody logged in is sent to the login.
    let anonymous = app.client().get(LIST).await;
    assert!(matches!(anonymous.status.as_u16(), 303 | 401), "{}", anonymous.status);
}

#[tokio::test]
async fn groups_are_made_once_and_datasets_are_sorted_into_them() {
    let (app, pw) = demo_app().await;
    let c = editor(&app, &pw).await;
    let groups = "/verwaltung/mandanten/kreis/datengruppen";
    c.post_form(groups, &[("group_name", "Umwelt!"), ("group_title", "")])
        .await
        .assert_status(422)
        .assert_contains("Der Kurzname braucht");
    c.post_form(groups, &[("group_name", "umwelt"), ("group_title", "Umwelt und Natur")]).await.assert_status(303);
    let kfz = "/verwaltung/mandanten/kreis/daten/kfz-bestand";
    c.post_form(kfz, &[("aktion", "gruppen"), ("groups", "umwelt"), ("groups", "verkehr")]).await.assert_status(303);
    let g = app.client().get("/api/3/action/group_show?id=umwelt").await.json();
    assert_eq!(g["result"]["package_count"], 1);
    c.post_form(kfz, &[("aktion", "gruppen"), ("groups", "gibt-es-nicht")]).await.assert_status(422);
    let pkg = app.client().get("/api/3/action/package_show?id=kfz-bestand").await.json();
    let names: Vec<&str> =
        pkg["result"]["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["umwelt", "verkehr"]);
}
