//! Snapshots of the Block Kit JSON for every shape, from json_detail fixtures shaped as Looker
//! sends them (`tests/fixtures/render`). Review changes with `cargo insta review` or
//! `INSTA_UPDATE=always cargo test` and a diff.

use serde_json::{Value, json};

use super::*;
use crate::domain::looker::models::{Query, QueryResult};

fn fixture(text: &str) -> (Query, QueryResult) {
    let value: Value = serde_json::from_str(text).expect("fixture is JSON");
    (
        serde_json::from_value(value["query"].clone()).unwrap(),
        serde_json::from_value(value["result"].clone()).unwrap(),
    )
}

fn render(query: &Query, result: &QueryResult, options: &RenderOptions) -> Value {
    let heading = Heading {
        title: "Orders · Last 30 Days".into(),
        link: Some("https://looker.example.com/looks/7".into()),
    };
    let ctx = RenderContext {
        heading: &heading,
        looker_web_base: "https://looker.example.com",
        source: Source {
            look_id: Some(LookerId("7".into())),
            query_id: query.id.clone(),
            dashboard_element_id: None,
        },
        options,
        actions: None,
    };
    let rendered = render_query(result, Some(query), &ctx);
    json!({
        "text": rendered.message.text,
        "blocks": rendered.message.blocks,
        "image": rendered.image.map(|i| json!({"source": format!("{:?}", i.source), "alt_text": i.alt_text})),
        "csv": rendered.csv.map(|c| json!({"filename": c.filename, "lines": String::from_utf8(c.bytes).unwrap().lines().count()})),
    })
}

macro_rules! snapshot {
    ($name:ident) => {
        #[test]
        fn $name() {
            let (query, result) = fixture(include_str!(concat!(
                "../../tests/fixtures/render/",
                stringify!($name),
                ".json"
            )));
            insta::assert_json_snapshot!(
                stringify!($name),
                render(&query, &result, &RenderOptions::default())
            );
        }
    };
}

snapshot!(single_value);
snapshot!(single_value_comparison);
snapshot!(single_value_progress);
snapshot!(single_record);
snapshot!(table_drill);
snapshot!(table_hidden);
snapshot!(pivot_totals);
snapshot!(line_chart);
snapshot!(column_pivot_chart);
snapshot!(pie_chart);
snapshot!(chart_too_big);
snapshot!(scatter);
snapshot!(query_error);
snapshot!(empty);
snapshot!(wide_table);

#[test]
fn wide_table_with_csv_allowed() {
    let (query, result) = fixture(include_str!("../../tests/fixtures/render/wide_table.json"));
    let options = RenderOptions {
        attach_csv: true,
        ..Default::default()
    };
    insta::assert_json_snapshot!("wide_table_with_csv", render(&query, &result, &options));
}

/// 10,000 rows × 20 columns: the table is cut to the configured rows and the CSV holds them all.
pub fn big_result(rows: usize, columns: usize) -> (Query, QueryResult) {
    let dimensions: Vec<Value> = (0..columns)
        .map(|c| json!({"name": format!("big.c{c}"), "label_short": format!("C{c}"), "is_numeric": c % 2 == 1}))
        .collect();
    let data: Vec<Value> = (0..rows)
        .map(|r| {
            let mut row = serde_json::Map::new();
            for c in 0..columns {
                let value = if c % 2 == 1 {
                    json!(r * c)
                } else {
                    json!(format!("row {r} col {c}"))
                };
                row.insert(
                    format!("big.c{c}"),
                    json!({"value": value, "rendered": value.to_string()}),
                );
            }
            Value::Object(row)
        })
        .collect();
    let result = json!({"fields": {"dimensions": dimensions, "measures": [], "table_calculations": [], "pivots": []}, "data": data});
    let query = json!({"id": "9", "model": "m", "view": "big", "vis_config": {"type": "looker_grid"}});
    (
        serde_json::from_value(query).unwrap(),
        serde_json::from_value(result).unwrap(),
    )
}

#[test]
fn ten_thousand_rows() {
    let (query, result) = big_result(10_000, 20);
    let options = RenderOptions {
        attach_csv: true,
        ..Default::default()
    };
    let rendered = render(&query, &result, &options);
    assert_eq!(rendered["csv"]["lines"], 10_001);
    insta::assert_json_snapshot!("ten_thousand_rows", rendered);
}

#[test]
fn every_message_stays_inside_slacks_limits() {
    let fixtures = [
        include_str!("../../tests/fixtures/render/table_drill.json"),
        include_str!("../../tests/fixtures/render/pivot_totals.json"),
        include_str!("../../tests/fixtures/render/wide_table.json"),
        include_str!("../../tests/fixtures/render/line_chart.json"),
    ];
    let mut cases: Vec<(Query, QueryResult)> = fixtures.iter().map(|f| fixture(f)).collect();
    cases.push(big_result(10_000, 20));
    cases.push(big_result(150, 40));
    for (query, result) in cases {
        for max_table_rows in [20, 99] {
            let heading = Heading {
                title: "t".repeat(400),
                link: None,
            };
            let options = RenderOptions {
                max_table_rows,
                attach_csv: false,
            };
            let ctx = RenderContext {
                heading: &heading,
                looker_web_base: "https://l",
                source: Source::default(),
                options: &options,
                actions: None,
            };
            let message = render_query(&result, Some(&query), &ctx).message;
            assert!(message.blocks.len() <= blocks::MAX_BLOCKS);
            let chars: usize = message.blocks.iter().map(blocks::block_chars).sum();
            assert!(chars <= 12_000, "{chars} characters");
            for block in &message.blocks {
                if let SlackBlock::Table(table) = block {
                    assert!(table.rows.len() <= 100 && table.rows.iter().all(|r| r.len() <= 20));
                }
            }
        }
    }
}
