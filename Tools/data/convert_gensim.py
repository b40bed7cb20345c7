"""gensim 4.4.0's test corpora (gensim/test/test_data in the wheel) -> mlcore dataset.

Three corpora, one group each (columns of a group share their first extent):
- /pang_lee_polarity: 200 movie-review sentences from Pang & Lee's sentence polarity data, one per
  line as "__label__neg <sentence>" (fastText format): `text` [200] (the sentence after the label
  and its separating space, kept byte for byte: lower-cased, tokens space-separated, most lines
  ending in a space) and `label` int32 [200] (0 negative, 1 positive).
- /lee: the Lee et al. (2005) corpus of 50 news documents, one per line: `text` [50], and
  `similarity` float32 [50, 50], the mean human similarity judgements (0-1) as
  similarities0-1.txt gives them: the upper triangle with the diagonal (all 1), zeros below.
- /lee_background: the 300 background documents of the same source, one per line: `text` [300].

Encoding: lee_background.cor and similarities0-1.txt are ASCII. lee.cor and
pang_lee_polarity.cor are single-byte text, not UTF-8: lee.cor has one 0xA3 ("£3,000"), the polarity
file 0xE9/0xF3/0xED (é, ó, í) and three 0x97 used as a dash between spaces, which is an em dash in
cp1252 and a C1 control character in Latin-1. So every file is decoded as cp1252 (identical to
Latin-1 except in 0x80-0x9F; none of the five bytes cp1252 leaves undefined occurs) and stored as
UTF-8. Documents are the file's lines split on LF, with no final empty line; no CRs occur.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

import h5common
from h5common import ConversionError

PREFIX = "gensim/test/test_data/"
POLARITY, LEE, BACKGROUND, SIMILARITY = (PREFIX + name for name in (
    "pang_lee_polarity.cor", "lee.cor", "lee_background.cor", "similarities0-1.txt"))
LABELS = ["negative", "positive"]
LABEL_PREFIXES = ["__label__neg ", "__label__pos "]
ENCODING_POLICY = (
    "Each file is decoded as cp1252 and stored as UTF-8: lee.cor and pang_lee_polarity.cor are "
    "single-byte text (0xA3 pound sign, 0xE9/0xF3/0xED accented letters, 0x97 em dash), the other "
    "files ASCII. Lines are split on LF; the files have no CR and none of cp1252's undefined bytes.")


def read_lines(wheel: zipfile.ZipFile, member: str, count: int) -> list[str]:
    """The member's lines decoded as cp1252 (a final newline does not start an extra line)."""
    try:
        data = wheel.read(member)
    except KeyError:
        raise ConversionError(f"{member}: not in the wheel")
    if b"\r" in data:
        raise ConversionError(f"{member}: unexpected CR")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise ConversionError(f"{member}: not cp1252: {error}")
    lines = text.removesuffix("\n").split("\n")
    if len(lines) != count:
        raise ConversionError(f"{member}: {len(lines)} lines, expected {count}")
    return lines


def polarity(wheel: zipfile.ZipFile) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for number, line in enumerate(read_lines(wheel, POLARITY, 200), start=1):
        label = next((i for i, p in enumerate(LABEL_PREFIXES) if line.startswith(p)), None)
        if label is None:
            raise ConversionError(f"{POLARITY}: line {number} has no __label__neg/pos prefix: {line!r:.60}")
        texts.append(line[len(LABEL_PREFIXES[label]):])
        labels.append(label)
    return texts, labels


def similarity(wheel: zipfile.ZipFile) -> np.ndarray:
    rows = [line.split("\t") for line in read_lines(wheel, SIMILARITY, 50)]
    if any(len(row) != 50 for row in rows):
        raise ConversionError(f"{SIMILARITY}: expected 50 tab-separated values per line")
    matrix = np.asarray([[float(v) for v in row] for row in rows], np.float64)
    if not (np.all(np.diag(matrix) == 1) and np.all(np.tril(matrix, -1) == 0)
            and matrix.min() >= 0 and matrix.max() <= 1):
        raise ConversionError(f"{SIMILARITY}: expected an upper-triangular matrix in [0, 1], diagonal 1")
    return matrix.astype(np.float32)


def convert(wheel_path: Path, output_path: Path, entry: dict) -> str:
    with zipfile.ZipFile(wheel_path) as wheel:
        polarity_texts, polarity_labels = polarity(wheel)
        lee = read_lines(wheel, LEE, 50)
        background = read_lines(wheel, BACKGROUND, 300)
        lee_similarity = similarity(wheel)
    label_counts = {name: polarity_labels.count(i) for i, name in enumerate(LABELS)}
    with h5common.create(output_path) as f:
        h5common.write_root(f, entry, [POLARITY, LEE, BACKGROUND, SIMILARITY])
        h5common.set_str(f, "encoding_policy", ENCODING_POLICY)

        g = f.create_group("pang_lee_polarity")
        h5common.set_str(g, "member", POLARITY)
        h5common.set_str(g, "description", "movie-review sentences (Pang & Lee sentence polarity "
                         "data), lower-cased and tokenized with spaces as distributed")
        h5common.string_dataset(g, "text", polarity_texts)
        g.create_dataset("label", data=np.asarray(polarity_labels, np.int32))
        h5common.set_json(g, "label_names", LABELS)
        h5common.set_json(g, "label_counts", label_counts)

        g = f.create_group("lee")
        h5common.set_json(g, "member", [LEE, SIMILARITY])
        h5common.set_str(g, "description", "Lee et al. (2005) news documents with mean human "
                         "pairwise similarity judgements")
        h5common.string_dataset(g, "text", lee)
        d = g.create_dataset("similarity", data=lee_similarity)
        h5common.set_str(d, "layout", "[i, j] for i <= j (upper triangle, diagonal 1) as the "
                         "source gives it; entries below the diagonal are 0: use [min(i,j), max(i,j)]")

        g = f.create_group("lee_background")
        h5common.set_str(g, "member", BACKGROUND)
        h5common.set_str(g, "description", "background news documents of the Lee corpus")
        h5common.string_dataset(g, "text", background)
    return (f"pang_lee_polarity {len(polarity_texts)} sentences {json.dumps(label_counts)}, "
            f"lee {len(lee)} documents + similarity {list(lee_similarity.shape)}, "
            f"lee_background {len(background)} documents")
