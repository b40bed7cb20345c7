#!/usr/bin/env python3
"""Generates Tests/Fixtures/metrics_*.json: reference values for MLCore/Metrics (Docs/METRICS.md).

References: scikit-learn (classification, calibration scoring rules, ROC/AP), pytrec_eval
(pytrec-eval-terrier, trec_eval's measures), and plain numpy re-implementations of the definitions
that have no library reference (ECE bins, TPR at FPR, EER, link-prediction ranks, pose errors with the
SPIN/VIBE similarity-Procrustes code, Wilson interval), pycocoevalcap (captioning; its PTBTokenizer
needs a Java runtime). Versions are pinned in requirements.txt.

Each file: {"generator", "versions", "cases": [...]}; every case has "name" and its inputs; an
expected value is a number, a list, or the string "error" where the metric must throw (the reference
raised, returned NaN, or the degenerate case is documented as an error in Docs/METRICS.md).
Randomized cases use numpy's default_rng with a fixed seed, so the output is reproducible.

Run with the project venv: .venv/bin/python Tools/reference/make_metrics_fixtures.py
"""
import json
import math
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn import metrics as skm

warnings.simplefilter("ignore")
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures"
rng = np.random.default_rng(20261130)


def versions():
    import pytrec_eval  # noqa: F401
    from importlib.metadata import version
    return {"numpy": np.__version__, "scikit-learn": sklearn.__version__,
            "pytrec-eval-terrier": version("pytrec-eval-terrier"), "pycocoevalcap": version("pycocoevalcap")}


def finite_json(x):
    """Non-finite floats as the strings "inf", "-inf", "nan" (JSON has no literal for them)."""
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, dict):
        return {k: finite_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_json(v) for v in x]
    if isinstance(x, np.generic):
        return finite_json(x.item())
    return x


def write(name, cases):
    path = FIXTURES / name
    cases = finite_json(cases)
    text = json.dumps({"generator": "Tools/reference/make_metrics_fixtures.py", "versions": versions(),
                       "cases": cases}, indent=None, separators=(",", ":"), sort_keys=True, allow_nan=False)
    path.write_text(text + "\n")
    assert len(text) < 1_000_000, f"{name} is {len(text)} bytes"
    print(f"{name}: {len(cases)} cases, {len(text)} bytes")


def ref(f):
    """f() as a float, or "error" when the reference raises or returns a non-finite number."""
    try:
        v = f()
    except (ValueError, ZeroDivisionError, IndexError):
        return "error"
    if isinstance(v, (list, tuple)):
        return v
    v = float(v)
    return v if math.isfinite(v) else "error"


# ---------------------------------------------------------------------------------------------------
# 1. Classification and calibration


def ece_reference(probs, labels, m=10):
    """Guo et al. 2017 ECE; bins (b/m, (b+1)/m] with edges b/m correctly rounded; 0 goes to bin 0."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    correct = (pred == np.asarray(labels)).astype(np.float64)
    edges = np.array([b / m for b in range(m + 1)])
    ece, bins = 0.0, []
    for b in range(m):
        sel = (conf > edges[b]) & (conf <= edges[b + 1])
        if b == 0:
            sel |= conf == 0
        n = int(sel.sum())
        mc = float(conf[sel].mean()) if n else 0.0
        acc = float(correct[sel].mean()) if n else 0.0
        ece += n / len(conf) * abs(acc - mc)
        bins.append([n, mc, acc])
    return ece, bins


def classification_cases():
    cases = []
    kinds = ["random", "ties", "one_class", "single", "binary_extreme", "empty"]
    for i in range(60):
        kind = kinds[i % len(kinds)]
        c = int(rng.integers(2, 6))
        n = {"single": 1, "empty": 0}.get(kind, int(rng.integers(2, 60)))
        logits = rng.normal(size=(n, c)) * rng.uniform(0.5, 4)
        if kind == "ties":  # coarse probabilities: equal maxima, confidences on bin edges
            probs = np.round(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), 1)
            probs[:, -1] = np.clip(1 - probs[:, :-1].sum(1), 0, 1)
        elif kind == "binary_extreme":
            c = 2
            p = rng.choice([0.0, 1.0, 0.5, 1e-20, 1 - 1e-17, 0.3], size=n)
            probs = np.stack([1 - p, p], axis=1)
        else:
            probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        probs = probs.reshape(n, c)
        labels = rng.integers(0, c, size=n)
        if kind == "one_class":
            labels[:] = int(rng.integers(0, c))
        preds = probs.argmax(1) if n else np.zeros(0, dtype=int)
        if kind == "random":  # predictions not always the argmax
            flip = rng.random(n) < 0.3
            preds = np.where(flip, rng.integers(0, c, size=n), preds)
        case = {"name": f"classification_{i}_{kind}", "classes": c, "labels": labels.tolist(),
                "predictions": preds.tolist(), "probabilities": probs.tolist()}
        L, P = labels.tolist(), preds.tolist()
        case["accuracy"] = ref(lambda: skm.accuracy_score(L, P)) if n else "error"
        if n:
            pr, rc, f1, _ = skm.precision_recall_fscore_support(L, P, average="macro", zero_division=0)
            case["macro"] = [pr, rc, f1]
            yb = [int(v == 1) for v in L]
            pb = [int(v == 1) for v in P]
            pr, rc, f1, _ = skm.precision_recall_fscore_support(yb, pb, average="binary", pos_label=1,
                                                                zero_division=0, labels=[0, 1])
            case["binary"] = [pr, rc, f1]
        else:
            case["macro"] = case["binary"] = "error"
        case["confusion"] = skm.confusion_matrix(L, P, labels=list(range(c))).tolist() if n else [[0] * c for _ in range(c)]
        if n:
            case["log_loss"] = ref(lambda: skm.log_loss(L, probs, labels=list(range(c))))
            case["brier"] = ref(lambda: skm.brier_score_loss(L, probs, labels=list(range(c))))
            ece, bins = ece_reference(probs, L)
            case["ece"], case["bins"] = ece, bins
            # Binary forms: P(class 1) against (label == 1).
            p1 = probs[:, 1].tolist()
            case["binary_probabilities"] = p1
            case["binary_log_loss"] = ref(lambda: skm.log_loss(yb, p1, labels=[0, 1]))
            case["binary_brier"] = ref(lambda: skm.brier_score_loss(yb, p1, labels=[0, 1]))
        else:
            for k in ["log_loss", "brier", "ece", "binary_log_loss", "binary_brier"]:
                case[k] = "error"
            case["bins"] = []
            case["binary_probabilities"] = []
        cases.append(case)
    write("metrics_classification.json", cases)


# ---------------------------------------------------------------------------------------------------
# 2. Scores and detection


def roc_points(labels, scores):
    fpr, tpr, thr = skm.roc_curve(labels, scores, drop_intermediate=False)
    return fpr, tpr, thr


def roc_cases():
    cases = []
    kinds = ["random", "ties", "one_class", "single", "all_tied", "separable", "few"]
    for i in range(70):
        kind = kinds[i % len(kinds)]
        n = {"single": 1, "few": int(rng.integers(2, 5))}.get(kind, int(rng.integers(2, 80)))
        labels = rng.integers(0, 2, size=n)
        if kind != "one_class" and n >= 2 and labels.min() == labels.max():
            labels[0] = 1 - labels[0]
        if kind == "one_class":
            labels[:] = i % 2
        scores = rng.normal(size=n) + labels * rng.uniform(0, 2)
        if kind == "ties":
            scores = np.round(scores * 2) / 2
        elif kind == "all_tied":
            scores[:] = 0.25
        elif kind == "separable":
            scores = labels + rng.uniform(0, 0.5, size=n)
        L, S = labels.tolist(), scores.tolist()
        case = {"name": f"roc_{i}_{kind}", "labels": L, "scores": S}
        two = 0 < sum(L) < n
        if two:
            fpr, tpr, thr = roc_points(L, S)
            case["fpr"], case["tpr"] = fpr.tolist(), tpr.tolist()
            case["thresholds"] = thr.tolist()
            case["auroc"] = skm.roc_auc_score(L, S)
            xs = [0.0, 0.001, 0.01, 0.1, float(rng.uniform()), 0.5, 1.0] + fpr[1:3].tolist()
            case["fpr_points"] = xs
            case["tpr_at_fpr"] = [float(tpr[fpr <= x].max()) for x in xs]
            case["tpr_at_fpr_interp"] = [float(np.interp(x, fpr, tpr)) for x in xs]
            gap = np.abs((1 - tpr) - fpr)
            k = int(np.argmin(gap))
            case["eer"] = [float((fpr[k] + 1 - tpr[k]) / 2), float(thr[k])]
            case["max_balanced_accuracy"] = float(np.max((tpr + 1 - fpr) / 2))
        else:
            for key in ["auroc", "eer", "max_balanced_accuracy", "fpr"]:
                case[key] = "error"
        # scikit-learn returns 0 for AP with no positive label (with a warning); MLCore throws.
        case["average_precision"] = ref(lambda: skm.average_precision_score(L, S)) if sum(L) > 0 else "error"
        case["sklearn_average_precision_no_positive"] = float(skm.average_precision_score(L, S)) if sum(L) == 0 else None
        cases.append(case)
    write("metrics_roc.json", cases)




# ---------------------------------------------------------------------------------------------------
# 3. Retrieval (pytrec_eval = trec_eval's measures)

TREC_MEASURES = {"P.1,3,5,10", "recall.3,10", "map", "ndcg_cut.3,10", "ndcg", "recip_rank"}
TREC_KEYS = ["P_1", "P_3", "P_5", "P_10", "recall_3", "recall_10", "map", "ndcg_cut_3", "ndcg_cut_10", "ndcg",
             "recip_rank"]


def trec_order(docs):
    """trec_eval's order: score decreasing, ties by docno decreasing (strcmp)."""
    docs = sorted(docs.items(), key=lambda kv: kv[0].encode(), reverse=True)
    return [d for d, _ in sorted(docs, key=lambda kv: -kv[1])]


def ndcg_exp(ranked, judged, k):
    gain = lambda lv: 2.0 ** lv - 1 if lv > 0 else 0.0
    dcg = sum(gain(judged.get(d, 0)) / math.log2(r + 2) for r, d in enumerate(ranked[:k]))
    ideal = sorted(judged.values(), reverse=True)[:k]
    idcg = sum(gain(lv) / math.log2(r + 2) for r, lv in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def retrieval_cases():
    import pytrec_eval
    cases = []
    kinds = ["random", "ties", "single", "no_relevant", "disjoint_queries", "duplicate", "graded", "empty"]
    for i in range(64):
        kind = kinds[i % len(kinds)]
        nq = 1 if kind in ("single", "duplicate") else int(rng.integers(1, 5))
        run, qrels, lines = {}, {}, []
        for q in range(nq):
            qid = f"q{q + 1}"
            pool = [f"d{j}" for j in rng.choice(40, size=int(rng.integers(1, 25)), replace=False)]
            if kind == "single":
                pool = pool[:1]
            scores = rng.normal(size=len(pool))
            if kind in ("ties", "graded"):
                scores = np.round(scores)
            run[qid] = {d: float(s) for d, s in zip(pool, scores)}
            judged = rng.choice(40, size=int(rng.integers(1, 15)), replace=False)
            levels = rng.integers(-1, 4 if kind == "graded" else 2, size=len(judged))
            if kind == "no_relevant":
                levels = np.minimum(levels, 0)
            if levels.max() < 0:  # pytrec_eval 0.5.11 hangs when all of a query's judgments are negative
                levels[0] = 0
            qrels[qid] = {f"d{j}": int(lv) for j, lv in zip(judged, levels)}
            if kind == "single":
                qrels[qid][pool[0]] = 1
        if kind == "disjoint_queries":  # one query only in the run, one only in the qrels
            run["qrun"] = {"d1": 1.0}
            qrels["qrels_only"] = {"d1": 1}
        if kind == "empty":
            qrels = {"other": {"d1": 1}}
        for qid, docs in run.items():
            for r, d in enumerate(trec_order(docs)):
                lines.append(f"{qid} Q0 {d} {r + 1} {docs[d]!r} run{i}")
        if kind == "duplicate":
            lines.append(lines[0].replace(" 1 ", " 99 ", 1))
        order = rng.permutation(len(lines))  # file order must not matter
        run_text = "\n".join(lines[j] for j in order) + "\n"
        qrels_text = "".join(f"{q} 0 {d} {lv}\n" for q, js in qrels.items() for d, lv in js.items())
        case = {"name": f"retrieval_{i}_{kind}", "run": run_text, "qrels": qrels_text}
        if kind == "duplicate":
            case["error"] = True
            cases.append(case)
            continue
        ev = pytrec_eval.RelevanceEvaluator(qrels, TREC_MEASURES).evaluate(run)
        measures = {}
        for key in TREC_KEYS:
            if not ev:
                measures[key] = "error"
                continue
            per = {q: v[key] for q, v in ev.items()}
            measures[key] = {"per_query": per, "mean": float(np.mean(list(per.values())))}
        for k in (3, 10):
            if not ev:
                measures[f"ndcg_exp_cut_{k}"] = "error"
                continue
            per = {q: ndcg_exp(trec_order(run[q]), qrels[q], k) for q in ev}
            measures[f"ndcg_exp_cut_{k}"] = {"per_query": per, "mean": float(np.mean(list(per.values())))}
        case["measures"] = measures
        case["ranking"] = {q: trec_order(docs) for q, docs in run.items()}
        case["error"] = False
        cases.append(case)
    write("metrics_retrieval.json", cases)


# ---------------------------------------------------------------------------------------------------
# 4. Link prediction (numpy definition; PyKEEN's optimistic / pessimistic / realistic ranks)


def filtered_rank(scores, gold, known, higher=True):
    s = np.asarray(scores)
    keep = np.ones(len(s), dtype=bool)
    keep[list(known)] = False
    keep[gold] = False
    g = s[gold]
    better = int(((s > g) if higher else (s < g))[keep].sum())
    tied = int((s == g)[keep].sum())
    return 1 + better, 1 + better + tied


def link_cases():
    cases = []
    kinds = ["random", "ties", "single", "all_tied", "distance", "gold_in_known", "duplicates_in_known"]
    for i in range(42):
        kind = kinds[i % len(kinds)]
        queries = []
        for _ in range(int(rng.integers(1, 12))):
            n = 1 if kind == "single" else int(rng.integers(2, 40))
            scores = rng.normal(size=n)
            if kind in ("ties", "gold_in_known", "duplicates_in_known"):
                scores = np.round(scores * 2) / 2
            if kind == "all_tied":
                scores[:] = 1.5
            gold = int(rng.integers(0, n))
            known = rng.choice(n, size=int(rng.integers(0, n + 1)), replace=True).tolist()
            if kind == "gold_in_known":
                known.append(gold)
            if kind == "duplicates_in_known" and known:
                known += known[:2]
            higher = kind != "distance"
            o, p = filtered_rank(scores, gold, known, higher)
            queries.append({"scores": scores.tolist(), "gold": gold, "known": known, "higher": higher,
                            "optimistic": o, "pessimistic": p})
        summaries = {}
        for policy in ("optimistic", "pessimistic", "realistic"):
            r = np.array([q["optimistic"] if policy == "optimistic" else q["pessimistic"] if policy == "pessimistic"
                          else (q["optimistic"] + q["pessimistic"]) / 2 for q in queries], dtype=np.float64)
            summaries[policy] = {"mr": float(r.mean()), "mrr": float((1 / r).mean()),
                                 "hits": [float((r <= k).mean()) for k in (1, 3, 10)]}
        cases.append({"name": f"link_{i}_{kind}", "queries": queries, "summaries": summaries})
    write("metrics_link_prediction.json", cases)


# ---------------------------------------------------------------------------------------------------
# 6. Pose (SPIN / VIBE utils/eval_utils.py compute_similarity_transform, verbatim in numpy)


def compute_similarity_transform(S1, S2):
    """SPIN's code: S1, S2 of shape [J, 3]; returns S1 aligned to S2."""
    S1, S2 = S1.T, S2.T
    mu1 = S1.mean(axis=1, keepdims=True)
    mu2 = S2.mean(axis=1, keepdims=True)
    X1, X2 = S1 - mu1, S2 - mu2
    var1 = np.sum(X1 ** 2)
    K = X1.dot(X2.T)
    U, s, Vh = np.linalg.svd(K)
    V = Vh.T
    Z = np.eye(U.shape[0])
    Z[-1, -1] *= np.sign(np.linalg.det(U.dot(V.T)))
    R = V.dot(Z.dot(U.T))
    scale = np.trace(R.dot(K)) / var1
    t = mu2 - scale * (R.dot(mu1))
    return (scale * R.dot(S1) + t).T


def random_rotation():
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    a, b, c, d = q
    return np.array([[a*a+b*b-c*c-d*d, 2*(b*c-a*d), 2*(b*d+a*c)],
                     [2*(b*c+a*d), a*a-b*b+c*c-d*d, 2*(c*d-a*b)],
                     [2*(b*d-a*c), 2*(c*d+a*b), a*a-b*b-c*c+d*d]])


def pose_cases():
    cases = []
    kinds = ["random", "similar", "reflected", "planar", "collinear", "two_joints", "single_sample_many", "mm_scale"]
    for i in range(48):
        kind = kinds[i % len(kinds)]
        n = 1 if kind == "single_sample_many" else int(rng.integers(1, 5))
        j = {"two_joints": 2, "single_sample_many": 100}.get(kind, int(rng.integers(3, 25)))
        target = rng.normal(size=(n, j, 3)) * (300 if kind == "mm_scale" else 1)
        if kind == "planar":
            target[..., 2] = 0
        if kind == "collinear":
            target = rng.normal(size=(n, j, 1)) * np.array([1.0, 2.0, -0.5])
        pred = np.empty_like(target)
        for s in range(n):
            r = random_rotation()
            scale = rng.uniform(0.5, 2)
            noise = rng.normal(size=(j, 3)) * (0.01 if kind == "similar" else 0.3) * (300 if kind == "mm_scale" else 1)
            p = scale * target[s] @ r.T + rng.normal(size=3) + noise
            if kind == "reflected":
                p[:, 0] *= -1
            pred[s] = p
        mpjpe = float(np.linalg.norm(pred - target, axis=-1).mean())
        aligned = np.stack([compute_similarity_transform(pred[s], target[s]) for s in range(n)])
        pa = float(np.linalg.norm(aligned - target, axis=-1).mean())
        cases.append({"name": f"pose_{i}_{kind}", "joints": j, "predicted": pred.ravel().tolist(),
                      "target": target.ravel().tolist(), "mpjpe": mpjpe, "pa_mpjpe": pa})
    write("metrics_pose.json", cases)


# ---------------------------------------------------------------------------------------------------
# 7. Statistics (scipy for the Wilson interval and harmonic mean; a Python PCG32 for the bootstrap)

PCG_MULT = 6364136223846793005
M64 = (1 << 64) - 1


class PCG32:
    """MLCore's RandomGenerator (pcg32_srandom_r / pcg32_random_r, Lemire's bounded integers)."""

    def __init__(self, seed, stream=54):
        self.inc = ((stream << 1) | 1) & M64
        self.state = 0
        self.next32()
        self.state = (self.state + seed) & M64
        self.next32()

    def next32(self):
        old = self.state
        self.state = (old * PCG_MULT + self.inc) & M64
        xs = ((((old >> 18) ^ old) >> 27)) & 0xFFFFFFFF
        rot = old >> 59
        return ((xs >> rot) | (xs << ((-rot) & 31))) & 0xFFFFFFFF

    def below(self, bound):
        m = self.next32() * bound
        if (m & 0xFFFFFFFF) < bound:
            threshold = ((1 << 32) - bound) % bound
            while (m & 0xFFFFFFFF) < threshold:
                m = self.next32() * bound
        return m >> 32


def statistics_cases():
    from scipy import stats
    assert PCG32(42).next32() == 0xA15C02B7  # pcg32-demo's first output
    cases = []
    for i in range(30):
        kind = ["random", "zero", "single", "extreme"][i % 4]
        t = {"single": 1}.get(kind, int(rng.integers(2, 200)))
        logp = np.log(rng.uniform(1e-6, 1, size=t))
        if kind == "extreme":
            logp[0] = -700.0
        values = rng.uniform(0.01, 10, size=t)
        if kind == "zero":
            values[0] = 0.0
        trials = int(rng.integers(0, 500)) if kind != "single" else 1
        successes = int(rng.integers(0, trials + 1)) if kind != "extreme" else trials
        if kind == "zero":
            successes = 0
        if trials:
            ci = stats.binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
            wilson = [successes / trials, float(ci.low), float(ci.high)]
        else:
            wilson = "error"
        seed = int(rng.integers(0, 2**32))
        resamples = int(rng.integers(1, 300))
        data = rng.normal(size=int(rng.integers(1, 40))).tolist()
        g = PCG32(seed)
        boot = [float(np.mean([data[g.below(len(data))] for _ in data])) for _ in range(resamples)]
        q = float(rng.uniform())
        cases.append({"name": f"statistics_{i}_{kind}", "log_probabilities": logp.tolist(),
                      "perplexity": float(np.exp(-logp.mean())), "values": values.tolist(),
                      "harmonic_mean": float(stats.hmean(values)), "successes": successes, "trials": trials,
                      "wilson": wilson, "seed": seed, "resamples": resamples, "data": data,
                      "bootstrap": [float(np.mean(data)), float(np.quantile(boot, 0.025)),
                                    float(np.quantile(boot, 0.975))],
                      "q": q, "quantile": float(np.quantile(data, q))})
    write("metrics_statistics.json", cases)


# ---------------------------------------------------------------------------------------------------
# 5. Captioning (pycocoevalcap 1.2: PTBTokenizer (Java), Bleu(4), Rouge, Cider)

CAPTION_WORDS = ["a", "the", "man", "woman", "dog", "cat", "is", "on", "in", "red", "small", "running", "sitting",
                 "table", "street", "with", "two", "of", "and", "park", "Ball", "DOG", "A", "man's", "U.S.", "3.5"]
CAPTION_PUNCT = [",", ".", "!", "?", ";", ":", "'s", "\"", "-", "--"]


def random_caption(length):
    words = []
    for _ in range(length):
        words.append(str(rng.choice(CAPTION_WORDS)))
        if rng.random() < 0.15:
            words[-1] += str(rng.choice(CAPTION_PUNCT))
    return " ".join(words)


def captioning_cases():
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    kinds = ["random", "single_image", "exact_match", "short_candidate", "long_candidate", "one_reference", "repeated"]
    raw = {}
    plan = []
    for i in range(28):
        kind = kinds[i % len(kinds)]
        images = 1 if kind == "single_image" else int(rng.integers(2, 9))
        case = []
        for m in range(images):
            refs = [random_caption(int(rng.integers(3, 14))) for _ in range(1 if kind == "one_reference" else int(rng.integers(1, 6)))]
            length = {"short_candidate": 2, "long_candidate": 25}.get(kind, int(rng.integers(1, 15)))
            cand = refs[0] if kind == "exact_match" else random_caption(length)
            if kind == "repeated":
                cand = " ".join(["the dog"] * int(rng.integers(1, 6)))
            key = f"{i}/{m}"
            raw[key + "/c"] = [{"caption": cand}]
            raw[key + "/r"] = [{"caption": r} for r in refs]
            case.append(key)
        plan.append((i, kind, case))
    tricky = ["Don't stop.", "A dog (brown) runs.", "An e-mail from the U.S. office", "It's 3.5 m long...",
              "He said \"hi\" -- loudly!", "The man's hat; a cat: two dogs?", "Mr. Smith's dog isn't here.",
              "a `quoted' word", "Cats & dogs", "They'll go, we've gone, I'm here, you'd see, they're off",
              "wait... what?!", "x-ray 10,000 people", "  spaces   and\ttabs ", "{curly} [square]", "A.", "end with 's"]
    for t, text in enumerate(tricky):
        raw[f"tricky/{t}"] = [{"caption": text}]
    tokenized = PTBTokenizer().tokenize(raw)
    tokenization = [{"name": f"tricky_{t}", "raw": text, "tokens": tokenized[f"tricky/{t}"][0].split()}
                    for t, text in enumerate(tricky)]
    for key in sorted(k for k in raw if not k.startswith("tricky")):
        for r, entry in enumerate(raw[key]):
            tokenization.append({"name": f"caption_{key}/{r}", "raw": entry["caption"], "tokens": tokenized[key][r].split()})
    write("metrics_ptb_tokenization.json", tokenization)
    cases = []
    for i, kind, keys in plan:
        gts = {k: tokenized[k + "/r"] for k in keys}
        res = {k: tokenized[k + "/c"] for k in keys}
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
        rouge, rouge_each = Rouge().compute_score(gts, res)
        cider, cider_each = Cider().compute_score(gts, res)
        cases.append({"name": f"captioning_{i}_{kind}",
                      "raw_candidates": [raw[k + "/c"][0]["caption"] for k in keys],
                      "candidates": [res[k][0].split() for k in keys],
                      "references": [[r.split() for r in gts[k]] for k in keys],
                      "bleu": [float(b) for b in bleu], "rouge_l": [float(rouge), [float(x) for x in rouge_each]],
                      "cider_d": [float(cider), [float(x) for x in cider_each]]})
    write("metrics_captioning.json", cases)


FAMILIES = [("classification", classification_cases), ("roc", roc_cases), ("retrieval", retrieval_cases),
            ("link", link_cases), ("pose", pose_cases), ("statistics", statistics_cases),
            ("captioning", captioning_cases)]
if __name__ == "__main__":
    import sys
    only = set(sys.argv[1:])
    for name, f in FAMILIES:
        if not only or name in only:
            f()
