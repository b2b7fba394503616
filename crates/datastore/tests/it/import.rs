use datastore::model::{ColumnType, DecimalMark};
use datastore::query::DataQuery;
use datastore::service::{self, Reader};
use testkit::TestApp;

use crate::{county_editor, load, sample, write};

#[tokio::test]
async fn a_genesis_table_with_preamble_two_header_lines_and_decimal_commas_imports() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let path = sample("csvw-workshop/44211-11i_00.csv");
    let (id, report) = load(&app, &proof, "Bruttoanlageninvestitionen", &path).await;
    let text = std::fs::read_to_string(&path).unwrap();
    let data_lines = text.lines().skip(6).filter(|l| !l.trim().is_empty()).count() as i64;
    assert_eq!(report.rows, data_lines);
    assert_eq!(report.bad_rows, 0, "{:?}", report.errors);
    let types: Vec<ColumnType> = report.columns.iter().map(|c| c.ty).collect();
    assert_eq!(
        types,
        [
            ColumnType::Integer,
            ColumnType::Code,
            ColumnType::Text,
            ColumnType::Integer,
            ColumnType::Integer,
            ColumnType::Decimal
        ]
    );
    assert_eq!(report.columns[5].mark, DecimalMark::Comma);
    assert_eq!(report.columns[3].label, "Aktivierte Bruttoanlageinvestitionen (Tsd. EUR)");
    let q = DataQuery {
        filters: vec![datastore::query::Filter {
            column: report.columns[1].name.clone(),
            op: datastore::query::Op::Eq,
            value: "05".into(),
        }],
        sort: vec![(report.columns[0].name.clone(), true)],
        limit: Some(1),
        ..DataQuery::default()
    };
    let r = service::query(&app.kernel, Reader::staff(&proof), &id, &q).await.unwrap();
    // The first data line of the file: 2022;05;Nordrhein-Westfalen;671743;6695;3,3
    let first: Vec<&str> = text.lines().nth(6).unwrap().split(';').collect();
    assert_eq!(r.records[0][0].display(), first[0]);
    assert_eq!(r.records[0][3].display(), first[3]);
    assert_eq!(r.records[0][5].as_f64(), Some(first[5].replace(',', ".").parse().unwrap()));
}

#[tokio::test]
async fn rostock_construction_sites_with_coordinates_keys_and_multiline_text_import() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let (_, report) = load(&app, &proof, "Baustellen", &sample("csvw-workshop/export_data.csv")).await;
    assert_eq!(report.bad_rows, 0, "{:?}", report.errors);
    let ty = |name: &str| report.columns.iter().find(|c| c.name == name).unwrap().ty;
    assert_eq!(ty("latitude"), ColumnType::Latitude);
    assert_eq!(ty("longitude"), ColumnType::Longitude);
    assert_eq!(ty("kreis_schluessel"), ColumnType::Code);
    assert_eq!(ty("gemeinde_schluessel"), ColumnType::Code);
    assert_eq!(ty("baumassnahme"), ColumnType::Text);
    // Python's csv module counts 173 records after the header (some span several lines).
    assert_eq!(report.rows, 173);
}

#[tokio::test]
async fn the_directories_of_open_data_portals_import_every_row() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    for country in ["de", "at", "ch", "eu"] {
        let path = sample(&format!("govdata-monitor/opendataportals.{country}.csv"));
        let (_, report) = load(&app, &proof, country, &path).await;
        assert_eq!(report.bad_rows, 0, "{country}: {:?}", report.errors);
        let lines = std::fs::read_to_string(&path).unwrap().lines().count() as i64;
        assert_eq!(report.rows, lines - 1, "{country}");
    }
    let (_, de) = load(&app, &proof, "Portale", &sample("govdata-monitor/opendataportals.de.csv")).await;
    assert_eq!(de.columns.iter().find(|c| c.name == "rs").unwrap().ty, ColumnType::Code);
}

#[tokio::test]
async fn every_bad_row_is_reported_with_its_line_and_the_good_ones_stay() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let mut bytes = b"gemeinde;einwohner;stand\n".to_vec();
    // Enough good rows that the broken byte lies beyond what the sniffer reads.
    for i in 0..5000 {
        bytes.extend_from_slice(format!("Ort {i};{};01.01.2024\n", 1000 + i).as_bytes());
    }
    bytes.extend_from_slice(b"Zu kurz;5\n");
    bytes.extend_from_slice(b"Falsch;viele;01.01.2024\n");
    bytes.extend_from_slice(b"Kaputt \xff;7;01.01.2024\n");
    bytes.extend_from_slice(b"\"offen;8;01.01.2024\n");
    let path = write(&app, "bad.csv", &bytes);
    let (id, first) = load(&app, &proof, "Einwohner", &path).await;
    // One word among the numbers makes the whole column text; staff correct it to integer.
    let einwohner = first.columns.iter().position(|c| c.name == "einwohner").unwrap();
    assert_eq!(first.columns[einwohner].ty, ColumnType::Text);
    assert_eq!(first.bad_rows, 3);
    let mut columns = first.columns.clone();
    columns[einwohner].ty = ColumnType::Integer;
    let report = service::import_now(&app.kernel, &proof, &id, Some(columns)).await.unwrap();
    assert_eq!(report.rows, 5000, "{:?}", report.errors);
    assert_eq!(report.bad_rows, 4);
    let found: Vec<(u64, &str)> = report.errors.iter().map(|e| (e.line, e.code.as_str())).collect();
    assert_eq!(
        found,
        [
            (5002, "datastore.wrong_field_count"),
            (5003, "datastore.not_an_integer"),
            (5004, "datastore.undecodable_byte"),
            (5005, "csv.unclosed_quote")
        ]
    );
    assert_eq!(report.errors[1].detail, "einwohner: viele");
    let (import, stored) = service::import_status(&app.kernel, &proof, &report.import_id).await.unwrap();
    assert_eq!((import.state.as_str(), import.rows_done, import.rows_bad), ("done", 5000, 4));
    assert_eq!(stored, report.errors);
}

#[tokio::test]
async fn a_windows_1252_file_keeps_its_umlauts() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let path = write(&app, "ansi.csv", b"Stadt;Betrag\r\nM\xfcnster;1.234,50\r\nK\xf6ln;7,25\r\n");
    let (id, report) = load(&app, &proof, "Ansi", &path).await;
    assert_eq!(report.rows, 2);
    let r = service::query(&app.kernel, Reader::staff(&proof), &id, &DataQuery::default()).await.unwrap();
    assert_eq!(r.records[0][0].display(), "Münster");
    assert_eq!(r.records[0][1].as_f64(), Some(1234.5));
    assert_eq!(r.records[1][0].display(), "Köln");
}

#[tokio::test]
async fn corrected_types_reimport_the_staged_file() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let path = write(&app, "codes.csv", b"nr,name\n1,eins\n2,zwei\n");
    let (id, report) = load(&app, &proof, "Nummern", &path).await;
    assert_eq!(report.columns[0].ty, ColumnType::Integer);
    let mut columns = report.columns.clone();
    columns[0].ty = ColumnType::Text;
    let again = service::import_now(&app.kernel, &proof, &id, Some(columns)).await.unwrap();
    assert_eq!(again.rows, 2);
    let r = service::own_resource(&app.kernel, &proof, &id).await.unwrap();
    assert_eq!(r.columns[0].ty, ColumnType::Text);
    assert_eq!(service::imports_of(&app.kernel, &proof, &id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_file_from_a_url_is_streamed_in_and_internal_addresses_are_refused() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let csv = "kreis;einwohner\nAuenthal;310000\nNachbarkreis;280000\n";
    let router = axum::Router::new().route("/datentabellen.csv", axum::routing::get(move || async move { csv }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let url = format!("http://{addr}/datentabellen.csv");
    let staging = app.test_db.dir.path().join("staging");
    let refused = service::stage_url(&url, &staging, false).await.unwrap_err();
    assert_eq!(refused.code(), "datastore.url_not_public");
    assert_eq!(service::stage_url("file:///etc/passwd", &staging, true).await.unwrap_err().code(), "datastore.bad_url");
    let path = service::stage_url(&url, &staging, true).await.unwrap();
    let (_, report) = load(&app, &proof, "Einwohner", &path).await;
    assert_eq!(report.rows, 2);
    assert_eq!(report.columns[1].ty, ColumnType::Integer);
}

#[tokio::test]
async fn an_import_interrupted_by_a_restart_is_read_again_from_its_staged_file() {
    let app = TestApp::new().await;
    let proof = county_editor(&app).await;
    let path = write(&app, "stand.csv", b"gemeinde;anzahl\nAuenthal;12\nLindenbach;7\n");
    let r = service::create_resource(&app.kernel, &proof, "Stand", "stand.csv", &path).await.unwrap();
    // A process stopped during the import: its row says running, no table was switched to.
    let dead = service::new_uuid();
    datastore::store::insert_import(&app.kernel.db, &dead, &r.id, proof.tenant(), Some(40), app.kernel.clock.now())
        .await
        .unwrap();
    // Another resource whose staged file is gone (on another node) is left alone.
    let gone = write(&app, "weg.csv", b"a\n1\n");
    let other = service::create_resource(&app.kernel, &proof, "Weg", "weg.csv", &gone).await.unwrap();
    let elsewhere = service::new_uuid();
    datastore::store::insert_import(
        &app.kernel.db,
        &elsewhere,
        &other.id,
        proof.tenant(),
        None,
        app.kernel.clock.now(),
    )
    .await
    .unwrap();
    std::fs::remove_file(&gone).unwrap();

    assert_eq!(service::resume_interrupted_imports(&app.kernel).await.unwrap(), 1);
    let mut imports = Vec::new();
    for _ in 0..200 {
        imports = service::imports_of(&app.kernel, &proof, &r.id).await.unwrap();
        if imports.iter().any(|i| i.state == "done") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let old = imports.iter().find(|i| i.id == dead).unwrap();
    assert_eq!((old.state.as_str(), old.message.as_deref()), ("failed", Some("datastore.interrupted")));
    assert!(imports.iter().any(|i| i.state == "done" && i.rows_done == 2), "{imports:?}");
    assert_eq!(service::own_resource(&app.kernel, &proof, &r.id).await.unwrap().row_count, 2);
    let left = service::imports_of(&app.kernel, &proof, &other.id).await.unwrap();
    assert_eq!(left[0].state, "running");
    // Nothing left to restart here.
    assert_eq!(service::resume_interrupted_imports(&app.kernel).await.unwrap(), 0);
}
