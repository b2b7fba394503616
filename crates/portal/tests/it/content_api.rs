//! The JSON API of news and events: paging with the cursor, tenant and other filters, the
//! error envelope, and that drafts and withdrawn items never appear.

use serde_json::Value;
use testkit::{Client, TestApp};

const COUNTY_EDITOR: &str = "redaktion@kreis-auenthal.example";

/// Every page of a list, following `next_cursor`; each page at most `limit` items.
async fn all_pages(c: &Client, path: &str, limit: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = String::new();
    for _ in 0..50 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let res = c.get(&format!("{path}{sep}limit={limit}&cursor={next}")).await;
        res.assert_status(200);
        let page = res.json();
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= limit, "{page}");
        items.extend(got.iter().cloned());
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(cursor) => next = web::url_encode(cursor),
            None => return items,
        }
    }
    panic!("the cursor never ends");
}

fn titles(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["title"].as_str().unwrap()).collect()
}

/// Saves a news item or event as a draft in the county's editor; returns its id.
async fn draft(c: &Client, kind: &str, fields: &[(&str, &str)]) -> String {
    let res = c.post_form(&format!("/verwaltung/inhalte/kreis/{kind}/neu"), fields).await;
    res.assert_status(303);
    res.location().unwrap().rsplit('/').next().unwrap().to_owned()
}

async fn set_public(c: &Client, kind: &str, id: &str, public: bool) {
    let action = if public { "veroeffentlichen" } else { "zurueckziehen" };
    let path = format!("/verwaltung/inhalte/kreis/{kind}/{id}/veroeffentlichen");
    c.post_form(&path, &[("aktion", action)]).await.assert_status(303);
}

#[tokio::test]
async fn the_news_api_pages_newest_first_and_never_shows_drafts() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let editor = app.client();
    editor.login(COUNTY_EDITOR, &pw).await;
    let c = app.client();

    let first = c.get("/api/v1/news").await;
    first.assert_status(200);
    let all = first.json();
    assert!(all.get("next_cursor").is_none(), "one page holds the demo's news: {all}");
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "three county news items and one of Lindenbach");
    for i in items {
        let id = i["id"].as_i64().unwrap();
        assert_eq!(i["url"], format!("/aktuelles/{id}"));
        assert!(kernel::Timestamp::parse_rfc3339(i["published"].as_str().unwrap()).is_some(), "{i}");
        assert!(!i["summary"].as_str().unwrap().is_empty());
    }
    assert_eq!(items.iter().filter(|i| i["tenant"] == "lindenbach").count(), 1);
    assert_eq!(items.iter().filter(|i| i["tenant"] == "kreis").count(), 3);

    // A draft stays out; once published it comes first; withdrawn it is gone again.
    let fields = [
        ("title", "Neue Sprechzeiten im Jugendamt"),
        ("slug", "sprechzeiten-jugendamt"),
        ("summary", "Ab Januar auch samstags."),
        ("body", ""),
        ("aktion", "speichern"),
    ];
    let id = draft(&editor, "aktuelles", &fields).await;
    assert!(!titles(&all_pages(&c, "/api/v1/news", 500).await).contains(&"Neue Sprechzeiten im Jugendamt"));
    app.kernel.clock.advance_secs(60);
    set_public(&editor, "aktuelles", &id, true).await;
    let paged = all_pages(&c, "/api/v1/news", 2).await;
    assert_eq!(paged.len(), 5);
    assert_eq!(paged[0]["title"], "Neue Sprechzeiten im Jugendamt");
    assert_eq!(paged[0]["id"].as_i64().unwrap().to_string(), id);
    let mut ids: Vec<i64> = paged.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let published: Vec<&str> = paged.iter().map(|i| i["published"].as_str().unwrap()).collect();
    assert!(published.windows(2).all(|w| w[0] >= w[1]), "newest first: {published:?}");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no item twice across pages");
    set_public(&editor, "aktuelles", &id, false).await;
    assert!(!titles(&all_pages(&c, "/api/v1/news", 1).await).contains(&"Neue Sprechzeiten im Jugendamt"));

    let town = c.get("/api/v1/news?tenant=lindenbach").await.json();
    let town = town["items"].as_array().unwrap();
    assert_eq!(town.len(), 1);
    assert_eq!(town[0]["tenant"], "lindenbach");

    let unknown = c.get("/api/v1/news?tenant=gibt-es-nicht").await;
    unknown.assert_status(404);
    assert_eq!(unknown.json()["error"]["code"], "not_found");
    let bad = c.get("/api/v1/news?cursor=%3Cscript%3E").await;
    bad.assert_status(422).assert_lacks("<script>");
    let error = &bad.json()["error"];
    assert_eq!(error["code"], "content.cursor_invalid");
    assert_eq!(error["fields"][0]["field"], "cursor");
}

#[tokio::test]
async fn the_events_api_lists_upcoming_events_with_their_registration_state_and_filters() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    let c = app.client();

    let all = c.get("/api/v1/events").await.json();
    let items = all["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 4, "{all}");
    let starts: Vec<&str> = items.iter().map(|i| i["start"].as_str().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "by start: {starts:?}");
    assert_eq!(titles(&all_pages(&c, "/api/v1/events", 1).await), titles(&items), "paging keeps the order");

    let training = c.get("/api/v1/events?category=fortbildung").await.json();
    let training = training["items"].as_array().unwrap();
    assert_eq!(training.len(), 1);
    let t = &training[0];
    assert_eq!(t["category"], "fortbildung");
    assert_eq!(t["tenant"], "kreis");
    assert_eq!(t["registration"]["state"], "waiting_list", "the county's training is fully booked: {t}");
    assert_eq!(t["registration"]["capacity"], 12);
    assert_eq!(t["registration"]["free_places"], 0);
    assert_eq!(t["registration"]["waiting"], 2);
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["url"], format!("/veranstaltungen/{id}"));
    assert_eq!(t["ics_url"], format!("/veranstaltungen/{id}.ics"));
    c.get(t["ics_url"].as_str().unwrap()).await.assert_status(200).assert_contains("BEGIN:VEVENT");
    assert!(t["end"].as_str().unwrap() > t["start"].as_str().unwrap());
    assert!(!t["place"].as_str().unwrap().is_empty());
    let open: Vec<&Value> = items.iter().filter(|i| i["registration"]["state"] == "open").collect();
    assert_eq!(open.len(), 1, "one event has free places");
    assert_eq!(open[0]["registration"]["free_places"], 20);
    assert_eq!(items.iter().filter(|i| i["registration"].is_null()).count(), 2, "two need no registration");

    let town = c.get("/api/v1/events?tenant=lindenbach").await.json();
    assert_eq!(titles(town["items"].as_array().unwrap()), ["Weihnachtsmarkt auf dem Marktplatz"]);
    // The demo's events are 5 to 14 days ahead (from 22 Nov 2026).
    let soon = c.get("/api/v1/events?to=2026-11-24").await.json();
    assert!(soon["items"].as_array().unwrap().is_empty(), "{soon}");
    let late = c.get("/api/v1/events?from=2026-12-01").await.json();
    assert_eq!(late["items"].as_array().unwrap().len(), 2, "{late}");

    let bad = c.get("/api/v1/events?category=zirkus&from=morgen&to=2026-13-45&cursor=x").await;
    bad.assert_status(422);
    let error = &bad.json()["error"];
    assert_eq!(error["code"], "invalid");
    let fields: Vec<&str> = error["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["category", "from", "to", "cursor"]);
    c.get("/api/v1/events?tenant=gibt-es-nicht").await.assert_status(404);

    // A draft event never appears; published it does, withdrawn it is gone.
    let editor = app.client();
    editor.login(COUNTY_EDITOR, &pw).await;
    let fields = [
        ("title", "Sprechstunde des Landrats"),
        ("slug", "sprechstunde-landrat"),
        ("summary", "Fragen an den Landrat."),
        ("category", "beteiligung"),
        ("place", "Kreishaus, Saal 1"),
        ("starts", "2026-12-03T17:00"),
        ("ends", "2026-12-03T18:00"),
        ("capacity", ""),
        ("body", ""),
        ("aktion", "speichern"),
    ];
    let id = draft(&editor, "veranstaltungen", &fields).await;
    let listed = |body: Value| titles(body["items"].as_array().unwrap()).contains(&"Sprechstunde des Landrats");
    assert!(!listed(c.get("/api/v1/events?limit=500").await.json()));
    set_public(&editor, "veranstaltungen", &id, true).await;
    assert!(listed(c.get("/api/v1/events?category=beteiligung").await.json()));
    set_public(&editor, "veranstaltungen", &id, false).await;
    assert!(!listed(c.get("/api/v1/events?limit=500").await.json()));
}
