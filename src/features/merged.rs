//! Merged-result tiles: Looker's API runs no merge query, so the bot runs each source query and
//! joins them as Looker does: every row of the first query, with the other queries' columns
//! matched on their merge fields.

use std::collections::{BTreeMap, HashMap};

use super::dashboard_filters::filtered_query;
use crate::clients::looker::{LookerClient, LookerError};
use crate::domain::looker::models::{FieldValue, Filterable, LookerId, Query, QueryResult, ResultField, Row};

fn key(row: &Row, fields: &[&str]) -> String {
    let value = |f: &str| {
        row.get(f)
            .and_then(FieldValue::single)
            .map(|c| c.value.to_string())
            .unwrap_or_default()
    };
    fields.iter().map(|f| value(f)).collect::<Vec<_>>().join("\u{1f}")
}

/// Runs a merged result; returns the joined result and a query carrying its vis settings.
pub async fn run(
    looker: &LookerClient,
    merge_id: &LookerId,
    values: &BTreeMap<String, String>,
    filterables: &[Filterable],
) -> Result<(QueryResult, Query), LookerError> {
    let merge = looker.merge_query(merge_id).await?;
    let mut results = Vec::new();
    for source in &merge.source_queries {
        let Some(id) = &source.query_id else { continue };
        let query = looker.query(id).await?;
        // Filters listen per source: those naming this query's model and view.
        let mine: Vec<Filterable> = filterables
            .iter()
            .filter(|f| {
                f.model.as_deref() == Some(query.model.as_str()) && f.view.as_deref() == Some(query.view.as_str())
            })
            .cloned()
            .collect();
        let run_id = match filtered_query(&query, &mine, values) {
            Some(changed) => looker.create_query(&changed).await?.id.unwrap_or(id.clone()),
            None => id.clone(),
        };
        results.push((source, looker.run_query_detail(&run_id).await?));
    }
    let mut sources = results.into_iter();
    let Some((_, mut merged)) = sources.next() else {
        return Ok((
            QueryResult::default(),
            Query {
                vis_config: merge.vis_config,
                ..Default::default()
            },
        ));
    };
    for (source, result) in sources {
        if let Some(message) = result.error_message() {
            merged
                .errors
                .get_or_insert_with(Vec::new)
                .push(crate::domain::looker::models::QueryErrorDetail {
                    message: Some(message),
                    message_details: None,
                });
            continue;
        }
        let joins: Vec<(String, String)> = source
            .merge_fields
            .iter()
            .flatten()
            .filter_map(|m| Some((m.field_name.clone()?, m.source_field_name.clone()?)))
            .collect();
        let primary: Vec<&str> = joins.iter().map(|(p, _)| p.as_str()).collect();
        let secondary: Vec<&str> = joins.iter().map(|(_, s)| s.as_str()).collect();
        let added = |fields: &[ResultField]| -> Vec<ResultField> {
            fields
                .iter()
                .filter(|f| !secondary.contains(&f.name.as_str()))
                .cloned()
                .collect()
        };
        let new_fields: Vec<ResultField> = added(&result.fields.dimensions)
            .into_iter()
            .chain(added(&result.fields.measures))
            .chain(added(&result.fields.table_calculations))
            .collect();
        let index: HashMap<String, &Row> = result.data.iter().map(|r| (key(r, &secondary), r)).collect();
        for row in &mut merged.data {
            if let Some(other) = index.get(&key(row, &primary)) {
                for field in &new_fields {
                    if let Some(cell) = other.get(&field.name) {
                        row.insert(field.name.clone(), cell.clone());
                    }
                }
            }
        }
        merged.fields.dimensions.extend(added(&result.fields.dimensions));
        merged.fields.measures.extend(added(&result.fields.measures));
        merged
            .fields
            .table_calculations
            .extend(added(&result.fields.table_calculations));
    }
    Ok((
        merged,
        Query {
            vis_config: merge.vis_config,
            ..Default::default()
        },
    ))
}
