//! The examples' printed output, pinned by insta snapshots (`tests/snapshots/examples__*.snap`).
//!
//! Each example is compiled in here as a module and its `run` function writes to a buffer. A change in what
//! an example prints fails the test; review the new output with `cargo insta review` (or read the
//! `.snap.new` file next to the snapshot) and accept it only if a user would find it right.

use std::error::Error;

// `main` and a few helpers of each example are unused here.
#[allow(dead_code)]
#[path = "../examples/anomaly_detection.rs"]
mod anomaly_detection;
#[allow(dead_code)]
#[path = "../examples/batched_rpc.rs"]
mod batched_rpc;
#[allow(dead_code)]
#[path = "../examples/index_assignment.rs"]
mod index_assignment;
#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;
#[allow(dead_code)]
#[path = "../examples/running_totals.rs"]
mod running_totals;
#[allow(dead_code)]
#[path = "../examples/taxi_rides.rs"]
mod taxi_rides;

/// What `run` printed, as text.
fn printed(run: impl FnOnce(&mut Vec<u8>) -> Result<(), Box<dyn Error>>) -> String {
    let mut out = Vec::new();
    run(&mut out).expect("the example runs");
    String::from_utf8(out).expect("the example prints UTF-8")
}

#[test]
fn batched_rpc() {
    insta::assert_snapshot!(printed(batched_rpc::run));
}

#[test]
fn index_assignment() {
    insta::assert_snapshot!(printed(index_assignment::run));
}

#[test]
fn anomaly_detection() {
    insta::assert_snapshot!(printed(anomaly_detection::run));
}

#[test]
fn taxi_rides() {
    let sample = std::fs::read(taxi_rides::SAMPLE).expect("the sample ships with the repository");
    insta::assert_snapshot!(printed(|out| taxi_rides::run(out, sample.as_slice())));
}

#[test]
fn taxi_rides_reports_every_bad_line_and_loses_no_point() {
    let input = concat!(
        r#"{"ride_id":"r","point_idx":0,"latitude":1.0,"longitude":2.0,"timestamp":0,"meter_reading":3.0,"passenger_count":1,"ride_status":"pickup"}"#,
        "\n\nnot json\n",
        r#"{"ride_id":"r","point_idx":1,"latitude":1.0,"longitude":2.0,"timestamp":1000,"meter_reading":3.5,"passenger_count":1}"#,
        "\n",
        r#"{"ride_id":"r","point_idx":2,"latitude":1.0,"longitude":2.0,"timestamp":2000,"meter_reading":4.0,"passenger_count":1,"ride_status":"dropoff"}"#,
        "\n",
        r#"{"ride_id":"q","point_idx":0,"latitude":1.0,"longitude":2.0,"timestamp":9999999999999999,"meter_reading":3.0,"passenger_count":1,"ride_status":"pickup"}"#,
        "\n",
    );
    let printed = printed(|out| taxi_rides::run(out, input.as_bytes()));
    assert!(printed.contains("line 3, column 2: skipped, not a ride point: expected ident"), "{printed}");
    assert!(
        printed.contains("line 4, column 117: skipped, not a ride point: missing field `ride_status`"),
        "{printed}"
    );
    assert!(
        printed.contains("line 6: skipped, timestamp 9999999999999999 ms is not between the years 0 and 9999"),
        "{printed}"
    );
    assert!(printed.contains("2 ride points read, 3 line(s) skipped"), "{printed}");
    assert!(printed.contains("1 ride summaries (1 DROPOFF_SEEN, 0 TIMEOUT) hold 2 of the 2 points read"), "{printed}");
}

#[test]
fn running_totals() {
    insta::assert_snapshot!(printed(running_totals::run));
}

#[test]
fn quickstart() {
    insta::assert_snapshot!(printed(quickstart::run));
}

/// The README's 30-second example is `examples/quickstart.rs` from its first `use` on, word for word, so
/// that the code a newcomer copies is code that compiles and whose output is pinned above.
#[test]
fn readme_shows_the_quickstart_example() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example = std::fs::read_to_string(format!("{root}/examples/quickstart.rs")).expect("quickstart.rs");
    let code = &example[example.find("use dofn::prelude::*;").expect("the example imports the prelude")..];
    let block = readme
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md has a ```rust block");
    assert_eq!(block, code, "the first ```rust block of README.md must be examples/quickstart.rs from its `use` on");
}

/// The compiler errors the README shows are the ones the UI test pins, so that they are what users get.
#[test]
fn readme_shows_the_compile_errors_of_the_ui_test() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let case = "ui-tests/fail/multiple/three_mistakes";
    let stderr = std::fs::read_to_string(format!("{root}/{case}.stderr")).expect("the UI test's .stderr");
    assert!(
        readme.contains(&format!("```text\n{}\n```", stderr.trim_end())),
        "README.md must quote {case}.stderr as it is now (copy it into the ```text block that follows the case)"
    );
}

/// Every ```rust snippet of docs/guide.md is an excerpt of examples/batched_rpc.rs: its lines (but `// ...`)
/// appear in the example in the same order.
#[test]
fn guide_snippets_are_excerpts_of_batched_rpc() {
    let root = env!("CARGO_MANIFEST_DIR");
    let guide = std::fs::read_to_string(format!("{root}/docs/guide.md")).expect("docs/guide.md");
    let example = std::fs::read_to_string(format!("{root}/examples/batched_rpc.rs")).expect("batched_rpc.rs");
    let example: Vec<&str> = example.lines().map(str::trim).collect();
    let snippets: Vec<&str> =
        guide.split("```rust\n").skip(1).map(|rest| rest.split("```").next().unwrap_or_default()).collect();
    assert!(snippets.len() >= 8, "the guide shows the DoFn step by step");
    for snippet in snippets {
        let mut rest = example.iter();
        for line in snippet.lines().map(str::trim).filter(|l| !l.is_empty() && *l != "// ...") {
            assert!(
                rest.any(|l| *l == line),
                "docs/guide.md shows `{line}`, which examples/batched_rpc.rs does not have (in that order) in:\n{snippet}"
            );
        }
    }
}
