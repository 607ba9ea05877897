"""The request tier's word classes (request words, SMS objects, refusals, keep words ...) for one
rules file, normalised once, and the runs of words they are looked up as (keywords/request.py)."""

from __future__ import annotations

from keywords.entries import entry_analysis
from keywords.hits import Hit
from keywords.model import RuleFile

Runs = dict[str, list[tuple[str, ...]]]


def _runs(entries: list[tuple[str, ...]]) -> Runs:
    out: Runs = {}
    for words in entries:
        if words:
            out.setdefault(words[0], []).append(words)
    return out


def anchors(runs: Runs, common: dict[str, frozenset[str]] | frozenset[str]) -> frozenset[str]:
    """One word per run that any message holding the run holds: its longest word that is not common."""
    return frozenset(max(run, key=lambda w: (w not in common, len(w))) for group in runs.values() for run in group)


def has_run(runs: Runs, anchored: frozenset[str], words: tuple[str, ...]) -> bool:
    """Some run of ``runs`` occurs in ``words`` (the anchor test rules most messages out first)."""
    if anchored.isdisjoint(words):
        return False
    for i, word in enumerate(words):
        group = runs.get(word)
        if group is not None and any(words[i : i + len(run)] == run for run in group):
            return True
    return False


def blank_runs(runs: Runs, words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` with every listed run blanked out word for word (no run of another list spans a blank)."""
    out, i = list(words), 0
    while i < len(words):
        end = run_at(runs, words, i)
        if end:
            out[i:end] = ["\0"] * (end - i)
        i = end or i + 1
    return tuple(out)


def run_at(runs: Runs, words: tuple[str, ...], i: int) -> int:
    """End of the longest listed run of words starting at ``i``, or 0."""
    best = 0
    for run in runs.get(words[i], ()):
        if words[i : i + len(run)] == run:
            best = max(best, i + len(run))
    return best


class Vocabulary:
    """The request tier's word classes for one rules file, normalised once."""

    def __init__(self, rf: RuleFile, keyword_pieces: frozenset[str] = frozenset()) -> None:
        self.request: dict[str, frozenset[str]] = {}
        objects: list[tuple[str, ...]] = []
        keep: list[tuple[str, ...]] = []
        self.with_object: dict[tuple[str, ...], Hit] = {}
        self.refusals: set[tuple[str, ...]] = set()
        for lang in rf.languages.values():
            for text, _ in (*lang.request, *lang.courtesy):
                for word in entry_analysis(text).words:
                    self.request[word] = self.request.get(word, frozenset()) | {lang.code}
            objects += [entry_analysis(t).words for t, _ in lang.objects]
            keep += [entry_analysis(t).words for t, _ in lang.keep]
            for text, line in (*lang.with_object, *lang.refusals):
                words = entry_analysis(text).words
                if words:
                    self.with_object.setdefault(words, Hit("opt_out", text, frozenset({lang.code}), words))
                    if (text, line) in lang.refusals:
                        self.refusals.add(words)
        # The senders' own brand names surround a keyword as request words do ("STOP Acme",
        # "unsubscribe me from Acme Outlet"), unless a word of one is a piece of a keyword.
        for sender in (rf.default_sender, *rf.senders.values()):
            for word in entry_analysis(sender.brand).words if sender.brand else ():
                if len(word) > 1 and word not in keyword_pieces:
                    self.request.setdefault(word, frozenset())
        self.objects = _runs(objects)
        self.objects_alone = frozenset(words[0] for words in objects if len(words) == 1)
        # What starts an object of several words ("the texts", "your list", "этот номер") stands
        # before a campaign name as it stands before the noun.
        self.determiners = {lang.code: frozenset(words[0] for t, _ in lang.objects
                                                 if len(words := entry_analysis(t).words) > 1)
                            for lang in rf.languages.values()}
        self._determiners_of: dict[frozenset[str], frozenset[str]] = {}
        self.keep = _runs(keep)
        # Banter (laughter) and other topics (an order, a booking) take back a bare keyword clause.
        self.banter = _runs([entry_analysis(t).words for lang in rf.languages.values() for t, _ in (*lang.banter, *lang.topics)])
        self.topics = _runs([entry_analysis(t).words for lang in rf.languages.values() for t, _ in lang.topics])
        self.topic_anchors = anchors(self.topics, self.request)
        self.reasons = _runs([entry_analysis(t).words for lang in rf.languages.values() for t, _ in lang.reasons])
        self.reason_anchors = anchors(self.reasons, self.request)
        self.keep_anchors = anchors(self.keep, self.request)
        self.banter_anchors = anchors(self.banter, self.request)
        self.object_anchors = anchors(self.objects, self.request)
        self.with_object_runs = _runs(list(self.with_object))
        self.again = _runs([entry_analysis(t).words for lang in rf.languages.values() for t, _ in lang.again])
        self.again_langs = {entry_analysis(t).words: lang.code for lang in rf.languages.values() for t, _ in lang.again}
        self.again_anchors = anchors(self.again, self.request)
        self.qualifiers = _runs([entry_analysis(t).words for lang in rf.languages.values() for t, _ in lang.qualifiers])
        self.promotional = frozenset(w for lang in rf.languages.values() for t, _ in lang.promotional
                                     for w in entry_analysis(t).words)

    def determiners_of(self, languages: frozenset[str]) -> frozenset[str]:
        """The determiners of all these languages, united once per set of languages."""
        if (found := self._determiners_of.get(languages)) is None:
            found = self._determiners_of[languages] = frozenset().union(*(self.determiners.get(c, frozenset()) for c in languages))
        return found
