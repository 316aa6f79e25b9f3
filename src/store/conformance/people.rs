//! The conformance suite, continued: the audit (filtered by person and time, once per key,
//! pruned), linked accounts (replaced, swapped only over what was read, dropped by Looker,
//! workspace or person) and sign-ins (used once, only from their browser, not when stale).

use super::*;
use crate::store::people::{AuditEntry, AuditQuery, LinkRecord, SignIn};

fn entry(user: &str, at: Millis, key: &str) -> AuditEntry {
    AuditEntry {
        at,
        team: "T1".into(),
        slack_user: user.into(),
        looker_user: Some("looker.example.com: user 10".into()),
        kind: "command".into(),
        what: "look 7".into(),
        channel: "C1".into(),
        audience: "private".into(),
        outcome: "answered".into(),
        key: Some(key.into()),
    }
}

fn link(looker: &str, team: &str, user: &str, sealed: &str) -> LinkRecord {
    LinkRecord {
        looker: looker.into(),
        team: team.into(),
        slack_user: user.into(),
        looker_user: "10".into(),
        sealed: sealed.into(),
        linked_at: 1,
        updated_at: 1,
    }
}

#[tokio::test]
async fn the_audit_is_read_by_person_and_time_recorded_once_per_key_and_pruned() {
    each_backend!(|harness, store| {
        let people = store.people();
        people.record_audit(&entry("U1", 1_000, "job:1")).await.unwrap();
        people.record_audit(&entry("U1", 1_000, "job:1")).await.unwrap();
        people.record_audit(&entry("U2", 2_000, "job:2")).await.unwrap();
        people.record_audit(&entry("U1", 3_000, "job:3")).await.unwrap();
        let all = people
            .audit(&AuditQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            all.iter().map(|e| e.at).collect::<Vec<_>>(),
            [3_000, 2_000, 1_000],
            "once per key, newest first"
        );
        assert_eq!(all[0], entry("U1", 3_000, "job:3"));
        let mine = AuditQuery {
            slack_user: Some("U1".into()),
            since: Some(2_000),
            limit: 10,
        };
        assert_eq!(people.audit(&mine).await.unwrap().len(), 1);
        assert_eq!(people.prune_audit(2_500).await.unwrap(), 2);
        assert_eq!(
            people
                .audit(&AuditQuery {
                    limit: 10,
                    ..Default::default()
                })
                .await
                .unwrap()
                .len(),
            1
        );
    });
}

#[tokio::test]
async fn links_are_replaced_swapped_only_over_what_was_read_and_dropped() {
    each_backend!(|harness, store| {
        let people = store.people();
        people.put_link(&link("a.example", "T1", "U1", "s1")).await.unwrap();
        people.put_link(&link("a.example", "T1", "U1", "s2")).await.unwrap();
        people.put_link(&link("b.example", "T1", "U1", "s3")).await.unwrap();
        people.put_link(&link("a.example", "T2", "U1", "s4")).await.unwrap();
        assert_eq!(
            people.link("a.example", "T1", "U1").await.unwrap().unwrap().sealed,
            "s2"
        );
        assert!(people.link("a.example", "T1", "U9").await.unwrap().is_none());

        let renewed = link("a.example", "T1", "U1", "s5");
        assert!(
            !people.swap_link(&renewed, "s1").await.unwrap(),
            "not over a stale read"
        );
        assert!(people.swap_link(&renewed, "s2").await.unwrap());
        assert_eq!(
            people.link("a.example", "T1", "U1").await.unwrap().unwrap().sealed,
            "s5"
        );

        assert!(
            !people.drop_link_if(&link("a.example", "T1", "U1", "s2")).await.unwrap(),
            "renewed since"
        );
        assert!(people.drop_link_if(&link("a.example", "T2", "U1", "s4")).await.unwrap());
        people.put_link(&link("a.example", "T2", "U1", "s4")).await.unwrap();
        let one = people.drop_links(Some("b.example"), Some("T1"), "U1").await.unwrap();
        assert_eq!(one.len(), 1);
        let workspace = people.drop_links(None, Some("T1"), "U1").await.unwrap();
        assert_eq!(workspace.iter().map(|l| l.sealed.as_str()).collect::<Vec<_>>(), ["s5"]);
        let everywhere = people.drop_links(None, None, "U1").await.unwrap();
        assert_eq!(everywhere.len(), 1);
        assert!(people.link("a.example", "T2", "U1").await.unwrap().is_none());
    });
}

#[tokio::test]
async fn a_sign_in_is_taken_once_only_from_its_browser_and_not_when_stale() {
    each_backend!(|harness, store| {
        let people = store.people();
        let sign_in = SignIn {
            looker: "a.example".into(),
            team: "T1".into(),
            slack_user: "U1".into(),
            sealed_verifier: "v".into(),
            browser: "cookie-hash".into(),
            created_at: 5_000,
        };
        people.put_sign_in("state-1", &sign_in).await.unwrap();
        people.put_sign_in("state-2", &sign_in).await.unwrap();
        assert!(people.take_sign_in("state-1", "other", 0).await.unwrap().is_none());
        assert_eq!(
            people.take_sign_in("state-1", "cookie-hash", 0).await.unwrap(),
            Some(sign_in.clone())
        );
        assert!(
            people
                .take_sign_in("state-1", "cookie-hash", 0)
                .await
                .unwrap()
                .is_none(),
            "once"
        );
        assert!(
            people
                .take_sign_in("state-2", "cookie-hash", 6_000)
                .await
                .unwrap()
                .is_none(),
            "stale"
        );
        assert!(people.take_sign_in("nope", "cookie-hash", 0).await.unwrap().is_none());
    });
}

#[tokio::test]
async fn a_connect_link_is_spent_once_and_a_schedules_owner_is_found_by_looker_user() {
    each_backend!(|harness, store| {
        let people = store.people();
        assert!(people.spend_ticket("ticket-1", 1_000).await.unwrap());
        assert!(!people.spend_ticket("ticket-1", 2_000).await.unwrap(), "once");
        assert!(people.spend_ticket("ticket-2", 2_000).await.unwrap());

        let mut mine = link("a.example", "T1", "U1", "s1");
        mine.looker_user = "42".into();
        people.put_link(&mine).await.unwrap();
        people.put_link(&link("b.example", "T1", "U2", "s2")).await.unwrap();
        let found = people.links_of_looker_user("a.example", "42").await.unwrap();
        assert_eq!(found.iter().map(|l| l.slack_user.as_str()).collect::<Vec<_>>(), ["U1"]);
        assert!(people.links_of_looker_user("b.example", "42").await.unwrap().is_empty());
    });
}

#[tokio::test]
async fn a_delivery_name_is_pinned_to_its_first_channel_until_unpinned() {
    each_backend!(|harness, store| {
        let pins = store.pins();
        assert_eq!(
            pins.pin("channel:sales", "C00000SALES1", 1).await.unwrap(),
            "C00000SALES1"
        );
        assert_eq!(
            pins.pin("channel:sales", "C0000IMPOST", 2).await.unwrap(),
            "C00000SALES1"
        );
        assert!(pins.unpin("channel:sales").await.unwrap());
        assert!(!pins.unpin("channel:sales").await.unwrap());
        assert_eq!(
            pins.pin("channel:sales", "C0000IMPOST", 3).await.unwrap(),
            "C0000IMPOST"
        );
    });
}

#[tokio::test]
async fn sealed_rows_are_listed_and_swapped_only_over_what_was_read() {
    each_backend!(|harness, store| {
        store
            .people()
            .put_link(&link("l.example.com", "T1", "U1", "v1.old"))
            .await
            .unwrap();
        store
            .people()
            .put_link(&link("l.example.com", "T1", "U2", "v2.k.new"))
            .await
            .unwrap();
        let mut links = store.sealed().all_links().await.unwrap();
        links.sort_by(|a, b| a.slack_user.cmp(&b.slack_user));
        assert_eq!(
            links.iter().map(|l| l.sealed.as_str()).collect::<Vec<_>>(),
            ["v1.old", "v2.k.new"]
        );
        let mut ids = Vec::new();
        for n in 0..5 {
            let job = NewJob {
                payload: format!(r#"{{"n":{n}}}"#),
                ..job(None)
            };
            match store.enqueue(job, 0).await.unwrap() {
                Enqueued::Created(id) => ids.push(id),
                Enqueued::Duplicate(_) => unreachable!("no dedupe key"),
            }
        }
        let first = store.sealed().payloads(0, 3).await.unwrap();
        assert_eq!(first.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids[..3]);
        let rest = store.sealed().payloads(first[2].0, 3).await.unwrap();
        assert_eq!(rest.len(), 2, "pages go on after the last id");
        assert_eq!(rest[0].1, r#"{"n":3}"#);
        assert!(
            store
                .sealed()
                .swap_payload(ids[3], r#"{"n":3}"#, r#"{"n":"x"}"#)
                .await
                .unwrap()
        );
        assert!(
            !store
                .sealed()
                .swap_payload(ids[3], r#"{"n":3}"#, r#"{"n":"y"}"#)
                .await
                .unwrap(),
            "changed meanwhile"
        );
        assert_eq!(store.job_detail(ids[3]).await.unwrap().unwrap().payload, r#"{"n":"x"}"#);
    });
}

#[tokio::test]
async fn a_lease_is_renewed_only_by_its_holder_and_taken_back_at_a_one_server_start() {
    each_backend!(|harness, store| {
        let lease = Duration::from_secs(30);
        store.enqueue(job(None), 0).await.unwrap();
        let claimed = store.claim("w1", 0, lease, &[]).await.unwrap().unwrap();
        assert!(store.leases().renew(claimed.id, "w1", 90_000).await.unwrap());
        assert!(
            !store.leases().renew(claimed.id, "w2", 90_000).await.unwrap(),
            "not w2's"
        );
        // Past the first lease, the renewed one still holds the job.
        assert!(store.claim("w2", 60_000, lease, &[]).await.unwrap().is_none());
        assert_eq!(store.leases().take_back_all(61_000).await.unwrap(), 1);
        let again = store.claim("w2", 61_000, lease, &[]).await.unwrap().unwrap();
        assert_eq!(again.id, claimed.id);
        assert!(
            !store.leases().renew(claimed.id, "w1", 200_000).await.unwrap(),
            "w1 lost it"
        );
    });
}
