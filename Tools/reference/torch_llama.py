"""A plain-PyTorch Llama decoder (no transformers) over a prepared mlcore checkpoint, written from
the semantics of Hugging Face's LlamaModel / LlamaForCausalLM (transformers/models/llama/
modeling_llama.py): RMSNorm computed in float32, rotate_half RoPE with inv_freq = 1/base^(2i/Dh),
repeat_kv for grouped-query attention, SwiGLU MLP, tied output embedding.

It is an independent check of MLCore's LlamaDecoder: instead of rotating adjacent pairs as the GGUF
row order requires (what MLCore does), it un-permutes the rows of attn_q / attn_k back to the
Hugging Face order (the inverse of llama.cpp's convert_hf_to_gguf.py `permute`) and uses the
rotate-half form. Shared by make_smollm2_fixture.py (float64 reference) and
Benchmarks/peers/torch_llama_bench.py (float32 peer with a preallocated KV cache)."""
import json

import h5py
import numpy as np
import torch


def unpermute(w: torch.Tensor, heads: int) -> torch.Tensor:
    """GGUF row order -> HF row order. llama.cpp maps HF row h·Dh + j·Dh/2 + i (j = 0, 1) to GGUF
    row h·Dh + 2i + j; reading the GGUF rows as [heads, Dh/2, 2, in] and swapping the middle axes
    undoes it."""
    out, inp = w.shape
    return w.reshape(heads, out // heads // 2, 2, inp).transpose(1, 2).reshape(out, inp)


class TorchLlama:
    def __init__(self, path, dtype=torch.float32):
        with h5py.File(path, "r") as f:
            self.config = cfg = json.loads(f.attrs["config"])
            params = {}

            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    params[name.replace("/", ".")] = torch.from_numpy(np.asarray(obj[()])).to(dtype)
            f["params"].visititems(visit)
        assert cfg["rope_layout"] == "adjacent-pairs", cfg["rope_layout"]
        self.dtype = dtype
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg["num_key_value_heads"]
        self.head_dim = cfg["head_dim"]
        self.eps = cfg["rms_norm_eps"]
        self.embed = params["token_embd.weight"]
        self.norm = params["output_norm.weight"]
        self.blocks = []
        for i in range(self.layers):
            p = lambda n: params[f"blk.{i}.{n}.weight"]  # noqa: E731
            self.blocks.append({
                "attn_norm": p("attn_norm"), "ffn_norm": p("ffn_norm"),
                "q": unpermute(p("attn_q"), self.heads).contiguous(),
                "k": unpermute(p("attn_k"), self.kv_heads).contiguous(),
                "v": p("attn_v"), "o": p("attn_output"),
                "gate": p("ffn_gate"), "up": p("ffn_up"), "down": p("ffn_down"),
            })
        half = torch.arange(0, self.head_dim, 2, dtype=torch.int64).to(torch.float32) / self.head_dim
        self.inv_freq = 1.0 / (cfg["rope_theta"] ** half)  # float32, as HF computes it

    def rms_norm(self, x, w):
        variance = x.pow(2).mean(-1, keepdim=True)
        return w * (x * torch.rsqrt(variance + self.eps))

    def rope(self, positions):
        freqs = positions.to(torch.float32)[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(self.dtype), emb.sin().to(self.dtype)

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def new_cache(self, batch, capacity):
        shape = (batch, self.kv_heads, capacity, self.head_dim)
        return {"length": 0, "k": [torch.zeros(shape, dtype=self.dtype) for _ in range(self.layers)],
                "v": [torch.zeros(shape, dtype=self.dtype) for _ in range(self.layers)]}

    def forward(self, ids, cache=None, last_only=False):
        """ids: int64 [B, T] -> logits [B, T, V] (or [B, 1, V] with last_only). With `cache`, the
        tokens sit after the cached ones and their keys/values are appended."""
        b, t = ids.shape
        start = cache["length"] if cache is not None else 0
        s = start + t
        cos, sin = self.rope(torch.arange(start, s))
        mask = torch.full((t, s), float("-inf"), dtype=self.dtype).triu(start + 1)
        rep = self.heads // self.kv_heads
        h = self.embed[ids]
        for i, blk in enumerate(self.blocks):
            x = self.rms_norm(h, blk["attn_norm"])
            q = (x @ blk["q"].T).view(b, t, self.heads, self.head_dim).transpose(1, 2)
            k = (x @ blk["k"].T).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            v = (x @ blk["v"].T).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            if cache is not None:
                cache["k"][i][:, :, start:s] = k
                cache["v"][i][:, :, start:s] = v
                k, v = cache["k"][i][:, :, :s], cache["v"][i][:, :, :s]
            k = k.repeat_interleave(rep, dim=1)  # repeat_kv: query head j reads kv head j // rep
            v = v.repeat_interleave(rep, dim=1)
            scores = (q @ k.transpose(2, 3)) / self.head_dim ** 0.5 + mask
            attn = torch.softmax(scores, dim=-1) @ v
            h = h + attn.transpose(1, 2).reshape(b, t, -1) @ blk["o"].T
            x = self.rms_norm(h, blk["ffn_norm"])
            gate = x @ blk["gate"].T
            h = h + (torch.nn.functional.silu(gate) * (x @ blk["up"].T)) @ blk["down"].T
        if cache is not None:
            cache["length"] = s
        if last_only:
            h = h[:, -1:]
        return self.rms_norm(h, self.norm) @ self.embed.T

    def greedy(self, prompt, count, use_cache=True):
        """`count` greedy tokens after `prompt` (a list of ids)."""
        ids = list(prompt)
        if not use_cache:
            for _ in range(count):
                ids.append(int(self.forward(torch.tensor([ids]))[0, -1].argmax()))
            return ids[len(prompt):]
        cache = self.new_cache(1, len(prompt) + count)
        logits = self.forward(torch.tensor([ids]), cache, last_only=True)
        out = []
        for _ in range(count):
            out.append(int(logits[0, -1].argmax()))
            logits = self.forward(torch.tensor([[out[-1]]]), cache, last_only=True)
        return out
