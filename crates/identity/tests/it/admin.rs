//! The administration of tenants, org units, staff and roles.

use testkit::TestApp;

use crate::{LINDENBACH_ADMIN, PLATFORM_ADMIN, demo, logged_in};

/// Creates an account through the form; returns (staff path, one-time password).
async fn create_account(app: &TestApp, admin_pw: &str, name: &str, email: &str) -> (String, String) {
    let admin = logged_in(app, LINDENBACH_ADMIN, admin_pw).await;
    let res = admin
        .post_form("/verwaltung/mandanten/lindenbach/beschaeftigte", &[("display_name", name), ("email", email)])
        .await;
    res.assert_status(200).assert_contains("Das Konto wurde angelegt");
    let password = res.body.split("<span class=\"kh-mono\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    // The staff list links each name to its page: take the link in front of the new name.
    let before_name = res.body.split(&format!("\">{name}</a>")).next().unwrap();
    let path = before_name.rsplit("href=\"").next().unwrap().to_owned();
    (path, password)
}

#[tokio::test]
async fn an_administrator_creates_an_account_that_logs_in_with_its_one_time_password() {
    let (app, pw) = demo().await;
    let (_, one_time) = create_account(&app, &pw, "Paula Neumann", "Paula.Neumann@lindenbach.example").await;
    assert_eq!(one_time.len(), 20);
    let paula = logged_in(&app, "paula.neumann@lindenbach.example", &one_time).await;
    paula.get("/konto").await.assert_status(200).assert_contains("Paula Neumann").assert_contains("Keine Rollen");
}

#[tokio::test]
async fn a_duplicate_or_malformed_account_is_refused_and_the_form_keeps_what_was_typed() {
    let (app, pw) = demo().await;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    let dup = admin
        .post_form(
            "/verwaltung/mandanten/lindenbach/beschaeftigte",
            &[("display_name", "Zweitkonto"), ("email", "sachbearbeitung@lindenbach.example")],
        )
        .await;
    dup.assert_status(422).assert_contains("gibt es schon ein Konto").assert_contains("value=\"Zweitkonto\"");
    let bad = admin
        .post_form(
            "/verwaltung/mandanten/lindenbach/beschaeftigte",
            &[("display_name", ""), ("email", "kein-at-zeichen")],
        )
        .await;
    bad.assert_status(422)
        .assert_contains("gültige E-Mail-Adresse")
        .assert_contains("Bitte geben Sie einen Namen ein")
        .assert_contains("aria-invalid=\"true\"")
        .assert_contains("href=\"#f-email\"");
}

#[tokio::test]
async fn a_role_granted_for_the_tenant_opens_the_administration_and_revoking_it_closes_it_again() {
    let (app, pw) = demo().await;
    let (path, one_time) = create_account(&app, &pw, "Otto Ohnerolle", "otto@lindenbach.example").await;
    let otto = logged_in(&app, "otto@lindenbach.example", &one_time).await;
    otto.get("/verwaltung/mandanten/lindenbach/beschaeftigte").await.assert_status(403);

    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    admin.post_form(&format!("{path}/rollen"), &[("role", "administrator"), ("org_unit", "")]).await.assert_status(303);
    otto.get("/verwaltung/mandanten/lindenbach/beschaeftigte").await.assert_status(200);
    admin
        .post_form(&format!("{path}/rollen"), &[("role", "administrator"), ("org_unit", "")])
        .await
        .assert_status(422)
        .assert_contains("hat die Person dort schon");

    let detail = admin.get(&path).await;
    let grant = detail.body.split(&format!("{path}/rollen/")).nth(1).unwrap().split('/').next().unwrap().to_owned();
    admin.post_form(&format!("{path}/rollen/{grant}/entziehen"), &[]).await.assert_status(303);
    otto.get("/verwaltung/mandanten/lindenbach/beschaeftigte").await.assert_status(403);

    let tenant = app.tenant_id("lindenbach").await;
    let actions: Vec<String> =
        kernel::audit::recent(&app.kernel.db, tenant, 5).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(
        actions.contains(&"identity.role.granted".to_owned()) && actions.contains(&"identity.role.revoked".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_role_for_an_org_unit_of_another_tenant_is_refused() {
    let (app, pw) = demo().await;
    let (path, _) = create_account(&app, &pw, "Uta Unit", "uta@lindenbach.example").await;
    let kreis = app.tenant_id("kreis").await;
    let foreign_unit = identity::service::org_units(&app.kernel, kreis).await.unwrap()[0].id;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    admin
        .post_form(&format!("{path}/rollen"), &[("role", "clerk"), ("org_unit", &foreign_unit.to_string())])
        .await
        .assert_status(422)
        .assert_contains("gibt es in dieser Dienststelle nicht");
}

#[tokio::test]
async fn locking_an_account_ends_its_sessions_and_stops_its_logins() {
    let (app, pw) = demo().await;
    let (path, one_time) = create_account(&app, &pw, "Sven Sperre", "sven@lindenbach.example").await;
    let sven = logged_in(&app, "sven@lindenbach.example", &one_time).await;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    admin.post_form(&format!("{path}/status"), &[("active", "false")]).await.assert_status(303);
    sven.get("/konto").await.assert_status(303);
    app.client()
        .post_form("/anmelden", &[("email", "sven@lindenbach.example"), ("password", &one_time)])
        .await
        .assert_status(422);
    admin.post_form(&format!("{path}/status"), &[("active", "true")]).await.assert_status(303);
    logged_in(&app, "sven@lindenbach.example", &one_time).await;
}

#[tokio::test]
async fn an_administrator_adds_an_org_unit_and_updates_the_tenants_contact_data() {
    let (app, pw) = demo().await;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    let unit = [
        ("code", "Amt 61"),
        ("name", "Stadtplanung"),
        ("street", "Marktstraße 3"),
        ("postcode", "59910"),
        ("city", "Lindenbach"),
        ("opening_hours", "Mo-Fr 08:00-12:00"),
    ];
    let res = admin.post_form("/verwaltung/mandanten/lindenbach/organisationseinheiten", &unit).await;
    res.assert_status(303);
    admin
        .get("/verwaltung/mandanten/lindenbach")
        .await
        .assert_contains("Die Organisationseinheit wurde angelegt: Stadtplanung")
        .assert_contains("Amt 61");
    admin
        .post_form("/verwaltung/mandanten/lindenbach/organisationseinheiten", &unit)
        .await
        .assert_status(422)
        .assert_contains("gibt es schon");

    let bad = admin
        .post_form(
            "/verwaltung/mandanten/lindenbach",
            &[("name", "Stadt Lindenbach"), ("ags", "123"), ("postcodes", "59910, 5991")],
        )
        .await;
    bad.assert_status(422)
        .assert_contains("8 Ziffern")
        .assert_contains("5 Ziffern")
        .assert_contains("value=\"59910, 5991\"");
    admin
        .post_form(
            "/verwaltung/mandanten/lindenbach",
            &[
                ("name", "Stadt Lindenbach an der Aue"),
                ("ags", "05999008"),
                ("postcodes", "59910, 59911"),
                ("phone", "+49 2999 12"),
            ],
        )
        .await
        .assert_status(303);
    let tenants = app.client().get_json("/api/v1/tenants").await.json();
    let l = tenants["items"].as_array().unwrap().iter().find(|t| t["slug"] == "lindenbach").unwrap().clone();
    assert_eq!(l["name"], "Stadt Lindenbach an der Aue");
    assert_eq!(l["postcodes"], serde_json::json!(["59910", "59911"]));
}

#[tokio::test]
async fn a_platform_administrator_creates_a_tenant_and_a_taken_slug_is_refused() {
    let (app, pw) = demo().await;
    let it = logged_in(&app, PLATFORM_ADMIN, &pw).await;
    let fields = [
        ("name", "Gemeinde Neuwiese"),
        ("slug", "neuwiese"),
        ("kind", "municipality"),
        ("ags", "05999032"),
        ("postcodes", "59940"),
    ];
    let res = it.post_form("/verwaltung/mandanten", &fields).await;
    res.assert_status(303);
    assert_eq!(res.location(), Some("/verwaltung/mandanten/neuwiese"));
    it.get("/verwaltung/mandanten/neuwiese").await.assert_status(200).assert_contains("Der Mandant wurde angelegt");
    it.post_form("/verwaltung/mandanten", &fields)
        .await
        .assert_status(422)
        .assert_contains("Diesen Kurznamen gibt es schon");
    let tenant = app.tenant_id("neuwiese").await;
    let log = kernel::audit::recent(&app.kernel.db, tenant, 5).await.unwrap();
    assert_eq!(log[0].action, "identity.tenant.created");
    assert_eq!(log[0].actor, "staff:1");
}

#[tokio::test]
async fn the_audit_log_page_shows_the_tenants_chain_newest_first_and_the_chain_verifies() {
    let (app, pw) = demo().await;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    let page = admin.get("/verwaltung/mandanten/lindenbach/protokoll").await;
    page.assert_status(200)
        .assert_contains("Anmeldung")
        .assert_contains("Konto angelegt")
        .assert_contains("22.11.2026, 09:00");
    let reports = kernel::audit::verify(&app.kernel.db).await.unwrap();
    assert_eq!(reports.len(), 11);
    assert!(reports.iter().all(|r| r.first_break.is_none()), "{reports:?}");
}

#[tokio::test]
async fn loading_the_demo_twice_changes_nothing_but_the_password() {
    let (app, first) = demo().await;
    let count = |sql: &'static str| {
        let db = app.kernel.db.clone();
        async move { db.fetch_one(kernel::query(sql)).await.unwrap().get::<i64>("n").unwrap() }
    };
    let before = (
        count("SELECT COUNT(*) AS n FROM tenants").await,
        count("SELECT COUNT(*) AS n FROM org_units").await,
        count("SELECT COUNT(*) AS n FROM staff").await,
        count("SELECT COUNT(*) AS n FROM role_assignments").await,
    );
    let second = app.load_demo().await;
    let after = (
        count("SELECT COUNT(*) AS n FROM tenants").await,
        count("SELECT COUNT(*) AS n FROM org_units").await,
        count("SELECT COUNT(*) AS n FROM staff").await,
        count("SELECT COUNT(*) AS n FROM role_assignments").await,
    );
    assert_eq!(before, after);
    assert!(before.0 >= 10 && before.1 >= 30, "{before:?}");
    assert_ne!(first, second);
    app.client().post_form("/anmelden", &[("email", PLATFORM_ADMIN), ("password", &first)]).await.assert_status(422);
    logged_in(&app, PLATFORM_ADMIN, &second).await;
}

#[tokio::test]
async fn an_administrator_resets_a_forgotten_password_which_ends_the_accounts_sessions() {
    let (app, pw) = demo().await;
    let (path, first) = create_account(&app, &pw, "Vera Vergesslich", "vera@lindenbach.example").await;
    let vera = logged_in(&app, "vera@lindenbach.example", &first).await;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    let res = admin.post_form(&format!("{path}/passwort"), &[]).await;
    res.assert_status(200).assert_contains("Ein neues Einmal-Passwort wurde erzeugt");
    let second = res.body.split("<span class=\"kh-mono\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_ne!(first, second);
    vera.get("/konto").await.assert_status(303);
    app.client()
        .post_form("/anmelden", &[("email", "vera@lindenbach.example"), ("password", &first)])
        .await
        .assert_status(422);
    logged_in(&app, "vera@lindenbach.example", &second).await;
    let tenant = app.tenant_id("lindenbach").await;
    let log = kernel::audit::recent(&app.kernel.db, tenant, 3).await.unwrap();
    assert!(log.iter().any(|e| e.action == "identity.password_reset"));
    assert!(log.iter().all(|e| !e.details.contains(&second)), "the password is never logged");
}

#[tokio::test]
async fn the_audit_log_pages_back_to_its_first_entry() {
    let (app, pw) = demo().await;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    // Fill the chain up to 101 entries: one more than a page.
    let tenant = app.tenant_id("lindenbach").await;
    let written = kernel::audit::recent(&app.kernel.db, tenant, 1000).await.unwrap().len();
    for i in written..101 {
        let name = format!("Einheit {i}");
        admin
            .post_form("/verwaltung/mandanten/lindenbach/organisationseinheiten", &[("name", &name)])
            .await
            .assert_status(303);
    }
    let newest = admin.get("/verwaltung/mandanten/lindenbach/protokoll").await;
    newest.assert_status(200).assert_contains("protokoll?vor=2\"").assert_lacks("Mandant angelegt");
    let oldest = admin.get("/verwaltung/mandanten/lindenbach/protokoll?vor=2").await;
    oldest.assert_status(200).assert_contains("Mandant angelegt").assert_lacks("?vor=");
}

#[tokio::test]
async fn an_administrator_edits_and_removes_org_units_within_the_rules() {
    let (app, pw) = demo().await;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    let tenant = app.tenant_id("lindenbach").await;
    let units = identity::service::org_units(&app.kernel, tenant).await.unwrap();
    let id_of = |name: &str| units.iter().find(|u| u.name == name).unwrap().id;
    let (buergerbuero, ordnungsamt, standesamt) = (id_of("Bürgerbüro"), id_of("Ordnungsamt"), id_of("Standesamt"));
    let path = |id: kernel::OrgUnitId| format!("/verwaltung/mandanten/lindenbach/organisationseinheiten/{id}");

    admin.get(&path(buergerbuero)).await.assert_status(200).assert_contains("value=\"Bürgerbüro\"");
    let edit = [("code", "10"), ("name", "Bürgerservice"), ("parent", ""), ("opening_hours", "Mo-Fr 08:00-18:00")];
    admin.post_form(&path(buergerbuero), &edit).await.assert_status(303);
    admin
        .get("/verwaltung/mandanten/lindenbach")
        .await
        .assert_contains("Bürgerservice")
        .assert_contains("Mo–Fr 08:00–18:00");

    // Standesamt below Ordnungsamt is fine; Ordnungsamt below Standesamt would be a cycle.
    let (ordnungsamt_id, standesamt_id) = (ordnungsamt.to_string(), standesamt.to_string());
    admin.post_form(&path(standesamt), &[("name", "Standesamt"), ("parent", &ordnungsamt_id)]).await.assert_status(303);
    let cycle = admin.post_form(&path(ordnungsamt), &[("name", "Ordnungsamt"), ("parent", &standesamt_id)]).await;
    cycle.assert_status(422).assert_contains("unter sich selbst");

    // A unit with a sub-unit stays; an unused one can go.
    admin
        .post_form(&format!("{}/entfernen", path(ordnungsamt)), &[])
        .await
        .assert_status(409)
        .assert_contains("noch gebraucht");
    admin.post_form(&format!("{}/entfernen", path(standesamt)), &[]).await.assert_status(303);
    admin
        .get("/verwaltung/mandanten/lindenbach")
        .await
        .assert_contains("Die Organisationseinheit wurde entfernt: Standesamt");

    // Another tenant's administrator reaches none of it.
    let other = logged_in(&app, crate::AUENTHAL_ADMIN, &pw).await;
    other.get(&path(ordnungsamt)).await.assert_status(403);
    let foreign = format!("/verwaltung/mandanten/auenthal/organisationseinheiten/{ordnungsamt}");
    other.get(&foreign).await.assert_status(404);
    other.post_form(&format!("{foreign}/entfernen"), &[]).await.assert_status(404);
}

#[tokio::test]
async fn opening_hours_typed_in_german_are_stored_in_the_osm_syntax_of_the_api() {
    let (app, pw) = demo().await;
    let admin = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    let unit = [("name", "Bürgerbüro Süd"), ("opening_hours", "Mo–Mi 08:00–12:00; Do 14:00–18:00; So geschlossen")];
    admin.post_form("/verwaltung/mandanten/lindenbach/organisationseinheiten", &unit).await.assert_status(303);
    let api = app.client().get_json("/api/v1/tenants/lindenbach/org-units").await.json();
    let stored =
        api["items"].as_array().unwrap().iter().find(|u| u["name"] == "Bürgerbüro Süd").unwrap()["opening_hours"]
            .clone();
    assert_eq!(stored, "Mo-We 08:00-12:00; Th 14:00-18:00; Su off");
    admin
        .get("/verwaltung/mandanten/lindenbach")
        .await
        .assert_contains("Mo–Mi 08:00–12:00; Do 14:00–18:00; So geschlossen");
}
