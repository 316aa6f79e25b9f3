//! Liveness, readiness, unknown routes and request ids.

use crate::helpers::*;

#[tokio::test]
async fn health_check_answers_like_lookerbot() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/health_check", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"success": true, "reason": "Healthy"}));
}

#[tokio::test]
async fn readiness_follows_the_database() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let app = spawn_app().await;
    let response = app.http.get(format!("{}/nope", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
}
