use testkit::TestApp;

use crate::{LINDENBACH_CLERK, PLATFORM_ADMIN, demo, logged_in};

#[tokio::test]
async fn a_member_of_staff_logs_in_sees_the_account_and_logs_out() {
    let (app, pw) = demo().await;
    let c = app.client();
    c.get("/konto").await.assert_status(303);
    let res = c.post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", &pw)]).await;
    res.assert_status(303);
    assert_eq!(res.location(), Some("/konto"));
    c.get("/konto")
        .await
        .assert_status(200)
        .assert_contains("Sachbearbeitung Stadt Lindenbach")
        .assert_contains("Abmelden");
    c.post_form("/abmelden", &[]).await.assert_status(303);
    assert!(c.cookie("kh_session").is_none());
    c.get("/konto").await.assert_status(303);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let (app, pw) = demo().await;
    let res = app.client().post_form("/anmelden", &[("email", PLATFORM_ADMIN), ("password", &pw)]).await;
    let cookie = res
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kh_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn with_an_https_public_url_cookies_are_secure_and_host_prefixed() {
    let app = TestApp::with_config(|c| c.web.public_url = "https://kreishaus.example".into()).await;
    let pw = app.load_demo().await;
    let res = app.client().post_form("/anmelden", &[("email", PLATFORM_ADMIN), ("password", &pw)]).await;
    let cookies: Vec<&str> = res.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("__Host-kh_session=") && c.ends_with("; Secure")), "{cookies:?}");
    assert!(res.header("strict-transport-security").is_some());
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_message_that_says_what_to_do() {
    let (app, _) = demo().await;
    let res =
        app.client().post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", "falsch-falsch-falsch")]).await;
    res.assert_status(422).assert_contains("Bitte prüfen Sie Ihre Eingaben").assert_contains(LINDENBACH_CLERK);
    let unknown = app.client().post_form("/anmelden", &[("email", "niemand@example.org"), ("password", "x")]).await;
    unknown.assert_status(422).assert_contains("E-Mail-Adresse oder Passwort sind falsch");
}

#[tokio::test]
async fn after_five_failures_the_account_is_locked_even_for_the_right_password_until_the_lockout_ends() {
    let (app, pw) = demo().await;
    let c = app.client();
    for _ in 0..5 {
        c.post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", "geraten")]).await.assert_status(422);
    }
    let locked = c.post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", &pw)]).await;
    locked.assert_status(429).assert_contains("15 Minuten");
    app.kernel.clock.advance_secs(15 * 60 + 1);
    c.post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", &pw)]).await.assert_status(303);
}

#[tokio::test]
async fn failed_logins_are_recorded_in_the_tenants_audit_log() {
    let (app, _) = demo().await;
    app.client().post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", "geraten")]).await;
    let tenant = app.tenant_id("lindenbach").await;
    let entries = kernel::audit::recent(&app.kernel.db, tenant, 10).await.unwrap();
    assert_eq!(entries[0].action, "identity.login_failed");
    assert!(entries[0].details.contains("wrong_password"));
}

#[tokio::test]
async fn a_session_ends_after_an_hour_without_requests() {
    let (app, pw) = demo().await;
    let c = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    app.kernel.clock.advance_secs(50 * 60);
    c.get("/konto").await.assert_status(200);
    app.kernel.clock.advance_secs(50 * 60);
    c.get("/konto").await.assert_status(200);
    app.kernel.clock.advance_secs(61 * 60);
    let res = c.get("/konto").await;
    res.assert_status(303);
    assert_eq!(res.location(), Some("/anmelden?weiter=%2Fkonto"));
}

#[tokio::test]
async fn a_session_ends_twelve_hours_after_login_however_active() {
    let (app, pw) = demo().await;
    let c = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    for _ in 0..24 {
        app.kernel.clock.advance_secs(30 * 60);
        c.get("/konto").await;
    }
    c.get("/konto").await.assert_status(303);
}

#[tokio::test]
async fn logging_out_everywhere_ends_the_sessions_on_every_device() {
    let (app, pw) = demo().await;
    let laptop = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    let phone = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    phone.get("/konto").await.assert_status(200).assert_contains("Aktive Sitzungen: 2");
    laptop.post_form("/konto/ueberall-abmelden", &[]).await.assert_status(303);
    phone.get("/konto").await.assert_status(303);
    laptop.get("/konto").await.assert_status(303);
}

#[tokio::test]
async fn changing_the_password_stops_the_old_one_and_ends_the_other_sessions_only() {
    let (app, pw) = demo().await;
    let elsewhere = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    let c = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    let fields = [("current_password", pw.as_str()), ("new_password", "kurz"), ("repeat_password", "kurz")];
    c.post_form("/konto/passwort", &fields).await.assert_status(422).assert_contains("mindestens 12 Zeichen");
    let new = "Lindenblüte-im-Juni-2026";
    c.post_form("/konto/passwort", &[("current_password", &pw), ("new_password", new), ("repeat_password", new)])
        .await
        .assert_status(303);
    c.get("/konto").await.assert_status(200).assert_contains("Auf allen anderen Geräten sind Sie abgemeldet");
    elsewhere.get("/konto").await.assert_status(303);
    let other = app.client();
    other.post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", &pw)]).await.assert_status(422);
    other.login(LINDENBACH_CLERK, new).await;
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_and_offers_what_was_typed_again() {
    let (app, pw) = demo().await;
    let c = logged_in(&app, PLATFORM_ADMIN, &pw).await;
    let res = c
        .post_form_raw(
            "/verwaltung/mandanten/kreis/beschaeftigte",
            &[
                ("_csrf", "0".repeat(64).as_str()),
                ("display_name", "Erika Mustermann"),
                ("email", "erika@kreis-auenthal.example"),
            ],
        )
        .await;
    res.assert_status(403).assert_contains("Bitte noch einmal senden").assert_contains("value=\"Erika Mustermann\"");
    // The page's own token works: sending again creates the account.
    let again = c
        .post_form(
            "/verwaltung/mandanten/kreis/beschaeftigte",
            &[("display_name", "Erika Mustermann"), ("email", "erika@kreis-auenthal.example")],
        )
        .await;
    again.assert_status(200).assert_contains("Einmal-Passwort");
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_even_with_the_token() {
    let (app, pw) = demo().await;
    let c = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    let token = c.csrf().await;
    let req = axum::http::Request::post("/konto/ueberall-abmelden")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::from(format!("_csrf={token}")))
        .unwrap();
    c.send(req).await.assert_status(403);
    c.get("/konto").await.assert_status(200);
}

#[tokio::test]
async fn a_post_after_the_session_expired_leads_through_login_back_to_the_typed_form() {
    let (app, pw) = demo().await;
    let c = logged_in(&app, PLATFORM_ADMIN, &pw).await;
    app.kernel.clock.advance_secs(2 * 3600);
    let res = c
        .post_form("/verwaltung/mandanten/kreis/organisationseinheiten", &[("name", "Ordnungsamt"), ("code", "Amt 32")])
        .await;
    res.assert_status(401)
        .assert_contains("Ihre Sitzung ist abgelaufen")
        .assert_contains("name=\"behalten.name\" value=\"Ordnungsamt\"");
    let login = c
        .post_form(
            "/anmelden",
            &[
                ("email", PLATFORM_ADMIN),
                ("password", &pw),
                ("weiter", "/verwaltung/mandanten/kreis/organisationseinheiten"),
                ("behalten.name", "Ordnungsamt"),
                ("behalten.code", "Amt 32"),
            ],
        )
        .await;
    login
        .assert_status(200)
        .assert_contains("Sie sind wieder angemeldet")
        .assert_contains("action=\"/verwaltung/mandanten/kreis/organisationseinheiten\"")
        .assert_contains("value=\"Amt 32\"");
}

#[tokio::test]
async fn a_login_never_redirects_to_another_site() {
    let (app, pw) = demo().await;
    let res = app
        .client()
        .post_form("/anmelden", &[("email", LINDENBACH_CLERK), ("password", &pw), ("weiter", "//evil.example/")])
        .await;
    assert_eq!(res.location(), Some("/konto"));
}

#[tokio::test]
async fn the_api_answers_401_in_the_error_envelope_without_a_session_and_the_staff_with_one() {
    let (app, pw) = demo().await;
    let anonymous = app.client().get_json("/api/v1/me").await;
    anonymous.assert_status(401);
    assert_eq!(anonymous.json()["error"]["code"], "unauthenticated");
    let c = logged_in(&app, LINDENBACH_CLERK, &pw).await;
    let me = c.get_json("/api/v1/me").await;
    me.assert_status(200);
    assert_eq!(me.json()["staff"]["email"], LINDENBACH_CLERK);
    assert_eq!(me.json()["roles"][0]["role"], "clerk");
}
