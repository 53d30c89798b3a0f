"""Full-text search over the catalog: BM25 on Chinese character n-grams and English words.

Chinese has no spaces, so each run of CJK characters is indexed as its character bigrams and
trigrams (a single character alone when the run is one character long); Latin text is split
into lower-case word tokens with a light plural/suffix folding ("subsidies" → "subsidy",
"loans" → "loan"); digits are kept as tokens. The same tokenizer runs on the query. Fields
are weighted by repeating their tokens: titles count three times, descriptions and benefit
text once, criterion labels and references once.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from recommender.rules.catalog import Policy

K1 = 1.5
B = 0.75
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:[&'][a-z0-9]+)*")
_STOP = frozenset("a an and are as at be by for from in is it of on or the to with".split())


def _fold(word: str) -> str:
    """Light English suffix folding so singular and plural forms meet."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Tokens of a mixed Chinese/English text.

    Examples
    --------
    >>> tokenize("专精特新 SME loans")
    ['专精', '精特', '特新', '专精特', '精特新', 'sme', 'loan']
    """
    tokens: list[str] = []
    for run in _CJK.findall(text):
        if len(run) == 1:
            tokens.append(run)
            continue
        tokens += [run[i:i + 2] for i in range(len(run) - 1)]
        tokens += [run[i:i + 3] for i in range(len(run) - 2)]
    for word in _WORD.findall(_CJK.sub(" ", text).lower()):
        if word not in _STOP:
            tokens.append(_fold(word))
    return tokens


def policy_text(policy: Policy) -> list[tuple[str, int]]:
    """``(text, weight)`` pairs indexed for a policy."""
    h = policy.header
    labels = " ".join(f"{c.label_zh} {c.label_en}" for c in policy.criteria.walk()[1:])
    return [
        (f"{h.title_zh} {h.title_en} {policy.id.replace('-', ' ')}", 3),
        (f"{h.description_zh} {h.description_en}", 1),
        (f"{h.benefit.description_zh} {h.benefit.description_en} {h.issuer.name_zh} {h.issuer.name_en}", 1),
        (labels, 1),
        (" ".join(f"{r.document} {r.title}" for r in h.references), 1),
    ]


@dataclass(frozen=True)
class SearchIndex:
    """An in-memory BM25 index over policies (built per catalog; ~50 documents)."""

    ids: tuple[str, ...]
    term_freqs: tuple[Counter[str], ...]
    lengths: tuple[int, ...]
    doc_freq: Counter[str]

    @classmethod
    def build(cls, policies: list[Policy]) -> SearchIndex:
        tfs, lengths, df = [], [], Counter[str]()
        for p in policies:
            tf: Counter[str] = Counter()
            for text, weight in policy_text(p):
                for tok in tokenize(text):
                    tf[tok] += weight
            tfs.append(tf)
            lengths.append(sum(tf.values()))
            df.update(tf.keys())
        return cls(tuple(p.id for p in policies), tuple(tfs), tuple(lengths), df)

    def search(self, query: str, limit: int | None = None) -> list[tuple[str, float]]:
        """``(policy_id, score)`` with score > 0, best first (ties by id).

        Parameters
        ----------
        query : str
            Chinese and/or English text.
        limit : int, optional
            Keep at most this many hits.
        """
        terms = Counter(tokenize(query))
        if not terms or not self.ids:
            return []
        n = len(self.ids)
        avg = sum(self.lengths) / n
        hits = []
        for pid, tf, length in zip(self.ids, self.term_freqs, self.lengths):
            score = 0.0
            for term, qf in terms.items():
                f = tf.get(term, 0)
                if not f:
                    continue
                idf = math.log(1 + (n - self.doc_freq[term] + 0.5) / (self.doc_freq[term] + 0.5))
                score += qf * idf * f * (K1 + 1) / (f + K1 * (1 - B + B * length / avg))
            if score > 0:
                hits.append((pid, round(score, 6)))
        hits.sort(key=lambda h: (-h[1], h[0]))
        return hits[:limit] if limit is not None else hits
