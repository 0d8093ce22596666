//! Fuzz the normaliser and the detector: never panic, and every evidence
//! span slices the original text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static DETECTOR: OnceLock<rampart_detect::Detector> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let n = rampart_normalise::normalise(text);
    let len = text.chars().count();
    for view in [&n.base, &n.folded] {
        let bytes = view.as_str().len();
        if bytes > 0 {
            let (s, e) = view.original_span(0, bytes).expect("whole view maps back");
            assert!(s < e && e <= len);
        }
    }
    let d = DETECTOR.get_or_init(|| rampart_detect::Detector::new().unwrap()).detect(text);
    for l in &d.labels {
        for ev in &l.evidence {
            assert_eq!(rampart_normalise::char_slice(text, ev.start, ev.end), ev.text);
        }
    }
});
