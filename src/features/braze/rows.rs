//! Looker's `json_detail` to Braze attribute objects, one row at a time: the result is read as a
//! stream (serde's visitor over `fields`, then each element of `data`), so a 100,000-row export
//! never sits in memory whole. Fields tagged `braze_id` give the user's identifier, fields tagged
//! `braze[<Attr>]` (in any letter case, the name as written) its attributes, from dimensions,
//! measures, filters, parameters and table calculations, as Looker's own Braze action reads them.

use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};

const ID_TAG: &str = "braze_id";
/// The custom attribute array each exported user is added to.
pub const EXPORT_ATTRIBUTE: &str = "looker_export";

#[derive(Debug, Default, Deserialize)]
struct Field {
    name: String,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct Fields {
    #[serde(default)]
    dimensions: Option<Vec<Field>>,
    #[serde(default)]
    measures: Option<Vec<Field>>,
    #[serde(default)]
    filters: Option<Vec<Field>>,
    #[serde(default)]
    parameters: Option<Vec<Field>>,
    #[serde(default)]
    table_calculations: Option<Vec<Field>>,
    #[serde(default)]
    pivots: Option<Vec<Value>>,
}

/// Which field is the identifier and which become attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub id_field: String,
    /// (attribute name, field name), in the order the fields come.
    pub attributes: Vec<(String, String)>,
}

/// The attribute name in a `braze[<Attr>]` tag.
fn attribute_of(tag: &str) -> Option<&str> {
    let tag = tag.trim();
    let prefix = tag.get(..6)?;
    if !prefix.eq_ignore_ascii_case("braze[") || !tag.ends_with(']') {
        return None;
    }
    Some(&tag[6..tag.len() - 1]).filter(|name| !name.trim().is_empty())
}

fn mapping(fields: Fields) -> Result<Mapping, String> {
    if fields.pivots.as_ref().is_some_and(|p| !p.is_empty()) {
        return Err("Braze takes one row per user: remove the pivot from the query and send it again.".into());
    }
    let all = [
        fields.dimensions,
        fields.measures,
        fields.filters,
        fields.parameters,
        fields.table_calculations,
    ];
    let (mut id_field, mut attributes) = (None, Vec::new());
    for field in all.into_iter().flatten().flatten() {
        for tag in field.tags.iter().flatten() {
            if tag.trim() == ID_TAG {
                id_field = Some(field.name.clone());
            } else if let Some(attribute) = attribute_of(tag) {
                attributes.push((attribute.to_string(), field.name.clone()));
            }
        }
    }
    match id_field {
        Some(id_field) => Ok(Mapping { id_field, attributes }),
        None => Err("No field is tagged braze_id: tag the field holding the user's id with braze_id in LookML.".into()),
    }
}

/// What a read came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Attribute objects made (at most the cap).
    pub rows: u64,
    /// Rows without an identifier.
    pub skipped: u64,
    /// Rows past the cap, not sent.
    pub over_cap: u64,
}

/// How a read ends early: the result could not be read, or the receiver stopped it.
#[derive(Debug)]
pub enum ReadError {
    Unreadable(String),
    Refused(String),
    Stopped,
}

/// What each row is turned into.
pub struct Export<'a> {
    /// `external_id` or `braze_id`.
    pub key: &'a str,
    /// The label added to `looker_export`.
    pub label: &'a str,
    pub cap: u64,
}

impl Export<'_> {
    fn object(&self, mapping: &Mapping, mut row: Map<String, Value>) -> Option<Value> {
        let mut cell = |field: &str| match row.remove(field) {
            Some(Value::Object(mut cell)) => cell.remove("value").filter(|v| !v.is_null()),
            _ => None,
        };
        let id = cell(&mapping.id_field).filter(|id| id.as_str().is_none_or(|s| !s.trim().is_empty()))?;
        let mut object = Map::new();
        object.insert("_update_existing_only".into(), Value::Bool(true));
        object.insert(self.key.to_string(), id);
        for (attribute, field) in &mapping.attributes {
            if let Some(value) = cell(field) {
                object.insert(attribute.clone(), value);
            }
        }
        object.insert(EXPORT_ATTRIBUTE.into(), json!({"add": [self.label]}));
        Some(Value::Object(object))
    }

    /// Reads a `json_detail` result, giving each attribute object to `emit` (which may stop the
    /// read by answering `false`). Looker writes `fields` before `data`; a result written the
    /// other way round is read twice (`open` gives it again), never held.
    pub fn read<R: Read>(
        &self,
        mut open: impl FnMut() -> R,
        emit: &mut dyn FnMut(Value) -> bool,
    ) -> Result<Counts, ReadError> {
        let first = self.pass(open(), None, emit)?;
        match first {
            Pass::Done(counts) => Ok(counts),
            Pass::RowsFirst(mapping) => match self.pass(open(), Some(mapping), emit)? {
                Pass::Done(counts) => Ok(counts),
                Pass::RowsFirst(_) => Err(ReadError::Unreadable("Looker's result changed between reads".into())),
            },
        }
    }

    fn pass(
        &self,
        reader: impl Read,
        known: Option<Mapping>,
        emit: &mut dyn FnMut(Value) -> bool,
    ) -> Result<Pass, ReadError> {
        let mut state = ReadState {
            export: self,
            known: known.is_some(),
            mapping: known,
            rows_first: false,
            counts: Counts::default(),
            emit,
            failure: None,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let outcome = (&mut state).deserialize(&mut deserializer);
        if let Some(failure) = state.failure.take() {
            return Err(failure);
        }
        outcome.map_err(|e| ReadError::Unreadable(format!("Looker's json_detail could not be read: {e}")))?;
        match state.mapping {
            None => Err(ReadError::Unreadable("Looker's result has no fields".into())),
            Some(mapping) if state.rows_first => Ok(Pass::RowsFirst(mapping)),
            Some(_) => Ok(Pass::Done(state.counts)),
        }
    }
}

enum Pass {
    Done(Counts),
    /// The rows came before the fields (and were passed over): read again knowing them.
    RowsFirst(Mapping),
}

struct ReadState<'a, 'e> {
    export: &'a Export<'a>,
    /// Whether the mapping came from an earlier pass (the fields are then passed over).
    known: bool,
    mapping: Option<Mapping>,
    rows_first: bool,
    counts: Counts,
    emit: &'e mut dyn FnMut(Value) -> bool,
    /// Why the read stopped, when it was not the JSON itself.
    failure: Option<ReadError>,
}

impl<'de> DeserializeSeed<'de> for &mut ReadState<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut ReadState<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a json_detail result")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "fields" if self.known => {
                    map.next_value::<IgnoredAny>()?;
                }
                "fields" => match mapping(map.next_value::<Fields>()?) {
                    Ok(found) => self.mapping = Some(found),
                    Err(refused) => {
                        self.failure = Some(ReadError::Refused(refused));
                        return Err(de::Error::custom("refused"));
                    }
                },
                "data" if self.mapping.is_none() => {
                    self.rows_first = true;
                    map.next_value::<IgnoredAny>()?;
                }
                "data" => map.next_value_seed(Rows(&mut *self))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Rows<'s, 'a, 'e>(&'s mut ReadState<'a, 'e>);

impl<'de> DeserializeSeed<'de> for Rows<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut rows: A) -> Result<(), A::Error> {
        let state = self.0;
        let mapping = state.mapping.clone().expect("fields came first");
        while let Some(row) = rows.next_element::<Map<String, Value>>()? {
            if state.counts.rows >= state.export.cap {
                state.counts.over_cap += 1;
                continue;
            }
            match state.export.object(&mapping, row) {
                Some(object) => {
                    state.counts.rows += 1;
                    if !(state.emit)(object) {
                        state.failure = Some(ReadError::Stopped);
                        return Err(de::Error::custom("stopped"));
                    }
                }
                None => state.counts.skipped += 1,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/braze/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn export(body: &[u8], cap: u64) -> (Result<Counts, ReadError>, Vec<Value>) {
        let mut objects = Vec::new();
        let export = Export {
            key: "external_id",
            label: "looker_export",
            cap,
        };
        let counts = export.read(|| body, &mut |object| {
            objects.push(object);
            true
        });
        (counts, objects)
    }

    #[test]
    fn looker_s_own_sample_gives_the_objects_its_action_sends() {
        let (counts, objects) = export(&fixture("sample_braze_data.json"), 100_000);
        let expected: Value =
            serde_json::from_slice(&fixture("success_with_sample_data.expected_braze_request.json")).unwrap();
        assert_eq!(Value::Array(objects), expected["body"]["attributes"]);
        assert_eq!(counts.unwrap().rows, 2);
    }

    #[test]
    fn tags_match_in_any_case_from_every_kind_of_field_and_rows_without_an_id_are_skipped() {
        let body = json!({
            "fields": {"dimensions": [{"name": "users.id", "tags": ["braze_id"]}],
                       "measures": [{"name": "orders.count", "tags": ["BRAZE[Order Count]"]}],
                       "table_calculations": [{"name": "ltv", "tags": ["Braze[LTV]", "other"]}],
                       "pivots": []},
            "data": [
                {"users.id": {"value": 7}, "orders.count": {"value": 3, "rendered": "3"}, "ltv": {"value": 12.5}},
                {"users.id": {"value": null}, "orders.count": {"value": 1}},
                {"users.id": {"value": ""}},
                {"users.id": {"value": "u9"}}
            ]
        });
        let (counts, objects) = export(body.to_string().as_bytes(), 100);
        assert_eq!(
            counts.unwrap(),
            Counts {
                rows: 2,
                skipped: 2,
                over_cap: 0
            }
        );
        assert_eq!(objects[0]["Order Count"], 3);
        assert_eq!(objects[0]["LTV"], 12.5);
        assert_eq!(objects[0]["external_id"], 7);
        assert_eq!(
            objects[1],
            json!({"_update_existing_only": true, "external_id": "u9",
                                     "looker_export": {"add": ["looker_export"]}})
        );
    }

    #[test]
    fn a_pivot_or_a_missing_id_tag_is_refused_and_rows_past_the_cap_are_counted() {
        let pivoted = json!({"fields": {"dimensions": [{"name": "id", "tags": ["braze_id"]}], "pivots": [{"name": "p"}]}, "data": []});
        assert!(
            matches!(export(pivoted.to_string().as_bytes(), 10).0, Err(ReadError::Refused(r)) if r.contains("pivot"))
        );
        let untagged = json!({"fields": {"dimensions": [{"name": "id", "tags": []}]}, "data": []});
        assert!(
            matches!(export(untagged.to_string().as_bytes(), 10).0, Err(ReadError::Refused(r)) if r.contains("braze_id"))
        );
        let (counts, objects) = export(&fixture("sample_braze_data.json"), 1);
        assert_eq!(
            counts.unwrap(),
            Counts {
                rows: 1,
                skipped: 0,
                over_cap: 1
            }
        );
        assert_eq!(objects.len(), 1);
        let (broken, _) = export(
            b"{\"fields\": {\"dimensions\": [{\"name\": \"id\", \"tags\": [\"braze_id\"]}]}, \"data\": [{",
            10,
        );
        assert!(matches!(broken, Err(ReadError::Unreadable(_))));
    }

    #[test]
    fn a_real_looker_result_reads_without_a_braze_tag_refused() {
        let (counts, _) = export(&fixture("docs_json_detail_example.json"), 10);
        assert!(matches!(counts, Err(ReadError::Refused(r)) if r.contains("braze_id")));
    }
}
