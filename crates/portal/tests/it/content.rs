//! News, events, pages: the Redaktion writes and publishes, citizens read, subscribe and
//! register; the waiting list moves up; staff get the participant list; the search finds it all.

use testkit::{Client, TestApp};

const COUNTY_EDITOR: &str = "redaktion@kreis-auenthal.example";
const TOWN_ADMIN: &str = "verwaltung@lindenbach.example";

async fn editor() -> (TestApp, Client, String) {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login(COUNTY_EDITOR, &pw).await;
    (app, c, pw)
}

/// The id at the end of a redirect to an editor page (`…/aktuelles/7`).
fn saved_id(res: &testkit::TestResponse) -> String {
    res.assert_status(303);
    res.location().expect("a redirect").rsplit('/').next().expect("an id").to_owned()
}

/// Mails waiting in the outbox, as (to, subject, body).
async fn outbox(app: &TestApp) -> Vec<(String, String, String)> {
    let rows = app
        .kernel
        .db
        .fetch_all(kernel::query("SELECT payload FROM jobs WHERE kind = 'mail.send' ORDER BY id"))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let mail: kernel::mail::Mail = serde_json::from_str(&r.get::<String>("payload").unwrap()).unwrap();
            (mail.to, mail.subject, mail.body)
        })
        .collect()
}

#[tokio::test]
async fn a_news_item_is_public_only_while_published_and_its_markdown_is_sanitised() {
    let (app, c, _) = editor().await;
    c.get("/verwaltung").await.assert_contains("/verwaltung/inhalte");
    c.get("/verwaltung/inhalte").await.assert_status(200).assert_contains("/verwaltung/inhalte/kreis");
    let fields = [
        ("title", "Neue Kfz-Kennzeichen"),
        ("slug", "neue-kennzeichen"),
        ("summary", "Wunschkennzeichen jetzt auch online reservieren."),
        ("body", "**Neu:** online.\n\n<script>alert(1)</script>\n\nSiehe [Rechner](javascript:alert(2))."),
        ("aktion", "speichern"),
    ];
    let id = saved_id(&c.post_form("/verwaltung/inhalte/kreis/aktuelles/neu", &fields).await);
    let public = format!("/aktuelles/{id}");
    app.client().get(&public).await.assert_status(404);
    app.client().get("/aktuelles").await.assert_lacks("Neue Kfz-Kennzeichen");
    let publish = format!("/verwaltung/inhalte/kreis/aktuelles/{id}/veroeffentlichen");
    c.post_form(&publish, &[("aktion", "veroeffentlichen")]).await.assert_status(303);
    app.client()
        .get(&public)
        .await
        .assert_status(200)
        .assert_contains("<strong>Neu:</strong>")
        .assert_contains("&lt;script&gt;")
        .assert_lacks("<script>alert")
        .assert_lacks("javascript:");
    app.client().get("/aktuelles").await.assert_contains("Neue Kfz-Kennzeichen");
    app.client().get("/").await.assert_contains(&format!("href=\"/aktuelles/{id}\""));
    c.post_form(&publish, &[("aktion", "zurueckziehen")]).await.assert_status(303);
    app.client().get(&public).await.assert_status(404);
    let kreis = app.tenant_id("kreis").await;
    let last = kernel::audit::recent(&app.kernel.db, kreis, 1).await.unwrap();
    assert_eq!(last[0].action, "portal.content.withdrawn");
}

#[tokio::test]
async fn the_news_feed_is_valid_atom() {
    let app = TestApp::new().await;
    app.load_demo().await;
    let res = app.client().get("/aktuelles.atom").await;
    res.assert_status(200);
    assert!(res.header("content-type").unwrap().starts_with("application/atom+xml"));
    let doc = roxmltree::Document::parse(&res.body).expect("well-formed XML");
    let feed = doc.root_element();
    let atom = "http://www.w3.org/2005/Atom";
    assert_eq!((feed.tag_name().namespace(), feed.tag_name().name()), (Some(atom), "feed"));
    for required in ["id", "title", "updated", "author"] {
        assert!(child(feed, required).is_some(), "feed lacks {required}");
    }
    let self_link = feed.children().find(|c| c.has_tag_name((atom, "link")) && c.attribute("rel") == Some("self"));
    assert!(self_link.is_some_and(|l| l.attribute("href").unwrap().ends_with("/aktuelles.atom")));
    let entries: Vec<_> = feed.children().filter(|c| c.has_tag_name((atom, "entry"))).collect();
    assert_eq!(entries.len(), 4, "three county news items and one of Lindenbach");
    for e in &entries {
        for required in ["id", "title", "updated", "link", "summary", "content"] {
            assert!(child(*e, required).is_some(), "entry lacks {required}");
        }
        let updated = child(*e, "updated").unwrap().text().unwrap();
        assert!(kernel::Timestamp::parse_rfc3339(updated).is_some(), "{updated} is RFC 3339");
    }
    let lindenbach = app.client().get("/aktuelles.atom?mandant=lindenbach").await;
    assert_eq!(lindenbach.body.matches("<entry>").count(), 1);
    app.client().get("/aktuelles.atom?mandant=gibt-es-nicht").await.assert_status(404);
}

/// The first Atom child element of that name.
fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(("http://www.w3.org/2005/Atom", name)))
}

/// Content lines of an iCalendar text, unfolded, after checking line ends and lengths.
fn ics_lines(body: &str) -> Vec<String> {
    assert!(body.ends_with("\r\n"));
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "line of {} octets: {line}", line.len());
        assert!(!line.contains('\n'), "bare LF in {line:?}");
    }
    body.replace("\r\n ", "").split("\r\n").filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[tokio::test]
async fn events_are_listed_filtered_and_exported_as_icalendar() {
    let app = TestApp::new().await;
    app.load_demo().await;
    let c = app.client();
    let all = c.get("/veranstaltungen").await;
    all.assert_status(200).assert_contains("Weihnachtsmarkt auf dem Marktplatz").assert_contains("Bürgerdialog");
    let training = c.get("/veranstaltungen?kategorie=fortbildung").await;
    training.assert_contains("Digitale Antragsverfahren").assert_contains("Ausgebucht").assert_lacks("Weihnachtsmarkt");
    c.get("/veranstaltungen?mandant=lindenbach").await.assert_contains("Weihnachtsmarkt").assert_lacks("Bürgerdialog");
    // The demo's events are 5 to 14 days ahead; a window of the next three days has none.
    let soon = c.get("/veranstaltungen?bis=2026-11-24").await;
    soon.assert_lacks("Weihnachtsmarkt").assert_lacks("Bürgerdialog");
    c.get("/veranstaltungen?kategorie=zirkus").await.assert_status(404);
    c.get("/veranstaltungen?von=morgen&bis=%3Cscript%3E").await.assert_status(200).assert_lacks("<script>");

    let feed = c.get("/veranstaltungen.ics?mandant=lindenbach").await;
    assert!(feed.header("content-type").unwrap().starts_with("text/calendar"));
    let lines = ics_lines(&feed.body);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert!(lines.contains(&"VERSION:2.0".to_owned()));
    assert!(lines.contains(&"TZID:Europe/Berlin".to_owned()));
    assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 1);
    // 7 days after 22 Nov 2026, 14:00 German time (CET).
    assert!(lines.contains(&"DTSTART;TZID=Europe/Berlin:20261129T140000".to_owned()), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("DTSTAMP:") && l.ends_with('Z')));
    assert!(lines.iter().any(|l| l.starts_with("UID:veranstaltung-") && l.contains('@')));

    let id = all.body.split("href=\"/veranstaltungen/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    c.get(&format!("/veranstaltungen/{id}"))
        .await
        .assert_status(200)
        .assert_contains(&format!("/veranstaltungen/{id}.ics"));
    let one = ics_lines(&c.get(&format!("/veranstaltungen/{id}.ics")).await.body);
    assert_eq!(one.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 1);
    assert!(one.contains(&format!("UID:veranstaltung-{id}@127.0.0.1")));
    c.get("/veranstaltungen/999999").await.assert_status(404);
    c.get("/veranstaltungen/abc.ics").await.assert_status(404);
}

/// Registers someone; returns the cancellation link's path.
async fn register(c: &Client, event: &str, name: &str, email: &str) -> (String, testkit::TestResponse) {
    let res = c.post_form(&format!("/veranstaltungen/{event}/anmeldung"), &[("name", name), ("email", email)]).await;
    let link = res
        .body
        .split("/veranstaltungen/abmelden/")
        .nth(1)
        .map(|rest| format!("/veranstaltungen/abmelden/{}", rest.split(['"', '<']).next().unwrap()))
        .unwrap_or_default();
    (link, res)
}

#[tokio::test]
async fn a_full_event_takes_a_waiting_list_that_moves_up_when_someone_cancels() {
    let (app, c, pw) = editor().await;
    let fields = [
        ("title", "Workshop Bürgerhaushalt"),
        ("slug", "workshop-buergerhaushalt"),
        ("summary", "Wie der Haushalt entsteht."),
        ("category", "beteiligung"),
        ("place", "Kreishaus, Raum 2"),
        ("starts", "2026-12-10T18:00"),
        ("ends", "2026-12-10T20:00"),
        ("capacity", "2"),
        ("body", ""),
        ("aktion", "speichern"),
    ];
    let id = saved_id(&c.post_form("/verwaltung/inhalte/kreis/veranstaltungen/neu", &fields).await);
    c.post_form(
        &format!("/verwaltung/inhalte/kreis/veranstaltungen/{id}/veroeffentlichen"),
        &[("aktion", "veroeffentlichen")],
    )
    .await
    .assert_status(303);
    let citizen = app.client();
    let bad = citizen
        .post_form(&format!("/veranstaltungen/{id}/anmeldung"), &[("name", "Eva"), ("email", "kein-mail")])
        .await;
    bad.assert_status(422).assert_contains("value=\"Eva\"").assert_contains("E-Mail-Adresse");
    let (anna, res) = register(&citizen, &id, "Anna Acker", "anna@lindenbach.example").await;
    res.assert_status(200).assert_contains("Sie sind angemeldet");
    let (_, res) = register(&citizen, &id, "Bert Bach", "bert@lindenbach.example").await;
    res.assert_contains("Sie sind angemeldet");
    let (carl, res) = register(&citizen, &id, "Carl Claus", "carl@hohenmoor.example").await;
    res.assert_contains("Warteliste");
    let (_, twice) = register(&citizen, &id, "Carl Claus", "Carl@Hohenmoor.example").await;
    twice.assert_status(409).assert_contains("schon jemand angemeldet");
    citizen.get(&format!("/veranstaltungen/{id}")).await.assert_contains("Ausgebucht");
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 3);
    assert_eq!(mails[0].0, "anna@lindenbach.example");
    assert!(mails[0].2.contains(&anna[1..]), "the mail carries the cancellation link");
    assert!(mails[2].1.starts_with("Auf der Warteliste"));

    // A mail scanner following the link cancels nothing; the form does.
    citizen.get(&anna).await.assert_status(200).assert_contains("Ja, abmelden");
    assert_eq!(outbox(&app).await.len(), 3);
    citizen.post_form(&anna, &[]).await.assert_status(303);
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 4);
    assert_eq!(mails[3].0, "carl@hohenmoor.example");
    assert!(mails[3].1.starts_with("Platz frei"));
    citizen.post_form(&anna, &[]).await.assert_status(303);
    assert_eq!(outbox(&app).await.len(), 4, "cancelling twice moves nobody");
    citizen.get(&anna).await.assert_contains("bereits zurückgezogen");
    citizen.get("/veranstaltungen/abmelden/unbekannt").await.assert_status(404);

    let csv = c.get(&format!("/verwaltung/inhalte/kreis/teilnehmende/{id}.csv")).await;
    csv.assert_status(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let rows: Vec<&str> = csv.body.lines().collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[1].contains("Anna Acker") && rows[1].contains("abgemeldet"));
    assert!(rows[3].contains("Carl Claus") && rows[3].contains(";angemeldet;"));
    let kreis = app.tenant_id("kreis").await;
    let last = kernel::audit::recent(&app.kernel.db, kreis, 1).await.unwrap();
    assert_eq!(last[0].action, "portal.event.participants_read");
    assert!(!carl.is_empty());

    // Another tenant's staff and anonymous visitors do not get the list.
    let town = app.client();
    town.login(TOWN_ADMIN, &pw).await;
    town.get(&format!("/verwaltung/inhalte/kreis/teilnehmende/{id}.csv")).await.assert_status(403);
    town.get(&format!("/verwaltung/inhalte/kreis/veranstaltungen/{id}")).await.assert_status(403);
    town.get(&format!("/verwaltung/inhalte/lindenbach/teilnehmende/{id}")).await.assert_status(404);
    let anonymous = app.client().get(&format!("/verwaltung/inhalte/kreis/teilnehmende/{id}.csv")).await;
    assert_ne!(anonymous.status, 200);
}

#[tokio::test]
async fn more_places_move_people_up_from_the_waiting_list() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();
    c.login(COUNTY_EDITOR, &pw).await;
    let training = c.get("/veranstaltungen?kategorie=fortbildung").await;
    let id = training.body.split("href=\"/veranstaltungen/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let page = c.get(&format!("/verwaltung/inhalte/kreis/teilnehmende/{id}")).await;
    page.assert_contains("Warteliste: 2");
    let form = c.get(&format!("/verwaltung/inhalte/kreis/veranstaltungen/{id}")).await;
    let value = |name: &str| {
        let after = form.body.split(&format!("name=\"{name}\"")).nth(1).unwrap();
        after.split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
    };
    let fields: Vec<(String, String)> = ["title", "slug", "summary", "place", "starts", "ends"]
        .iter()
        .map(|n| ((*n).to_owned(), value(n).replace("&#58;", ":").replace("&#45;", "-")))
        .chain([
            ("category".into(), "fortbildung".into()),
            ("capacity".into(), "13".into()),
            ("aktion".into(), "speichern".into()),
        ])
        .collect();
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post_form(&format!("/verwaltung/inhalte/kreis/veranstaltungen/{id}"), &refs).await.assert_status(303);
    c.get(&format!("/verwaltung/inhalte/kreis/teilnehmende/{id}")).await.assert_contains("Warteliste: 1");
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].1.starts_with("Platz frei"));
}

#[tokio::test]
async fn the_demo_has_legal_pages_a_fully_booked_training_and_news_on_the_start_page() {
    let app = TestApp::new().await;
    app.load_demo().await;
    let c = app.client();
    let home = c.get("/").await;
    home.assert_contains("Aktuelles")
        .assert_contains("Nächste Veranstaltungen")
        .assert_contains("href=\"/seiten/impressum\"");
    c.get("/seiten/impressum").await.assert_status(200).assert_contains("Kreishausplatz 1");
    c.get("/seiten/impressum?mandant=lindenbach").await.assert_status(200).assert_contains("Marktstraße 3");
    c.get("/seiten/datenschutz").await.assert_status(200);
    c.get("/seiten/barrierefreiheit").await.assert_status(200);
    c.get("/seiten/gibt-es-nicht").await.assert_status(404);
    let training = c.get("/veranstaltungen?kategorie=fortbildung").await;
    training.assert_contains("Ausgebucht");
    // Loading the demo again adds nothing twice.
    app.load_demo().await;
    assert_eq!(c.get("/aktuelles.atom").await.body.matches("<entry>").count(), 4);
}

#[tokio::test]
async fn one_search_finds_services_news_events_and_pages_and_says_what_each_is() {
    let app = TestApp::new().await;
    app.load_demo().await;
    let c = app.client();
    let page = c.get("/leistungen?q=weihnachtsmarkt").await;
    page.assert_status(200).assert_contains("Weihnachtsmarkt auf dem Marktplatz").assert_contains(">Veranstaltung<");
    c.get("/leistungen?q=impressum").await.assert_contains(">Seite<").assert_contains("href=\"/seiten/impressum\"");
    let json = c.get_json("/api/v1/search?q=wohngeld").await.json();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items[0]["kind"], "service", "{json}");
    assert!(items.iter().any(|i| i["kind"] == "news" && i["title"].as_str().unwrap().contains("Wohngeld")), "{json}");
    // Services keep their ranking: the first result is what it was without content.
    let res = c.get("/leistungen?q=perso+beantragen").await;
    let first = res.body.split("<li class=\"kh-result\">").nth(1).unwrap();
    assert!(first.contains("href=\"/leistungen/personalausweis-beantragen"));
    for q in ["", "!!!", "<script>alert(1)</script>", &"x".repeat(10_000)] {
        let res = c.get(&format!("/api/v1/search?q={}", web::url_encode(q))).await;
        res.assert_status(200).assert_lacks("<script>");
    }
}

#[tokio::test]
async fn concurrent_registrations_never_give_away_more_places_than_there_are() {
    let (app, c, _) = editor().await;
    let fields = [
        ("title", "Führung durch das Archiv"),
        ("slug", "archivfuehrung"),
        ("summary", "Ein Blick hinter die Kulissen."),
        ("category", "kultur"),
        ("place", "Kreisarchiv"),
        ("starts", "2026-12-12T11:00"),
        ("ends", "2026-12-12T12:00"),
        ("capacity", "3"),
        ("body", ""),
        ("aktion", "speichern"),
    ];
    let id = saved_id(&c.post_form("/verwaltung/inhalte/kreis/veranstaltungen/neu", &fields).await);
    let publish = format!("/verwaltung/inhalte/kreis/veranstaltungen/{id}/veroeffentlichen");
    c.post_form(&publish, &[("aktion", "veroeffentlichen")]).await.assert_status(303);
    let event: i64 = id.parse().unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let kernel = app.kernel.clone();
            tokio::spawn(async move {
                let signup = portal::content::model::Signup {
                    name: format!("Person {i}"),
                    email: format!("person{i}@auenthal.example"),
                    organisation: String::new(),
                };
                portal::content::service::register(&kernel, "https://portal.example", event, &signup).await
            })
        })
        .collect();
    let mut confirmed = 0;
    for t in tasks {
        if t.await.unwrap().expect("registered").status == portal::content::model::Status::Confirmed {
            confirmed += 1;
        }
    }
    assert_eq!(confirmed, 3);
    let kreis = app.tenant_id("kreis").await;
    let list = portal::content::store::registrations(&app.kernel.db, kreis, event).await.unwrap();
    assert_eq!(list.len(), 10);
    assert_eq!(list.iter().filter(|r| r.status == portal::content::model::Status::Confirmed).count(), 3);
}

#[tokio::test]
async fn the_event_editor_keeps_what_was_typed_and_names_every_problem() {
    let (_app, c, _) = editor().await;
    let fields = [
        ("title", "Lesung"),
        ("slug", "Lesung am Abend"),
        ("summary", "Eine Lesung."),
        ("category", "kultur"),
        ("place", ""),
        ("starts", "2026-12-10T20:00"),
        ("ends", "2026-12-10T19:00"),
        ("capacity", "viele"),
        ("body", "Mit *Musik*."),
        ("aktion", "speichern"),
    ];
    let res = c.post_form("/verwaltung/inhalte/kreis/veranstaltungen/neu", &fields).await;
    res.assert_status(422)
        .assert_contains("id=\"fehler\"")
        .assert_contains("value=\"Lesung am Abend\"")
        .assert_contains("Das Ende liegt vor dem Beginn")
        .assert_contains("Die Zahl der Plätze")
        .assert_contains("Bitte füllen Sie dieses Feld aus")
        .assert_contains("Mit *Musik*.");
    let mut preview: Vec<(&str, &str)> = fields.to_vec();
    preview.retain(|(k, _)| *k != "aktion");
    preview.push(("aktion", "vorschau"));
    c.post_form("/verwaltung/inhalte/kreis/veranstaltungen/neu", &preview)
        .await
        .assert_status(200)
        .assert_contains("<em>Musik</em>");
    // Short names are unique per kind and tenant: news may share an event's, a second Impressum is refused.
    let taken = [
        ("title", "Noch ein Dialog"),
        ("slug", "buergerdialog-radwege"),
        ("summary", "Doppelt."),
        ("body", ""),
        ("aktion", "speichern"),
    ];
    c.post_form("/verwaltung/inhalte/kreis/aktuelles/neu", &taken).await.assert_status(303);
    let page = [("title", "Impressum neu"), ("slug", "impressum"), ("body", "Text"), ("aktion", "speichern")];
    c.post_form("/verwaltung/inhalte/kreis/seiten/neu", &page)
        .await
        .assert_status(422)
        .assert_contains("Diesen Kurznamen gibt es bei Ihnen schon");
}
