//! The image path end to end against the test fakes: a Looker render task (started, polled,
//! fetched) and Slack's external upload (ticket, bytes, completion), as one delivery does it.
//! Looker's renderer answers at once, so this measures the bot and the HTTP round trips.
//!
//!     cargo bench --bench image_path

#[path = "../tests/api/fake_looker.rs"]
#[allow(dead_code, clippy::result_large_err)]
mod fake_looker;
#[path = "../tests/api/fake_slack.rs"]
#[allow(dead_code, clippy::result_large_err)]
mod fake_slack;

use std::num::NonZeroU32;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use lookerbot::clients::looker::Lookers;
use lookerbot::clients::looker::models::LookerId;
use lookerbot::clients::slack::{OutgoingMessage, SlackApi};
use lookerbot::config::{DashboardStyle, RawSettings};
use lookerbot::jobs::JobContext;
use lookerbot::present::post_rendered;
use lookerbot::render::{Heading, ImageNeed, RenderOptions, Rendered, Source, heading_block};
use slack_morphism::prelude::SlackChannelId;

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (ctx, looker) = runtime.block_on(async {
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
            ..Default::default()
        };
        let (settings, _) = raw.validate().unwrap();
        let lookers = Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout).unwrap();
        let fast = NonZeroU32::new(100_000).unwrap();
        let ctx = JobContext {
            lookers: lookers.clone(),
            slack: Arc::new(SlackApi::new(&settings.slack).unwrap().with_channel_pace(fast, fast)),
            render: RenderOptions::default(),
            images: None,
            render_timeout: settings.render_timeout,
            dashboard_style: DashboardStyle::Tiles,
            features: settings.features.clone(),
            custom_commands: Default::default(),
            downloads: reqwest::Client::new(),
        };
        (Arc::new(ctx), lookers.all()[0].clone())
    });
    let heading = Heading {
        title: "Orders Map".into(),
        link: None,
    };
    let rendered = Rendered {
        title: heading.title.clone(),
        message: OutgoingMessage {
            text: "Orders Map".into(),
            blocks: vec![heading_block(&heading)],
        },
        image: Some(ImageNeed {
            source: Source {
                query_id: Some(LookerId("q7".into())),
                ..Default::default()
            },
            alt_text: "Orders Map".into(),
        }),
        csv: None,
    };
    let channel = SlackChannelId("C0000GENERAL".into());
    let request =
        lookerbot::images::RenderRequest::for_source(rendered.image.as_ref().map(|i| &i.source).unwrap()).unwrap();
    c.bench_function("image_path_looker_render_task_only", |b| {
        b.to_async(&runtime).iter(|| {
            let (ctx, looker, request) = (ctx.clone(), looker.clone(), request.clone());
            async move {
                lookerbot::present::draw(&ctx, &looker, &request)
                    .await
                    .unwrap()
                    .unwrap()
            }
        })
    });
    c.bench_function("image_path_render_task_and_slack_upload", |b| {
        b.to_async(&runtime).iter(|| {
            let (ctx, looker, rendered, channel) = (ctx.clone(), looker.clone(), rendered.clone(), channel.clone());
            async move { post_rendered(&ctx, &looker, &channel, None, rendered).await.unwrap() }
        })
    });
}

criterion_group!(image_path, benches);
criterion_main!(image_path);
