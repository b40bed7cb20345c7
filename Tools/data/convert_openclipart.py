"""Debian's openclipart-svg 1:0.18+dfsg-19 (public domain clip art) -> mlcore dataset of the items'
text metadata, the source of PROP's Openclipart known-item collection (Docs/prop.md, "Collections").

The .deb is an ar archive; its data.tar.xz holds 8,121 .svg entries under usr/share/openclipart/svg/<category
folders>/: 7,458 files and 663 symbolic links to them from other category folders. Only the files are
items (a link would be a duplicate with the same text). From each SVG's RDF metadata (the cc:Work element) the converter takes dc:title,
dc:description and the dc:subject keywords (rdf:Bag/rdf:li); the agents' dc:title (publisher,
creator, rights) are not the item's title. Files whose XML does not parse are read with a regular
expression over the cc:Work block instead (counted in the attribute `regex_fallback`).

One group /items, columns sharing the first extent N = 7,458, in archive order:
`path` (relative to usr/share/openclipart/svg), `category` (the path's folders joined by '/'),
`title`, `description`, `keywords` (the keywords joined by ', ', in file order). Missing fields are
empty strings. Text is whitespace-normalised (runs of white space -> one space, stripped), UTF-8
(undecodable bytes replaced).
"""

import io
import re
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

import h5common
from h5common import ConversionError

PREFIX = "./usr/share/openclipart/svg/"
NS = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "dc": "http://purl.org/dc/elements/1.1/",
      "cc": "http://web.resource.org/cc/"}
EXPECTED = 7458  # regular files; the other 663 of the 8,121 .svg entries are symbolic links to them


def ar_members(data: bytes) -> dict:
    if data[:8] != b"!<arch>\n":
        raise ConversionError("not an ar archive (.deb)")
    members, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        pos += 60
        members[name] = data[pos:pos + size]
        pos += size + (size % 2)
    return members


def clean(text) -> str:
    return " ".join((text or "").split())


def metadata(svg: bytes):
    """(title, description, keywords, used_regex) of one SVG."""
    text = svg.decode("utf-8", "replace")
    try:
        root = ET.fromstring(svg)
        work = root.find(".//cc:Work", NS)
        if work is None:
            return "", "", [], False
        title = clean(work.findtext("dc:title", default="", namespaces=NS))
        description = clean(work.findtext("dc:description", default="", namespaces=NS))
        keywords = [clean(li.text) for li in work.findall("dc:subject/rdf:Bag/rdf:li", NS) if clean(li.text)]
        return title, description, keywords, False
    except ET.ParseError:
        block = re.search(r"<cc:Work\b.*?</cc:Work>", text, re.S)
        if not block:
            return "", "", [], True
        work = re.sub(r"<cc:Agent\b.*?</cc:Agent>", "", block.group(0), flags=re.S)  # drop the agents' titles
        def field(tag):
            m = re.search(rf"<dc:{tag}>(.*?)</dc:{tag}>", work, re.S)
            return clean(re.sub(r"<[^>]+>", " ", m.group(1))) if m else ""
        keywords = [clean(k) for k in re.findall(r"<rdf:li>(.*?)</rdf:li>", work, re.S) if clean(k)]
        return field("title"), field("description"), keywords, True


def convert(deb_path: Path, output_path: Path, entry: dict) -> str:
    members = ar_members(deb_path.read_bytes())
    name = next((k for k in members if k.startswith("data.tar")), None)
    if name is None:
        raise ConversionError("no data.tar.* in the package")
    rows, fallback = [], 0
    with tarfile.open(fileobj=io.BytesIO(members[name])) as tar:
        for member in tar:
            if not (member.isfile() and member.name.startswith(PREFIX) and member.name.endswith(".svg")):
                continue
            title, description, keywords, used_regex = metadata(tar.extractfile(member).read())
            fallback += used_regex
            path = member.name[len(PREFIX):]
            rows.append((path, "/".join(path.split("/")[:-1]), title, description, ", ".join(keywords)))
    if len(rows) != EXPECTED:
        raise ConversionError(f"{len(rows)} SVG files, expected {EXPECTED}")
    columns = list(zip(*rows))
    counts = {"titles": sum(bool(r[2]) for r in rows), "descriptions": sum(bool(r[3]) for r in rows),
              "keywords": sum(bool(r[4]) for r in rows)}
    with h5common.create(output_path) as f:
        h5common.write_root(f, entry, f"{name}:{PREFIX}**/*.svg")
        g = f.create_group("items")
        h5common.set_str(g, "description", "Openclipart 0.18 clip-art items (Debian openclipart-svg): SVG path, category "
                         "folders and the cc:Work metadata (dc:title, dc:description, dc:subject keywords)")
        for key, values in zip(["path", "category", "title", "description", "keywords"], columns):
            h5common.string_dataset(g, key, list(values))
        h5common.set_json(g, "counts", counts)
        h5common.set_int(g, "regex_fallback", fallback)
    return f"{len(rows)} items, {counts}, regex fallback {fallback}"
