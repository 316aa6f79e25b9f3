//! People and conversations: one user's profile (cached), the workspace's members and channels
//! (following cursors), and the DM channel with a person.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use slack_morphism::prelude::*;
use std::sync::Mutex;

use super::{SlackApi, SlackError};

/// `users.info` answers, by user id, with when they were fetched.
pub(super) type UserCache = Mutex<HashMap<String, (Instant, SlackUser)>>;

/// How long a user's profile is trusted.
const USER_TTL: Duration = Duration::from_secs(600);

impl SlackApi {
    /// The user's profile if it was fetched within the last ten minutes; never asks Slack.
    pub fn cached_user(&self, user_id: &str) -> Option<SlackUser> {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users
            .get(user_id)
            .filter(|(at, _)| at.elapsed() < USER_TTL)
            .map(|(_, user)| user.clone())
    }

    /// A user's profile and flags (`users.info`), cached for ten minutes.
    pub async fn user_info(&self, user_id: &str) -> Result<SlackUser, SlackError> {
        if let Some(user) = self.cached_user(user_id) {
            return Ok(user);
        }
        let request = SlackApiUsersInfoRequest::new(SlackUserId(user_id.to_string()));
        let answer = slack_call!(self, "users.info", users_info(&request))?;
        self.users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_string(), (Instant::now(), answer.user.clone()));
        Ok(answer.user)
    }

    /// The DM channel with a user (files must be shared to a C/G/D id, not a user id).
    pub async fn open_dm(&self, user: &SlackUserId) -> Result<SlackChannelId, SlackError> {
        let request = SlackApiConversationsOpenRequest::new()
            .with_users(vec![user.clone()])
            .with_return_im(false);
        let answer = slack_call!(self, "conversations.open", conversations_open(&request))?;
        Ok(answer.channel.id)
    }

    /// Every conversation of the given kinds, following cursors.
    pub async fn list_conversations(
        &self,
        types: Vec<SlackConversationType>,
    ) -> Result<Vec<SlackChannelInfo>, SlackError> {
        every_page(|cursor| async {
            let request = SlackApiConversationsListRequest::new()
                .with_limit(1000)
                .with_exclude_archived(true)
                .with_types(types.clone())
                .opt_cursor(cursor);
            let page = slack_call!(self, "conversations.list", conversations_list(&request))?;
            Ok((page.channels, page.response_metadata))
        })
        .await
    }

    /// Every conversation the bot is a member of (`users.conversations`), following cursors.
    pub async fn bot_conversations(
        &self,
        types: Vec<SlackConversationType>,
    ) -> Result<Vec<SlackChannelInfo>, SlackError> {
        every_page(|cursor| async {
            let request = SlackApiUsersConversationsRequest::new()
                .with_limit(1000)
                .with_exclude_archived(true)
                .with_types(types.clone())
                .opt_cursor(cursor);
            let page = slack_call!(self, "users.conversations", users_conversations(&request))?;
            Ok((page.channels, page.response_metadata))
        })
        .await
    }

    /// Every member of the workspace, following cursors.
    pub async fn list_users(&self) -> Result<Vec<SlackUser>, SlackError> {
        every_page(|cursor| async {
            let request = SlackApiUsersListRequest::new().with_limit(1000).opt_cursor(cursor);
            let page = slack_call!(self, "users.list", users_list(&request))?;
            Ok((page.members, page.response_metadata))
        })
        .await
    }
}

/// Everything a cursor-paginated list holds: pages are fetched until Slack gives no next cursor.
async fn every_page<T, F, Fut>(mut page: F) -> Result<Vec<T>, SlackError>
where
    F: FnMut(Option<SlackCursorId>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<SlackResponseMetadata>), SlackError>>,
{
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let (items, metadata) = page(cursor).await?;
        all.extend(items);
        cursor = metadata.and_then(|m| m.next_cursor).filter(|c| !c.0.is_empty());
        if cursor.is_none() {
            return Ok(all);
        }
    }
}
