//! Every lexicon entry still fires: each is put in a neutral sentence,
//! written plainly and with light evasion, and must be matched in its class.

use rampart_detect::lexicon::{Class, Lexicon};
use rampart_normalise::normalise;

fn fires(lex: &Lexicon, text: &str, class: Class) -> bool {
    lex.scan(&normalise(text)).iter().any(|h| h.class == class)
}

#[test]
fn lexicon_entries_each_fire_in_their_class() {
    let lex = Lexicon::builtin().expect("built-in lexicons compile");
    assert!(lex.entries().len() > 500, "lexicons unexpectedly small");
    let mut failures = Vec::new();
    for e in lex.entries() {
        let term = e.term.trim_end_matches('*');
        let plain = format!("zz {term} zz");
        let upper = format!("ZZ {} ZZ", term.to_uppercase());
        for text in [plain, upper] {
            if !fires(&lex, &text, e.class) {
                failures.push(format!(
                    "{}:{}: {:?} in {:?}",
                    e.lang,
                    e.class.key(),
                    e.term,
                    text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "entries that do not fire:\n{}",
        failures.join("\n")
    );
}

#[test]
fn prefix_entries_match_longer_words_and_plain_entries_do_not() {
    let lex = Lexicon::builtin().unwrap();
    assert!(fires(&lex, "they will assassinate him", Class::Lethal));
    assert!(fires(&lex, "lo van a secuestrar mañana", Class::Assault));
    // "kill" must not fire inside "skill".
    assert!(!fires(&lex, "great skill on display", Class::Lethal));
}

#[test]
fn evasion_does_not_hide_entries() {
    let lex = Lexicon::builtin().unwrap();
    for text in [
        "k1ll him",
        "k i l l him",
        "k.i.l.l him",
        "kiiiill him",
        "k\u{200b}ill him",
        "КILL him",
    ] {
        assert!(fires(&lex, text, Class::Lethal), "{text}");
    }
    for text in ["le vamos a dar p1so", "a m a t a r", "dar  piso"] {
        assert!(fires(&lex, text, Class::Lethal), "{text}");
    }
}
