//! What both backends' group commits share: answering every waiting caller with its own result
//! (or the batch's error), and working out from one multi-row `INSERT … ON CONFLICT DO NOTHING
//! RETURNING` which job each enqueue became.

use std::collections::{HashMap, HashSet};

use tokio::sync::oneshot;

use super::{Enqueued, Millis, StoreError};

/// A write waiting for the next group commit: what to write, when it was asked for, and where
/// to send its result.
pub(super) type Waiting<T, R> = (T, Millis, oneshot::Sender<Result<R, StoreError>>);

/// Sends each waiting caller its result, in order, or every caller the batch's error: a batch
/// is committed whole or not at all, so no caller is told "try again" for a job that is stored.
pub(super) fn answer_all<T, R>(batch: &mut Vec<Waiting<T, R>>, outcome: Result<Vec<R>, sqlx::Error>) {
    match outcome {
        Ok(results) => {
            for ((_, _, reply), result) in batch.drain(..).zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Err(error) => {
            let error = StoreError::from(error);
            for (_, _, reply) in batch.drain(..) {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

/// The rows a batch insert created, as `RETURNING id, dedupe_key` gave them (in no promised
/// order): keyed rows are matched by key, keyless ones by id, since ids grow in the order the
/// `VALUES` rows are inserted.
pub(super) struct Inserted {
    created_by_key: HashMap<String, i64>,
    keyless: std::vec::IntoIter<i64>,
}

impl Inserted {
    pub(super) fn new(rows: Vec<(i64, Option<String>)>) -> Self {
        let mut created_by_key = HashMap::new();
        let mut keyless = Vec::new();
        for (id, key) in rows {
            match key {
                Some(key) => {
                    created_by_key.insert(key, id);
                }
                None => keyless.push(id),
            }
        }
        keyless.sort_unstable();
        Self {
            created_by_key,
            keyless: keyless.into_iter(),
        }
    }

    /// The batch's keys that no row of this insert holds: they were there before (or another
    /// replica's insert took them first), and their jobs are looked up.
    pub(super) fn taken_keys<'a>(&self, keys: &[Option<&'a str>]) -> Vec<&'a str> {
        keys.iter()
            .flatten()
            .filter(|key| !self.created_by_key.contains_key(**key))
            .copied()
            .collect()
    }

    /// For each enqueue in order: created, or a duplicate of the job holding its key (`earlier`:
    /// the jobs found for [`Inserted::taken_keys`]).
    pub(super) fn answers(
        mut self,
        keys: &[Option<&str>],
        earlier: HashMap<String, i64>,
    ) -> Result<Vec<Enqueued>, sqlx::Error> {
        let mut claimed_in_batch = HashSet::new();
        keys.iter()
            .map(|key| match key {
                None => {
                    self.keyless.next().map(Enqueued::Created).ok_or_else(|| {
                        sqlx::Error::Protocol("the database returned fewer rows than it inserted".into())
                    })
                }
                Some(key) => match self.created_by_key.get(*key) {
                    // The first job in the batch with a new key created it; later ones repeat it.
                    Some(&id) if claimed_in_batch.insert(*key) => Ok(Enqueued::Created(id)),
                    Some(&id) => Ok(Enqueued::Duplicate(id)),
                    None => earlier
                        .get(*key)
                        .map(|&id| Enqueued::Duplicate(id))
                        .ok_or(sqlx::Error::RowNotFound),
                },
            })
            .collect()
    }
}
