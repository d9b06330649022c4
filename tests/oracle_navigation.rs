//! Generation on the oracle: linear replay, run lengths under a continuity, query guidance.

use musichal::oracle::{DriveStream, Improviser, Navigator, Oracle, Symbol};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg32;

fn random_corpus(seed: u64, len: usize, alphabet: u32) -> Vec<Symbol> {
    let mut rng = Pcg32::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(0..alphabet)).collect()
}

#[test]
fn continuity_one_replays_the_corpus_from_the_start() {
    let seq = random_corpus(1, 500, 8);
    let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
    let mut nav = Navigator::new(1.0);
    let mut rng = Pcg32::seed_from_u64(2);
    let states = nav.improvise(&o, 500, &mut rng);
    assert_eq!(states, (1..=500).collect::<Vec<_>>());
    // At the end of the sequence it must jump (and stay in range).
    let next = nav.step(&o, &mut rng);
    assert!((1..=500).contains(&next) && next != 500);
}

/// Runs of consecutive `i -> i + 1` moves (+ 1) are geometric with mean 1 / (1 - continuity):
/// 2 at continuity 0.5, with variance continuity / (1 - continuity)^2 = 2. Over the ~25,000
/// runs of each case the standard error of the mean is sqrt(2 / 25,000) = 0.009, so 1.9..=2.1
/// is more than ten standard errors wide each side (a jump never lands on `i + 1`: the
/// candidates exclude the current state), yet a continuity of 0.53 (mean 2.13) fails.
#[test]
fn continuity_half_gives_mean_run_length_about_two() {
    for (seed, alphabet) in [(3u64, 4u32), (4, 16), (5, 64)] {
        let seq = random_corpus(seed, 5000, alphabet);
        let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
        let mut nav = Navigator::new(0.5);
        let mut rng = Pcg32::seed_from_u64(seed + 100);
        let states = nav.improvise(&o, 50_000, &mut rng);
        let mut runs = Vec::new();
        let mut run = 1usize;
        for w in states.windows(2) {
            if w[1] == w[0] + 1 {
                run += 1;
            } else {
                runs.push(run);
                run = 1;
            }
        }
        let mean = runs.iter().sum::<usize>() as f64 / runs.len() as f64;
        println!(
            "alphabet {alphabet}: mean run length {mean:.3} over {} runs",
            runs.len()
        );
        assert!(runs.len() > 20_000, "only {} runs", runs.len());
        assert!((1.9..=2.1).contains(&mean), "mean run length {mean}");
    }
}

#[test]
fn navigation_is_reproducible_with_a_seed() {
    let seq = random_corpus(9, 800, 6);
    let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
    let run = |seed| Navigator::new(0.4).improvise(&o, 300, &mut Pcg32::seed_from_u64(seed));
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}

/// A corpus of random symbols (alphabet 8) with a motif made of common symbols planted 12 times.
/// A query ending in the motif should land right after a motif occurrence.
#[test]
fn query_guided_generation_lands_after_the_matching_context() {
    let motif: [Symbol; 5] = [3, 7, 1, 6, 4];
    let mut rng = Pcg32::seed_from_u64(21);
    let mut seq = random_corpus(22, 3000, 8);
    let mut planted = Vec::new();
    for k in 0..12 {
        let at = 100 + k * 240 + rng.random_range(0..50usize);
        seq[at..at + motif.len()].copy_from_slice(&motif);
        planted.push(at);
    }
    // States right after a motif occurrence: the motif ends at index e, i.e. state e + 1; the
    // next frame is state e + 2.
    let after_motif: Vec<usize> = (0..=seq.len() - motif.len())
        .filter(|&at| seq[at..at + motif.len()] == motif)
        .map(|at| at + motif.len() + 1)
        .collect();
    assert!(after_motif.len() >= 12);
    let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);

    let trials = 2000;
    let mut query: Vec<Symbol> = vec![5, 2, 0];
    query.extend_from_slice(&motif);
    let mut guided = Navigator::new(0.0);
    let mut free = Navigator::new(0.0);
    let (mut hits_guided, mut hits_free) = (0, 0);
    for t in 0..trials {
        let mut rng = Pcg32::seed_from_u64(1000 + t);
        let g = guided.step_guided(&o, &query, &mut rng);
        let f = free.step(&o, &mut rng);
        hits_guided += after_motif.contains(&g) as usize;
        hits_free += after_motif.contains(&f) as usize;
    }
    let rate_guided = hits_guided as f64 / trials as f64;
    let rate_free = hits_free as f64 / trials as f64;
    let chance = after_motif.len() as f64 / seq.len() as f64;
    println!(
        "after-motif landing rate: guided {rate_guided:.3}, free {rate_free:.3}, chance {chance:.4} \
         ({} motif occurrences in {} frames)",
        after_motif.len(),
        seq.len()
    );
    assert!(rate_guided > 0.95, "guided rate {rate_guided}");
    assert!(rate_free < 0.05, "free rate {rate_free}");

    // A shorter query (only the motif's last 2 symbols) is ambiguous: lower, but still above
    // chance.
    let mut hits = 0;
    for t in 0..trials {
        let mut rng = Pcg32::seed_from_u64(5000 + t);
        hits += after_motif.contains(&guided.step_guided(&o, &motif[3..], &mut rng)) as usize;
    }
    let rate_short = hits as f64 / trials as f64;
    println!("2-symbol query landing rate {rate_short:.3}");
    assert!(rate_short > 3.0 * chance);
}

#[test]
fn query_of_unknown_symbols_falls_back_to_free_navigation() {
    let seq = random_corpus(30, 400, 4);
    let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
    let mut nav = Navigator::new(0.5);
    let mut rng = Pcg32::seed_from_u64(31);
    for _ in 0..1000 {
        let s = nav.step_guided(&o, &[99, 100], &mut rng);
        assert!((1..=400).contains(&s));
    }
}

/// Live learning: a phrase played live and appended becomes reachable by query guidance.
#[test]
fn live_appended_phrase_is_found_by_queries() {
    let seq = random_corpus(40, 300, 4);
    let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
    let mut imp = Improviser::new(o, 0.0);
    let live: [Symbol; 4] = [9, 8, 9, 7];
    for (k, &s) in live.iter().enumerate() {
        imp.append(s, 10_000 + k as u32).unwrap();
    }
    imp.append(2, 10_004).unwrap();
    let mut rng = Pcg32::seed_from_u64(41);
    for _ in 0..50 {
        assert_eq!(imp.step_guided(&[9, 8, 9, 7], &mut rng), Some(10_004));
    }
    // The appended states keep the exact repeated-suffix invariants.
    let o = imp.oracle();
    assert!(o.to_data().validate().is_ok());
    assert_eq!(o.len(), 305);
}

/// Taboo: a state visited within the last `W` steps is never entered again while another
/// candidate exists (here always: 8 symbols over 5000 states), and without the taboo the same
/// walk does repeat itself inside the window.
#[test]
fn taboo_prevents_repeats_inside_its_window() {
    use musichal::oracle::{DriveStream, Navigator, Oracle};
    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg32;
    let mut rng = Pcg32::seed_from_u64(17);
    let symbols: Vec<u32> = (0..5000).map(|_| rng.random_range(0..8u32)).collect();
    let oracle = Oracle::from_symbols(DriveStream::Harmonic, &symbols);
    const W: usize = 200;
    let walk = |use_taboo: bool| -> usize {
        let mut nav = Navigator::new(0.5);
        let mut rng = Pcg32::seed_from_u64(3);
        let mut last_seen = vec![usize::MAX; oracle.num_states()];
        let mut repeats = 0;
        for step in 0..4000usize {
            let query: Vec<u32> = (0..4).map(|_| rng.random_range(0..8u32)).collect();
            let taboo =
                |s: usize| use_taboo && last_seen[s] != usize::MAX && step - last_seen[s] < W;
            let s = nav.step_guided_taboo(&oracle, &query, &mut rng, &taboo);
            if last_seen[s] != usize::MAX && step - last_seen[s] < W {
                repeats += 1;
            }
            last_seen[s] = step;
        }
        repeats
    };
    let (with, without) = (walk(true), walk(false));
    assert_eq!(with, 0, "repeats inside the taboo window");
    assert!(
        without > 50,
        "without taboo the walk repeats only {without} times: test too weak"
    );
}
