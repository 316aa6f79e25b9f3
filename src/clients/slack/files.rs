//! Files with Slack's external upload flow: a ticket, the bytes, the completion that shares it.

use slack_morphism::prelude::*;

use super::{SlackApi, SlackError};

/// A file to share with the external upload flow.
#[derive(Debug, Clone)]
pub struct FileUpload {
    pub filename: String,
    pub title: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl SlackApi {
    /// Shares a file in a channel with Slack's external upload flow, with blocks as its message.
    pub async fn upload_file(
        &self,
        channel: &SlackChannelId,
        file: &FileUpload,
        blocks: Option<Vec<SlackBlock>>,
        thread_ts: Option<&SlackTs>,
    ) -> Result<SlackFileId, SlackError> {
        let ticket_request = SlackApiFilesGetUploadUrlExternalRequest::new(file.filename.clone(), file.bytes.len());
        let ticket = slack_call!(
            self,
            "files.getUploadURLExternal",
            get_upload_url_external(&ticket_request)
        )?;
        let upload = SlackApiFilesUploadViaUrlRequest::new(
            ticket.upload_url.clone(),
            file.bytes.clone(),
            file.content_type.clone(),
        );
        slack_call!(self, "files.upload (bytes)", files_upload_via_url(&upload))?;
        self.paced(channel).await;
        let complete = SlackApiFilesCompleteUploadExternalRequest::new(vec![
            SlackApiFilesComplete::new(ticket.file_id.clone()).with_title(file.title.clone()),
        ])
        .with_channel_id(channel.clone())
        .opt_blocks(blocks)
        .opt_thread_ts(thread_ts.cloned());
        slack_call!(
            self,
            "files.completeUploadExternal",
            files_complete_upload_external(&complete)
        )?;
        Ok(ticket.file_id)
    }
}
