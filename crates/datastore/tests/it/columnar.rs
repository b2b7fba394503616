//! Grouping in memory (`datastore::columnar`) gives the answer of the database, cell for cell
//! and in the same order, for every kind of group-by the planner accepts without a filter.

use datastore::columnar;
use datastore::query::{AggFn, Aggregate, Catalogue, DataQuery, plan};
use datastore::service;
use kernel::Engine;
use testkit::TestApp;

use crate::{county_editor, load, publish, write};

/// 3,000 rows with repeated text, empty cells, small counts, decimals, booleans and dates.
fn table() -> String {
    let mut csv = String::from("ags;gemeinde;klasse;kraftstoff;anzahl;wert;barrierefrei;stichtag\n");
    let places = ["Lindenbach", "Hohenmoor", "Eisen", "Ährenfeld", "auenthal"];
    let fuels = ["Benzin", "Diesel", "", "Elektro", "Hybrid"];
    let mut seed: u64 = 7;
    for i in 0..3_000u64 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let r = seed >> 33;
        let place = (r % 5) as usize;
        let anzahl = if r.is_multiple_of(7) { String::new() } else { (r % 40).to_string() };
        csv.push_str(&format!(
            "0599900{place};{};{};{};{anzahl};{},{:02};{};2026-0{}-1{}\n",
            places[place],
            ["Pkw", "Lkw", "Krad"][(r / 5 % 3) as usize],
            fuels[(r / 15 % 5) as usize],
            r % 1000,
            i % 100,
            if r.is_multiple_of(3) { "ja" } else { "nein" },
            1 + r % 9,
            r % 10,
        ));
    }
    csv
}

fn agg(func: AggFn, column: Option<&str>) -> Aggregate {
    Aggregate { func, column: column.map(str::to_owned) }
}

#[tokio::test]
async fn grouping_in_memory_answers_as_the_database_does() {
    let app = TestApp::new().await;
    if app.kernel.db.engine() != Engine::Sqlite {
        return; // grouping in memory is SQLite's (PostgreSQL groups by hashing itself)
    }
    let proof = county_editor(&app).await;
    let (id, report) = load(&app, &proof, "Bestand", &write(&app, "bestand.csv", table().as_bytes())).await;
    assert_eq!(report.bad_rows, 0, "{:?}", report.errors);
    publish(&app, &proof, &id, 3, &["anzahl"]).await;
    let r = service::resource_for(&app.kernel, service::Reader::Public, &id).await.unwrap();
    let table = r.table_name.clone().unwrap();
    let all = vec![
        agg(AggFn::Count, None),
        agg(AggFn::Count, Some("kraftstoff")),
        agg(AggFn::Sum, Some("anzahl")),
        agg(AggFn::Avg, Some("anzahl")),
        agg(AggFn::Min, Some("anzahl")),
        agg(AggFn::Max, Some("wert")),
        agg(AggFn::Min, Some("gemeinde")),
        agg(AggFn::Max, Some("barrierefrei")),
        agg(AggFn::Min, Some("stichtag")),
    ];
    let groups: [&[&str]; 6] =
        [&[], &["kraftstoff"], &["gemeinde", "klasse"], &["anzahl"], &["barrierefrei", "stichtag"], &["wert"]];
    let mut cases = 0;
    for group in groups {
        for (sort, limit, offset) in
            [(None, None, None), (Some(true), Some(4), Some(2)), (Some(false), Some(3), Some(500))]
        {
            let q = DataQuery {
                group_by: group.iter().map(|g| (*g).to_owned()).collect(),
                aggregates: all.clone(),
                sort: match (group.first(), sort) {
                    (Some(g), Some(desc)) => vec![((*g).to_owned(), desc)],
                    _ => Vec::new(),
                },
                limit,
                offset,
                ..Default::default()
            };
            let p = plan(&q, &Catalogue { columns: &r.columns, k: r.k_min }, None).unwrap();
            assert!(columnar::applies(&p, r.row_count), "{q:?}");
            let in_memory =
                columnar::run(&app.kernel.db, &p, &table, r.row_count).await.unwrap().expect("an exact answer");
            let database = datastore::store::run(&app.kernel.db, &p, &table).await.unwrap();
            assert_eq!(in_memory, database, "{q:?}");
            cases += 1;
        }
    }
    assert_eq!(cases, 18);
    // Sums of decimals, filters and full text stay with the database.
    let decimal_sum = DataQuery { aggregates: vec![agg(AggFn::Sum, Some("wert"))], ..Default::default() };
    let p = plan(&decimal_sum, &Catalogue { columns: &r.columns, k: r.k_min }, None).unwrap();
    assert!(!columnar::applies(&p, r.row_count));
}
