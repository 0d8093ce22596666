//! Hot-path benchmarks: normalisation and full detection per post.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart_detect::Detector;
use std::hint::black_box;

const POSTS: &[&str] = &[
    "Great game last night, the Sox really showed up in the second half.",
    "Me encanta este clima, vamos al parque con los niños el domingo.",
    "ICE vans reported near W 26th St this morning. Know your rights, don't open the door.",
    "$50,000 to whoever kills Agent Mendel. Half upfront.",
    "Pago 2 mil dólares por la dirección del agente Ruiz. Solo info confirmada.",
    "5 0 k for whoever m u r d e r s the reporter Okafor.",
    "Officer Pike lives at 4417 W Larkspur Ct. Plate DV 58213. You know what to do.",
    "Le vаmos а dаr piso al policía Sandoval, el de la patrulla.",
];

fn bench(c: &mut Criterion) {
    let detector = Detector::new().unwrap();
    let mut g = c.benchmark_group("per_post");
    g.throughput(Throughput::Elements(POSTS.len() as u64));
    g.bench_function("normalise", |b| {
        b.iter(|| {
            for p in POSTS {
                black_box(rampart_normalise::normalise(black_box(p)));
            }
        })
    });
    g.bench_function("detect", |b| {
        b.iter(|| {
            for p in POSTS {
                black_box(detector.detect(black_box(p)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
