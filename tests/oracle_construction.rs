//! Factor oracle construction: hand-checked golden oracles and brute-force invariants.

use musichal::oracle::{DriveStream, Oracle, Symbol, NO_SUFFIX};
use rand::{RngExt, SeedableRng};

fn word(s: &str) -> Vec<Symbol> {
    s.bytes().map(Symbol::from).collect()
}

fn transitions(o: &Oracle) -> Vec<Vec<u32>> {
    (0..o.num_states())
        .map(|i| o.transitions(i).to_vec())
        .collect()
}

const N: u32 = NO_SUFFIX;

/// "abbbaab", the example of Allauzen, Crochemore & Raffinot (1999), by hand with their online
/// algorithm plus Lefebvre & Lecroq's lrs (k: suffix walk, pi1: last state it passed):
///
/// ```text
/// 1 a: k = sfx[0] = none                      -> sfx 0, lrs 0; trn[0] += 1
/// 2 b: k = 0 has no b: trn[0] += 2, k = none  -> sfx 0, lrs 0
/// 3 b: k = sfx[2] = 0 has b -> 2              -> sfx 2, lrs = LCS(2, 1) + 1 = min(0, 0) + 1 = 1
/// 4 b: k = sfx[3] = 2 has b -> 3, pi1 = 3     -> sfx 3, lrs = LCS(3, 2) + 1 = lrs[3] + 1 = 2
/// 5 a: k = 3 no a: trn[3] += 5; k = 2 no a: trn[2] += 5; k = 0 has a -> 1, pi1 = 2
///                                             -> sfx 1, lrs = LCS(2, 0) + 1 = lrs[2] + 1 = 1
/// 6 a: k = sfx[5] = 1 no a: trn[1] += 6; k = 0 has a -> 1, pi1 = 1
///                                             -> sfx 1, lrs = LCS(1, 0) + 1 = 1
/// 7 b: k = sfx[6] = 1 has b -> 2, pi1 = 6     -> sfx 2, lrs = LCS(6, 1) + 1 = lrs[6] + 1 = 2
/// ```
/// Check: "abbbaab" ends with "ab", whose first occurrence ends at state 2.
#[test]
fn golden_abbbaab() {
    let o = Oracle::from_symbols(DriveStream::Harmonic, &word("abbbaab"));
    assert_eq!(o.sfx(), &[N, 0, 0, 2, 3, 1, 1, 2]);
    assert_eq!(o.lrs(), &[0, 0, 0, 1, 2, 1, 1, 2]);
    assert_eq!(o.construction_sfx(), o.sfx());
    let expected: Vec<Vec<u32>> = vec![
        vec![1, 2],
        vec![2, 6],
        vec![3, 5],
        vec![4, 5],
        vec![5],
        vec![6],
        vec![7],
        vec![],
    ];
    assert_eq!(transitions(&o), expected);
    assert_eq!(o.reverse_suffix(1), &[5, 6]);
    assert_eq!(o.reverse_suffix(2), &[3, 7]);
}

/// "abcabcab": three new letters (sfx 0, lrs 0, transitions 0 -> 1, 2, 3), then each letter
/// extends the repetition of "abc": state i >= 4 reads its letter from k = sfx[i - 1] = i - 4,
/// which has the linear transition to i - 3, so sfx[i] = i - 3 and
/// lrs[i] = LCS(i - 1, i - 4) + 1 = lrs[i - 1] + 1 (since sfx[i - 1] == i - 4): 1, 2, 3, 4, 5.
#[test]
fn golden_abcabcab() {
    let o = Oracle::from_symbols(DriveStream::Harmonic, &word("abcabcab"));
    assert_eq!(o.sfx(), &[N, 0, 0, 0, 1, 2, 3, 4, 5]);
    assert_eq!(o.lrs(), &[0, 0, 0, 0, 1, 2, 3, 4, 5]);
    assert_eq!(o.construction_sfx(), o.sfx());
    let mut expected: Vec<Vec<u32>> = (1..=8).map(|i| vec![i]).collect();
    expected[0] = vec![1, 2, 3];
    expected.push(vec![]);
    assert_eq!(transitions(&o), expected);
}

/// Random sequences: low-entropy (alphabet 2..5) and periodic-with-noise, up to 300 symbols.
fn random_sequences() -> Vec<Vec<Symbol>> {
    let mut rng = rand_pcg::Pcg32::seed_from_u64(0x5eed);
    let mut out = Vec::new();
    for case in 0..120 {
        let alphabet = rng.random_range(2..=5u32);
        let len = rng.random_range(1..=300usize);
        let seq: Vec<Symbol> = if case % 3 == 0 {
            // A random period, with a mutation now and then: long repeats.
            let period = rng.random_range(1..=12usize);
            let motif: Vec<Symbol> = (0..period).map(|_| rng.random_range(0..alphabet)).collect();
            (0..len)
                .map(|i| {
                    if rng.random_bool(0.05) {
                        rng.random_range(0..alphabet)
                    } else {
                        motif[i % period]
                    }
                })
                .collect()
        } else {
            (0..len).map(|_| rng.random_range(0..alphabet)).collect()
        };
        out.push(seq);
    }
    out
}

#[test]
fn every_factor_is_recognised() {
    for seq in random_sequences() {
        let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
        for start in 0..seq.len() {
            let mut state = 0usize;
            for (end, &s) in seq.iter().enumerate().skip(start) {
                state = o.transition(state, s).unwrap_or_else(|| {
                    panic!("factor {:?} of {:?} rejected", &seq[start..=end], seq)
                });
                // Reading a factor ends no earlier than its first occurrence can.
                assert!(state > end - start);
            }
        }
    }
}

/// Brute force: `lrs[i]` is the length of the longest suffix of `s[..i]` that also ends at an
/// earlier position, and `sfx[i]` is where its first occurrence ends (0 when there is none).
#[test]
fn sfx_and_lrs_match_brute_force() {
    for seq in random_sequences() {
        let o = Oracle::from_symbols(DriveStream::Harmonic, &seq);
        let (sfx, lrs) = (o.sfx(), o.lrs());
        assert_eq!(sfx[0], NO_SUFFIX);
        for i in 1..=seq.len() {
            // common[e] = length of the common suffix of s[..i] and s[..e], e < i.
            let common: Vec<usize> = (0..i)
                .map(|e| {
                    (0..e)
                        .take_while(|&k| seq[e - 1 - k] == seq[i - 1 - k])
                        .count()
                })
                .collect();
            let longest = *common.iter().max().unwrap_or(&0);
            assert_eq!(lrs[i] as usize, longest, "lrs[{i}] of {seq:?}");
            let first_end = if longest == 0 {
                0
            } else {
                common.iter().position(|&c| c >= longest).unwrap()
            };
            assert_eq!(sfx[i] as usize, first_end, "sfx[{i}] of {seq:?}");
            assert!(lrs[i] <= sfx[i], "validation invariant lrs <= sfx");
        }
        assert!(o.to_data().validate().is_ok());
        // The reverse suffix links are the inverse of sfx.
        for i in 1..=seq.len() {
            assert!(o.reverse_suffix(sfx[i] as usize).contains(&(i as u32)));
        }
    }
}

/// Where the factor oracle's own link is not the longest repeated suffix: "abaabab" by hand.
///
/// ```text
/// 1 a: S 0            2 b: S 0 (trn[0] += 2)     3 a: S 1 (0 reads a)
/// 4 a: k = S(3) = 1 has no a: trn[1] += 4; k = 0 reads a -> S(4) = 1
/// 5 b: k = S(4) = 1 reads b -> S(5) = 2
/// 6 a: k = S(5) = 2 reads a (-> 3) -> S(6) = 3
/// 7 b: k = S(6) = 3 has no b (only 3 -> 4): trn[3] += 7; k = S(3) = 1 reads b -> S(7) = 2
/// ```
/// Exact: "abaabab" ends with "ab" (first end 2; "bab" and "abab" occur once), so sfx 2, lrs 2;
/// prefix 6 "abaaba" ends with "aba", first end 3, lrs 3.
#[test]
fn golden_abaabab() {
    let o = Oracle::from_symbols(DriveStream::Harmonic, &word("abaabab"));
    assert_eq!(o.construction_sfx(), &[N, 0, 0, 1, 1, 2, 3, 2]);
    assert_eq!(o.sfx(), &[N, 0, 0, 1, 1, 2, 3, 2]);
    assert_eq!(o.lrs(), &[0, 0, 0, 1, 1, 2, 3, 2]);
    let expected: Vec<Vec<u32>> = vec![
        vec![1, 2],
        vec![2, 4],
        vec![3],
        vec![4, 7],
        vec![5],
        vec![6],
        vec![7],
        vec![],
    ];
    assert_eq!(transitions(&o), expected);
}

/// The smallest binary word where the factor oracle's link `S` misses the longest repeated
/// suffix: "abbabaaba", by hand.
///
/// ```text
/// 1 a: S 0                      2 b: 0 lacks b, trn[0] += 2, S 0
/// 3 b: 0 reads b -> S 2         4 a: 2 lacks a, trn[2] += 4; 0 reads a -> S 1
/// 5 b: 1 reads b -> S 2         6 a: 2 reads a (-> 4) -> S 4
/// 7 a: 4 lacks a, trn[4] += 7; 1 lacks a, trn[1] += 7; 0 reads a -> S 1
/// 8 b: 1 reads b -> S 2         9 a: 2 reads a (-> 4) -> S 4
/// ```
/// But "abbabaaba" ends with "aba", which first ends at 6 (s[3..6]); S(9) = 4 only carries "ba".
/// Exact (sfx, lrs) per state: 3 (2,1) "b"; 4 (1,1) "a"; 5 (2,2) "ab"; 6 (4,2) "ba";
/// 7 (1,1) "a"; 8 (2,2) "ab"; 9 (6,3) "aba".
#[test]
fn golden_abbabaaba_exact_link_differs_from_construction_link() {
    let o = Oracle::from_symbols(DriveStream::Harmonic, &word("abbabaaba"));
    assert_eq!(o.construction_sfx(), &[N, 0, 0, 2, 1, 2, 4, 1, 2, 4]);
    assert_eq!(o.sfx(), &[N, 0, 0, 2, 1, 2, 4, 1, 2, 6]);
    assert_eq!(o.lrs(), &[0, 0, 0, 1, 1, 2, 2, 1, 2, 3]);
    let expected: Vec<Vec<u32>> = vec![
        vec![1, 2],
        vec![2, 7],
        vec![3, 4],
        vec![4],
        vec![5, 7],
        vec![6],
        vec![7],
        vec![8],
        vec![9],
        vec![],
    ];
    assert_eq!(transitions(&o), expected);
}

#[test]
fn online_equals_batch() {
    let seq: Vec<Symbol> = word("abracadabra-abracadabra");
    let batch = Oracle::from_symbols(DriveStream::Percussive, &seq);
    let mut online = Oracle::new_factor(DriveStream::Percussive);
    for &s in &seq {
        online.add_symbol(s).unwrap();
    }
    assert_eq!(batch, online);
}

#[test]
fn both_streams_pack_pairs() {
    let d = DriveStream::Both;
    assert_eq!(d.tokens(d.symbol(63, 7)), (Some(63), Some(7)));
    assert_eq!(DriveStream::Harmonic.symbol(5, 9), 5);
    assert_eq!(DriveStream::Percussive.symbol(5, 9), 9);
    // Same harmonic token, different percussive one: different symbols.
    let o = Oracle::from_tokens(d, &[1, 1, 1], &[2, 3, 2]);
    assert_eq!(o.lrs(), &[0, 0, 0, 1]);
}
