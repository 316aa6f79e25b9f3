//! Jobs run many at once, bounded by what Looker allows rather than by a worker count: with more
//! workers than the Looker's query limit, a burst of deliveries runs exactly that many queries at
//! once, and every delivery is posted once.

use std::time::Duration;

use crate::fake_slack::Channel;
use crate::helpers::*;

#[tokio::test]
async fn a_burst_runs_as_many_queries_as_the_looker_allows_and_no_more() {
    let app = spawn_app_with(|s| {
        s.lookerbot_workers = Some("12".into());
        s.looker_max_queries = Some("4".into());
    })
    .await;
    app.looker.set_query_delay(Duration::from_millis(300));
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    let channels: Vec<String> = (0..24).map(|n| format!("burst-{n:02}")).collect();
    for (n, name) in channels.iter().enumerate() {
        app.slack
            .add_channel(Channel::public(&format!("C000BURST{n:02}"), name));
    }
    for name in &channels {
        app.deliver(
            &format!("/slack/post/channel/{name}"),
            &look_webhook(&app.looker, "7", "Orders by Status", None),
        )
        .await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !app.jobs().await.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.jobs().await.is_empty(), "all delivered: {:?}", app.jobs().await);
    for name in &channels {
        assert_eq!(app.slack.posts_to(&format!("#{name}")).len(), 1, "#{name} once");
    }
    assert_eq!(
        app.looker.most_queries_running(),
        4,
        "the Looker's limit is used, never passed"
    );
}
