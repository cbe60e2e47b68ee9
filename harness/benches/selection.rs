//! Selection speed: `--list` and `-k` over ten thousand trials, with a
//! plain `contains` filter over the same names as the baseline.
//! Targets: listing < 100 ms, `-k` filtering < 10 ms.
//!
//! `list/registered_10k` is the whole `--list` path: ten thousand
//! registered tests collected into a catalog (parametrised over three text
//! models: 30,000 trials), planned and printed.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use harness::__bench::{Filter, synthetic_registered, synthetic_trials};

const TRIALS: usize = 10_000;
const EXPR: &str = "chat and not stream or embeddings";

fn list(c: &mut Criterion) {
    let trials = synthetic_trials(TRIALS);
    let mut out = Vec::with_capacity(1 << 20);
    c.bench_function("list/terse_10k", |b| {
        b.iter(|| {
            out.clear();
            trials.list_terse(&mut out).expect("writing to memory");
            black_box(out.len())
        })
    });
}

fn list_registered(c: &mut Criterion) {
    let registered = synthetic_registered(TRIALS);
    let mut out = Vec::with_capacity(1 << 22);
    c.bench_function("list/registered_10k", |b| {
        b.iter(|| {
            out.clear();
            black_box(registered.list_terse(&mut out))
        })
    });
}

fn filter(c: &mut Criterion) {
    let trials = synthetic_trials(TRIALS);
    let filter = Filter::parse(EXPR).expect("the bench expression parses");
    let sets = trials.keyword_sets();
    let mut group = c.benchmark_group("filter_10k");
    group.bench_function("k_expr", |b| b.iter(|| black_box(filter.count(&trials))));
    group.bench_function("k_expr_prebuilt_keywords", |b| {
        b.iter(|| black_box(filter.count_sets(&sets)))
    });
    group.bench_function("baseline_contains", |b| {
        b.iter(|| black_box(trials.count_containing(black_box("chat"))))
    });
    group.finish();
}

criterion_group!(benches, list, list_registered, filter);
criterion_main!(benches);
