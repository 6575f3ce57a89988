//! Scenario files: any text loads as a scenario or as located errors, never a
//! panic. Every error points inside the text, and a scenario that loads can be
//! checked against an observation.
#![no_main]

use std::path::Path;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use outage::runner::{Observed, Outcome};
use outage::scenario;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("fuzz.toml");
    match scenario::parse(path, &text) {
        Ok(loaded) => {
            assert!(
                !loaded.expect.is_empty(),
                "a scenario that expects nothing loaded"
            );
            assert_eq!(loaded.fault.validate(), Ok(()), "an invalid fault loaded");
            let observed = Observed {
                outcome: Outcome::Response { status: 200 },
                exit: Some(0),
                output: String::new(),
                took: Duration::from_secs(1),
                attempt_count: 3,
                gaps: vec![Duration::ZERO, Duration::from_millis(250)],
                attempts: Vec::new(),
            };
            let _ = loaded.expect.check(&observed);
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "rejected without a reason");
            let lines: Vec<&str> = text.split('\n').collect();
            for error in &errors.0 {
                assert!(!error.message.is_empty(), "an error without a message");
                assert_eq!(error.path, path);
                if error.line == 0 {
                    assert_eq!(error.column, 0, "a whole-file error with a column: {error}");
                    continue;
                }
                let line = lines.get(error.line - 1).unwrap_or_else(|| {
                    panic!("line {} past the end of the text: {error}", error.line)
                });
                let width = line.chars().count() + 1;
                assert!(
                    (1..=width).contains(&error.column),
                    "column {} outside line {} ({} characters): {error}",
                    error.column,
                    error.line,
                    width - 1
                );
            }
            assert!(
                errors.0.is_sorted_by_key(|e| (e.line, e.column)),
                "errors out of file order"
            );
            let _ = errors.to_string();
        }
    }
});
