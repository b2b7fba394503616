//! Tenant isolation: staff of one tenant can neither see nor change another tenant's data.

use crate::{AUENTHAL_ADMIN, LINDENBACH_ADMIN, LINDENBACH_CLERK, demo, logged_in};

#[tokio::test]
async fn an_administrator_of_one_tenant_cannot_see_another_tenants_staff_org_units_or_audit_log() {
    let (app, pw) = demo().await;
    let c = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    c.get("/verwaltung/mandanten/lindenbach/beschaeftigte").await.assert_status(200).assert_contains(LINDENBACH_CLERK);
    for path in [
        "/verwaltung/mandanten/auenthal",
        "/verwaltung/mandanten/auenthal/beschaeftigte",
        "/verwaltung/mandanten/auenthal/protokoll",
        "/verwaltung/mandanten/kreis/beschaeftigte",
    ] {
        c.get(path).await.assert_status(403).assert_lacks(AUENTHAL_ADMIN);
    }
}

#[tokio::test]
async fn an_administrator_of_one_tenant_cannot_change_another_tenants_staff_units_or_roles() {
    let (app, pw) = demo().await;
    let intruder = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    let admin = logged_in(&app, AUENTHAL_ADMIN, &pw).await;
    let auenthal = app.tenant_id("auenthal").await;
    let before = kernel::audit::recent(&app.kernel.db, auenthal, 1000).await.unwrap().len();

    intruder
        .post_form(
            "/verwaltung/mandanten/auenthal/beschaeftigte",
            &[("display_name", "Maulwurf"), ("email", "maulwurf@example.org")],
        )
        .await
        .assert_status(403);
    intruder
        .post_form("/verwaltung/mandanten/auenthal/organisationseinheiten", &[("name", "Schattenamt")])
        .await
        .assert_status(403);
    intruder.post_form("/verwaltung/mandanten/auenthal", &[("name", "Übernommen")]).await.assert_status(403);

    // Reaching into another tenant through one's own tenant's address does not work either:
    // staff ids are looked up within the tenant of the path.
    let list = admin.get("/verwaltung/mandanten/auenthal/beschaeftigte").await;
    let victim = list
        .body
        .split("/verwaltung/mandanten/auenthal/beschaeftigte/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    intruder.get(&format!("/verwaltung/mandanten/lindenbach/beschaeftigte/{victim}")).await.assert_status(404);
    intruder
        .post_form(
            &format!("/verwaltung/mandanten/lindenbach/beschaeftigte/{victim}/rollen"),
            &[("role", "administrator")],
        )
        .await
        .assert_status(404);
    intruder
        .post_form(&format!("/verwaltung/mandanten/lindenbach/beschaeftigte/{victim}/status"), &[("active", "false")])
        .await
        .assert_status(404);

    let after = kernel::audit::recent(&app.kernel.db, auenthal, 1000).await.unwrap().len();
    assert_eq!(before, after, "nothing was written for the other tenant");
    admin
        .get("/verwaltung/mandanten/auenthal")
        .await
        .assert_status(200)
        .assert_lacks("Übernommen")
        .assert_lacks("Schattenamt");
}

#[tokio::test]
async fn a_clerk_cannot_administer_even_their_own_tenant() {
    let (app, pw) = demo().await;
    let c = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    c.get("/verwaltung").await.assert_status(403);
    c.get("/verwaltung/mandanten/lindenbach/beschaeftigte").await.assert_status(403);
    c.post_form(
        "/verwaltung/mandanten/lindenbach/beschaeftigte",
        &[("display_name", "X"), ("email", "x@lindenbach.example")],
    )
    .await
    .assert_status(403);
    c.get("/verwaltung/auftraege").await.assert_status(403);
}

#[tokio::test]
async fn only_platform_administrators_manage_tenants() {
    let (app, pw) = demo().await;
    let c = logged_in(&app, LINDENBACH_ADMIN, &pw).await;
    c.get("/verwaltung/mandanten").await.assert_status(403);
    c.post_form("/verwaltung/mandanten", &[("name", "Neustadt"), ("slug", "neustadt"), ("kind", "municipality")])
        .await
        .assert_status(403);
}

#[tokio::test]
async fn the_public_api_lists_every_tenant_and_a_tenants_offices() {
    let (app, _) = demo().await;
    let tenants = app.client().get_json("/api/v1/tenants").await;
    tenants.assert_status(200);
    let items = tenants.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 11);
    let lindenbach = items.iter().find(|t| t["slug"] == "lindenbach").unwrap();
    assert_eq!(lindenbach["ags"], "05999008");
    assert_eq!(lindenbach["postcodes"][0], "59910");
    let units = app.client().get_json("/api/v1/tenants/lindenbach/org-units").await.json();
    assert!(
        units["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["name"] == "Bürgerbüro" && u["opening_hours"].as_str().unwrap().starts_with("Mo-Fr"))
    );
    app.client().get_json("/api/v1/tenants/atlantis/org-units").await.assert_status(404);
}

#[tokio::test]
async fn a_head_of_office_for_the_whole_tenant_reads_its_audit_log_but_administers_nothing() {
    let (app, pw) = demo().await;
    let it = logged_in(&app, crate::PLATFORM_ADMIN, &pw).await;
    let list = it.get("/verwaltung/mandanten/lindenbach/beschaeftigte").await;
    let clerk_path = list
        .body
        .split("\">Sachbearbeitung Stadt Lindenbach</a>")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .to_owned();
    it.post_form(&format!("{clerk_path}/rollen"), &[("role", "head_of_office"), ("org_unit", "")])
        .await
        .assert_status(303);

    let head = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    head.get("/verwaltung").await.assert_status(200).assert_contains("/verwaltung/mandanten/lindenbach/protokoll");
    head.get("/verwaltung/mandanten/lindenbach/protokoll").await.assert_status(200).assert_contains("Rolle vergeben");
    head.get("/verwaltung/mandanten/lindenbach/beschaeftigte").await.assert_status(403);
    head.get("/verwaltung/mandanten/auenthal/protokoll").await.assert_status(403);
}

#[tokio::test]
async fn a_tenant_out_of_service_disappears_from_the_directory_and_its_staff_are_logged_out() {
    let (app, pw) = demo().await;
    let it = logged_in(&app, crate::PLATFORM_ADMIN, &pw).await;
    let clerk = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    it.post_form("/verwaltung/mandanten/lindenbach/status", &[("active", "false")]).await.assert_status(303);
    it.get("/verwaltung/mandanten/lindenbach").await.assert_contains("außer Dienst").assert_contains("Alle Sitzungen");

    clerk.get("/konto").await.assert_status(303);
    app.client().post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", &pw)]).await.assert_status(422);
    let tenants = app.client().get_json("/api/v1/tenants").await.json();
    assert!(tenants["items"].as_array().unwrap().iter().all(|t| t["slug"] != "lindenbach"));
    app.client().get_json("/api/v1/tenants/lindenbach/org-units").await.assert_status(404);

    // Only platform administrators decide, and never about their own tenant.
    logged_in(&app, AUENTHAL_ADMIN, &pw)
        .await
        .post_form("/verwaltung/mandanten/lindenbach/status", &[("active", "true")])
        .await
        .assert_status(403);
    it.post_form("/verwaltung/mandanten/kreis/status", &[("active", "false")])
        .await
        .assert_status(409)
        .assert_contains("eigene Dienststelle");

    it.post_form("/verwaltung/mandanten/lindenbach/status", &[("active", "true")]).await.assert_status(303);
    logged_in(&app, LINDENBACH_CLERK, &pw).await;
    let tenant = app.tenant_id("lindenbach").await;
    let actions: Vec<String> =
        kernel::audit::recent(&app.kernel.db, tenant, 10).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(
        actions.contains(&"identity.tenant.deactivated".into()) && actions.contains(&"identity.login_failed".into()),
        "{actions:?}"
    );
}
