//! Citizen accounts through HTTP: registration, verification, login with and without the second
//! factor, reset, e-mail change, throttling, no account enumeration, trust levels, profile,
//! privacy cockpit, organisations and the API.

use identity::citizen::model::{ProfileField, TrustLevel};
use identity::citizen::service::{self as citizen_service, VerifiedIdentity};
use identity::citizen::totp;
use testkit::{Client, TestApp};

use crate::{LINDENBACH_CLERK, demo};

pub(crate) const ANNA: &str = "anna.schmidt@example.org";
const PASSWORD: &str = "Lindenblüte im Juni";

/// Every mail in the outbox, oldest first: (to, subject, body).
async fn mails(app: &TestApp) -> Vec<(String, String, String)> {
    let rows = app
        .kernel
        .db
        .fetch_all(kernel::query("SELECT payload FROM jobs WHERE kind = $1 ORDER BY id").bind("mail.send"))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let m: kernel::mail::Mail = serde_json::from_str(&r.get::<String>("payload").unwrap()).unwrap();
            (m.to, m.subject, m.body)
        })
        .collect()
}

/// The path and token of the link in the newest mail to `to`.
async fn link_to(app: &TestApp, to: &str) -> (String, String) {
    let all = mails(app).await;
    let (_, _, body) = all.iter().rev().find(|(t, _, _)| t == to).expect("a mail");
    let start = body.find("http://127.0.0.1:8080").expect("a link") + "http://127.0.0.1:8080".len();
    let link: String = body[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let token = link.split("t=").nth(1).unwrap_or_default().to_owned();
    (link, token)
}

async fn register(c: &Client, email: &str, password: &str) -> testkit::TestResponse {
    c.post_form(
        "/buergerkonto/registrieren",
        &[("email", email), ("password", password), ("repeat_password", password)],
    )
    .await
}

/// A registered, verified citizen logged in in a fresh browser.
pub(crate) async fn citizen(app: &TestApp, email: &str) -> Client {
    let c = app.client();
    register(&c, email, PASSWORD).await.assert_status(200);
    let (_, token) = link_to(app, email).await;
    c.post_form("/buergerkonto/bestaetigen", &[("t", &token)]).await.assert_status(303);
    login(&c, email, PASSWORD).await.assert_status(303);
    c
}

async fn login(c: &Client, email: &str, password: &str) -> testkit::TestResponse {
    c.post_form("/buergerkonto/anmelden", &[("email", email), ("password", password)]).await
}

#[tokio::test]
async fn a_citizen_registers_confirms_the_address_by_link_logs_in_and_out() {
    let (app, _) = demo().await;
    let c = app.client();
    register(&c, ANNA, PASSWORD).await.assert_status(200).assert_contains("Bitte sehen Sie in Ihr E-Mail-Postfach");
    login(&c, ANNA, PASSWORD).await.assert_status(422).assert_contains("Bitte bestätigen Sie zuerst");
    let (link, token) = link_to(&app, ANNA).await;
    assert!(link.starts_with("/buergerkonto/bestaetigen?t="), "{link}");
    // Opening the link changes nothing (mail scanners open links); the button confirms.
    c.get(&link).await.assert_status(200).assert_contains("E-Mail-Adresse bestätigen");
    c.post_form("/buergerkonto/bestaetigen", &[("t", &token)]).await.assert_status(303);
    let res = login(&c, ANNA, PASSWORD).await;
    res.assert_status(303);
    assert_eq!(res.location(), Some("/buergerkonto"));
    c.get("/buergerkonto").await.assert_status(200).assert_contains(ANNA).assert_contains("niedrig");
    c.post_form("/buergerkonto/abmelden", &[]).await.assert_status(303);
    assert!(c.cookie("kh_buerger").is_none());
    assert_eq!(c.get("/buergerkonto").await.location(), Some("/buergerkonto/anmelden?weiter=%2Fbuergerkonto"));
}

#[tokio::test]
async fn a_weak_password_is_refused_with_the_rule_it_broke() {
    let (app, _) = demo().await;
    let c = app.client();
    register(&c, ANNA, "kurz").await.assert_status(422).assert_contains("mindestens 10 Zeichen");
    register(&c, ANNA, "password12").await.assert_status(422).assert_contains("sehr häufig benutzt");
    register(&c, ANNA, "Passwort123").await.assert_status(422).assert_contains("sehr häufig benutzt");
    assert!(mails(&app).await.is_empty());
}

#[tokio::test]
async fn registering_a_known_address_answers_alike_and_only_the_mail_differs() {
    let (app, _) = demo().await;
    let _anna = citizen(&app, ANNA).await;
    let started = std::time::Instant::now();
    let known = register(&app.client(), ANNA, "ein ganz anderes Passwort").await;
    let known_time = started.elapsed();
    let started = std::time::Instant::now();
    let unknown = register(&app.client(), "neu@example.org", "ein ganz anderes Passwort").await;
    let unknown_time = started.elapsed();
    assert_eq!(known.status, unknown.status);
    assert_eq!(
        known.body.replace(ANNA, "ADDRESS").replace(&known.body[..0], ""),
        unknown.body.replace("neu@example.org", "ADDRESS")
    );
    // Both compute a password hash: neither answer is much faster than the other.
    let (fast, slow) = if known_time < unknown_time { (known_time, unknown_time) } else { (unknown_time, known_time) };
    assert!(fast * 4 > slow, "known {known_time:?}, unknown {unknown_time:?}");
    let all = mails(&app).await;
    let to_anna: Vec<_> = all.iter().filter(|(t, _, _)| t == ANNA).collect();
    assert_eq!(to_anna.last().unwrap().1, "Sie haben schon ein Bürgerkonto");
    assert!(all.iter().any(|(t, s, _)| t == "neu@example.org" && s.contains("bestätigen")));
    // The old password still works: a second registration changes nothing.
    login(&app.client(), ANNA, PASSWORD).await.assert_status(303);
}

#[tokio::test]
async fn a_used_an_unknown_or_an_expired_link_says_what_to_do() {
    let (app, _) = demo().await;
    let c = app.client();
    register(&c, ANNA, PASSWORD).await;
    let (link, token) = link_to(&app, ANNA).await;
    c.get("/buergerkonto/bestaetigen?t=0000").await.assert_status(422).assert_contains("Diesen Link kennen wir nicht");
    c.post_form("/buergerkonto/bestaetigen", &[("t", &token)]).await.assert_status(303);
    c.get(&link).await.assert_status(422).assert_contains("schon benutzt").assert_contains("/buergerkonto/anmelden");
    register(&c, "spaet@example.org", PASSWORD).await;
    let (late, _) = link_to(&app, "spaet@example.org").await;
    app.kernel.clock.advance_secs(25 * 3600);
    c.get(&late).await.assert_status(422).assert_contains("abgelaufen").assert_contains("Noch einmal registrieren");
}

#[tokio::test]
async fn login_registration_and_reset_are_rate_limited() {
    let (app, _) = demo().await;
    let anna = citizen(&app, ANNA).await;
    let c = app.client();
    for _ in 0..5 {
        login(&c, ANNA, "falsch falsch falsch").await.assert_status(422);
    }
    login(&c, ANNA, PASSWORD).await.assert_status(429).assert_contains("15 Minuten");
    for i in 0..9 {
        register(&c, &format!("person{i}@example.org"), PASSWORD).await.assert_status(200);
    }
    register(&c, "noch.eine@example.org", PASSWORD).await.assert_status(429);
    for _ in 0..3 {
        c.post_form("/buergerkonto/passwort-vergessen", &[("email", ANNA)]).await.assert_status(200);
    }
    c.post_form("/buergerkonto/passwort-vergessen", &[("email", ANNA)]).await.assert_status(429);
    app.kernel.clock.advance_secs(15 * 60 + 1);
    login(&c, ANNA, PASSWORD).await.assert_status(303);
    anna.get("/buergerkonto").await.assert_status(200);
}

#[tokio::test]
async fn a_password_reset_by_mail_link_sets_the_new_password_and_ends_every_session() {
    let (app, _) = demo().await;
    let anna = citizen(&app, ANNA).await;
    let c = app.client();
    let known = c.post_form("/buergerkonto/passwort-vergessen", &[("email", ANNA)]).await;
    let unknown = c.post_form("/buergerkonto/passwort-vergessen", &[("email", "niemand@example.org")]).await;
    assert_eq!(known.body.replace(ANNA, "X"), unknown.body.replace("niemand@example.org", "X"));
    assert!(
        mails(&app).await.iter().any(|(t, s, _)| t == "niemand@example.org" && s == "Anfrage für ein neues Passwort")
    );
    let (link, token) = link_to(&app, ANNA).await;
    c.get(&link).await.assert_status(200).assert_contains("Neues Passwort wählen");
    let new = "Herbstlaub am Kanal";
    c.post_form(
        "/buergerkonto/passwort-neu",
        &[("t", &token), ("password", "qwertyuiop"), ("repeat_password", "qwertyuiop")],
    )
    .await
    .assert_status(422)
    .assert_contains("sehr häufig benutzt");
    c.post_form("/buergerkonto/passwort-neu", &[("t", &token), ("password", new), ("repeat_password", new)])
        .await
        .assert_status(303);
    anna.get("/buergerkonto").await.assert_status(303);
    login(&app.client(), ANNA, PASSWORD).await.assert_status(422);
    login(&app.client(), ANNA, new).await.assert_status(303);
}

#[tokio::test]
async fn a_new_address_counts_only_after_its_link_and_the_old_address_is_told() {
    let (app, _) = demo().await;
    let anna = citizen(&app, ANNA).await;
    let new = "anna@neu.example.org";
    anna.post_form("/buergerkonto/e-mail", &[("new_email", new), ("current_password", "falsch")])
        .await
        .assert_status(422)
        .assert_contains("Das bisherige Passwort ist falsch");
    anna.post_form("/buergerkonto/e-mail", &[("new_email", new), ("current_password", PASSWORD)])
        .await
        .assert_status(303);
    let all = mails(&app).await;
    assert!(all.iter().any(|(t, s, _)| t == ANNA && s == "Ihre E-Mail-Adresse soll geändert werden"));
    login(&app.client(), new, PASSWORD).await.assert_status(422);
    let (_, token) = link_to(&app, new).await;
    anna.post_form("/buergerkonto/neue-adresse", &[("t", &token)]).await.assert_status(303);
    login(&app.client(), new, PASSWORD).await.assert_status(303);
    login(&app.client(), ANNA, PASSWORD).await.assert_status(422);
}

#[tokio::test]
async fn with_the_second_factor_login_needs_a_code_and_each_recovery_code_works_once() {
    let (app, _) = demo().await;
    let anna = citizen(&app, ANNA).await;
    let setup = anna.get("/buergerkonto/zwei-faktor").await;
    let secret = setup.body.split("name=\"secret\" value=\"").nth(1).unwrap()[..32].to_owned();
    let now = app.kernel.clock.now().millis() / 1000;
    let code = totp::code_at_step(&totp::base32_decode(&secret).unwrap(), totp::step_of(now));
    let on = anna.post_form("/buergerkonto/zwei-faktor", &[("secret", &secret), ("code", &code)]).await;
    on.assert_status(200).assert_contains("Wiederherstellungscodes");
    let recovery: Vec<String> = on
        .body
        .split("<li>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .filter(|s| s.len() == 14 && s.matches('-').count() == 2)
        .collect();
    assert_eq!(recovery.len(), 10);

    let c = app.client();
    let res = login(&c, ANNA, PASSWORD).await;
    assert!(res.location().unwrap().starts_with("/buergerkonto/anmelden/code"));
    let pending = c.cookie("kh_buerger").unwrap();
    c.get("/buergerkonto").await.assert_status(303);
    c.post_form("/buergerkonto/anmelden/code", &[("code", "000000")]).await.assert_status(422);
    app.kernel.clock.advance_secs(60);
    let now = app.kernel.clock.now().millis() / 1000;
    let code = totp::code_at_step(&totp::base32_decode(&secret).unwrap(), totp::step_of(now));
    c.post_form("/buergerkonto/anmelden/code", &[("code", &code)]).await.assert_status(303);
    assert_ne!(c.cookie("kh_buerger").unwrap(), pending, "a new session id after the second factor");
    c.get("/buergerkonto").await.assert_status(200).assert_contains("Unbenutzte Wiederherstellungscodes: 10");
    // The same code again is refused (replay); a recovery code works once.
    let again = app.client();
    login(&again, ANNA, PASSWORD).await;
    again.post_form("/buergerkonto/anmelden/code", &[("code", &code)]).await.assert_status(422);
    again.post_form("/buergerkonto/anmelden/code", &[("code", &recovery[0].to_lowercase())]).await.assert_status(303);
    let third = app.client();
    login(&third, ANNA, PASSWORD).await;
    third.post_form("/buergerkonto/anmelden/code", &[("code", &recovery[0])]).await.assert_status(422);
}

#[tokio::test]
async fn a_session_id_planted_before_login_is_replaced_and_logging_out_everywhere_ends_all() {
    let (app, _) = demo().await;
    let _ = citizen(&app, ANNA).await;
    let planted = "a".repeat(64);
    let c = app.client();
    c.set_cookie("kh_buerger", &planted);
    login(&c, ANNA, PASSWORD).await.assert_status(303);
    assert_ne!(c.cookie("kh_buerger").unwrap(), planted);
    let attacker = app.client();
    attacker.set_cookie("kh_buerger", &planted);
    attacker.get("/buergerkonto").await.assert_status(303);
    let phone = app.client();
    login(&phone, ANNA, PASSWORD).await;
    phone.get("/buergerkonto").await.assert_contains("Aktive Sitzungen: 3");
    c.post_form("/buergerkonto/ueberall-abmelden", &[]).await.assert_status(303);
    phone.get("/buergerkonto").await.assert_status(303);
}

#[tokio::test]
async fn the_profile_keeps_self_entered_values_unverified_and_derives_the_jurisdiction() {
    let (app, _) = demo().await;
    let anna = citizen(&app, ANNA).await;
    let tenants = identity::service::public_tenants(&app.kernel).await.unwrap();
    let town = tenants.iter().find(|t| t.slug == "lindenbach").unwrap();
    let postcode = town.postcodes[0].clone();
    anna.post_form(
        "/buergerkonto/profil",
        &[("given_name", "Anna"), ("birth_date", "31.02.1980"), ("postcode", "123")],
    )
    .await
    .assert_status(422)
    .assert_contains("gültiges Geburtsdatum")
    .assert_contains("href=\"#f-birth_date\"")
    .assert_contains("value=\"Anna\"");
    anna.post_form(
        "/buergerkonto/profil",
        &[
            ("given_name", "Anna"),
            ("family_name", "Schmidt"),
            ("birth_date", "24.12.1980"),
            ("postcode", &postcode),
            ("municipality", ""),
        ],
    )
    .await
    .assert_status(303);
    let page = anna.get("/buergerkonto/profil").await;
    page.assert_status(200)
        .assert_contains("1980-12-24")
        .assert_contains(&format!("Zuständig für Sie ist: {}", town.name));
    // The portal takes the municipality from the profile when the citizen names none.
    anna.get("/leistungen?q=personalausweis").await.assert_contains(&format!("Zuständig für Sie: {}", town.name));
    anna.get("/leistungen/personalausweis-beantragen")
        .await
        .assert_contains(&format!("<dd class=\"kern-description-list-item__value\">{}</dd>", town.name));
    app.client().get("/leistungen?q=personalausweis").await.assert_lacks("Zuständig für Sie:");
    page.assert_contains("selbst eingegeben, nicht bestätigt");
}

#[tokio::test]
async fn a_service_above_the_sessions_level_leads_to_the_step_up_page_and_verified_values_are_locked() {
    let (app, _) = demo().await;
    let anna = citizen(&app, ANNA).await;
    let res = anna.get("/buergerkonto/nachweis").await;
    assert_eq!(
        res.location(),
        Some("/buergerkonto/vertrauensniveau?niveau=substantial&weiter=%2Fbuergerkonto%2Fnachweis")
    );
    anna.get(res.location().unwrap())
        .await
        .assert_status(200)
        .assert_contains("substanziell")
        .assert_contains("niedrig");
    // An identity provider (the OIDC callback, later) raises the level: a new session id.
    let old = anna.cookie("kh_buerger").unwrap();
    let me = citizen_service::authenticate(&app.kernel, &app.config.identity, &old).await.unwrap().unwrap();
    let identity = VerifiedIdentity {
        provider: "test-idp".into(),
        level: TrustLevel::High,
        values: vec![(ProfileField::FamilyName, "Schmidt".into()), (ProfileField::BirthDate, "1980-12-24".into())],
    };
    let raised = citizen_service::raise_level(&app.kernel, &app.config.identity, &old, &me, identity).await.unwrap();
    assert!(citizen_service::authenticate(&app.kernel, &app.config.identity, &old).await.unwrap().is_none());
    anna.set_cookie("kh_buerger", &raised.token);
    anna.get("/buergerkonto/nachweis").await.assert_status(200).assert_contains("Schmidt").assert_contains("test-idp");
    anna.post_form("/buergerkonto/profil", &[("family_name", "Meier")])
        .await
        .assert_status(422)
        .assert_contains("Diese Angabe ist bestätigt");
}

#[tokio::test]
async fn the_privacy_cockpit_shows_own_changes_and_staff_reads_with_office_role_and_case() {
    let (app, pw) = demo().await;
    let anna = citizen(&app, ANNA).await;
    anna.post_form("/buergerkonto/profil", &[("given_name", "Anna")]).await.assert_status(303);
    // A clerk of Lindenbach reads Anna's data for a case.
    let clerk = identity::service::login(
        &app.kernel,
        &app.config.identity,
        identity::service::LoginAttempt { email: LINDENBACH_CLERK, password: &pw, client_ip: "x", user_agent: "" },
    )
    .await
    .unwrap()
    .staff;
    let lindenbach = app.tenant_id("lindenbach").await;
    let proof = clerk.authorize::<identity::model::ReadCitizenData>(lindenbach).unwrap();
    let me = citizen_service::authenticate(&app.kernel, &app.config.identity, &anna.cookie("kh_buerger").unwrap())
        .await
        .unwrap()
        .unwrap();
    citizen_service::profile_for_staff(&app.kernel, &proof, me.id(), "Wohngeldantrag", Some("WG-2026-0042"))
        .await
        .unwrap();
    let page = anna.get("/buergerkonto/datenschutz").await;
    page.assert_status(200)
        .assert_contains("Daten gelesen")
        .assert_contains("Sachbearbeitung")
        .assert_contains("WG-2026-0042")
        .assert_contains("Stadt Lindenbach")
        .assert_contains("Daten geändert")
        .assert_contains("Sie selbst");
    let export = anna.get("/buergerkonto/datenschutz/export").await;
    export.assert_status(200);
    let json = export.json();
    assert_eq!(json["account"]["email"], ANNA);
    assert_eq!(json["profile"]["values"][0]["value"], "Anna");
    assert!(json["data_access"].as_array().unwrap().iter().any(|e| e["case"] == "WG-2026-0042"));
    anna.post_form("/buergerkonto/loeschen", &[("current_password", "falsch")]).await.assert_status(422);
    anna.post_form("/buergerkonto/loeschen", &[("current_password", PASSWORD)]).await.assert_status(303);
    anna.get("/buergerkonto").await.assert_status(303);
    login(&app.client(), ANNA, PASSWORD).await.assert_status(422);
    // The log stays; the address can register anew.
    assert!(!kernel::audit::about(&app.kernel.db, &me.subject(), 100).await.unwrap().is_empty());
    register(&app.client(), ANNA, PASSWORD).await.assert_status(200);
}

#[tokio::test]
async fn a_member_acting_for_an_organisation_is_recorded_with_both_ids() {
    let (app, _) = demo().await;
    let owner = citizen(&app, ANNA).await;
    let bob = citizen(&app, "bob@example.org").await;
    let res = owner.post_form("/buergerkonto/organisationen", &[("name", "Bäckerei Schmidt GmbH")]).await;
    res.assert_status(303);
    let org_path = res.location().unwrap().to_owned();
    let org_id = org_path.rsplit('/').next().unwrap().to_owned();
    owner
        .post_form(&format!("{org_path}/einladen"), &[("email", "bob@example.org"), ("role", "member")])
        .await
        .assert_status(303);
    let (link, token) = link_to(&app, "bob@example.org").await;
    bob.get(&link).await.assert_status(200).assert_contains("Einladung annehmen");
    owner.post_form("/buergerkonto/einladung", &[("t", &token)]).await.assert_status(422);
    bob.post_form("/buergerkonto/einladung", &[("t", &token)]).await.assert_status(303);
    owner.get(&org_path).await.assert_contains("bob@example.org");
    bob.post_form("/buergerkonto/handeln-fuer", &[("organisation", &org_id)]).await.assert_status(303);
    bob.post_form("/buergerkonto/profil", &[("phone", "02303 27-0")]).await.assert_status(303);
    let county = app.tenant_id("kreis").await;
    let entry = kernel::audit::recent(&app.kernel.db, county, 1).await.unwrap().remove(0);
    assert_eq!(entry.action, "citizen.profile_updated");
    assert!(entry.actor.starts_with("citizen:"));
    assert_eq!(entry.on_behalf_of.as_deref(), Some(format!("organisation:{org_id}").as_str()));
    bob.get(&org_path).await.assert_contains("Sie handeln gerade für diese Organisation");
}

#[tokio::test]
async fn a_mobile_app_registers_logs_in_with_a_bearer_token_and_reads_and_writes_the_profile() {
    let (app, _) = demo().await;
    let api = app.client();
    let json = |path: &str, v: serde_json::Value| {
        axum::http::Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(v.to_string()))
            .unwrap()
    };
    let res = api.send(json("/api/v1/account", serde_json::json!({"email": ANNA, "password": "password12"}))).await;
    res.assert_status(422);
    assert_eq!(res.json()["error"]["fields"][0]["code"], "citizen.password_common");
    let res = api.send(json("/api/v1/account", serde_json::json!({"email": ANNA, "password": PASSWORD}))).await;
    res.assert_status(202);
    let (_, token) = link_to(&app, ANNA).await;
    citizen_service::verify_email(&app.kernel, &token).await.unwrap();
    let res =
        api.send(json("/api/v1/account/sessions", serde_json::json!({"email": ANNA, "password": PASSWORD}))).await;
    res.assert_status(201);
    let bearer = res.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(res.json()["trust_level"], "basic");
    let with_bearer = |b: axum::http::request::Builder| b.header("authorization", format!("Bearer {bearer}"));
    let put = with_bearer(axum::http::Request::builder().method("PUT").uri("/api/v1/account/profile"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"given_name":"Anna","phone":"02303 27-0"}"#))
        .unwrap();
    let res = api.send(put).await;
    res.assert_status(200);
    assert_eq!(res.json()["values"][0]["field"], "given_name");
    assert_eq!(res.json()["values"][0]["verified"], false);
    let get =
        |path: &str| with_bearer(axum::http::Request::builder().uri(path)).body(axum::body::Body::empty()).unwrap();
    api.send(get("/api/v1/account")).await.assert_status(200).assert_contains(ANNA);
    api.send(get("/api/v1/account/export")).await.assert_status(200).assert_contains("citizen.profile_updated");
    let del = with_bearer(axum::http::Request::builder().method("DELETE").uri("/api/v1/account/sessions/current"))
        .body(axum::body::Body::empty())
        .unwrap();
    api.send(del).await.assert_status(204);
    api.send(get("/api/v1/account")).await.assert_status(401);
}

#[tokio::test]
async fn with_a_secret_key_the_totp_secret_is_stored_sealed_and_codes_still_work() {
    let key = "8f0e6a2b4c1d3e5f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
    let app = TestApp::with_config(|c| c.identity.secret_key = kernel::Secret::new(key)).await;
    app.load_demo().await;
    let anna = citizen(&app, ANNA).await;
    let setup = anna.get("/buergerkonto/zwei-faktor").await;
    let secret = setup.body.split("name=\"secret\" value=\"").nth(1).unwrap()[..32].to_owned();
    let code_now = |app: &TestApp| {
        let now = app.kernel.clock.now().millis() / 1000;
        totp::code_at_step(&totp::base32_decode(&secret).unwrap(), totp::step_of(now))
    };
    anna.post_form("/buergerkonto/zwei-faktor", &[("secret", &secret), ("code", &code_now(&app))])
        .await
        .assert_status(200);
    let stored: String = app
        .kernel
        .db
        .fetch_one(kernel::query("SELECT totp_secret FROM citizens WHERE email = $1").bind(ANNA))
        .await
        .unwrap()
        .get("totp_secret")
        .unwrap();
    assert!(stored.starts_with("v1:") && !stored.contains(&secret), "sealed at rest: {stored}");
    app.kernel.clock.advance_secs(60);
    let c = app.client();
    login(&c, ANNA, PASSWORD).await;
    c.post_form("/buergerkonto/anmelden/code", &[("code", &code_now(&app))]).await.assert_status(303);
    c.get("/buergerkonto").await.assert_status(200);
}

#[tokio::test]
async fn a_form_gets_profile_values_only_with_a_consent_recorded_for_each_use() {
    let (app, _) = demo().await;
    let anna = citizen(&app, ANNA).await;
    anna.post_form(
        "/buergerkonto/profil",
        &[("given_name", "Anna"), ("family_name", "Schmidt"), ("phone", "02303 12345")],
    )
    .await
    .assert_status(303);
    let token = anna.cookie("kh_buerger").unwrap();
    let me = citizen_service::authenticate(&app.kernel, &app.config.identity, &token).await.unwrap().unwrap();
    let office = app.tenant_id("lindenbach").await;
    let fields = [ProfileField::GivenName, ProfileField::FamilyName];
    for _ in 0..2 {
        let request = citizen_service::PrefillRequest { office, form: "hundesteuer-anmeldung", fields: &fields };
        let prefill = citizen_service::prefill_with_consent(&app.kernel, &me, request).await.unwrap();
        let got: Vec<(ProfileField, &str)> = prefill.values.iter().map(|v| (v.field, v.value.as_str())).collect();
        assert_eq!(got, [(ProfileField::GivenName, "Anna"), (ProfileField::FamilyName, "Schmidt")], "no phone");
    }
    let none = citizen_service::PrefillRequest { office, form: "x", fields: &[] };
    assert!(citizen_service::prefill_with_consent(&app.kernel, &me, none).await.is_err());
    // Each use is its own consent: in the export and, with the office, in the privacy cockpit.
    let export = anna.get_json("/api/v1/account/export").await.json();
    let consents = export["prefill_consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2);
    assert_ne!(consents[0]["id"], consents[1]["id"]);
    assert_eq!(consents[0]["fields"], serde_json::json!(["given_name", "family_name"]));
    let cockpit = anna.get("/buergerkonto/datenschutz").await;
    assert_eq!(cockpit.body.matches("Daten mit Einwilligung in ein Formular übernommen").count(), 2);
    cockpit.assert_contains("Lindenbach");
}
