//! Custom commands (Lookerbot's feature): every dashboard in `LOOKER_CUSTOM_COMMAND_FOLDER_ID`
//! is a command named after its title, its sub-folders are help categories, and `[hidden]` in a
//! title or folder keeps a command out of `help`. The catalog is cached, refreshed when `help` is
//! asked and every few minutes in the background. Arguments fill the dashboard's filters: one
//! bare argument fills the first filter, `name=value` pairs fill filters by name or title.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::dashboards::DashboardRequest;
use crate::clients::looker::models::{Dashboard, LookerId};
use crate::clients::looker::{LookerClient, LookerError, Lookers};

/// How long a catalog is trusted before it is fetched again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(600);
const HIDDEN: &str = "[hidden]";

/// One command: a dashboard in the commands folder.
#[derive(Debug, Clone)]
pub struct CustomCommand {
    /// What people type (lower case).
    pub name: String,
    pub title: String,
    pub dashboard_id: String,
    pub link: String,
    /// The sub-folder it sits in, if any.
    pub category: Option<String>,
    pub description: Option<String>,
    /// The dashboard's filters, in order: (name, title).
    pub filters: Vec<(String, Option<String>)>,
    pub hidden: bool,
}

impl CustomCommand {
    /// `status=…` style hint of what the command takes.
    pub fn filter_hint(&self) -> Option<String> {
        let names: Vec<String> = self
            .filters
            .iter()
            .map(|(name, title)| title.clone().unwrap_or(name.clone()))
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }

    /// The dashboard request for these arguments.
    pub fn request(&self, args: &[String]) -> DashboardRequest {
        let mut filters = Vec::new();
        for arg in args {
            match arg.split_once('=') {
                Some((key, value)) => filters.push((key.trim().to_string(), value.trim().to_string())),
                // A bare argument fills the first filter.
                None => {
                    if let Some((first, _)) = self.filters.first() {
                        filters.push((first.clone(), arg.clone()));
                    }
                }
            }
        }
        DashboardRequest {
            id: self.dashboard_id.clone(),
            filters,
            title: Some(self.title.clone()),
            link: Some(self.link.clone()),
            host: None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Folder {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    dashboards: Vec<FolderDashboard>,
}

#[derive(Debug, Deserialize)]
struct FolderDashboard {
    id: LookerId,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChildFolder {
    id: LookerId,
    #[serde(default)]
    name: Option<String>,
}

async fn load_folder(
    looker: &LookerClient,
    folder_id: &str,
    category: Option<&str>,
    commands: &mut Vec<CustomCommand>,
) -> Result<(), LookerError> {
    let folder: Folder = looker.get_json(&format!("folders/{folder_id}"), &[]).await?;
    let folder_hidden = folder
        .name
        .as_deref()
        .is_some_and(|n| n.to_lowercase().contains(HIDDEN));
    for listed in folder.dashboards {
        let Some(title) = listed.title else { continue };
        // Folder listings carry no filters: fetch each dashboard.
        let dashboard: Dashboard = looker.dashboard(listed.id.as_str()).await?;
        let hidden = folder_hidden || title.to_lowercase().contains(HIDDEN);
        let clean = title.replace(HIDDEN, "").replace("[HIDDEN]", "").trim().to_string();
        commands.push(CustomCommand {
            name: clean.to_lowercase(),
            title: clean,
            dashboard_id: listed.id.0.clone(),
            link: format!("{}/dashboards/{}", looker.web_base(), listed.id),
            category: category.map(str::to_string),
            description: dashboard.description.clone().filter(|d| !d.trim().is_empty()),
            filters: dashboard
                .dashboard_filters
                .iter()
                .map(|f| (f.name.clone(), f.title.clone()))
                .collect(),
            hidden,
        });
    }
    Ok(())
}

/// Every command of one Looker: its folder's dashboards, then each sub-folder's as a category.
pub async fn load(looker: &LookerClient, folder_id: &str) -> Result<Vec<CustomCommand>, LookerError> {
    let mut commands = Vec::new();
    load_folder(looker, folder_id, None, &mut commands).await?;
    let children: Vec<ChildFolder> = looker.get_json(&format!("folders/{folder_id}/children"), &[]).await?;
    for child in children {
        let name = child.name.unwrap_or_else(|| "Other".into());
        let hidden = name.to_lowercase().contains(HIDDEN);
        let before = commands.len();
        load_folder(
            looker,
            child.id.as_str(),
            Some(name.replace(HIDDEN, "").trim()),
            &mut commands,
        )
        .await?;
        if hidden {
            commands[before..].iter_mut().for_each(|c| c.hidden = true);
        }
    }
    Ok(commands)
}

/// The cached catalogs of every Looker with a commands folder.
#[derive(Default)]
pub struct CustomCommands {
    catalogs: Mutex<HashMap<String, (Instant, Vec<CustomCommand>)>>,
}

impl CustomCommands {
    /// Fetches every catalog again (on `help` and in the background).
    pub async fn refresh(&self, lookers: &Lookers) -> Result<(), LookerError> {
        for looker in lookers.all() {
            let Some(folder) = looker.settings().custom_command_folder_id.clone() else {
                continue;
            };
            let commands = load(looker, &folder).await?;
            self.catalogs
                .lock()
                .await
                .insert(looker.web_base(), (Instant::now(), commands));
        }
        Ok(())
    }

    /// Every command, fetching catalogs that are missing or old.
    pub async fn all(&self, lookers: &Lookers) -> Result<Vec<(String, CustomCommand)>, LookerError> {
        let stale = {
            let catalogs = self.catalogs.lock().await;
            lookers.all().iter().any(|l| {
                l.settings().custom_command_folder_id.is_some()
                    && catalogs
                        .get(&l.web_base())
                        .is_none_or(|(at, _)| at.elapsed() > REFRESH_EVERY)
            })
        };
        if stale {
            self.refresh(lookers).await?;
        }
        let catalogs = self.catalogs.lock().await;
        Ok(catalogs
            .iter()
            .flat_map(|(base, (_, commands))| commands.iter().map(|c| (base.clone(), c.clone())))
            .collect())
    }

    /// The command the words start with (longest name first) and the remaining arguments.
    pub async fn find(
        &self,
        lookers: &Lookers,
        words: &[String],
    ) -> Result<Option<(String, CustomCommand, Vec<String>)>, LookerError> {
        let mut all = self.all(lookers).await?;
        all.sort_by_key(|(_, c)| std::cmp::Reverse(c.name.split_whitespace().count()));
        let lowered: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        for (base, command) in all {
            let name_words: Vec<&str> = command.name.split_whitespace().collect();
            if !name_words.is_empty()
                && lowered.len() >= name_words.len()
                && lowered.iter().zip(&name_words).all(|(w, n)| w == n)
            {
                let args = words[name_words.len()..].to_vec();
                return Ok(Some((base, command, args)));
            }
        }
        Ok(None)
    }

    /// Whether any Looker has a commands folder at all.
    pub fn configured(lookers: &Lookers) -> bool {
        lookers
            .all()
            .iter()
            .any(|l| l.settings().custom_command_folder_id.is_some())
    }
}
