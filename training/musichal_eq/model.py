"""Term-separated beta-VAE whose decoder maps a small latent to 13 bounded EQ parameters.

Why this shape: the plug-in only ever runs the *decoder* on a point between two term
centroids, so the training objective is built around exactly that:

* encoder q(z|x, term) is term-conditioned (a CVAE encoder): SAFE-DB's small terms overlap
  warm/bright in parameter space, so an x-only encoder cannot give each term its own region
  (the x-only ablation in the report shows this); the decoder still sees only z;
* the prior is term-conditioned, p(z|term) = N(c_term, I) with learnable centres c, and a
  distance-softmax classifier on the latent mean pulls terms apart (term separation);
* the decoder ends in a sigmoid and the SAFE band ranges, so *no* input can leave them;
* besides parameter MSE and the cascade-response error, two losses act on what ships:
  the decoded *centroid* (mean latent mean of a term, recomputed every full-batch step)
  must reproduce the term's mean response (shrunk toward flat by a factor chosen by
  contributor-grouped cross-validation on the training rows), and the warm->bright tilt along the segment
  between the two centroids must decrease monotonically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import data as D
from . import eq

LATENT_CLIP = 50.0  # latents are clamped here before decoding; training latents lie within +-5


@dataclass(frozen=True)
class Config:
    latent_dim: int = 2
    hidden: int = 64
    steps: int = 3000
    batch: int = 128  # rows per step for the response loss (the costly part)
    train_grid: int = 64  # log-spaced points for the training losses (evaluation uses 200)
    lr: float = 3e-3
    beta: float = 0.02  # weight of the KL term after annealing
    kl_warmup: float = 0.4  # share of the steps over which beta ramps up from 0
    w_param: float = 1.0
    w_resp: float = 1.0  # response MAE, in units of 12 dB
    w_sep: float = 0.5
    w_anchor: float = 1.0
    anchor_shrink: float = 1.0  # centroid target = shrink * term mean response (CV-chosen in train.py)
    w_tilt: float = 0.5
    tilt_margin_db: float = 0.2
    conditional_prior: bool = True  # False: plain N(0, I) prior (the ablation)
    encoder_sees_term: bool = True  # CVAE encoder q(z | x, term); False: q(z | x) (the ablation)
    seed: int = 0
    morph_pair: tuple[str, str] = ("warm", "bright")

    def ablated(self, **kw) -> "Config":
        return Config(**{**self.__dict__, **kw})


def unit_to_physical(u: jnp.ndarray) -> jnp.ndarray:
    """[0,1] -> physical units with the SAFE band ranges (same maths as data.denormalise).

    Written with exp() rather than 10**x so the ONNX graph uses plain Exp, and clipped to
    the ranges at the end so float rounding of exp(log(lo)) can never step outside them.
    """
    dt = u.dtype
    nlo = jnp.asarray(D.NLO, dt)
    span = jnp.asarray(D.NHI - D.NLO, dt)
    v = nlo + u * span
    phys = jnp.where(jnp.asarray(D.IS_LOG), jnp.exp(v * jnp.asarray(np.log(10.0), dt)), v)
    return jnp.clip(phys, jnp.asarray(D.LO, dt), jnp.asarray(D.HI, dt))


class Encoder(nn.Module):
    latent_dim: int
    hidden: int

    @nn.compact
    def __call__(self, x):
        h = jnp.tanh(nn.Dense(self.hidden)(x))
        h = jnp.tanh(nn.Dense(self.hidden)(h))
        mu = nn.Dense(self.latent_dim)(h)
        logvar = jnp.clip(nn.Dense(self.latent_dim)(h), -12.0, 4.0)
        return mu, logvar


class Decoder(nn.Module):
    """Latent -> params in [0, 1] (sigmoid). Bounded by construction."""

    hidden: int

    @nn.compact
    def __call__(self, z):
        z = jnp.clip(jnp.where(jnp.isnan(z), 0.0, z), -LATENT_CLIP, LATENT_CLIP)
        h = jnp.tanh(nn.Dense(self.hidden)(z))
        h = jnp.tanh(nn.Dense(self.hidden)(h))
        return jax.nn.sigmoid(nn.Dense(13)(h))


@dataclass
class Trained:
    cfg: Config
    terms: list[str]
    enc_params: dict
    dec_params: dict
    centres: np.ndarray
    history: list[dict] = field(default_factory=list)

    def encode(self, x_unit: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Latent means of rows x (normalised params) with term indices y."""
        inp = encoder_input(x_unit, y, len(self.terms), self.cfg.encoder_sees_term)
        mu, _ = Encoder(self.cfg.latent_dim, self.cfg.hidden).apply(self.enc_params, jnp.asarray(inp))
        return np.asarray(mu)

    def decode_unit(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(Decoder(self.cfg.hidden).apply(self.dec_params, jnp.asarray(z)))

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Latent [N, d] -> physical params [N, 13] (float64 reference)."""
        return np.asarray(unit_to_physical(jnp.asarray(self.decode_unit(z))))


def encoder_input(x_unit, y, n_terms: int, with_term: bool):
    """Params, plus the term one-hot when the encoder is term-conditioned (a CVAE encoder)."""
    x = jnp.asarray(x_unit)
    if not with_term:
        return x
    return jnp.concatenate([x, jax.nn.one_hot(jnp.asarray(y), n_terms, dtype=x.dtype)], axis=1)


def _segment_mean(v: jnp.ndarray, y: jnp.ndarray, n: int) -> jnp.ndarray:
    s = jax.ops.segment_sum(v, y, n)
    c = jax.ops.segment_sum(jnp.ones((v.shape[0], 1), v.dtype), y, n)
    return s / jnp.maximum(c, 1.0)


def train(x_unit: np.ndarray, y: np.ndarray, terms: list[str], cfg: Config, log_every: int = 0) -> Trained:
    """Full-batch Adam on the training rows. Deterministic for a given cfg.seed."""
    n_terms = len(terms)
    grid = eq.log_grid(cfg.train_grid)
    tilt_lo, tilt_hi = np.geomspace(200.0, 400.0, 30), np.geomspace(4000.0, 8000.0, 30)
    x = jnp.asarray(x_unit)
    yj = jnp.asarray(y)
    x_in = encoder_input(x_unit, y, n_terms, cfg.encoder_sees_term)
    target_resp = jax.jit(eq.response_db)(D.denormalise(x_unit), grid)
    term_mean_resp = cfg.anchor_shrink * jax.jit(_segment_mean, static_argnums=2)(target_resp, yj, n_terms)
    counts = np.bincount(y, minlength=n_terms).astype(np.float64)
    # sqrt-balanced class weights: small terms count, without 3-example terms dominating
    w_row = 1.0 / np.sqrt(counts[y])
    cw = jnp.asarray(w_row / w_row.mean())
    ia, ib = terms.index(cfg.morph_pair[0]), terms.index(cfg.morph_pair[1])
    ts = jnp.linspace(0.0, 1.0, 21)[:, None]
    nb, ng = min(cfg.batch, x.shape[0]), len(grid)
    all_f = np.concatenate([grid, tilt_lo, tilt_hi])

    enc, dec = Encoder(cfg.latent_dim, cfg.hidden), Decoder(cfg.hidden)
    key = jax.random.PRNGKey(cfg.seed)
    k_enc, k_dec, k_c, key = jax.random.split(key, 4)
    params = {
        "enc": enc.init(k_enc, x_in[:1]),
        "dec": dec.init(k_dec, jnp.zeros((1, cfg.latent_dim))),
        "centres": 0.5 * jax.random.normal(k_c, (n_terms, cfg.latent_dim)),
    }
    sched = optax.cosine_decay_schedule(cfg.lr, cfg.steps, alpha=0.05)
    opt = optax.adam(sched)
    opt_state = opt.init(params)

    def loss_fn(p, k, step):
        mu, logvar = enc.apply(p["enc"], x_in)
        z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(k, mu.shape)
        c = p["centres"][yj] if cfg.conditional_prior else jnp.zeros_like(mu)
        kl = 0.5 * jnp.sum(jnp.exp(logvar) + (mu - c) ** 2 - 1.0 - logvar, axis=1)
        beta = cfg.beta * jnp.minimum(1.0, step / (cfg.kl_warmup * cfg.steps))
        d2 = jnp.sum((mu[:, None, :] - p["centres"][None]) ** 2, axis=-1)
        logp = jax.nn.log_softmax(-d2, axis=1)
        l_sep = -jnp.mean(cw * logp[jnp.arange(x.shape[0]), yj])
        # what ships: decoded centroids (mean latent mean per term) and the morph between two
        cen = _segment_mean(mu, yj, n_terms)
        path = (1.0 - ts) * cen[ia] + ts * cen[ib]
        # response loss on a random slice of rows: it dominates the cost of a step
        idx = jax.random.choice(jax.random.fold_in(k, 1), x.shape[0], (nb,), replace=False)
        # one decoder call and one response call for all three uses keeps the XLA graph
        # (and its compile time, the bulk of a short run) small
        u_all = dec.apply(p["dec"], jnp.concatenate([z, cen, path]))
        u = u_all[: x.shape[0]]
        l_param = jnp.mean((u - x) ** 2)
        resp = eq.response_db(unit_to_physical(jnp.concatenate([u[idx], u_all[x.shape[0]:]])), all_f)
        l_resp = jnp.mean(jnp.abs(resp[:nb, :ng] - target_resp[idx])) / 12.0
        l_anchor = jnp.mean(jnp.abs(resp[nb:nb + n_terms, :ng] - term_mean_resp)) / 12.0
        pr = resp[nb + n_terms:]
        tilt = pr[:, ng:ng + 30].mean(-1) - pr[:, ng + 30:].mean(-1)
        l_tilt = jnp.mean(jax.nn.relu(jnp.diff(tilt) + cfg.tilt_margin_db)) / 12.0
        l_c = 1e-3 * jnp.mean(p["centres"] ** 2)
        total = (cfg.w_param * l_param + cfg.w_resp * l_resp + beta * jnp.mean(kl)
                 + cfg.w_sep * l_sep + cfg.w_anchor * l_anchor + cfg.w_tilt * l_tilt + l_c)
        return total, {"param": l_param, "resp_db": 12 * l_resp, "kl": jnp.mean(kl), "sep": l_sep,
                       "anchor_db": 12 * l_anchor, "tilt_pen": l_tilt}

    @jax.jit
    def step_fn(p, s, k, step):
        (l, aux), g = jax.value_and_grad(loss_fn, has_aux=True)(p, k, step)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, l, aux

    history = []
    t0 = time.time()
    for i in range(cfg.steps):
        if i == 1 and log_every:
            print(f"  compile + first step {time.time() - t0:.1f}s", flush=True)
        key, k = jax.random.split(key)
        params, opt_state, l, aux = step_fn(params, opt_state, k, float(i))
        if log_every and (i % log_every == 0 or i == cfg.steps - 1):
            rec = {"step": i, "loss": float(l), **{k2: float(v) for k2, v in aux.items()}}
            history.append(rec)
            print("  " + " ".join(f"{k2}={v:.4g}" for k2, v in rec.items()), flush=True)
    if log_every:
        print(f"  {cfg.steps} steps in {time.time() - t0:.1f}s", flush=True)
    return Trained(cfg, terms, params["enc"], params["dec"], np.asarray(params["centres"]), history)


def term_stats(model: Trained, x_unit: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid (mean latent mean) and spread (per-dim std) of each term's training rows."""
    mu = model.encode(x_unit, y)
    n = len(model.terms)
    cen = np.stack([mu[y == k].mean(0) for k in range(n)])
    spr = np.stack([mu[y == k].std(0) for k in range(n)])
    return cen, spr
