"""The reference Hugging Face `tokenizers` objects for the project's two text models, built from the
prepared checkpoints (`make data`); shared by the fixture generator and the tokenizer benchmark."""
from pathlib import Path

import h5py
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]


def minilm():
    with h5py.File(ROOT / "data/models/minilm-l6.h5", "r") as f:
        raw = f["tokenizer/tokenizer_json"][()]
    tok = Tokenizer.from_str(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    tok.no_truncation()
    tok.no_padding()
    return tok


def smollm2():
    """SmolLM2's tokenizer rebuilt in HF tokenizers from the checkpoint's vocab and merges, with the
    configuration SmolLM2's tokenizer.json gives: no normalizer; Sequence[Digits(individual_digits=True),
    ByteLevel(add_prefix_space=False, use_regex=True)]; ByteLevel decoder; control tokens special."""
    from tokenizers import AddedToken, decoders, models, pre_tokenizers
    with h5py.File(ROOT / "data/models/smollm2.h5", "r") as f:
        g = f["tokenizer"]
        vocab = [v.decode("utf-8") if isinstance(v, bytes) else v for v in g["vocab"][()]]
        merges = [m.decode("utf-8") if isinstance(m, bytes) else m for m in g["merges"][()]]
        types = g["token_type"][()]
    model = models.BPE({t: i for i, t in enumerate(vocab)}, [tuple(m.split(" ")) for m in merges])
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(vocab[i], special=True, normalized=False) for i in range(len(vocab)) if types[i] == 3])
    return tok
