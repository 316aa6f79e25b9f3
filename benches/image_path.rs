//! The image path end to end against the test fakes: a Looker render task (started, polled,
//! fetched) and Slack's external upload (ticket, bytes, completion), as one delivery does it.
//! Looker's renderer answers at once, so this measures the bot and the HTTP round trips.
//!
//!     cargo bench --bench image_path

#[path = "../tests/api/fake_looker.rs"]
#[allow(dead_code, clippy::result_large_err)]
mod fake_looker;
#[path = "../tests/api/fake_looker_oauth.rs"]
#[allow(dead_code)]
mod fake_looker_oauth;
#[path = "../tests/api/fake_looker_plans.rs"]
#[allow(dead_code)]
mod fake_looker_plans;
#[path = "../tests/api/fake_slack.rs"]
#[allow(dead_code, clippy::result_large_err)]
mod fake_slack;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use lookerbot::clients::slack::SlackApi;
use lookerbot::config::RawSettings;
use lookerbot::domain::looker::models::LookerId;
use lookerbot::features::Context;
use lookerbot::features::ledger::Ledger;
use lookerbot::features::posting::{Drawn, draw, post_rendered, render_request};
use lookerbot::queue::Queue;
use lookerbot::render::{Heading, ImageNeed, Rendered, Source, heading_block};
use slack_morphism::prelude::SlackChannelId;

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = tempfile::tempdir().unwrap();
    let ctx = runtime.block_on(async {
        let slack = fake_slack::FakeSlack::start().await;
        let looker = fake_looker::FakeLooker::start().await;
        looker.set_renderer(fake_looker::Renderer::Instant);
        looker.add_query(
            serde_json::json!({"id": "q7", "model": "m", "view": "v"}),
            serde_json::json!({}),
        );
        let raw = RawSettings {
            slack_api_key: Some(fake_slack::BOT_TOKEN.into()),
            slack_signing_secret: Some("s".into()),
            slack_api_base_url: Some(slack.base_url.clone()),
            looker_url: Some(looker.web_url.clone()),
            looker_api_base_url: Some(looker.api_url.clone()),
            looker_api_client_id: Some(fake_looker::CLIENT_ID.into()),
            looker_api_client_secret: Some(fake_looker::CLIENT_SECRET.into()),
            database_url: Some(format!("sqlite://{}/bench.db", database.path().display())),
            ..Default::default()
        };
        let (settings, _) = raw.validate().unwrap();
        let store = lookerbot::store::connect(&settings.database_url, true).await.unwrap();
        let mut ctx = Context::build(&settings, Queue::new(store, 1)).await.unwrap();
        // Measure the bot, not Slack's per-channel pace.
        let pace = SlackApi::new(&settings.slack)
            .unwrap()
            .with_channel_pace(std::time::Duration::from_micros(10), 100_000);
        ctx.slack = Arc::new(pace);
        Arc::new(ctx)
    });
    let heading = Heading {
        title: "Orders Map".into(),
        link: None,
    };
    let mut rendered = Rendered::blocks("Orders Map", vec![heading_block(&heading)]);
    rendered.image = Some(ImageNeed {
        source: Source {
            query_id: Some(LookerId("q7".into())),
            ..Default::default()
        },
        alt_text: "Orders Map".into(),
    });
    let channel = SlackChannelId("C0000GENERAL".into());
    let request = render_request(&rendered.image.as_ref().unwrap().source).unwrap();
    c.bench_function("image_path_looker_render_task_only", |b| {
        b.to_async(&runtime).iter(|| {
            let (ctx, request) = (ctx.clone(), request.clone());
            async move {
                let looker = ctx.lookers.all().next().unwrap().1;
                assert!(matches!(draw(&ctx, looker, &request).await.unwrap(), Drawn::Image(_)));
            }
        })
    });
    c.bench_function("image_path_render_task_and_slack_upload", |b| {
        b.to_async(&runtime).iter(|| {
            let (ctx, rendered, channel) = (ctx.clone(), rendered.clone(), channel.clone());
            async move {
                let looker = ctx.lookers.all().next().unwrap().1;
                let ledger = Ledger::untracked(&ctx);
                post_rendered(&ctx, &ledger, looker, &channel, None, rendered)
                    .await
                    .unwrap()
            }
        })
    });
}

criterion_group!(image_path, benches);
criterion_main!(image_path);
