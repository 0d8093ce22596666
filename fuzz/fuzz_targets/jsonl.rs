//! Fuzz the JSONL reader: any bytes give records or line errors, never a
//! panic, and line numbers only grow.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rampart_ingest::{JsonlReader, Record};

fuzz_target!(|data: &[u8]| {
    let mut last = 0;
    for rec in JsonlReader::with_limit(data, 256) {
        let line = match rec.expect("reading from memory cannot fail") {
            Record::Post(line, _) => line,
            Record::Error(e) => e.line,
        };
        assert!(line > last);
        last = line;
    }
});
