"""Command line: classify stdin, check a keywords file, diff two versions, evaluate on a labelled corpus."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from typing import TextIO

from keywords import evaluate
from keywords.errors import CorpusError, RulesError
from keywords.rules import Decision, Rules, load_rules, parse_rules


def default_file() -> str:
    """KEYWORDS_FILE from the environment, else keywords.yaml in the current directory."""
    return os.environ.get("KEYWORDS_FILE") or "keywords.yaml"


class _Failed(Exception):
    """A command stops with exit status 1; it has printed why."""


def _load(path: str, err: TextIO) -> Rules:
    try:
        return load_rules(path)
    except RulesError as exc:
        print(exc, file=err)
        raise _Failed from None


def cmd_classify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rules = _load(args.file, err)
    for line in sys.stdin:
        message = line.rstrip("\r\n")
        out.write(json.dumps({"message": message, **rules.classify(message).to_dict()}, ensure_ascii=False) + "\n")
    return 0


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rules = _load(args.file, err)
    rf = rules.file
    keywords = sum(len(lang.keywords) for lang in rf.languages.values())
    phrases = sum(len(lang.phrases) for lang in rf.languages.values())
    print(f"{args.file}: OK ({rules.version})", file=out)
    print(f"  {len(rf.languages)} languages ({', '.join(rf.languages)}), {keywords} keywords, "
          f"{phrases} phrases, {len(rf.senders) + 1} senders, {len(rf.reasons)} reasons", file=out)
    print(f"  {len(rf.examples)} examples passed", file=out)
    print("  replies (sender language kind: chars encoding segments/allowed):", file=out)
    for r in rules.rendered:
        if args.all_senders or r.sender == "default" or (r.sender, r.language, r.kind) in _overridden(rules):
            e = r.encoding
            print(f"    {r.sender} {r.language} {r.kind}: {e.chars} chars {e.encoding} "
                  f"{e.segments}/{r.max_segments}", file=out)
    return 0


def _overridden(rules: Rules) -> set[tuple[str, str, str]]:
    return {(s.key, lang, kind) for s in rules.file.senders.values()
            for lang, kinds in s.replies.items() for kind in kinds}


def _label(d: Decision) -> str:
    return f"{d.kind} ({d.tier} '{d.rule}')" if d.rule else d.kind


def cmd_diff(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    old, new = _load(args.old, err), _load(args.new, err)
    with open(args.messages, encoding="utf-8") as fh:
        messages = [line.rstrip("\r\n") for line in fh if line.strip()]
    changes: Counter[str] = Counter()
    for message in messages:
        a, b = old.classify(message), new.classify(message)
        if a.kind != b.kind or a.rule != b.rule or a.tier != b.tier:
            changes[f"{a.kind} -> {b.kind}"] += 1
            print(json.dumps({"message": message, "old": _label(a), "new": _label(b)}, ensure_ascii=False), file=out)
    print(f"{sum(changes.values())} of {len(messages)} messages change ({old.version} -> {new.version})"
          + "".join(f"; {k}: {v}" for k, v in sorted(changes.items())), file=out)
    return 0


def cmd_eval(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rules = _load(args.file, err)
    try:
        rows = evaluate.load_corpus(args.corpus)
    except (OSError, CorpusError) as exc:
        print(exc, file=err)
        raise _Failed from None
    report = evaluate.evaluate(rules, rows)
    print(f"{args.corpus} with {args.file} ({rules.version}):", file=out)
    for line in evaluate.format_report(report, by_language=args.by_language, misses=args.misses):
        print(line, file=out)
    return 0


def cmd_inflections(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Add simplemma's word forms of each keyword to the file's inflections lists (offline tool)."""
    from keywords import inflect

    rules = _load(args.file, err)
    try:
        forms_of = inflect.simplemma_forms()
    except ImportError:
        err.write("simplemma is not installed: pip install -r requirements-tools.txt (make inflections does)\n")
        return 2
    languages = args.languages.split(",") if args.languages else inflect.GENERATED
    added = inflect.plan(rules.file, forms_of, languages)
    for code in languages:
        forms = sum(len(a.forms) for a in added if a.language == code)
        out.write(f"{code}: {forms} new forms for {sum(1 for a in added if a.language == code)} keywords\n")
    if args.dry_run or not added:
        return 0
    with open(args.file, encoding="utf-8") as fh:
        text = inflect.write(fh.read(), added)
    try:
        parse_rules(text, args.file)
    except RulesError as exc:
        err.write(f"the generated forms do not pass the checks; {args.file} is unchanged:\n{exc}\n")
        return 1
    with open(args.file, "w", encoding="utf-8") as fh:
        fh.write(text)
    out.write(f"{args.file}: written\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m keywords", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("classify", help="classify one message per line of stdin, print JSON lines")
    c.add_argument("--file", default=None, help="keywords file (default: $KEYWORDS_FILE or keywords.yaml)")
    c.set_defaults(func=cmd_classify)
    k = sub.add_parser("check", help="validate a keywords file and run its examples")
    k.add_argument("file", nargs="?", default=None)
    k.add_argument("--all-senders", action="store_true", help="report every sender's replies, not only overrides")
    k.set_defaults(func=cmd_check)
    d = sub.add_parser("diff", help="show messages whose classification changes between two files")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument("--messages", required=True, help="file with one message per line")
    d.set_defaults(func=cmd_diff)
    e = sub.add_parser("eval", help="recall per intent, false opt-outs and misses on a labelled TSV corpus")
    e.add_argument("corpus", help="TSV: message, intent (opt_out, opt_out_all, opt_in, help, none), language, note")
    e.add_argument("--file", default=None, help="keywords file (default: $KEYWORDS_FILE or keywords.yaml)")
    e.add_argument("--by-language", action="store_true", help="recall per language too")
    e.add_argument("--misses", action="store_true", help="every miss with its explanation")
    e.set_defaults(func=cmd_eval)
    g = sub.add_parser("inflections", help="add simplemma's word forms of keywords to the file (offline; make inflections)")
    g.add_argument("--file", default=None, help="keywords file to update (default: $KEYWORDS_FILE or keywords.yaml)")
    g.add_argument("--languages", default=None, help="comma-separated codes (default: the languages without a stemmer)")
    g.add_argument("--dry-run", action="store_true", help="only count the forms that would be added")
    g.set_defaults(func=cmd_inflections)
    return p


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit status."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # message text is UTF-8 whatever the locale says
            stream.reconfigure(encoding="utf-8", errors="replace")
    args = build_parser().parse_args(argv)
    if getattr(args, "file", "x") is None:
        args.file = default_file()
    try:
        return int(args.func(args, out or sys.stdout, err or sys.stderr))
    except _Failed:
        return 1
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
