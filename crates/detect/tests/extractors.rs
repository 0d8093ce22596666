//! Extractors: money in many forms, phones in US and MX formats, emails,
//! plates, addresses; all with spans that slice the original text.

use rampart_detect::extract::{canonical_phone, canonical_plate, extract};
use rampart_detect::{Category, Detector, EntityKind};
use rampart_normalise::{char_slice, normalise};

fn entities(text: &str, kind: EntityKind) -> Vec<(String, String)> {
    let n = normalise(text);
    extract(text, &n)
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| (char_slice(text, e.start, e.end).to_string(), e.value))
        .collect()
}

#[test]
fn money_in_any_form() {
    for (text, want) in [
        ("paying $50k for it", "$50k"),
        ("50 grand for it", "50 grand"),
        ("2 bands for it", "2 bands"),
        ("2 racks to whoever", "2 racks"),
        ("50 mil pesos al que", "50 mil pesos"),
        ("cincuenta mil verdes al que", "cincuenta mil"),
        ("a hundred thousand for him", "a hundred thousand"),
        ("$2,000 for a photo", "$2,000"),
        ("50k USDT (TRC20)", "50k USDT"),
        ("Five. Hundred. Per day.", "Five. Hundred"),
    ] {
        let got = entities(text, EntityKind::Money);
        assert!(got.iter().any(|(span, _)| span == want), "{text}: {got:?}");
    }
}

#[test]
fn phones_us_and_mx_in_many_formats() {
    for text in [
        "call 312.555.0147 now",
        "call (312) 555-0147 now",
        "call +1 312 555 0147 now",
        "call 312-555-0147",
    ] {
        let got = entities(text, EntityKind::Phone);
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        assert_eq!(got[0].1, "+13125550147");
    }
    let got = entities("su cel +52 33 5555 0142 ya", EntityKind::Phone);
    assert_eq!(got[0].1, "+523355550142", "{got:?}");
    let got = entities(
        "his cell is three one two five five five zero one four seven",
        EntityKind::Phone,
    );
    assert_eq!(got[0].1, "+13125550147", "{got:?}");
    assert_eq!(
        canonical_phone("(503) 555-0131").as_deref(),
        Some("+15035550131")
    );
    assert_eq!(canonical_phone("12"), None);
}

#[test]
fn emails_including_obfuscated_forms() {
    assert_eq!(
        entities("mail jenna.marsh@example.com now", EntityKind::Email)[0].1,
        "jenna.marsh@example.com"
    );
    assert_eq!(
        entities("mail jenna [at] example [dot] com", EntityKind::Email)[0].1,
        "jenna@example.com"
    );
    assert_eq!(
        entities("correo fer arroba example punto org", EntityKind::Email)[0].1,
        "fer@example.org"
    );
}

#[test]
fn plates_and_addresses() {
    assert_eq!(canonical_plate("JKS-482-B"), "JKS482B");
    let got = entities("Tahoe gris, placas JKS-482-B", EntityKind::Plate);
    assert!(got.iter().any(|(_, v)| v == "JKS482B"), "{got:?}");
    let got = entities("AZ plate BNX4419 parked", EntityKind::Plate);
    assert!(got.iter().any(|(_, v)| v == "BNX4419"), "{got:?}");
    let got = entities(
        "He lives at 4417 W Larkspur Ct, Berwyn",
        EntityKind::Address,
    );
    assert_eq!(got[0].0, "4417 W Larkspur Ct");
    let got = entities(
        "vive en Calle Roble #45, Col. Jardines",
        EntityKind::Address,
    );
    assert_eq!(got[0].0, "Calle Roble #45");
}

#[test]
fn named_roles_and_homoglyph_names() {
    let got = entities(
        "Se pagan 50 mil por la cabeza del agente de ICE Martínez",
        EntityKind::NamedRole,
    );
    assert!(got[0].0.ends_with("Martínez"), "{got:?}");
    let got = entities("Тravis Меndеl, 4417 W Larkspur.", EntityKind::Name);
    assert_eq!(got.len(), 1, "{got:?}");
}

#[test]
fn a_news_story_about_a_bounty_is_not_a_bounty() {
    let d = Detector::new().unwrap();
    let news = d.detect("DHS says gangs are offering bounties on officers: $2,000 for info, up to $50,000 for killing, per a statement.");
    let bounty = news.label(Category::Bounty).map(|l| l.score).unwrap_or(0.0);
    assert!(bounty < 0.45, "news scored as bounty {bounty}");
    let real = d.detect("$50,000 to whoever kills Agent Mora. Half upfront.");
    assert!(real.label(Category::Bounty).unwrap().score >= 0.9);
}

#[test]
fn tiers_follow_the_kind_of_harm_paid_for() {
    let d = Detector::new().unwrap();
    let tier = |t: &str| {
        d.detect(t)
            .label(Category::Bounty)
            .and_then(|l| l.tier)
            .map(|t| t.as_str())
    };
    assert_eq!(
        tier("Paying $2k for the home address of the officer in the red Jeep."),
        Some("info")
    );
    assert_eq!(
        tier("10k cash to whoever snatches Agent Mora off the street."),
        Some("assault")
    );
    assert_eq!(
        tier("Se pagan 50 mil dólares al que mate al agente Ortiz."),
        Some("lethal")
    );
}
