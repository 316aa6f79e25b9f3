//! Custom commands (Lookerbot's feature): every dashboard in `LOOKER_CUSTOM_COMMAND_FOLDER_ID` is
//! a command named after its title, its sub-folders are help categories, and `[hidden]` (in any
//! letter case) in a title or folder name keeps a command out of `help`. Each Looker's catalog is
//! kept in memory, refreshed in the background and when stale; a Looker that cannot be reached
//! keeps its last good catalog, so the other Lookers' commands go on working. Arguments fill the
//! dashboard's filters: one bare argument fills the first filter, `name=value` pairs fill filters
//! by name or title.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

use regex::Regex;

use super::dashboards::DashboardRequest;
use super::errors::UserError;
use crate::clients::looker::{LookerClient, LookerError, Lookers};
use crate::domain::looker::{LookerChoice, LookerKey};

/// How long a catalog is trusted before it is fetched again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(600);
/// How often asking for `help` may bring the refresh forward.
const EARLY_REFRESH_EVERY: Duration = Duration::from_secs(60);

static HIDDEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\[hidden\]").expect("valid regex"));

/// `[hidden]` in any letter case: whether a name carries it, and the name without it.
fn hidden(name: &str) -> (bool, String) {
    (HIDDEN.is_match(name), HIDDEN.replace_all(name, "").trim().to_string())
}

/// One command: a dashboard in a Looker's commands folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCommand {
    /// What people type (lower case).
    pub name: String,
    pub title: String,
    pub looker: LookerKey,
    /// The host of its Looker, for `help` when several Lookers have commands.
    pub looker_host: String,
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
    /// `Region, Date` style hint of what the command takes.
    pub fn filter_hint(&self) -> Option<String> {
        let names: Vec<String> = self
            .filters
            .iter()
            .map(|(name, title)| title.clone().unwrap_or(name.clone()))
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }

    /// The dashboard request for these arguments: `name=value` pairs fill filters by name or
    /// title; the other words, together, are the value of the first filter (Lookerbot's way:
    /// `sales report west coast`).
    pub fn request(&self, args: &[String]) -> Result<DashboardRequest, UserError> {
        let (pairs, bare): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| a.contains('='));
        let mut filters: Vec<(String, String)> = pairs
            .iter()
            .filter_map(|a| a.split_once('='))
            .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
            .collect();
        if !bare.is_empty() {
            let Some((first, _)) = self.filters.first() else {
                return Err(UserError::NoFilters {
                    command: self.name.clone(),
                });
            };
            let value = bare.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(" ");
            filters.insert(0, (first.clone(), value));
        }
        Ok(DashboardRequest {
            looker: LookerChoice::Key(self.looker.clone()),
            id: self.dashboard_id.clone(),
            filters,
            title: Some(self.title.clone()),
            link: Some(self.link.clone()),
            strict_filters: true,
        })
    }
}

/// Every command of one Looker: its folder's dashboards, then each sub-folder's as a category.
async fn load(key: &LookerKey, looker: &LookerClient, folder_id: &str) -> Result<Vec<CustomCommand>, LookerError> {
    let mut commands = Vec::new();
    load_folder(key, looker, folder_id, None, false, &mut commands).await?;
    for child in looker.folder_children(folder_id).await? {
        let Some(id) = child.id else { continue };
        let (folder_hidden, name) = hidden(child.name.as_deref().unwrap_or("Other"));
        let category = if name.is_empty() { "Other".to_string() } else { name };
        load_folder(key, looker, id.as_str(), Some(&category), folder_hidden, &mut commands).await?;
    }
    Ok(commands)
}

async fn load_folder(
    key: &LookerKey,
    looker: &LookerClient,
    folder_id: &str,
    category: Option<&str>,
    folder_hidden: bool,
    commands: &mut Vec<CustomCommand>,
) -> Result<(), LookerError> {
    let folder = looker.folder(folder_id).await?;
    let folder_hidden = folder_hidden || folder.name.as_deref().is_some_and(|n| hidden(n).0);
    for listed in folder.dashboards {
        let Some(title) = listed.title else { continue };
        let (title_hidden, clean) = hidden(&title);
        if clean.is_empty() {
            continue;
        }
        // Folder listings carry no filters: fetch each dashboard.
        let dashboard = looker.dashboard(listed.id.as_str()).await?;
        commands.push(CustomCommand {
            name: clean.to_lowercase(),
            title: clean,
            looker: key.clone(),
            looker_host: looker.settings().host(),
            dashboard_id: listed.id.0.clone(),
            link: format!("{}/dashboards/{}", looker.web_base(), listed.id),
            category: category.map(str::to_string),
            description: dashboard.description.clone().filter(|d| !d.trim().is_empty()),
            filters: dashboard
                .dashboard_filters
                .iter()
                .map(|f| (f.name.clone(), f.title.clone()))
                .collect(),
            hidden: folder_hidden || title_hidden,
        });
    }
    Ok(())
}

struct Catalog {
    fetched: Instant,
    commands: Vec<CustomCommand>,
}

/// The last good catalog of every Looker with a commands folder, in memory. Nothing that
/// answers a person waits for Looker here: the catalogs are loaded in the background (see
/// `startup`), one load per Looker at a time, and asking for `help` only asks for an early one.
#[derive(Default)]
pub struct CustomCommands {
    catalogs: RwLock<HashMap<LookerKey, Catalog>>,
    /// Counts changes to the catalogs, so answers built from them can be kept until they change.
    generation: AtomicU64,
    /// One load per Looker at a time: a second refresh waits for the first and finds it fresh.
    loads: Mutex<HashMap<LookerKey, Arc<tokio::sync::Mutex<()>>>>,
    /// Set when someone asked for `help`: the background refresh comes early.
    wanted: tokio::sync::Notify,
    /// When an early refresh was last asked for (unix ms), so asking often asks once a minute.
    wanted_at: AtomicI64,
}

impl CustomCommands {
    /// Whether any Looker has a commands folder at all.
    pub fn configured(lookers: &Lookers) -> bool {
        lookers
            .all()
            .any(|(_, l)| l.settings().custom_command_folder_id.is_some())
    }

    /// Fetches the catalogs again (all of them, or only those older than [`REFRESH_EVERY`]). A
    /// Looker that fails keeps its last good catalog; its failure is logged and returned.
    pub async fn refresh(&self, lookers: &Lookers, only_stale: bool) -> Vec<(LookerKey, LookerError)> {
        let mut failures = Vec::new();
        for (key, looker) in lookers.all() {
            let Some(folder) = looker.settings().custom_command_folder_id.as_deref() else {
                continue;
            };
            let load_lock = self.load_lock(key);
            let _one_at_a_time = load_lock.lock().await;
            if only_stale && self.fresh(key) {
                continue;
            }
            match load(key, looker, folder).await {
                Ok(commands) => {
                    let catalog = Catalog {
                        fetched: Instant::now(),
                        commands,
                    };
                    let mut catalogs = self.write();
                    if catalogs.get(key).is_none_or(|old| old.commands != catalog.commands) {
                        self.generation.fetch_add(1, Ordering::Relaxed);
                    }
                    catalogs.insert(key.clone(), catalog);
                }
                Err(error) => {
                    tracing::warn!(looker = %key, %error, "could not refresh the custom commands; keeping the last good ones");
                    failures.push((key.clone(), error));
                }
            }
        }
        failures
    }

    fn load_lock(&self, key: &LookerKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut loads = self.loads.lock().unwrap_or_else(|p| p.into_inner());
        loads.entry(key.clone()).or_default().clone()
    }

    /// Asks the background refresh to come early (at most once a minute); never waits for it.
    pub fn refresh_soon(&self) {
        let now = crate::store::now_millis();
        let last = self.wanted_at.load(Ordering::Relaxed);
        if now - last >= EARLY_REFRESH_EVERY.as_millis() as i64
            && self
                .wanted_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.wanted.notify_one();
        }
    }

    /// Resolves when someone asked for an early refresh.
    pub async fn refresh_wanted(&self) {
        self.wanted.notified().await;
    }

    /// Changes whenever a catalog's commands change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn fresh(&self, key: &LookerKey) -> bool {
        self.read()
            .get(key)
            .is_some_and(|c| c.fetched.elapsed() < REFRESH_EVERY)
    }

    /// Whether every Looker with a commands folder has a catalog yet.
    pub fn loaded(&self, lookers: &Lookers) -> bool {
        let catalogs = self.read();
        lookers
            .all()
            .filter(|(_, l)| l.settings().custom_command_folder_id.is_some())
            .all(|(key, _)| catalogs.contains_key(key))
    }

    /// Every command known now, without asking Looker: Lookers in the order the settings list
    /// them, then by name, so the same words always mean the same command.
    pub fn snapshot(&self, lookers: &Lookers) -> Vec<CustomCommand> {
        let catalogs = self.read();
        let mut all: Vec<CustomCommand> = lookers
            .all()
            .filter_map(|(key, _)| catalogs.get(key))
            .flat_map(|c| c.commands.iter().cloned())
            .collect();
        let order: HashMap<&LookerKey, usize> = lookers.all().enumerate().map(|(i, (k, _))| (k, i)).collect();
        all.sort_by(|a, b| {
            (order.get(&a.looker), &a.name, &a.dashboard_id).cmp(&(order.get(&b.looker), &b.name, &b.dashboard_id))
        });
        all
    }

    /// The command the words start with (the longest name first, then the first Looker) and the
    /// remaining arguments.
    pub fn find(&self, lookers: &Lookers, words: &[String]) -> Option<(CustomCommand, Vec<String>)> {
        let mut all = self.snapshot(lookers);
        // A stable sort keeps the Looker order among names of the same length.
        all.sort_by_key(|c| std::cmp::Reverse(c.name.split_whitespace().count()));
        let lowered: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        all.into_iter().find_map(|command| {
            let length = command.name.split_whitespace().count();
            let starts = length > 0
                && lowered.len() >= length
                && lowered.iter().zip(command.name.split_whitespace()).all(|(w, n)| w == n);
            starts.then(|| (command, words[length..].to_vec()))
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<LookerKey, Catalog>> {
        self.catalogs.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<LookerKey, Catalog>> {
        self.catalogs.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_is_recognised_and_stripped_in_any_case() {
        assert_eq!(hidden("Ops [Hidden]"), (true, "Ops".into()));
        assert_eq!(hidden("[HIDDEN] Drafts"), (true, "Drafts".into()));
        assert_eq!(hidden("Sales"), (false, "Sales".into()));
    }
}
