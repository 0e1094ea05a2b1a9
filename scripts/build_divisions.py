"""Build ``src/zhongcao/users/data/divisions.json`` (mainland China's provinces, cities and districts).

Source: the ``adcodes.csv`` of the MIT-licensed ``cpca`` package (0.5.5, GB/T 2260 codes as the
Ministry of Civil Affairs publishes them). Run once when the data should be refreshed::

    pip download --no-deps cpca==0.5.5 -d /tmp/cpca && unzip /tmp/cpca/*.whl -d /tmp/cpca
    python scripts/build_divisions.py /tmp/cpca/cpca/resources/adcodes.csv

The English names are pinyin (pypinyin) with the level as a word (District, County...); provinces use
their usual English names. A municipality's "市辖区" becomes a city named after the municipality; a city
without districts (东莞, 中山, 儋州, 嘉峪关) lists itself as its one district, as checkout forms do.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from pypinyin import lazy_pinyin

OUT = Path(__file__).resolve().parents[1] / "src/zhongcao/users/data/divisions.json"
PROVINCES_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong", "41": "Henan",
    "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi", "46": "Hainan", "50": "Chongqing",
    "51": "Sichuan", "52": "Guizhou", "53": "Yunnan", "54": "Tibet", "61": "Shaanxi", "62": "Gansu",
    "63": "Qinghai", "64": "Ningxia", "65": "Xinjiang",
}  # fmt: skip
SUFFIXES = (  # longest first
    ("自治州", " Autonomous Prefecture"), ("自治县", " Autonomous County"), ("自治旗", " Autonomous Banner"),
    ("林区", " Forestry District"), ("地区", " Prefecture"), ("新区", " New Area"), ("特区", " Special District"),
    ("盟", " League"), ("区", " District"), ("县", " County"), ("旗", " Banner"), ("市", ""),
)  # fmt: skip
SPECIAL = {"省直辖县级行政区划": "County-level divisions", "自治区直辖县级行政区划": "County-level divisions"}


# Place names read differently from the everyday reading of their first character.
READINGS = {
    "朝": "chao",
    "长": "chang",
    "六": "lu",
    "单": "shan",
    "蔚": "yu",
    "乐亭": "laoting",
    "番禺": "panyu",
}


def pinyin(stem: str) -> str:
    for zh, reading in READINGS.items():
        if stem.startswith(zh):
            return (reading + "".join(lazy_pinyin(stem[len(zh) :]))).capitalize()
    return "".join(lazy_pinyin(stem)).capitalize()


def english(name: str, *, city_level: bool) -> str:
    if name in SPECIAL:
        return SPECIAL[name]
    for zh, en in SUFFIXES:
        if name.endswith(zh) and len(name) > len(zh):
            stem = pinyin(name[: -len(zh)])
            if zh == "市" and not city_level:
                en = " City"  # a county-level city
            return stem + en
    return pinyin(name)


def build(rows: list[tuple[str, str]]) -> list[list]:
    names = dict(rows)
    provinces: list[list] = []
    for code, name in sorted(rows):
        if code[:2] not in PROVINCES_EN:
            continue
        if code.endswith("0000"):
            provinces.append([code, name, PROVINCES_EN[code[:2]], []])
        elif code.endswith("00"):
            zh, en = name, english(name, city_level=True)
            if name == "市辖区":
                zh, en = names[code[:2] + "0000"], PROVINCES_EN[code[:2]]
            elif name == "县":
                zh, en = "县", "Counties"
            provinces[-1][3].append([code, zh, en, []])
        elif name != "市辖区":
            provinces[-1][3][-1][3].append([code, name, english(name, city_level=False)])
    for province in provinces:
        for city in province[3]:
            if not city[3]:
                city[3].append([city[0], city[1], city[2]])
    return provinces


def main(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        rows = [(r["adcode"][:6], r["name"]) for r in csv.DictReader(fh)]
    data = build(rows)
    assert len(data) == 31, len(data)
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(OUT, sum(len(c[3]) for p in data for c in p[3]), "districts")


if __name__ == "__main__":
    main(sys.argv[1])
