//! Spherical K-means quantiser: frame vectors -> gesture tokens.
//!
//! Vectors are L2-normalised and clustered by cosine similarity (Dhillon & Modha, "Concept
//! decompositions for large sparse text data using clustering", Machine Learning 2001):
//! assignment to the centroid of highest dot product, centroid = normalised mean of its members.
//! Seeding is k-means++ (Arthur & Vassilvitskii 2007) with distance `1 - cos` (half the squared
//! Euclidean distance on the unit sphere). Above `minibatch_threshold` vectors, Lloyd passes
//! are replaced by mini-batch updates (Sculley, "Web-scale k-means clustering", WWW 2010).
//!
//! There is deliberately no z-score (StandardScaler) step: see the test
//! `zscore_euclidean_collapses_but_spherical_does_not` for why it destroys the vocabulary on
//! transformer-like embeddings.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

use super::error::{PerceptionError, Result};

/// Vocabulary sizes the product supports.
pub const SUPPORTED_K: [usize; 3] = [16, 64, 256];
/// Largest feature dimension accepted.
pub const MAX_DIM: usize = 8192;
/// Token id type (K <= 256).
pub type Token = u16;

/// Fitting settings. Defaults: K = 64, seed 0x5eed, 100 iterations, stop when at most 0.01 % of
/// assignments change, mini-batch above 200 000 vectors with batches of 4096.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KMeansConfig {
    /// Number of clusters, one of [`SUPPORTED_K`].
    pub k: usize,
    /// Seed of the PCG used for seeding and mini-batch sampling.
    pub seed: u64,
    /// Maximum Lloyd iterations (or mini-batch steps / 10 in mini-batch mode).
    pub max_iter: usize,
    /// Convergence: stop when the fraction of vectors changing cluster is <= this.
    pub tol_changed_fraction: f64,
    /// Use mini-batch updates above this many vectors.
    pub minibatch_threshold: usize,
    /// Mini-batch size.
    pub batch_size: usize,
}

impl Default for KMeansConfig {
    fn default() -> Self {
        Self {
            k: 64,
            seed: 0x5eed,
            max_iter: 100,
            tol_changed_fraction: 1e-4,
            minibatch_threshold: 200_000,
            batch_size: 4096,
        }
    }
}

/// Summary of a fit or of a vocabulary applied to data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KMeansReport {
    /// Vocabulary size.
    pub k: usize,
    /// Vectors assigned.
    pub n_samples: usize,
    /// Clusters with at least one member.
    pub active_tokens: usize,
    /// Entropy of the token histogram in bits (max `log2 K`).
    pub entropy_bits: f64,
    /// Sum over vectors of `1 - cos(x, centroid)`.
    pub inertia: f64,
    /// Members per cluster.
    pub cluster_sizes: Vec<usize>,
    /// Iterations run (Lloyd passes, or mini-batch steps).
    pub iterations: usize,
    /// Whether the convergence test was met before `max_iter`.
    pub converged: bool,
    /// Whether mini-batch mode was used.
    pub minibatch: bool,
}

/// A fitted vocabulary: `k` unit-norm centroids of dimension `dim`, row-major `[k, dim]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SphericalKMeans {
    /// Number of centroids.
    pub k: usize,
    /// Dimension.
    pub dim: usize,
    /// `[k, dim]` unit vectors.
    pub centroids: Vec<f32>,
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // 8 accumulators so the compiler vectorises without reassociation flags.
    let mut acc = [0.0f32; 8];
    let (ca, ra) = a.split_at(a.len() / 8 * 8);
    let (cb, rb) = b.split_at(ca.len());
    for (x, y) in ca.chunks_exact(8).zip(cb.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Lanes of [`dot`]'s accumulators: coordinate `t` of a chunk goes to accumulator `t % LANES`.
const LANES: usize = 8;
/// Centroids per block of [`SimKernel::sims`] (four SSE registers of accumulators).
const BLOCK: usize = 16;

/// Similarities of one row to every centroid at once, bit for bit equal to [`dot`].
///
/// [`dot`] keeps 8 accumulators (coordinate `t` goes to accumulator `t % 8`), sums them in
/// order and then adds the `dim % 8` tail. This kernel does the same additions in the same
/// order for each centroid, but runs them across a block of 16 centroids at once from a
/// transposed copy of the centroids (`panel[t][c]`), so the compiler vectorises over centroids
/// and no horizontal sums are needed inside the loop: a small GEMM, about 3x faster than 64
/// separate dots, with the same floats (the assignments and so the fitted vocabulary do not
/// change; tested).
struct SimKernel {
    k: usize,
    /// `k` rounded up to a whole block; the padding centroids are zero and never reported.
    k_pad: usize,
    dim: usize,
    /// `[dim / 8 * 8, k_pad]`: coordinate `t` of centroid `c` at `t * k_pad + c`.
    panel: Vec<f32>,
    /// Per-accumulator partial sums of the current row, `[LANES, k_pad]`.
    lanes: Vec<f32>,
}

impl SimKernel {
    fn new(k: usize, dim: usize) -> Self {
        let k_pad = k.div_ceil(BLOCK) * BLOCK;
        Self {
            k,
            k_pad,
            dim,
            panel: vec![0.0; dim / LANES * LANES * k_pad],
            lanes: vec![0.0; LANES * k_pad],
        }
    }

    /// Copies `centroids` (`[k, dim]`) into the panel.
    fn load(&mut self, centroids: &[f32]) {
        let body = self.dim / LANES * LANES;
        for (c, cent) in centroids.chunks_exact(self.dim).enumerate() {
            for (t, &v) in cent[..body].iter().enumerate() {
                self.panel[t * self.k_pad + c] = v;
            }
        }
    }

    /// `out[c] = dot(row, centroid c)` for the `k` centroids of the last [`Self::load`]
    /// (`centroids` is the same matrix, read for the `dim % 8` tail).
    fn sims(&mut self, row: &[f32], centroids: &[f32], out: &mut [f32]) {
        let (dim, k_pad) = (self.dim, self.k_pad);
        let n_chunks = dim / LANES;
        for lane in 0..LANES {
            for block in (0..k_pad).step_by(BLOCK) {
                let mut acc = [0.0f32; BLOCK];
                for chunk in 0..n_chunks {
                    let t = chunk * LANES + lane;
                    let xv = row[t];
                    let p = &self.panel[t * k_pad + block..t * k_pad + block + BLOCK];
                    for (a, &pv) in acc.iter_mut().zip(p) {
                        *a += xv * pv;
                    }
                }
                self.lanes[lane * k_pad + block..lane * k_pad + block + BLOCK]
                    .copy_from_slice(&acc);
            }
        }
        let body = n_chunks * LANES;
        for (c, o) in out[..self.k].iter_mut().enumerate() {
            let acc: [f32; LANES] = std::array::from_fn(|lane| self.lanes[lane * k_pad + c]);
            // The same reduction as `dot`: the accumulators in order, then the tail.
            let mut s: f32 = acc.iter().sum();
            let cent = &centroids[c * dim..(c + 1) * dim];
            for (x, y) in row[body..].iter().zip(&cent[body..]) {
                s += x * y;
            }
            *o = s;
        }
    }
}

/// L2-normalises each row of `data` (`[n, dim]`) in place; zero rows stay zero.
pub fn l2_normalise_rows(data: &mut [f32], dim: usize) {
    for row in data.chunks_exact_mut(dim) {
        let n = dot(row, row).sqrt();
        if n > 1e-12 {
            row.iter_mut().for_each(|v| *v /= n);
        }
    }
}

fn validate(data: &[f32], dim: usize) -> Result<usize> {
    if dim == 0 || dim > MAX_DIM {
        return Err(PerceptionError::InvalidConfig {
            reason: format!("dim = {dim} must be in 1..={MAX_DIM}"),
        });
    }
    if data.is_empty() {
        return Err(PerceptionError::Empty { what: "vectors" });
    }
    if data.len() % dim != 0 {
        return Err(PerceptionError::ShapeMismatch {
            expected: (data.len() / dim + 1) * dim,
            actual: data.len(),
        });
    }
    if let Some(index) = data.iter().position(|v| !v.is_finite()) {
        return Err(PerceptionError::NonFinite { index });
    }
    Ok(data.len() / dim)
}

/// Entropy in bits of a histogram of token counts (0 for an empty one): the one definition the
/// quantiser's report, the corpus report and the editor's live histograms use.
pub fn entropy_bits<I>(counts: I) -> f64
where
    I: IntoIterator + Clone,
    I::Item: TryInto<u64>,
{
    let count = |c: I::Item| c.try_into().unwrap_or(u64::MAX);
    let total: u64 = counts.clone().into_iter().map(count).sum();
    if total == 0 {
        return 0.0;
    }
    counts
        .into_iter()
        .map(count)
        .filter(|&c| c > 0)
        .map(|c| {
            let p = c as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

impl SphericalKMeans {
    /// Fits K centroids on `data` (`[n, dim]`, any norm; rows are L2-normalised internally).
    /// Deterministic for a given seed. Errors on unsupported K, ragged data, NaN, n < K.
    pub fn fit(data: &[f32], dim: usize, config: &KMeansConfig) -> Result<(Self, KMeansReport)> {
        if !SUPPORTED_K.contains(&config.k) {
            return Err(PerceptionError::UnsupportedK { k: config.k });
        }
        let n = validate(data, dim)?;
        let k = config.k;
        if n < k {
            return Err(PerceptionError::TooFewSamples { k, n_samples: n });
        }
        let mut x = data.to_vec();
        l2_normalise_rows(&mut x, dim);
        let mut rng = Pcg64::seed_from_u64(config.seed);
        let minibatch = n > config.minibatch_threshold;
        // Seed on at most 20 000 vectors in mini-batch mode (k-means++ is O(n k dim)).
        let seed_idx: Vec<usize> = if minibatch {
            (0..20_000).map(|_| rng.random_range(0..n)).collect()
        } else {
            (0..n).collect()
        };
        let mut model = Self {
            k,
            dim,
            centroids: kmeans_pp(&x, dim, &seed_idx, k, &mut rng),
        };
        let mut assign = vec![u32::MAX; n];
        let mut best_sim = vec![0.0f32; n];
        let mut iterations = 0;
        let mut converged = false;
        if minibatch {
            let mut counts = vec![0u64; k];
            let steps = config.max_iter * 10;
            let batch = config.batch_size.max(k);
            let mut prev = model.centroids.clone();
            for _ in 0..steps {
                iterations += 1;
                for _ in 0..batch {
                    let i = rng.random_range(0..n);
                    let row = &x[i * dim..(i + 1) * dim];
                    let (c, _) = model.nearest_with_sim(row);
                    counts[c] += 1;
                    let lr = 1.0 / counts[c] as f32;
                    let cent = &mut model.centroids[c * dim..(c + 1) * dim];
                    cent.iter_mut()
                        .zip(row)
                        .for_each(|(cv, xv)| *cv += lr * (xv - *cv));
                }
                let mut max_shift = 0.0f32;
                for c in 0..k {
                    let cent = &mut model.centroids[c * dim..(c + 1) * dim];
                    l2_normalise_rows(cent, dim);
                    max_shift = max_shift.max(1.0 - dot(cent, &prev[c * dim..(c + 1) * dim]));
                }
                prev.copy_from_slice(&model.centroids);
                if max_shift < 1e-6 {
                    converged = true;
                    break;
                }
            }
            model.assign_all(&x, &mut assign, &mut best_sim);
            model.repair_empty(&x, &mut assign, &mut best_sim);
        } else {
            let mut kernel = SimKernel::new(k, dim);
            let mut bounds = Bounds::new(&x, dim, k);
            let mut previous = model.centroids.clone();
            for _ in 0..config.max_iter {
                iterations += 1;
                let changed = model.assign_rows(
                    &x,
                    &mut kernel,
                    &mut assign,
                    &mut best_sim,
                    Some(&mut bounds),
                );
                if model.has_empty(&assign) {
                    // `repair_empty` ranks rows by their similarity, which pruned rows did not
                    // refresh: recompute all (same assignments), repair, restart the bounds.
                    model.assign_rows(&x, &mut kernel, &mut assign, &mut best_sim, None);
                    model.repair_empty(&x, &mut assign, &mut best_sim);
                    bounds.valid = false;
                }
                previous.copy_from_slice(&model.centroids);
                model.update_centroids(&x, &assign);
                bounds.centroids_moved(&previous, &model.centroids, dim, &assign);
                if iterations > 1 && changed as f64 <= config.tol_changed_fraction * n as f64 {
                    converged = true;
                    break;
                }
            }
            model.assign_rows(&x, &mut kernel, &mut assign, &mut best_sim, None);
        }
        let report = model.report_from(&assign, &best_sim, iterations, converged, minibatch);
        Ok((model, report))
    }

    fn nearest_with_sim(&self, unit_row: &[f32]) -> (usize, f32) {
        let mut best = (0usize, f32::NEG_INFINITY);
        for (c, cent) in self.centroids.chunks_exact(self.dim).enumerate() {
            let s = dot(unit_row, cent);
            if s > best.1 {
                best = (c, s);
            }
        }
        best
    }

    /// Assigns every row as [`Self::assign_all`] does, computing only the similarities that
    /// `bounds` cannot rule out (all of them, through `kernel`, without bounds or before the
    /// first full pass). Rows skipped or partly computed keep a stale `best_sim` only when
    /// skipped. The assignments are exactly those of [`Self::assign_all`] (see [`Bounds`]);
    /// returns how many changed.
    fn assign_rows(
        &self,
        x: &[f32],
        kernel: &mut SimKernel,
        assign: &mut [u32],
        best_sim: &mut [f32],
        mut bounds: Option<&mut Bounds>,
    ) -> usize {
        let (k, dim) = (self.k, self.dim);
        let max_centroid_norm = self
            .centroids
            .chunks_exact(dim)
            .map(norm_f64)
            .fold(0.0, f64::max);
        let mut sims = vec![0.0f32; k];
        let mut changed = 0;
        let pruning = bounds.as_ref().is_some_and(|b| b.valid);
        if !pruning {
            kernel.load(&self.centroids);
        }
        for (i, row) in x.chunks_exact(dim).enumerate() {
            let best = match bounds.as_deref_mut() {
                Some(b) if pruning => {
                    let eps = b.dot_error(i, max_centroid_norm, dim);
                    // Hamerly's test first (one bound for all other centroids), then Elkan's.
                    if b.lower[i] - b.upper_any[i] > 2.0 * eps {
                        continue;
                    }
                    let a = assign[i] as usize;
                    let norm = b.norm[i];
                    let upper = &mut b.upper_rel[i * k..(i + 1) * k];
                    let mut max_other = f64::NEG_INFINITY;
                    for (j, (&u, &d)) in upper.iter().zip(&b.drift).enumerate() {
                        let u = u + norm * d;
                        if j != a && u > max_other {
                            max_other = u;
                        }
                    }
                    b.upper_any[i] = max_other;
                    if b.lower[i] - max_other > 2.0 * eps {
                        continue;
                    }
                    let s_a = dot(row, &self.centroids[a * dim..(a + 1) * dim]);
                    // Centroid j can only beat (or tie) `a` if `upper[j] + eps >= s_a`; the
                    // first largest of those and `a` is the first largest of all.
                    let mut best = (0usize, f32::NEG_INFINITY);
                    for (j, (u, &d)) in upper.iter_mut().zip(&b.drift).enumerate() {
                        let s = if j == a {
                            s_a
                        } else if *u + norm * d + eps >= s_a as f64 {
                            let s = dot(row, &self.centroids[j * dim..(j + 1) * dim]);
                            *u = s as f64 + eps - norm * d;
                            s
                        } else {
                            continue;
                        };
                        if s > best.1 {
                            best = (j, s);
                        }
                    }
                    if best.0 != a {
                        upper[a] = s_a as f64 + eps - norm * b.drift[a];
                    }
                    let mut max_other = f64::NEG_INFINITY;
                    for (j, (&u, &d)) in upper.iter().zip(&b.drift).enumerate() {
                        let u = u + norm * d;
                        if j != best.0 && u > max_other {
                            max_other = u;
                        }
                    }
                    b.upper_any[i] = max_other;
                    b.lower[i] = best.1 as f64 - eps;
                    best
                }
                maybe_bounds => {
                    kernel.sims(row, &self.centroids, &mut sims);
                    // The same scan as `nearest_with_sim`: first index of the largest.
                    let mut best = (0usize, f32::NEG_INFINITY);
                    for (c, &s) in sims.iter().enumerate() {
                        if s > best.1 {
                            best = (c, s);
                        }
                    }
                    if let Some(b) = maybe_bounds {
                        let eps = b.dot_error(i, max_centroid_norm, dim);
                        let norm = b.norm[i];
                        let mut max_other = f64::NEG_INFINITY;
                        let upper = &mut b.upper_rel[i * k..(i + 1) * k];
                        for (j, ((u, &d), &s)) in
                            upper.iter_mut().zip(&b.drift).zip(&sims).enumerate()
                        {
                            *u = s as f64 + eps - norm * d;
                            if j != best.0 && (s as f64 + eps) > max_other {
                                max_other = s as f64 + eps;
                            }
                        }
                        b.upper_any[i] = max_other;
                        b.lower[i] = best.1 as f64 - eps;
                    }
                    best
                }
            };
            if assign[i] != best.0 as u32 {
                changed += 1;
                assign[i] = best.0 as u32;
            }
            best_sim[i] = best.1;
        }
        if let Some(b) = bounds {
            b.valid = true;
        }
        changed
    }

    fn has_empty(&self, assign: &[u32]) -> bool {
        let mut sizes = vec![0usize; self.k];
        assign.iter().for_each(|&a| sizes[a as usize] += 1);
        sizes.contains(&0)
    }

    /// Assigns every row; returns how many changed.
    fn assign_all(&self, x: &[f32], assign: &mut [u32], best_sim: &mut [f32]) -> usize {
        let mut changed = 0;
        for (i, row) in x.chunks_exact(self.dim).enumerate() {
            let (c, s) = self.nearest_with_sim(row);
            if assign[i] != c as u32 {
                changed += 1;
                assign[i] = c as u32;
            }
            best_sim[i] = s;
        }
        changed
    }

    /// Gives each empty cluster the vector worst served by its current centroid (lowest cosine),
    /// taken from a cluster with more than one member. Deterministic.
    fn repair_empty(&mut self, x: &[f32], assign: &mut [u32], best_sim: &mut [f32]) {
        let dim = self.dim;
        let mut sizes = vec![0usize; self.k];
        assign.iter().for_each(|&a| sizes[a as usize] += 1);
        let empty: Vec<usize> = (0..self.k).filter(|&c| sizes[c] == 0).collect();
        if empty.is_empty() {
            return;
        }
        let mut order: Vec<usize> = (0..assign.len()).collect();
        order.sort_by(|&a, &b| best_sim[a].total_cmp(&best_sim[b]).then(a.cmp(&b)));
        let mut next = 0;
        for c in empty {
            while next < order.len() && sizes[assign[order[next]] as usize] <= 1 {
                next += 1;
            }
            let Some(&i) = order.get(next) else { return };
            next += 1;
            sizes[assign[i] as usize] -= 1;
            sizes[c] += 1;
            assign[i] = c as u32;
            best_sim[i] = 1.0;
            self.centroids[c * dim..(c + 1) * dim].copy_from_slice(&x[i * dim..(i + 1) * dim]);
        }
    }

    fn update_centroids(&mut self, x: &[f32], assign: &[u32]) {
        let dim = self.dim;
        let mut sums = vec![0.0f32; self.k * dim];
        for (row, &a) in x.chunks_exact(dim).zip(assign) {
            let s = &mut sums[a as usize * dim..(a as usize + 1) * dim];
            s.iter_mut().zip(row).for_each(|(sv, xv)| *sv += xv);
        }
        for c in 0..self.k {
            let s = &mut sums[c * dim..(c + 1) * dim];
            if dot(s, s) > 1e-24 {
                l2_normalise_rows(s, dim);
                self.centroids[c * dim..(c + 1) * dim].copy_from_slice(s);
            }
        }
    }

    fn report_from(
        &self,
        assign: &[u32],
        best_sim: &[f32],
        iterations: usize,
        converged: bool,
        minibatch: bool,
    ) -> KMeansReport {
        let mut sizes = vec![0usize; self.k];
        assign.iter().for_each(|&a| sizes[a as usize] += 1);
        KMeansReport {
            k: self.k,
            n_samples: assign.len(),
            active_tokens: sizes.iter().filter(|&&c| c > 0).count(),
            entropy_bits: entropy_bits(sizes.iter().copied()),
            inertia: best_sim.iter().map(|&s| (1.0 - s as f64).max(0.0)).sum(),
            cluster_sizes: sizes,
            iterations,
            converged,
            minibatch,
        }
    }

    /// Nearest centroid (cosine) of one vector of any norm. A zero vector maps to token 0.
    pub fn nearest(&self, v: &[f32]) -> Result<Token> {
        if v.len() != self.dim {
            return Err(PerceptionError::ShapeMismatch {
                expected: self.dim,
                actual: v.len(),
            });
        }
        // The norm does not change the argmax of dot products; no need to normalise.
        Ok(self.nearest_with_sim(v).0 as Token)
    }

    /// Tokens of `data` (`[n, dim]`).
    pub fn transform(&self, data: &[f32]) -> Result<Vec<Token>> {
        let _ = validate(data, self.dim)?;
        Ok(data
            .chunks_exact(self.dim)
            .map(|r| self.nearest_with_sim(r).0 as Token)
            .collect())
    }

    /// Report (active tokens, entropy, inertia, sizes) of this vocabulary on `data`.
    pub fn report(&self, data: &[f32]) -> Result<KMeansReport> {
        let n = validate(data, self.dim)?;
        let mut x = data.to_vec();
        l2_normalise_rows(&mut x, self.dim);
        let mut assign = vec![u32::MAX; n];
        let mut sim = vec![0.0; n];
        self.assign_all(&x, &mut assign, &mut sim);
        Ok(self.report_from(&assign, &sim, 0, true, false))
    }

    /// JSON form (serde).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string(self)?)
    }

    /// Parses and validates a JSON vocabulary.
    pub fn from_json(s: &str) -> Result<Self> {
        let m: Self = serde_json::from_str(s)?;
        if !SUPPORTED_K.contains(&m.k) {
            return Err(PerceptionError::UnsupportedK { k: m.k });
        }
        if m.centroids.len() != m.k * m.dim {
            return Err(PerceptionError::ShapeMismatch {
                expected: m.k * m.dim,
                actual: m.centroids.len(),
            });
        }
        validate(&m.centroids, m.dim)?;
        Ok(m)
    }

    /// Writes JSON to `path`.
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        std::fs::write(path, self.to_json()?).map_err(|source| PerceptionError::Io {
            op: "write",
            path: path.into(),
            error: source,
        })
    }

    /// Reads JSON from `path`.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let s = std::fs::read_to_string(path).map_err(|source| PerceptionError::Io {
            op: "read",
            path: path.into(),
            error: source,
        })?;
        Self::from_json(&s)
    }
}

/// Euclidean norm in f64.
fn norm_f64(v: &[f32]) -> f64 {
    v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt()
}

/// Per-row bounds that let a Lloyd pass skip most similarity computations: Elkan's algorithm
/// ("Using the triangle inequality to accelerate k-means", ICML 2003) in dot-product form. For
/// row `x` assigned to `a`, `lower <= x . c_a` and `upper[j] >= x . c_j` for every `j != a`
/// (exact real-number dot products of the stored floats). When centroid `j` moves by `d_j`, its
/// dot with `x` moves by at most `|x| d_j` (Cauchy-Schwarz), so `lower -= |x| d_a` and
/// `upper[j] += |x| d_j` keep them true without touching the row (the latter through a
/// per-centroid drift, see [`Bounds::upper_rel`]).
///
/// Exactness: a computed `dot` differs from the exact one by at most [`Bounds::dot_error`]
/// (a generous form of the recursive-summation bound `gamma_m sum |x_t c_t|`). A row is
/// skipped only when `lower - max_j upper[j] > 2 * dot_error`, and a centroid only when
/// `upper[j] + dot_error < ` the computed similarity to `a`: in both cases its computed
/// similarity is strictly below another's, so the first-largest scan of [`dot`] values picks
/// the same centroid as a full pass. Hamerly's single bound per row alone pruned too little
/// here (one centroid jumping far widens every row's bound), so it is only the first test.
struct Bounds {
    /// Lower bound of the similarity to the assigned centroid, per row.
    lower: Vec<f64>,
    /// Upper bounds of the similarity to each centroid, `[n, k]`, stored relative to the
    /// centroid's drift: the bound is `upper_rel[i, j] + norm[i] * drift[j]`, so a move
    /// updates `drift` only (O(k), not O(n k)). The assigned centroid's entry is unused.
    upper_rel: Vec<f64>,
    /// Per centroid, the sum of its moves so far.
    drift: Vec<f64>,
    /// Upper bound of the similarity to any centroid but the assigned one, per row
    /// (Hamerly's bound, checked before the `k` bounds of `upper_rel`).
    upper_any: Vec<f64>,
    /// Row norms.
    norm: Vec<f64>,
    /// False until a full pass has set every row's bounds (and after a repair).
    valid: bool,
}

impl Bounds {
    fn new(x: &[f32], dim: usize, k: usize) -> Self {
        let n = x.len() / dim;
        Self {
            lower: vec![f64::NEG_INFINITY; n],
            upper_rel: vec![f64::INFINITY; n * k],
            drift: vec![0.0; k],
            upper_any: vec![f64::INFINITY; n],
            norm: x.chunks_exact(dim).map(norm_f64).collect(),
            valid: false,
        }
    }

    /// Bound on `|computed dot - exact dot|` for row `i` against any centroid of norm at most
    /// `max_centroid_norm`: `(dim + 16) * 2^-23 * |x| * |c|`, several times the rounding
    /// bound of `dot`'s at most `dim / 8 + 9` chained additions per sum.
    fn dot_error(&self, i: usize, max_centroid_norm: f64, dim: usize) -> f64 {
        (dim + 16) as f64 * f32::EPSILON as f64 * self.norm[i] * max_centroid_norm + 1e-30
    }

    /// Widens the bounds after the centroids moved from `old` to `new`.
    fn centroids_moved(&mut self, old: &[f32], new: &[f32], dim: usize, assign: &[u32]) {
        if !self.valid {
            return;
        }
        let shift: Vec<f64> = old
            .chunks_exact(dim)
            .zip(new.chunks_exact(dim))
            .map(|(a, b)| {
                let d2: f64 = a
                    .iter()
                    .zip(b)
                    .map(|(&p, &q)| (p as f64 - q as f64).powi(2))
                    .sum();
                // f64 rounding here is ~1e-16, far inside the `dot_error` margin; widen anyway.
                d2.sqrt() * (1.0 + 1e-12)
            })
            .collect();
        // Largest move, and the largest among the others (for the rows assigned to the first).
        let (mut top, mut top_idx, mut runner_up) = (0.0f64, usize::MAX, 0.0f64);
        for (j, &d) in shift.iter().enumerate() {
            if d > top {
                runner_up = top;
                top = d;
                top_idx = j;
            } else if d > runner_up {
                runner_up = d;
            }
        }
        for (drift, &d) in self.drift.iter_mut().zip(&shift) {
            *drift += d;
        }
        for (i, &a) in assign.iter().enumerate() {
            let a = a as usize;
            let others = if a == top_idx { runner_up } else { top };
            self.lower[i] -= self.norm[i] * shift[a];
            self.upper_any[i] += self.norm[i] * others;
        }
    }
}

/// k-means++ seeding over the rows `idx` of unit-norm `x`, distance `1 - cos`.
fn kmeans_pp(x: &[f32], dim: usize, idx: &[usize], k: usize, rng: &mut Pcg64) -> Vec<f32> {
    let mut centroids = Vec::with_capacity(k * dim);
    let first = idx[rng.random_range(0..idx.len())];
    centroids.extend_from_slice(&x[first * dim..(first + 1) * dim]);
    let mut dist: Vec<f64> = idx
        .iter()
        .map(|&i| (1.0 - dot(&x[i * dim..(i + 1) * dim], &centroids[..dim]) as f64).max(0.0))
        .collect();
    for c in 1..k {
        let total: f64 = dist.iter().sum();
        let pick = if total > 1e-12 {
            let mut r = rng.random::<f64>() * total;
            let mut chosen = dist.len() - 1;
            for (j, &d) in dist.iter().enumerate() {
                if r < d {
                    chosen = j;
                    break;
                }
                r -= d;
            }
            chosen
        } else {
            // All remaining vectors coincide with a centroid: take any (repair handles empties).
            rng.random_range(0..idx.len())
        };
        let i = idx[pick];
        centroids.extend_from_slice(&x[i * dim..(i + 1) * dim]);
        let cent = &centroids[c * dim..(c + 1) * dim];
        for (d, &j) in dist.iter_mut().zip(idx) {
            let nd = (1.0 - dot(&x[j * dim..(j + 1) * dim], cent) as f64).max(0.0);
            if nd < *d {
                *d = nd;
            }
        }
    }
    centroids
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n_clusters` well-separated directions plus noise, `[n, dim]`.
    fn blobs(
        n: usize,
        dim: usize,
        n_clusters: usize,
        noise: f32,
        seed: u64,
    ) -> (Vec<f32>, Vec<usize>) {
        let mut rng = Pcg64::seed_from_u64(seed);
        let centres: Vec<f32> = (0..n_clusters * dim)
            .map(|_| rng.random::<f32>() * 2.0 - 1.0)
            .collect();
        let mut data = Vec::with_capacity(n * dim);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % n_clusters;
            labels.push(c);
            let scale = 0.5 + rng.random::<f32>() * 3.0; // norms vary: spherical ignores them
            for d in 0..dim {
                data.push(scale * (centres[c * dim + d] + noise * (rng.random::<f32>() - 0.5)));
            }
        }
        (data, labels)
    }

    #[test]
    fn recovers_blobs_deterministically() {
        let (data, labels) = blobs(1600, 32, 16, 0.2, 1);
        let cfg = KMeansConfig {
            k: 16,
            ..Default::default()
        };
        let (m, r) = SphericalKMeans::fit(&data, 32, &cfg).unwrap();
        assert_eq!(r.active_tokens, 16);
        assert!(r.converged);
        assert!((r.entropy_bits - 4.0).abs() < 0.05, "{}", r.entropy_bits);
        // Purity: each true cluster maps to one token.
        let t = m.transform(&data).unwrap();
        for c in 0..16 {
            let toks: std::collections::HashSet<_> = (0..1600)
                .filter(|&i| labels[i] == c)
                .map(|i| t[i])
                .collect();
            assert_eq!(toks.len(), 1);
        }
        let (m2, r2) = SphericalKMeans::fit(&data, 32, &cfg).unwrap();
        assert_eq!(m, m2);
        assert_eq!(r, r2);
    }

    #[test]
    fn kernel_sims_equal_dot_bit_for_bit() {
        let mut rng = Pcg64::seed_from_u64(9);
        for (k, dim) in [(16, 88), (64, 88), (20, 13), (3, 7), (256, 768), (64, 8)] {
            let cents: Vec<f32> = (0..k * dim).map(|_| rng.random::<f32>() - 0.5).collect();
            let mut kernel = SimKernel::new(k, dim);
            kernel.load(&cents);
            let mut out = vec![0.0f32; k];
            for _ in 0..20 {
                let row: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() * 4.0 - 2.0).collect();
                kernel.sims(&row, &cents, &mut out);
                for (c, cent) in cents.chunks_exact(dim).enumerate() {
                    assert_eq!(
                        out[c].to_bits(),
                        dot(&row, cent).to_bits(),
                        "k {k} dim {dim}"
                    );
                }
            }
        }
    }

    /// The loop `fit` ran before the kernel and the bounds: plain Lloyd passes.
    fn fit_plain_lloyd(data: &[f32], dim: usize, config: &KMeansConfig) -> SphericalKMeans {
        let n = data.len() / dim;
        let mut x = data.to_vec();
        l2_normalise_rows(&mut x, dim);
        let mut rng = Pcg64::seed_from_u64(config.seed);
        let idx: Vec<usize> = (0..n).collect();
        let mut model = SphericalKMeans {
            k: config.k,
            dim,
            centroids: kmeans_pp(&x, dim, &idx, config.k, &mut rng),
        };
        let mut assign = vec![u32::MAX; n];
        let mut best_sim = vec![0.0f32; n];
        for iteration in 1..=config.max_iter {
            let changed = model.assign_all(&x, &mut assign, &mut best_sim);
            model.repair_empty(&x, &mut assign, &mut best_sim);
            model.update_centroids(&x, &assign);
            if iteration > 1 && changed as f64 <= config.tol_changed_fraction * n as f64 {
                break;
            }
        }
        model
    }

    #[test]
    fn pruned_fit_equals_plain_lloyd() {
        // Overlapping clusters (many rows near ties), a zero row, duplicates (empty clusters).
        for (n, dim, clusters, noise, k) in [
            (3000, 88, 40, 1.5, 64),
            (2000, 13, 100, 0.8, 64),
            (1200, 32, 16, 0.2, 16),
            (70, 8, 70, 0.0, 64),
        ] {
            let (mut data, _) = blobs(n, dim, clusters, noise, 5);
            data[..dim].iter_mut().for_each(|v| *v = 0.0);
            let cfg = KMeansConfig {
                k,
                max_iter: 60,
                ..Default::default()
            };
            let (m, _) = SphericalKMeans::fit(&data, dim, &cfg).unwrap();
            let reference = fit_plain_lloyd(&data, dim, &cfg);
            assert_eq!(m.centroids, reference.centroids, "n {n} dim {dim} k {k}");
        }
    }

    #[test]
    fn minibatch_mode_and_save_load() {
        let (data, _) = blobs(3000, 16, 64, 0.3, 2);
        let cfg = KMeansConfig {
            k: 64,
            minibatch_threshold: 1000,
            batch_size: 512,
            max_iter: 20,
            ..Default::default()
        };
        let (m, r) = SphericalKMeans::fit(&data, 16, &cfg).unwrap();
        assert!(r.minibatch);
        assert!(r.active_tokens >= 60, "{}", r.active_tokens);
        let dir = std::env::temp_dir().join(format!("musichal_km_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("vocab.json");
        m.save(&p).unwrap();
        let m2 = SphericalKMeans::load(&p).unwrap();
        assert_eq!(m.transform(&data).unwrap(), m2.transform(&data).unwrap());
        std::fs::remove_dir_all(&dir).ok();
    }

    /// `repair_empty`'s contract: each empty cluster takes the row worst served by its centroid
    /// (lowest similarity) among the rows of clusters with more than one member; the row moves
    /// into the empty cluster, becomes its centroid and is then perfectly served. Rows alone in
    /// their cluster are never taken, and nothing else changes.
    #[test]
    fn repair_gives_each_empty_cluster_the_worst_served_row_of_a_shared_one() {
        let dim = 2;
        let x = [
            1.0f32, 0.0, // row 0: cluster 0, well served
            0.8, 0.6, // row 1: cluster 0, the worst served of a shared cluster
            0.6, 0.8, // row 2: cluster 0
            0.0, 1.0, // row 3: alone in cluster 1, the worst served of all
            -0.6, 0.8, // row 4: cluster 0, the second worst served of a shared cluster
        ];
        let mut assign = [0u32, 0, 0, 1, 0];
        let mut best_sim = [0.99f32, 0.6, 0.8, 0.1, 0.7];
        let mut model = SphericalKMeans {
            k: 4,
            dim,
            centroids: vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        };
        model.repair_empty(&x, &mut assign, &mut best_sim);
        assert_eq!(assign, [0, 2, 0, 1, 3]);
        assert_eq!(best_sim, [0.99, 1.0, 0.8, 0.1, 1.0]);
        assert_eq!(model.centroids, [1.0, 0.0, 0.0, 1.0, 0.8, 0.6, -0.6, 0.8]);

        // No cluster to take from (every member alone): the empty cluster stays empty.
        let mut assign = [0u32, 1];
        let mut best_sim = [0.5f32, 0.2];
        let mut model = SphericalKMeans {
            k: 3,
            dim,
            centroids: vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        };
        model.repair_empty(&x[..4], &mut assign, &mut best_sim);
        assert_eq!(assign, [0, 1]);
        assert_eq!(model.centroids, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    }

    /// End to end with fewer distinct points than clusters: 40 distinct directions, each 1-2
    /// times (70 rows), K = 64 (k-means++ runs out of new points to seed with). Every distinct
    /// direction ends with a centroid of its own (identical rows share their nearest centroid,
    /// so exactly 40 tokens are in use), every row is assigned and every centroid is a finite
    /// unit vector. (The repair itself is tested above: the final assignment here leaves 24
    /// clusters empty whether or not it ran.)
    #[test]
    fn fewer_distinct_points_than_clusters() {
        let (distinct, _) = blobs(40, 8, 40, 0.0, 3);
        let data: Vec<f32> = (0..70)
            .flat_map(|i| distinct[(i % 40) * 8..(i % 40 + 1) * 8].to_vec())
            .collect();
        let cfg = KMeansConfig {
            k: 64,
            ..Default::default()
        };
        let (model, r) = SphericalKMeans::fit(&data, 8, &cfg).unwrap();
        assert_eq!(r.active_tokens, 40, "{:?}", r.cluster_sizes);
        assert_eq!(r.cluster_sizes.iter().sum::<usize>(), 70);
        for c in model.centroids.chunks_exact(8) {
            let norm = dot(c, c).sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "centroid norm {norm}: {c:?}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        let cfg = KMeansConfig::default();
        assert!(matches!(
            SphericalKMeans::fit(&[0.0; 10], 3, &cfg),
            Err(PerceptionError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            SphericalKMeans::fit(&[], 3, &cfg),
            Err(PerceptionError::Empty { .. })
        ));
        assert!(matches!(
            SphericalKMeans::fit(&[f32::NAN; 6], 3, &cfg),
            Err(PerceptionError::NonFinite { index: 0 })
        ));
        assert!(matches!(
            SphericalKMeans::fit(&[1.0; 30], 3, &cfg),
            Err(PerceptionError::TooFewSamples { .. })
        ));
        let bad_k = KMeansConfig {
            k: 10,
            ..Default::default()
        };
        assert!(matches!(
            SphericalKMeans::fit(&[1.0; 300], 3, &bad_k),
            Err(PerceptionError::UnsupportedK { k: 10 })
        ));
        assert!(SphericalKMeans::from_json(r#"{"k":16,"dim":2,"centroids":[1.0]}"#).is_err());
    }

    /// Why there is no StandardScaler. Transformer embeddings (MERT, wav2vec 2.0) have a shared
    /// component in every frame (anisotropy), a few dims with large variance ("outlier
    /// dimensions", Kovaleva et al. 2021; Timkey & van Schijndel 2021) and, above all, a frame
    /// norm that varies over orders of magnitude (massive activations; loud vs quiet frames).
    /// Data here: 768-D, 64 content directions `v_c` (unit norm), frame `x = o + s (v_c + 0.5 e)`
    /// with a shared offset `o` (norm 1), per-frame scale `s = exp(1.5 g)` (log-normal: 5-95 %
    /// range 0.085..11.8), isotropic noise `e` (norm 0.5), plus 4 dims with extra N(0, 0.5^2).
    ///
    /// Mechanism: z-scoring is a per-dimension affine map. It removes the offset and equalises
    /// the per-dim variances, but it cannot remove the per-frame scale `s`: after it, quiet
    /// frames of all 64 contents sit in a dense core near the mean, loud frames form a wide halo
    /// that carries almost all the squared error (E[s^2] is dominated by the tail of `s`).
    /// Euclidean K-means minimises squared error, so its centroids tile the halo (few loud frames
    /// each) and one or two centroids take the core, i.e. most frames: the vocabulary collapses
    /// (measured: 1 token with >= 0.5 % of frames, 0.75 bits). L2 normalisation maps `s v_c` and
    /// `v_c` to the same point, so spherical K-means sees the 64 directions (measured: 61/64 tokens
    /// with >= 0.5 % of frames, 64/64 non-empty, 5.6 bits).
    #[test]
    fn zscore_euclidean_collapses_but_spherical_does_not() {
        let (n, dim, n_content) = (3200usize, 768usize, 64usize);
        let mut rng = Pcg64::seed_from_u64(11);
        let mut gauss = move || {
            // Box-Muller
            let u1: f32 = rng.random::<f32>().max(1e-7);
            let u2: f32 = rng.random::<f32>();
            (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
        };
        let inv_sqrt_dim = 1.0 / (dim as f32).sqrt();
        let content_dirs: Vec<f32> = (0..n_content * dim)
            .map(|_| gauss() * inv_sqrt_dim)
            .collect();
        let offset: Vec<f32> = (0..dim)
            .map(|_| (1.0 + 0.2 * gauss()) * inv_sqrt_dim)
            .collect();
        let mut data = vec![0.0f32; n * dim];
        for i in 0..n {
            let c = i % n_content;
            let s = (1.5 * gauss()).exp();
            let row = &mut data[i * dim..(i + 1) * dim];
            for d in 0..dim {
                row[d] = offset[d] + s * (content_dirs[c * dim + d] + 0.5 * gauss() * inv_sqrt_dim);
            }
            for d in [3usize, 77, 300, 588] {
                row[d] += 0.5 * gauss();
            }
        }
        // A token is "active" here when it holds at least 0.5 % of the frames (a third of the
        // uniform share 1/64); a centroid owning three loud frames is not a usable gesture.
        let active = |sizes: &[usize]| sizes.iter().filter(|&&c| c * 200 >= n).count();
        // --- StandardScaler + Euclidean k-means (test-only, k-means++ seeding + Lloyd) ---
        let mut z = data.clone();
        for d in 0..dim {
            let mean = (0..n).map(|i| z[i * dim + d] as f64).sum::<f64>() / n as f64;
            let var = (0..n)
                .map(|i| (z[i * dim + d] as f64 - mean).powi(2))
                .sum::<f64>()
                / n as f64;
            let sd = var.sqrt().max(1e-12);
            for i in 0..n {
                z[i * dim + d] = ((z[i * dim + d] as f64 - mean) / sd) as f32;
            }
        }
        let euclid_sizes = euclidean_kmeans_sizes(&z, dim, 64, 7);
        let euclid_bits = entropy_bits(euclid_sizes.iter().copied());
        // --- L2 + spherical (the product path) ---
        let cfg = KMeansConfig {
            k: 64,
            ..Default::default()
        };
        let (_, r) = SphericalKMeans::fit(&data, dim, &cfg).unwrap();
        eprintln!(
            "z-score+euclid: {} active, {euclid_bits:.2} bits; spherical: {} active ({} non-empty), {:.2} bits",
            active(&euclid_sizes),
            active(&r.cluster_sizes),
            r.active_tokens,
            r.entropy_bits
        );
        assert!(
            active(&r.cluster_sizes) as f64 > 0.9 * 64.0,
            "spherical kept {}",
            active(&r.cluster_sizes)
        );
        assert!(r.entropy_bits > 5.2);
        assert!(
            active(&euclid_sizes) <= 8,
            "z-score pipeline kept {}",
            active(&euclid_sizes)
        );
        assert!(euclid_bits < 2.0);
    }

    /// Plain Euclidean k-means (k-means++ seeding, 20 Lloyd passes); returns cluster sizes.
    fn euclidean_kmeans_sizes(x: &[f32], dim: usize, k: usize, seed: u64) -> Vec<usize> {
        let n = x.len() / dim;
        let mut rng = Pcg64::seed_from_u64(seed);
        let d2 =
            |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum::<f32>();
        let first = rng.random_range(0..n);
        let mut cents: Vec<f32> = x[first * dim..(first + 1) * dim].to_vec();
        let mut dist: Vec<f32> = (0..n)
            .map(|i| d2(&x[i * dim..(i + 1) * dim], &cents[..dim]))
            .collect();
        for c in 1..k {
            let total: f64 = dist.iter().map(|&d| d as f64).sum();
            let mut r = rng.random::<f64>() * total;
            let mut pick = n - 1;
            for (j, &d) in dist.iter().enumerate() {
                if r < d as f64 {
                    pick = j;
                    break;
                }
                r -= d as f64;
            }
            cents.extend_from_slice(&x[pick * dim..(pick + 1) * dim]);
            for j in 0..n {
                let nd = d2(&x[j * dim..(j + 1) * dim], &cents[c * dim..(c + 1) * dim]);
                dist[j] = dist[j].min(nd);
            }
        }
        let mut assign = vec![0usize; n];
        for _ in 0..20 {
            for i in 0..n {
                let row = &x[i * dim..(i + 1) * dim];
                let mut best = (0usize, f32::INFINITY);
                for c in 0..k {
                    let d = d2(row, &cents[c * dim..(c + 1) * dim]);
                    if d < best.1 {
                        best = (c, d);
                    }
                }
                assign[i] = best.0;
            }
            let mut sums = vec![0.0f32; k * dim];
            let mut counts = vec![0usize; k];
            for i in 0..n {
                counts[assign[i]] += 1;
                for d in 0..dim {
                    sums[assign[i] * dim + d] += x[i * dim + d];
                }
            }
            for c in 0..k {
                if counts[c] > 0 {
                    for d in 0..dim {
                        cents[c * dim + d] = sums[c * dim + d] / counts[c] as f32;
                    }
                }
            }
        }
        let mut counts = vec![0usize; k];
        assign.iter().for_each(|&a| counts[a] += 1);
        counts
    }
}
