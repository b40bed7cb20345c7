#!/usr/bin/env python3
"""Reference outputs of SmolLM2-135M-Instruct for the parity test of MLCore's LlamaDecoder
(Tests/MLCoreTests/Models/LlamaDecoderTests.swift).

The model is torch_llama.TorchLlama: plain PyTorch following Hugging Face LlamaModel semantics, run
in float64 on the prepared float32 weights (data/models/smollm2.h5, `make data`), with the GGUF
rows of attn_q / attn_k un-permuted and rotate-half RoPE (MLCore rotates adjacent pairs instead).
Token ids come from Hugging Face `tokenizers` configured as Tools/reference/hf_tokenizers.py does.

Writes Tests/Fixtures/llama_smollm2.json (< 1 MB):
  prompt, ids               a 16-token sentence
  logits_head               [16][64]: the first 64 vocabulary entries of the logits at every position
  top10                     per position, the 10 largest logits as [id, logit]
  last_logits_f32le_base64  the full last-position logits (49,152 float32, little-endian, base64)
  log_probs                 log p(ids[t] | ids[<t]) for t = 1..15
  greedy_prompt(_ids), greedy_ids, greedy_text   20 greedy tokens (checked with and without cache)
  float32_torch_max_abs_diff   the same model in float32 torch vs this float64 reference (noise floor)

Run in the torch venv (`make torch-venv`: the machine image's CPU torch wheel + requirements-torch.txt,
which brings numpy, h5py and tokenizers):
  OPENBLAS_CORETYPE=Haswell .venv-torch/bin/python Tools/reference/make_smollm2_fixture.py
With --check-transformers (when transformers is importable) it also checks the float32 logits
against transformers' LlamaForCausalLM built from the same weights.
"""
import argparse
import base64
import json
import sys
from pathlib import Path

import h5py
import numpy as np
import torch

from hf_tokenizers import smollm2
from torch_llama import TorchLlama, unpermute

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = ROOT / "data/models/smollm2.h5"
OUTPUT = ROOT / "Tests/Fixtures/llama_smollm2.json"
PROMPT = "The quick brown fox jumps over the lazy dog and then runs back into the forest"
GREEDY_PROMPT = "The capital of France is"
GREEDY_TOKENS = 20


def transformers_logits(model32, ids):
    """float32 logits of transformers' LlamaForCausalLM loaded with the same (un-permuted) weights."""
    from transformers import LlamaConfig, LlamaForCausalLM
    c = model32.config
    cfg = LlamaConfig(vocab_size=c["vocab_size"], hidden_size=c["hidden_size"],
                      intermediate_size=c["intermediate_size"], num_hidden_layers=c["num_hidden_layers"],
                      num_attention_heads=c["num_attention_heads"], num_key_value_heads=c["num_key_value_heads"],
                      head_dim=c["head_dim"], rms_norm_eps=c["rms_norm_eps"], rope_theta=c["rope_theta"],
                      max_position_embeddings=c["max_position_embeddings"], tie_word_embeddings=True,
                      attention_bias=False, mlp_bias=False)
    hf = LlamaForCausalLM(cfg).eval()
    sd = {"model.embed_tokens.weight": model32.embed, "model.norm.weight": model32.norm}
    for i, b in enumerate(model32.blocks):
        pre = f"model.layers.{i}."
        sd.update({pre + "input_layernorm.weight": b["attn_norm"], pre + "post_attention_layernorm.weight": b["ffn_norm"],
                   pre + "self_attn.q_proj.weight": b["q"], pre + "self_attn.k_proj.weight": b["k"],
                   pre + "self_attn.v_proj.weight": b["v"], pre + "self_attn.o_proj.weight": b["o"],
                   pre + "mlp.gate_proj.weight": b["gate"], pre + "mlp.up_proj.weight": b["up"],
                   pre + "mlp.down_proj.weight": b["down"]})
    sd["lm_head.weight"] = model32.embed
    hf.load_state_dict(sd, strict=True)
    with torch.inference_mode():
        return hf(torch.tensor([ids])).logits[0].double()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--check-transformers", action="store_true")
    args = p.parse_args()
    torch.manual_seed(0)
    # unpermute inverts llama.cpp's permute (convert_hf_to_gguf.py): check on a labelled matrix.
    heads, dh = 2, 8
    hf_rows = torch.arange(heads * dh, dtype=torch.float64)[:, None]
    gguf = hf_rows.reshape(heads, 2, dh // 2, 1).swapaxes(1, 2).reshape(heads * dh, 1)
    assert torch.equal(unpermute(gguf, heads), hf_rows)

    tok = smollm2()
    ids = tok.encode(PROMPT).ids
    assert len(ids) == 16, f"prompt has {len(ids)} tokens, expected 16"
    greedy_ids = tok.encode(GREEDY_PROMPT).ids

    model = TorchLlama(CHECKPOINT, dtype=torch.float64)
    with torch.inference_mode():
        logits = model.forward(torch.tensor([ids]))[0]                     # [16, V] float64
        cached = model.new_cache(1, 16)
        split = torch.cat([model.forward(torch.tensor([ids[:9]]), cached)[0],
                           model.forward(torch.tensor([ids[9:]]), cached)[0]])
        assert (split - logits).abs().max() < 1e-9, "cached forward differs"
        greedy = model.greedy(greedy_ids, GREEDY_TOKENS, use_cache=True)
        assert greedy == model.greedy(greedy_ids, GREEDY_TOKENS, use_cache=False)
    log_probs = torch.log_softmax(logits, dim=-1)
    token_log_probs = [float(log_probs[t - 1, ids[t]]) for t in range(1, len(ids))]

    model32 = TorchLlama(CHECKPOINT, dtype=torch.float32)
    with torch.inference_mode():
        logits32 = model32.forward(torch.tensor([ids]))[0].double()
    diff32 = float((logits32 - logits).abs().max())
    print(f"float32 torch vs float64 reference: max |Δlogit| = {diff32:.2e}", file=sys.stderr)
    if args.check_transformers:
        diff_hf = float((transformers_logits(model32, ids) - logits).abs().max())
        print(f"transformers LlamaForCausalLM (float32) vs reference: max |Δlogit| = {diff_hf:.2e}", file=sys.stderr)
        assert diff_hf < 1e-3

    with h5py.File(CHECKPOINT, "r") as f:
        source = json.loads(f.attrs["source"])
    top = torch.topk(logits, 10, dim=-1)
    last = logits[-1].to(torch.float32).numpy().astype("<f4")
    doc = {
        "checkpoint": {"name": "smollm2", "source_sha256": source["sha256"]},
        "reference": f"Tools/reference/torch_llama.py in float64 (torch {torch.__version__})",
        "prompt": PROMPT,
        "ids": ids,
        "logits_head": [[round(float(v), 6) for v in row[:64]] for row in logits],
        "top10": [[[int(i), round(float(v), 6)] for i, v in zip(ti, tv)] for ti, tv in zip(top.indices, top.values)],
        "last_logits_f32le_base64": base64.b64encode(last.tobytes()).decode("ascii"),
        "log_probs": [round(v, 7) for v in token_log_probs],
        "greedy_prompt": GREEDY_PROMPT,
        "greedy_prompt_ids": greedy_ids,
        "greedy_ids": greedy,
        "greedy_text": tok.decode(greedy),
        "float32_torch_max_abs_diff": diff32,
    }
    OUTPUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size} bytes); greedy: {tok.decode(greedy)!r}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
