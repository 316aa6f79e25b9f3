//! What answering as each person's own Looker user costs per request, against the test fakes on
//! loopback: a Look fetched as the shared API user, and as a person with `LOOKERBOT_IDENTITY=sudo`,
//! once with the person's Looker user and token already known (every request after a person's
//! first, for ten minutes) and once cold (a client that knows nothing: its own login, the
//! email's user looked up, the sudo login, then the call). With `LOOKERBOT_IDENTITY=oauth`, the
//! person's linked account: its sealed tokens read from the store (SQLite) and opened on every
//! request, and, when the token is about to expire, renewed at Looker's `/api/token` first.
//!
//!     cargo bench --bench identity

#[path = "../tests/api/fake_looker.rs"]
#[allow(dead_code, clippy::result_large_err)]
mod fake_looker;
#[path = "../tests/api/fake_looker_oauth.rs"]
#[allow(dead_code)]
mod fake_looker_oauth;
#[path = "../tests/api/fake_looker_plans.rs"]
#[allow(dead_code)]
mod fake_looker_plans;

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
        looker_user: None,
        unknown: false,
    }
}

async fn fetch(lookers: &Lookers) {
    let (_, client) = lookers.all().next().unwrap();
    client.look(&LookerId("7".into())).await.unwrap();
}

const CALLBACK: &str = "https://bot.example.test/looker/oauth/callback";

fn oauth_lookers(looker: &fake_looker::FakeLooker) -> (Lookers, lookerbot::config::Settings) {
    let raw = RawSettings {
        slack_api_key: Some("xoxb-bench".into()),
        slack_signing_secret: Some("bench".into()),
        looker_url: Some(looker.web_url.clone()),
        looker_api_base_url: Some(looker.api_url.clone()),
        looker_api_client_id: Some(fake_looker::CLIENT_ID.into()),
        looker_api_client_secret: Some(fake_looker::CLIENT_SECRET.into()),
        lookerbot_identity: Some("oauth".into()),
        looker_oauth_client_id: Some("bench".into()),
        lookerbot_token_key: Some(hex::encode([7u8; 32])),
        public_url: Some("https://bot.example.test".into()),
        ..Default::default()
    };
    let (settings, _) = raw.validate().unwrap();
    let lookers = Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout).unwrap();
    (lookers, settings)
}

/// Alice's account linked as the bot links it: Looker's consent, the code traded, the tokens sealed.
async fn link_alice(
    looker: &fake_looker::FakeLooker,
    lookers: &Lookers,
    settings: &lookerbot::config::Settings,
) -> tempfile::TempDir {
    use base64::Engine;
    use lookerbot::features::identity::links::{StoredLinks, Tokens};
    use sha2::Digest;
    looker.register_oauth_app("bench", CALLBACK);
    looker.sign_in_browser_as("10");
    let (_, client) = lookers.all().next().unwrap();
    let verifier = "bench-verifier-".repeat(4);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = browser
        .get(client.authorize_url(CALLBACK, "state", &challenge))
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    let grant = client.exchange_code(&code, &verifier, CALLBACK).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = lookerbot::store::connect(&format!("sqlite://{}/bench.db", dir.path().display()), true)
        .await
        .unwrap();
    let sealer = lookerbot::sealing::Sealer::from_keys(&settings.trust.token_keys).unwrap();
    let links = std::sync::Arc::new(StoredLinks::new(
        store.clone(),
        std::sync::Arc::new(sealer),
        CALLBACK.into(),
    ));
    let host = client.settings().host();
    let sealed = links.seal(&host, "T000000ACME", "U000000ALICE", &Tokens::from_grant(&grant, None));
    let link = lookerbot::store::people::LinkRecord {
        looker: host,
        team: "T000000ACME".into(),
        slack_user: "U000000ALICE".into(),
        looker_user: "10".into(),
        sealed,
        linked_at: 0,
        updated_at: 0,
    };
    store.people().put_link(&link).await.unwrap();
    client.keep_links_in(links);
    dir
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
    let (oauth, settings) = oauth_lookers(&looker);
    let _db = runtime.block_on(link_alice(&looker, &oauth, &settings));
    runtime.block_on(for_person(alice(), Default::default(), fetch(&oauth)));
    group.bench_function("linked account (oauth), token valid", |b| {
        b.to_async(&runtime)
            .iter(|| for_person(alice(), Default::default(), fetch(&oauth)))
    });
    // Tokens that expire within the minute are renewed before each use: the renewal's cost.
    looker.set_token_ttl(std::time::Duration::from_secs(30));
    // Looker forgets the hour-long token: the next call's 401 brings a 30-second one, and from
    // then on every request renews it first.
    looker.revoke_tokens();
    runtime.block_on(for_person(alice(), Default::default(), fetch(&oauth)));
    let renewals_before = looker.token_calls().len();
    group.bench_function("linked account (oauth), renewed first", |b| {
        b.to_async(&runtime)
            .iter(|| for_person(alice(), Default::default(), fetch(&oauth)))
    });
    assert!(
        looker.token_calls().len() > renewals_before + 100,
        "every request renewed its token"
    );
    group.finish();
}

criterion_group!(identity, benches);
criterion_main!(identity);
