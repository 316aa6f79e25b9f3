//! What answering as each person's own Looker user costs per request, against the test fakes on
//! loopback: a Look fetched as the shared API user, and as a person with `LOOKERBOT_IDENTITY=sudo`,
//! once with the person's Looker user and token already known (every request after a person's
//! first, for ten minutes) and once cold (a client that knows nothing: its own login, the
//! email's user looked up, the sudo login, then the call).
//!
//!     cargo bench --bench identity

#[path = "../tests/api/fake_looker.rs"]
#[allow(dead_code, clippy::result_large_err)]
mod fake_looker;
#[path = "../tests/api/fake_looker_oauth.rs"]
#[allow(dead_code)]
mod fake_looker_oauth;

use criterion::{Criterion, criterion_group, criterion_main};
use lookerbot::clients::looker::Lookers;
use lookerbot::config::RawSettings;
use lookerbot::domain::looker::models::LookerId;
use lookerbot::scope::{Person, for_person};

fn lookers(looker: &fake_looker::FakeLooker, identity: &str) -> Lookers {
    let raw = RawSettings {
        slack_api_key: Some("xoxb-bench".into()),
        slack_signing_secret: Some("s".into()),
        looker_url: Some(looker.web_url.clone()),
        looker_api_base_url: Some(looker.api_url.clone()),
        looker_api_client_id: Some(fake_looker::CLIENT_ID.into()),
        looker_api_client_secret: Some(fake_looker::CLIENT_SECRET.into()),
        lookerbot_identity: Some(identity.into()),
        ..Default::default()
    };
    let (settings, _) = raw.validate().unwrap();
    Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout).unwrap()
}

fn alice() -> Person {
    Person {
        team: "T000000ACME".into(),
        slack_user: "U000000ALICE".into(),
        email: Some("alice@acme.example".into()),
    }
}

async fn fetch(lookers: &Lookers) {
    let (_, client) = lookers.all().next().unwrap();
    client.look(&LookerId("7".into())).await.unwrap();
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let looker = runtime.block_on(async {
        let looker = fake_looker::FakeLooker::start().await;
        looker.add_user("10", "alice@acme.example");
        looker.add_look(
            "7",
            "Pipeline",
            serde_json::json!({"id": "q7", "model": "m", "view": "v", "vis_config": {"type": "table"}}),
            serde_json::json!({}),
        );
        looker
    });
    let shared = lookers(&looker, "shared");
    let sudo = lookers(&looker, "sudo");
    runtime.block_on(async {
        fetch(&shared).await;
        for_person(alice(), Default::default(), fetch(&sudo)).await;
    });
    let mut group = c.benchmark_group("identity");
    group.bench_function("shared API user, warm", |b| {
        b.to_async(&runtime).iter(|| fetch(&shared))
    });
    group.bench_function("own Looker user, cached", |b| {
        b.to_async(&runtime)
            .iter(|| for_person(alice(), Default::default(), fetch(&sudo)))
    });
    group.bench_function("shared API user, cold client", |b| {
        b.to_async(&runtime)
            .iter(|| async { fetch(&lookers(&looker, "shared")).await })
    });
    group.bench_function("own Looker user, cold client", |b| {
        b.to_async(&runtime)
            .iter(|| async { for_person(alice(), Default::default(), fetch(&lookers(&looker, "sudo"))).await })
    });
    group.finish();
}

criterion_group!(identity, benches);
criterion_main!(identity);
