//! Embedding speed of the installed encoder at several batch sizes, one
//! thread (`cargo run --release -p rampart-learn --example embed_speed`).
fn main() {
    let dir = std::path::Path::new(rampart_learn::DEFAULT_ENCODER_DIR);
    let enc = rampart_learn::BertEncoder::load(dir, "minilm").expect("run scripts/setup-models.sh");
    use rampart_learn::SentenceEncoder;
    let texts: Vec<String> = (0..256)
        .map(|i| {
            format!("$5,000 to whoever finds where Agent Mora{i} lives, he drives a grey truck")
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for batch in [1, 8, 32, 128] {
        let t = std::time::Instant::now();
        for c in refs.chunks(batch) {
            enc.embed(c).unwrap();
        }
        let rate = refs.len() as f64 / t.elapsed().as_secs_f64();
        println!("batch {batch}: {rate:.0} texts/s");
    }
}
