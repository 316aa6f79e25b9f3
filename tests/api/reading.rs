//! Reading what reached the fake Slack in the words of the domain: a message's title, its table
//! cells, its sections and notes, the messages in a channel, instead of deep JSON paths.

use serde_json::{Value, json};

use crate::fake_slack::{FakeSlack, PostedMessage, UploadedFile};

/// The text a Block Kit element shows: plain and mrkdwn text, rich text, links, table cells.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(" "),
        Value::Object(map) => match map.get("text") {
            Some(text) => shown(text),
            // Blocks of other kinds (tables, fields, rich text): all they hold, in order.
            None => map
                .iter()
                .filter(|(key, _)| !matches!(key.as_str(), "type" | "block_id" | "style" | "column_settings" | "url"))
                .map(|(_, value)| shown(value))
                .collect::<Vec<_>>()
                .join(" "),
        },
        _ => String::new(),
    }
}

impl PostedMessage {
    /// The type of every block, in order.
    pub fn block_types(&self) -> Vec<String> {
        self.blocks_list()
            .iter()
            .map(|b| b["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    fn blocks_list(&self) -> Vec<Value> {
        self.blocks.as_array().cloned().unwrap_or_default()
    }

    /// The heading the bot puts first: the content's title, linked to Looker.
    pub fn title(&self) -> String {
        self.section(0)
    }

    /// The text of block `i` (a section, header or context).
    pub fn section(&self, i: usize) -> String {
        self.blocks_list().get(i).map(shown).unwrap_or_default()
    }

    /// The label/value fields of block `i`.
    pub fn fields(&self, i: usize) -> Vec<String> {
        self.blocks_list()
            .get(i)
            .and_then(|b| b["fields"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(shown)
            .collect()
    }

    fn table(&self) -> Value {
        self.blocks_list()
            .into_iter()
            .find(|b| b["type"] == "table")
            .unwrap_or_else(|| panic!("no table in {}", self.blocks))
    }

    /// Rows of the native table, header included.
    pub fn table_rows(&self) -> usize {
        self.table()["rows"].as_array().map(Vec::len).unwrap_or(0)
    }

    /// What a table cell shows (row 0 is the header).
    pub fn table_cell(&self, row: usize, col: usize) -> String {
        shown(&self.table()["rows"][row][col])
    }

    /// Where a table cell links to, if it is a link (a measure's drill).
    pub fn table_link(&self, row: usize, col: usize) -> Option<String> {
        let cell = self.table()["rows"][row][col].clone();
        let link = &cell["elements"][0]["elements"][0];
        (link["type"] == "link").then(|| link["url"].as_str().unwrap_or_default().to_string())
    }

    /// How column `col` of the table is aligned.
    pub fn table_alignment(&self, col: usize) -> String {
        self.table()["column_settings"][col]["align"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Every native table in the message, in order.
    pub fn tables(&self) -> Vec<Table> {
        self.blocks_list()
            .into_iter()
            .filter(|b| b["type"] == "table")
            .map(Table)
            .collect()
    }

    /// Everything the message shows, fallback text included, for "it says" assertions.
    pub fn all_text(&self) -> String {
        format!("{}\n{}", self.text, shown(&self.blocks))
    }

    /// The message as a snapshot sees it: where it went, its text and blocks, with the fakes'
    /// random addresses replaced so the snapshot stays the same from run to run.
    pub fn snapshot(&self, addresses: &[(&str, &str)]) -> Value {
        let mut text = json!({"channel": self.channel, "thread_ts": self.thread_ts, "text": self.text,
                              "blocks": self.blocks})
        .to_string();
        for (address, stands_for) in addresses {
            text = text.replace(address, stands_for);
        }
        serde_json::from_str(&text).unwrap()
    }
}

/// One native table of a message.
pub struct Table(Value);

impl Table {
    /// What a cell shows (row 0 is the header).
    pub fn cell(&self, row: usize, col: usize) -> String {
        shown(&self.0["rows"][row][col])
    }
}

impl UploadedFile {
    /// The message shared with the file, read like a posted one.
    pub fn message(&self) -> PostedMessage {
        PostedMessage {
            reply_broadcast: false,
            ts: String::new(),
            channel: self.shared_to.clone().unwrap_or_default(),
            text: self.title.clone().unwrap_or_default(),
            blocks: self.blocks.clone().unwrap_or(Value::Null),
            thread_ts: self.thread_ts.clone(),
            metadata: Value::Null,
        }
    }
}

impl FakeSlack {
    /// The sentences sent to askers through their response URLs, in order.
    pub fn said(&self) -> Vec<String> {
        self.responses()
            .iter()
            .map(|r| r["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The blocks previewing `url` in the `n`th `chat.unfurl`, read like a message.
    pub fn preview(&self, n: usize, url: &str) -> PostedMessage {
        let unfurl = &self.unfurls()[n];
        PostedMessage {
            reply_broadcast: false,
            ts: String::new(),
            channel: unfurl["channel"].as_str().unwrap_or_default().to_string(),
            text: String::new(),
            blocks: unfurl["unfurls"][url]["blocks"].clone(),
            thread_ts: None,
            metadata: Value::Null,
        }
    }

    /// The messages posted in a channel, named `#name` or by id.
    pub fn posts_to(&self, channel: &str) -> Vec<PostedMessage> {
        let id = match channel.strip_prefix('#') {
            Some(name) => self
                .channel_id(name)
                .unwrap_or_else(|| panic!("the fake has no #{name}")),
            None => channel.to_string(),
        };
        self.messages().into_iter().filter(|m| m.channel == id).collect()
    }

    /// The one message posted in a channel.
    pub fn only_post_to(&self, channel: &str) -> PostedMessage {
        let mut posts = self.posts_to(channel);
        assert_eq!(posts.len(), 1, "one message expected in {channel}: {posts:?}");
        posts.remove(0)
    }
}
