"""Train the semantic EQ morph model, export it for the plug-in, and write the report.

Run from the repository root:

    .venv/bin/python -m training.train            # full: assets/, fixtures, docs/EQ_MODEL.md
    .venv/bin/python -m training.train --quick --out out/eq_quick   # seconds-scale smoke run

Full mode overwrites assets/eq_morph.onnx, assets/eq_morph.json,
tests/fixtures/eq_morph/fixtures.json, docs/EQ_MODEL.md and docs/img/eq_*.png.
--quick trains briefly (optionally on a slice) and writes everything under --out instead.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .musichal_eq import data as D
from .musichal_eq import eq as EQ
from .musichal_eq import evaluate as E
from .musichal_eq import export as X
from .musichal_eq import model as M
from .musichal_eq import plots as P
from .musichal_eq import report as R

SEED = 0


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short training, no ablations, output under --out")
    ap.add_argument("--out", type=Path, default=None, help="output root (default: the repo for full runs, out/eq_quick for --quick)")
    ap.add_argument("--data-dir", type=Path, default=D.DATA_DIR)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--latent-dim", type=int, default=2)
    ap.add_argument("--slice", type=int, default=0, help="use only this many cleaned rows (quick tests)")
    ap.add_argument("--no-ablation", action="store_true")
    return ap.parse_args(argv)


def paths(root: Path) -> dict[str, Path]:
    return {
        "onnx": root / "assets" / "eq_morph.onnx",
        "meta": root / "assets" / "eq_morph.json",
        "fixtures": root / "tests" / "fixtures" / "eq_morph" / "fixtures.json",
        "report": root / "docs" / "EQ_MODEL.md",
        "img": root / "docs" / "img",
    }


def take_slice(ds: D.Dataset, n: int, seed: int) -> D.Dataset:
    """A seeded slice that keeps every term (quick runs still need warm and bright)."""
    if not n or n >= len(ds):
        return ds
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(ds), bool)
    for t in np.unique(ds.terms):
        idx = np.flatnonzero(ds.terms == t)
        share = max(5, int(round(n * len(idx) / len(ds))))
        keep[rng.permutation(idx)[:share]] = True
    return ds.subset(keep)


def latent_metrics(mu_tr, y_tr, mu_te, y_te) -> dict:
    te_keep = np.isin(y_te, [k for k in np.unique(y_te) if np.sum(y_te == k) >= 2])
    return {
        "silhouette_train": E.silhouette(mu_tr, y_tr),
        "davies_bouldin_train": E.davies_bouldin(mu_tr, y_tr),
        "silhouette_test": E.silhouette(mu_te[te_keep], y_te[te_keep]),
        "davies_bouldin_test": E.davies_bouldin(mu_te[te_keep], y_te[te_keep]),
    }


def evaluate_model(model: M.Trained, x, y, tr, te, terms, params) -> dict:
    """Held-out figures for one trained model (used for the main model and the ablations)."""
    cen, spr = M.term_stats(model, x[tr], y[tr])
    mu_tr, mu_te = model.encode(x[tr], y[tr]), model.encode(x[te], y[te])
    r_te = E.resp(params[te])
    recon = E.mae_db(E.resp(model.decode(mu_te)), r_te)
    dec_c = model.decode(cen)
    term_only = E.mae_db(E.resp(dec_c[y[te]]), r_te)
    te_terms = [k for k in range(len(terms)) if np.sum(y[te] == k) >= 1]
    cen_err = {terms[k]: E.mae_db(E.resp(dec_c[k:k + 1])[0], r_te[y[te] == k].mean(0)) for k in te_terms}
    ia, ib = terms.index("warm"), terms.index("bright")
    tilt = E.tilt_along(model.decode, cen[ia], cen[ib], 11, 44100.0)
    return {
        "recon_mae_db_test": recon,
        "term_only_mae_db_test": term_only,
        "centroid_vs_mean_mae_db_test": cen_err,
        "centroid_vs_mean_mae_db_test_avg": float(np.mean(list(cen_err.values()))),
        **latent_metrics(mu_tr, y[tr], mu_te, y[te]),
        "tilt_warm_to_bright_db": tilt,
        "tilt_monotonic": E.monotonic_decreasing(tilt),
        "_cen": cen, "_spr": spr, "_mu_tr": mu_tr, "_mu_te": mu_te,
    }


def public(ev: dict) -> dict:
    return {k: v for k, v in ev.items() if not k.startswith("_")}


def main(argv=None) -> tuple[dict, M.Trained]:
    """Run everything; returns the written metadata and the trained model (for tests)."""
    args = parse_args(argv)
    t0 = time.time()
    root = args.out or (D.REPO_ROOT / "out" / "eq_quick" if args.quick else D.REPO_ROOT)
    out = paths(root)
    steps = args.steps or (300 if args.quick else M.Config.steps)
    cfg = M.Config(latent_dim=args.latent_dim, steps=steps, seed=SEED)
    ablation_steps = max(300, steps // 3)

    ds = take_slice(D.load(args.data_dir), args.slice, SEED)
    tr, te = D.split_by_contributor(ds, seed=SEED)
    terms = sorted(set(ds.terms[tr]))
    keep = np.isin(ds.terms, terms)
    ds, tr, te = ds.subset(keep), tr[keep], te[keep]
    y = np.array([terms.index(t) for t in ds.terms])
    x = D.normalise(ds.params)
    print(f"{len(ds)} rows, {len(terms)} terms; train {tr.sum()} rows / {len(set(ds.contributors[tr]))} "
          f"contributors, test {te.sum()} rows / {len(set(ds.contributors[te]))} contributors", flush=True)

    shrink, shrink_scores = E.choose_shrinkage(E.resp(ds.params[tr]), y[tr], ds.contributors[tr], len(terms))
    cfg = cfg.ablated(anchor_shrink=shrink)
    print(f"anchor shrinkage chosen by 5-fold contributor CV on train: {shrink}", flush=True)
    print(f"training main model: {cfg}", flush=True)
    model = M.train(x[tr], y[tr], terms, cfg, log_every=max(1, steps // 6))
    ev = evaluate_model(model, x, y, tr, te, terms, ds.params)

    # baseline (a): per-term mean of the parameters, no model
    base = E.term_mean_params(x[tr], y[tr], len(terms))
    r_te = E.resp(ds.params[te])
    base_ev = {
        "term_only_mae_db_test": E.mae_db(E.resp(base[y[te]]), r_te),
        "centroid_vs_mean_mae_db_test": {t: E.mae_db(E.resp(base[terms.index(t):terms.index(t) + 1])[0],
                                                   r_te[y[te] == terms.index(t)].mean(0))
                                         for t in ev["centroid_vs_mean_mae_db_test"]},
        # the raw 13 normalised parameters, as a reference for the latent separation figures
        **{k + "_raw_params": v for k, v in latent_metrics(x[tr], y[tr], x[te], y[te]).items()},
    }
    base_s = base.copy()
    base_s[:, list(D.GAIN_IDX)] *= shrink
    base_ev["term_only_mae_db_test_gains_shrunk"] = E.mae_db(E.resp(base_s[y[te]]), r_te)
    base_ev["centroid_vs_mean_mae_db_test_avg_gains_shrunk"] = E.centroid_err(E.resp(base_s), r_te, y[te])
    base_ev["centroid_vs_mean_mae_db_test_avg"] = float(np.mean(list(base_ev["centroid_vs_mean_mae_db_test"].values())))
    ia, ib = terms.index("warm"), terms.index("bright")
    base_ev["tilt_warm_to_bright_db"] = [float(v) for v in EQ.tilt_db(
        D.denormalise((1 - np.linspace(0, 1, 11))[:, None] * x[tr][y[tr] == ia].mean(0)
                        + np.linspace(0, 1, 11)[:, None] * x[tr][y[tr] == ib].mean(0)))]

    ablations = {}
    if not args.quick and not args.no_ablation:
        for name, c in {
            "plain beta-VAE, d=2 (encoder sees x only, N(0,I) prior, no separation/anchor/tilt losses)":
                cfg.ablated(w_sep=0.0, w_anchor=0.0, w_tilt=0.0, conditional_prior=False, encoder_sees_term=False,
                            steps=ablation_steps),
            "full objective but encoder sees x only, d=2": cfg.ablated(encoder_sees_term=False, steps=ablation_steps),
            "full objective, no shrinkage (s=1), d=2": cfg.ablated(anchor_shrink=1.0, steps=ablation_steps),
            "full objective, d=3": cfg.ablated(latent_dim=3, steps=ablation_steps),
        }.items():
            print(f"ablation: {name}", flush=True)
            m2 = M.train(x[tr], y[tr], terms, c)
            ablations[name] = public(evaluate_model(m2, x, y, tr, te, terms, ds.params))

    # export + validity through what ships (onnxruntime on the written file)
    X.export_onnx(model, out["onnx"])
    sess = X.session(out["onnx"])
    probes = E.probe_latents(cfg.latent_dim, scale=0.1 if args.quick else 1.0)
    validity = {}
    for name, z in probes.items():
        po = X.run_onnx(sess, z)
        pj = np.asarray(X.decoder_fn_f32(model)(z))
        validity[name] = {"n": int(len(z)), "valid_share_onnx": float(E.valid(po).mean()),
                          "valid_share_jax": float(E.valid(pj).mean())}
    cen = ev["_cen"]
    tilt48 = E.tilt_along(lambda z: X.run_onnx(sess, z), cen[ia], cen[ib], 21, 48000.0)
    counts = {t: int(np.sum(y[tr] == k)) for k, t in enumerate(terms)}
    evaluation = {
        "split": {"train_rows": int(tr.sum()), "test_rows": int(te.sum()),
                  "train_contributors": len(set(ds.contributors[tr])),
                  "test_contributors": len(set(ds.contributors[te])),
                  "test_terms": {t: int(np.sum(y[te] == k)) for k, t in enumerate(terms) if np.sum(y[te] == k)}},
        "config": {k: v for k, v in cfg.__dict__.items()},
        "anchor_shrink_cv": {"chosen": shrink, "cv_score_by_shrink": shrink_scores},
        "model": public(ev),
        "baseline_term_mean_params": base_ev,
        "baseline_prototype": E.PROTOTYPE,
        "validity": validity,
        "tilt_warm_to_bright_db_fs48000_21steps": tilt48,
        "tilt_monotonic_fs48000": E.monotonic_decreasing(tilt48),
        "ablations": ablations,
    }
    evaluation = json.loads(json.dumps(evaluation, default=float))
    meta = X.build_meta(model, cen, ev["_spr"], counts, D.sha256_of(D.csv_path(args.data_dir)), evaluation)
    X.write_json(meta, out["meta"])
    X.write_fixtures(meta, sess, out["fixtures"])

    # plots + report
    out["img"].mkdir(parents=True, exist_ok=True)
    all_params = {t: ds.params[ds.terms == t] for t in terms}
    P.term_curves(out["img"] / "eq_terms.png", terms, all_params, model.decode(cen), base)
    five = np.stack([X.decode(meta, sess, "warm", "bright", m, 1.0) for m in np.linspace(0, 1, 5)])
    P.morph(out["img"] / "eq_morph.png", five, ev["tilt_warm_to_bright_db"], "warm → bright")
    P.latent(out["img"] / "eq_latent.png", terms, ev["_mu_tr"], y[tr], ev["_mu_te"], y[te], cen)
    wall = time.time() - t0
    out["report"].parent.mkdir(parents=True, exist_ok=True)
    out["report"].write_text(R.render(meta, wall, args.quick))
    print(f"done in {wall:.0f}s; wrote {', '.join(str(p) for p in out.values())}", flush=True)
    return meta, model


if __name__ == "__main__":
    main()
