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

/// An upload begun: Slack names the file before its bytes are sent or it is shared.
#[derive(Debug, Clone)]
pub struct UploadTicket {
    pub file_id: SlackFileId,
    upload_url: SlackFileUploadUrl,
}

impl SlackApi {
    /// Begins an upload (`files.getUploadURLExternal`).
    pub async fn start_upload(&self, file: &FileUpload) -> Result<UploadTicket, SlackError> {
        let request = SlackApiFilesGetUploadUrlExternalRequest::new(file.filename.clone(), file.bytes.len());
        let ticket = slack_call!(self, "files.getUploadURLExternal", get_upload_url_external(&request))?;
        Ok(UploadTicket {
            file_id: ticket.file_id,
            upload_url: ticket.upload_url,
        })
    }

    /// Sends the bytes and shares the file in the channel, with blocks as its message.
    pub async fn finish_upload(
        &self,
        ticket: &UploadTicket,
        file: &FileUpload,
        channel: &SlackChannelId,
        blocks: Option<Vec<SlackBlock>>,
        thread_ts: Option<&SlackTs>,
    ) -> Result<(), SlackError> {
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
        Ok(())
    }

    /// Shares a file in a channel with Slack's external upload flow, with blocks as its message.
    pub async fn upload_file(
        &self,
        channel: &SlackChannelId,
        file: &FileUpload,
        blocks: Option<Vec<SlackBlock>>,
        thread_ts: Option<&SlackTs>,
    ) -> Result<SlackFileId, SlackError> {
        let ticket = self.start_upload(file).await?;
        self.finish_upload(&ticket, file, channel, blocks, thread_ts).await?;
        Ok(ticket.file_id)
    }
}
