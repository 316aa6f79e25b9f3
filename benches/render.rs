//! Rendering a 10,000-row, 20-column json_detail result: parsing Looker's JSON, and turning it
//! into Slack blocks plus the CSV of every row. Peak heap is measured with a counting allocator.
//!
//!     cargo bench --bench render
#![allow(unsafe_code)] // a counting allocator measures peak heap; nothing else is unsafe

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use lookerbot::domain::looker::models::{Query, QueryResult};
use lookerbot::render::{Heading, RenderContext, RenderOptions, Source, render_query};
use serde_json::{Value, json};

/// Counts live heap bytes and remembers the peak.
struct PeakAllocator;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocator = PeakAllocator;

fn json_detail(rows: usize, columns: usize) -> String {
    let dimensions: Vec<Value> = (0..columns)
        .map(|c| {
            json!({"name": format!("orders.c{c}"), "label": format!("Orders C{c}"), "label_short": format!("C{c}"),
                        "is_numeric": c % 2 == 1, "measure": false, "hidden": false})
        })
        .collect();
    let data: Vec<Value> = (0..rows)
        .map(|r| {
            let row: serde_json::Map<String, Value> = (0..columns)
                .map(|c| {
                    let cell = if c % 2 == 1 {
                        json!({"value": r * c, "rendered": format!("{:.2}", (r * c) as f64),
                               "links": [{"label": "Drill", "url": "/explore/thelook/orders?fields=orders.id", "type": "measure_default"}]})
                    } else {
                        json!({"value": format!("row {r} column {c} ünïcødé")})
                    };
                    (format!("orders.c{c}"), cell)
                })
                .collect();
            Value::Object(row)
        })
        .collect();
    json!({"fields": {"dimensions": dimensions, "measures": [], "table_calculations": [], "pivots": []}, "data": data})
        .to_string()
}

fn measure_peak<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = work();
    (out, PEAK.load(Ordering::Relaxed) - before)
}

fn benches(c: &mut Criterion) {
    let text = json_detail(10_000, 20);
    let query: Query = serde_json::from_value(json!({"id": "1", "model": "thelook", "view": "orders",
        "vis_config": {"type": "looker_grid"}}))
    .unwrap();
    let heading = Heading {
        title: "Orders".into(),
        link: Some("https://looker.example.com/looks/1".into()),
    };
    let options = RenderOptions {
        max_table_rows: 20,
        attach_csv: true,
    };
    let ctx = RenderContext {
        heading: &heading,
        looker_web_base: "https://looker.example.com",
        source: Source::default(),
        options: &options,
        actions: None,
    };

    let (result, parse_peak) = measure_peak(|| serde_json::from_str::<QueryResult>(&text).unwrap());
    let (rendered, render_peak) = measure_peak(|| render_query(&result, Some(&query), &ctx));
    println!(
        "json_detail: {:.1} MiB of JSON; peak heap while parsing {:.1} MiB, while rendering {:.1} MiB; CSV {:.1} MiB",
        text.len() as f64 / 1048576.0,
        parse_peak as f64 / 1048576.0,
        render_peak as f64 / 1048576.0,
        rendered.csv.as_ref().map(|c| c.bytes.len()).unwrap_or(0) as f64 / 1048576.0,
    );

    let mut group = c.benchmark_group("10k_rows_x_20_columns");
    group.sample_size(20);
    group.bench_function("parse_json_detail", |b| {
        b.iter(|| serde_json::from_str::<QueryResult>(black_box(&text)).unwrap())
    });
    group.bench_function("render_blocks_and_csv", |b| {
        b.iter(|| render_query(black_box(&result), Some(&query), &ctx))
    });
    let no_csv = RenderOptions {
        max_table_rows: 20,
        attach_csv: false,
    };
    let ctx_no_csv = RenderContext {
        options: &no_csv,
        actions: None,
        ..ctx.clone()
    };
    group.bench_function("render_blocks_only", |b| {
        b.iter(|| render_query(black_box(&result), Some(&query), &ctx_no_csv))
    });
    group.finish();
}

criterion_group!(render, benches);
criterion_main!(render);
