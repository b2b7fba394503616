//! The audit log: append-only, hash-chained per tenant, and `verify` finds tampering by
//! someone with direct database access.

use kernel::audit::{self, Actor, Break, ChainReport, Entry, NewEntry};
use kernel::{Db, Engine, TenantId, query};
use serde_json::json;
use testkit::START;

use crate::{setup, tenant};

/// Appends `n` entries to the tenant's chain, each in its own transaction, and returns their
/// sequence numbers.
async fn append(db: &Db, tenant: TenantId, n: usize) -> Vec<i64> {
    let actor = Actor { id: "staff:1".into(), name: "Erika Mustermann".into(), on_behalf_of: None };
    let mut seqs = Vec::with_capacity(n);
    for i in 0..n {
        let mut tx = db.begin().await.expect("begin");
        let entry = NewEntry {
            tenant,
            actor: &actor,
            action: "test.thing.changed",
            subject: "thing:1",
            details: json!({ "step": i }),
        };
        seqs.push(audit::append(&mut tx, START.plus_secs(i as i64), entry).await.expect("append"));
        tx.commit().await.expect("commit");
    }
    seqs
}

/// The verdict on one tenant's chain.
async fn report(db: &Db, tenant: TenantId) -> ChainReport {
    let reports = audit::verify(db).await.expect("verify");
    reports.into_iter().find(|r| r.tenant == tenant).expect("a report for the tenant")
}

/// The tenant's entries, oldest first.
async fn entries(db: &Db, tenant: TenantId) -> Vec<Entry> {
    let mut all = audit::recent(db, tenant, 1000).await.expect("recent");
    all.reverse();
    all
}

/// A tenant with a chain of five entries.
async fn chain_of_five(db: &Db) -> TenantId {
    let t = tenant(db, "auenthal").await;
    append(db, t, 5).await;
    t
}

/// What an attacker with database access does first: switch off the append-only triggers.
async fn disable_append_only_triggers(db: &Db) {
    let sql = match db.engine() {
        Engine::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        Engine::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER USER",
    };
    db.execute_script(sql.to_owned()).await.expect("disable triggers");
}

async fn delete_entries(db: &Db, tenant: TenantId, from_seq: i64, to_seq: i64) -> u64 {
    db.execute(
        query("DELETE FROM audit_log WHERE tenant_id = $1 AND seq BETWEEN $2 AND $3")
            .bind(tenant)
            .bind(from_seq)
            .bind(to_seq),
    )
    .await
    .expect("delete entries")
}

async fn insert_raw(db: &Db, e: &Entry) {
    db.execute(
        query(
            "INSERT INTO audit_log (tenant_id, seq, at, actor, actor_name, on_behalf_of, action, subject, details, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(e.tenant)
        .bind(e.seq)
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.actor_name)
        .bind(e.on_behalf_of.clone())
        .bind(&e.action)
        .bind(&e.subject)
        .bind(&e.details)
        .bind(&e.prev_hash)
        .bind(&e.hash),
    )
    .await
    .expect("insert forged entry");
}

/// A forged copy of `e` at `seq` linking to `prev_hash`, with its own hash computed correctly.
fn forge(e: &Entry, seq: i64, details: &str, prev_hash: &str) -> Entry {
    let mut f = Entry { seq, details: details.to_owned(), prev_hash: prev_hash.to_owned(), ..e.clone() };
    f.hash = f.compute_hash();
    f
}

#[tokio::test]
async fn appended_entries_are_numbered_from_one_and_form_an_intact_chain() {
    let s = setup().await;
    let t = tenant(s.db(), "auenthal").await;
    assert_eq!(append(s.db(), t, 4).await, vec![1, 2, 3, 4]);

    let log = entries(s.db(), t).await;
    assert_eq!(log[0].prev_hash, audit::GENESIS);
    for pair in log.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash, "entry {} links to its predecessor", pair[1].seq);
    }
    assert_eq!(log[3].details, r#"{"step":3}"#);
    assert_eq!(log[3].actor_name, "Erika Mustermann");

    let r = report(s.db(), t).await;
    assert_eq!((r.entries, r.first_break), (4, None));
}

#[tokio::test]
async fn a_batch_of_entries_for_two_tenants_continues_both_chains_in_order() {
    let s = setup().await;
    let (a, b) = (tenant(s.db(), "auenthal").await, tenant(s.db(), "lindenbach").await);
    append(s.db(), a, 2).await;
    let actor = Actor::system();
    let entry = |tenant, subject: &'static str| NewEntry {
        tenant,
        actor: &actor,
        action: "test.batch",
        subject,
        details: json!({ "subject": subject }),
    };
    let batch = [
        (START.plus_secs(10), entry(b, "b1")),
        (START.plus_secs(10), entry(a, "a3")),
        (START.plus_secs(11), entry(b, "b2")),
        (START.plus_secs(11), entry(a, "a4")),
    ];
    let mut tx = s.db().begin().await.expect("begin");
    assert_eq!(audit::append_many(&mut tx, &batch).await.expect("append"), vec![1, 3, 2, 4]);
    tx.commit().await.expect("commit");
    // One entry more after the batch continues the chain.
    assert_eq!(append(s.db(), a, 1).await, vec![5]);
    let subjects: Vec<String> = entries(s.db(), a).await.into_iter().map(|e| e.subject).collect();
    assert_eq!(subjects[2..4], ["a3", "a4"]);
    for t in [a, b] {
        let r = report(s.db(), t).await;
        assert_eq!(r.first_break, None, "{t:?}");
    }
    assert_eq!(report(s.db(), a).await.entries, 5);
    assert_eq!(report(s.db(), b).await.entries, 2);
}

#[tokio::test]
async fn an_entry_appended_in_a_rolled_back_transaction_leaves_no_trace() {
    let s = setup().await;
    let t = tenant(s.db(), "auenthal").await;
    append(s.db(), t, 2).await;
    {
        let mut tx = s.db().begin().await.expect("begin");
        let actor = Actor::system();
        let e = NewEntry { tenant: t, actor: &actor, action: "test.undone", subject: "thing:1", details: json!({}) };
        assert_eq!(audit::append(&mut tx, START, e).await.expect("append"), 3);
        // Dropped without commit: rolled back.
    }
    assert_eq!(append(s.db(), t, 1).await, vec![3]);
    let r = report(s.db(), t).await;
    assert_eq!((r.entries, r.first_break), (3, None));
}

#[tokio::test]
async fn each_tenant_has_its_own_chain_even_when_appends_interleave() {
    let s = setup().await;
    let (a, b) = (tenant(s.db(), "auenthal").await, tenant(s.db(), "lindenbach").await);
    for _ in 0..3 {
        append(s.db(), a, 2).await;
        append(s.db(), b, 1).await;
    }
    let reports = audit::verify(s.db()).await.expect("verify");
    let summary: Vec<_> = reports.iter().map(|r| (r.tenant, r.entries, r.first_break.clone())).collect();
    assert_eq!(summary, vec![(a, 6, None), (b, 3, None)]);
    assert_eq!(entries(s.db(), b).await.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
}

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_audit_entries() {
    let s = setup().await;
    let t = chain_of_five(s.db()).await;

    let update =
        s.db().execute(query("UPDATE audit_log SET details = '{}' WHERE tenant_id = $1 AND seq = 3").bind(t)).await;
    let err = update.expect_err("UPDATE on audit_log must be refused");
    assert!(err.to_string().contains("append-only"), "{err}");

    let delete = s.db().execute(query("DELETE FROM audit_log WHERE tenant_id = $1").bind(t)).await;
    let err = delete.expect_err("DELETE on audit_log must be refused");
    assert!(err.to_string().contains("append-only"), "{err}");

    let r = report(s.db(), t).await;
    assert_eq!((r.entries, r.first_break), (5, None));
}

#[tokio::test]
async fn a_changed_audit_entry_is_reported_with_its_sequence_number() {
    let s = setup().await;
    let t = chain_of_five(s.db()).await;
    disable_append_only_triggers(s.db()).await;

    let n = s
        .db()
        .execute(query("UPDATE audit_log SET details = '{\"step\":99}' WHERE tenant_id = $1 AND seq = 3").bind(t))
        .await
        .expect("tamper");
    assert_eq!(n, 1);

    let r = report(s.db(), t).await;
    assert_eq!(r.first_break, Some(Break::Changed { seq: 3 }));
    assert_eq!(r.entries, 3, "verification stops at the first break");
}

#[tokio::test]
async fn a_deleted_audit_entry_is_reported_at_the_entry_after_the_gap() {
    let s = setup().await;
    let t = chain_of_five(s.db()).await;
    disable_append_only_triggers(s.db()).await;

    assert_eq!(delete_entries(s.db(), t, 3, 3).await, 1);

    assert_eq!(report(s.db(), t).await.first_break, Some(Break::Deleted { seq: 4 }));
}

#[tokio::test]
async fn deleting_the_newest_audit_entries_is_reported_as_truncation() {
    let s = setup().await;
    let t = chain_of_five(s.db()).await;
    disable_append_only_triggers(s.db()).await;

    assert_eq!(delete_entries(s.db(), t, 4, 5).await, 2);

    let r = report(s.db(), t).await;
    assert_eq!(r.first_break, Some(Break::Truncated { last_seq: 3, head_seq: 5 }));
    assert_eq!(r.entries, 3);
}

#[tokio::test]
async fn a_forged_entry_with_a_valid_own_hash_but_a_wrong_link_is_reported_as_inserted() {
    let s = setup().await;
    let t = chain_of_five(s.db()).await;
    let log = entries(s.db(), t).await;
    disable_append_only_triggers(s.db()).await;

    // Replace entries 3..=5 by a single forged entry 3 whose own hash is right but which links
    // to entry 1 instead of entry 2, and make the head agree so that nothing looks truncated.
    delete_entries(s.db(), t, 3, 5).await;
    let forged = forge(&log[2], 3, r#"{"step":"forged"}"#, &log[0].hash);
    assert_eq!(forged.hash, forged.compute_hash());
    insert_raw(s.db(), &forged).await;
    s.db()
        .execute(query("UPDATE audit_heads SET seq = 3, hash = $2 WHERE tenant_id = $1").bind(t).bind(&forged.hash))
        .await
        .expect("move the head");

    assert_eq!(report(s.db(), t).await.first_break, Some(Break::Inserted { seq: 3 }));
}

#[tokio::test]
async fn an_entry_slipped_into_the_middle_is_reported_at_the_first_entry_that_no_longer_links() {
    let s = setup().await;
    let t = chain_of_five(s.db()).await;
    let log = entries(s.db(), t).await;
    disable_append_only_triggers(s.db()).await;

    // A well-linked forged entry 3 after entry 2; the real entries 3..=5 move to 4..=6 with
    // their own hashes recomputed for the new numbers, but their links left as they were.
    delete_entries(s.db(), t, 3, 5).await;
    insert_raw(s.db(), &forge(&log[2], 3, r#"{"step":"forged"}"#, &log[1].hash)).await;
    for e in &log[2..] {
        insert_raw(s.db(), &forge(e, e.seq + 1, &e.details, &e.prev_hash)).await;
    }
    s.db().execute(query("UPDATE audit_heads SET seq = 6 WHERE tenant_id = $1").bind(t)).await.expect("move the head");

    let r = report(s.db(), t).await;
    assert_eq!(r.first_break, Some(Break::Inserted { seq: 4 }));
    assert_eq!(r.entries, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_to_one_tenant_give_a_gap_free_intact_chain() {
    const TASKS: i64 = 20;
    let s = setup().await;
    let t = tenant(s.db(), "auenthal").await;

    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let db = s.db().clone();
            tokio::spawn(async move { append(&db, t, 1).await[0] })
        })
        .collect();
    let mut seqs = Vec::new();
    for h in handles {
        seqs.push(h.await.expect("task"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=TASKS).collect::<Vec<_>>(), "every append got its own number");

    let r = report(s.db(), t).await;
    assert_eq!((r.entries, r.first_break), (TASKS, None));
    assert_eq!(entries(s.db(), t).await.len() as i64, TASKS);
}
