//! Files with Slack's external upload flow: a ticket, the bytes, the completion that shares it.
//! Small files go as one buffer; large ones (a Looker attachment of up to a gigabyte) are streamed
//! from where they are kept, a chunk at a time, with their length declared up front.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use slack_morphism::prelude::*;

use super::{SlackApi, SlackError};
use crate::clients::network::describe;

/// Where a large file's bytes come from: its length, and a stream of them from the start.
pub trait FileSource: Send + Sync {
    /// The file's size in bytes.
    fn size(&self) -> u64;
    fn open(&self) -> BoxStream<'static, std::io::Result<Bytes>>;
}

/// A file's bytes: held, or streamed from a [`FileSource`].
#[derive(Clone)]
pub enum FileContent {
    Bytes(Vec<u8>),
    Streamed(Arc<dyn FileSource>),
}

impl FileContent {
    pub fn len(&self) -> u64 {
        match self {
            FileContent::Bytes(bytes) => bytes.len() as u64,
            FileContent::Streamed(source) => source.size(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<u8>> for FileContent {
    fn from(bytes: Vec<u8>) -> Self {
        FileContent::Bytes(bytes)
    }
}

impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileContent::Bytes(bytes) => write!(f, "{} bytes", bytes.len()),
            FileContent::Streamed(source) => write!(f, "{} bytes, streamed", source.size()),
        }
    }
}

/// A file to share with the external upload flow.
#[derive(Debug, Clone)]
pub struct FileUpload {
    pub filename: String,
    pub title: String,
    pub content_type: String,
    pub content: FileContent,
    /// Plain text Slack shows as the file's comment (it renders no formatting or links).
    pub comment: Option<String>,
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
        let request = SlackApiFilesGetUploadUrlExternalRequest::new(file.filename.clone(), file.content.len() as usize);
        let ticket = slack_call!(self, "files.getUploadURLExternal", get_upload_url_external(&request))?;
        Ok(UploadTicket {
            file_id: ticket.file_id,
            upload_url: ticket.upload_url,
        })
    }

    /// Sends the bytes and shares the file in the channel, with blocks as its message (or a
    /// plain `comment`, which Slack shows as the file's comment).
    pub async fn finish_upload(
        &self,
        ticket: &UploadTicket,
        file: &FileUpload,
        channel: &SlackChannelId,
        blocks: Option<Vec<SlackBlock>>,
        thread_ts: Option<&SlackTs>,
    ) -> Result<(), SlackError> {
        self.send_bytes(ticket, file).await?;
        let complete = SlackApiFilesCompleteUploadExternalRequest::new(vec![
            SlackApiFilesComplete::new(ticket.file_id.clone()).with_title(file.title.clone()),
        ])
        .with_channel_id(channel.clone())
        .opt_initial_comment(file.comment.clone())
        .opt_blocks(blocks)
        .opt_thread_ts(thread_ts.cloned());
        slack_call!(
            self,
            "files.completeUploadExternal",
            in channel,
            files_complete_upload_external(&complete)
        )?;
        Ok(())
    }

    async fn send_bytes(&self, ticket: &UploadTicket, file: &FileUpload) -> Result<(), SlackError> {
        let source = match &file.content {
            FileContent::Bytes(bytes) => {
                let upload = SlackApiFilesUploadViaUrlRequest::new(
                    ticket.upload_url.clone(),
                    bytes.clone(),
                    file.content_type.clone(),
                );
                slack_call!(self, "files.upload (bytes)", files_upload_via_url(&upload))?;
                return Ok(());
            }
            FileContent::Streamed(source) => source,
        };
        // slack-morphism sends a buffer; a large file is streamed with its length declared.
        let method = "files.upload (stream)";
        let response = self
            .uploads
            .post(ticket.upload_url.value().as_str())
            .header(reqwest::header::CONTENT_TYPE, &file.content_type)
            .header(reqwest::header::CONTENT_LENGTH, source.size())
            .body(reqwest::Body::wrap_stream(source.open()))
            .send()
            .await
            .map_err(|e| SlackError::Transport {
                method,
                message: describe(&e),
            })?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            status => Err(SlackError::Http { method, status }),
        }
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
