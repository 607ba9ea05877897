"""Read a parsed keywords file into a RuleFile, collecting every problem with its line."""

from __future__ import annotations

from datetime import date

from keywords.model import (
    REPLY_KINDS,
    WORD_LISTS,
    SECTIONS,
    Entry,
    Example,
    FuzzySettings,
    Language,
    Reason,
    ReplyText,
    RuleFile,
    Sender,
    Settings,
)
from keywords.yamlnodes import Map, Node, Null, Seq, Text
from keywords.brands import BRAND_FIELDS, DEFAULT_REACH, REACHES, Brand, Brands

TOP_FIELDS = ("settings", "senders", "brands", "languages", "reasons", "examples")
LANGUAGE_FIELDS = ("name", *SECTIONS, *WORD_LISTS, "inflections", "replies", "rates", "frequency", "reviewed")
INTENT_FIELDS = {"opt_out": ("keywords", "phrases"), "opt_out_all": ("keywords", "phrases"),
                 "opt_in": ("keywords", "phrases"), "help": ("keywords",),
                 "join": ("keywords",), "confirm": ("keywords",), "ask": ("keywords", "phrases")}
SENDER_FIELDS = ("brand", "contact", "language", "replies", "frequency", "country")
SETTINGS_FIELDS = ("max_message_chars", "guard_window", "max_courtesy_words", "fuzzy")
FUZZY_FIELDS = ("enabled", "intents", "min_score", "max_edits", "typo_model_below",
                "drop_letter_from")
REASON_IDS = ("too_frequent", "not_relevant", "changed_preferences", "lost_interest", "other")
EXAMPLE_FIELDS = (*SECTIONS, "none", "hint")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


class Reader:
    """Walks the located YAML values; every complaint lands in ``problems``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[tuple[str, int, str]] = []

    def fail(self, line: int, reason: str) -> None:
        self.problems.append((self.path, line, reason))

    # -- shapes -------------------------------------------------------------------------
    def mapping(self, node: Node | None, where: str, fields: tuple[str, ...] | None) -> Map:
        if node is None or isinstance(node, Null):
            return Map()
        if not isinstance(node, Map):
            self.fail(node.line, f"{where} must be a mapping of name: value")
            return Map()
        if fields is not None:
            for key in node:
                if key not in fields:
                    self.fail(key.line, f"unknown field '{key}' in {where} "  # type: ignore[attr-defined]
                              f"(expected one of: {', '.join(fields)})")
        return node

    def text(self, node: Node | None, where: str, line: int, required: bool = True) -> str | None:
        if node is None or isinstance(node, Null):
            if required:
                self.fail(node.line if node is not None else line, f"{where} must not be empty")
            return None
        if not isinstance(node, Text):
            self.fail(node.line, f"{where} must be text, not a list or mapping")
            return None
        if required and not node.strip():
            self.fail(node.line, f"{where} must not be empty")
            return None
        return str(node)

    def integer(self, node: Node | None, where: str, default: int, low: int, high: int) -> int:
        if node is None:
            return default
        if not isinstance(node, Text) or not node.strip().lstrip("-").isdigit():
            self.fail(node.line, f"{where} must be a whole number")
            return default
        value = int(node)
        if not low <= value <= high:
            self.fail(node.line, f"{where} must be between {low} and {high}, not {value}")
            return default
        return value

    def boolean(self, node: Node | None, where: str, default: bool) -> bool:
        if node is None:
            return default
        if isinstance(node, Text) and node.lower() in _TRUE | _FALSE:
            return node.lower() in _TRUE
        self.fail(node.line, f"{where} must be true or false")
        return default

    def texts(self, node: Node | None, where: str) -> list[tuple[str, int]]:
        if node is None or isinstance(node, Null):
            return []
        if not isinstance(node, Seq):
            self.fail(node.line, f"{where} must be a list (one '- item' per line)")
            return []
        out: list[tuple[str, int]] = []
        for item in node:
            value = self.text(item, f"an item of {where}", node.line)
            if value is not None:
                out.append((value, item.line))
        return out

    # -- sections -----------------------------------------------------------------------
    def settings(self, node: Node | None) -> Settings:
        m = self.mapping(node, "settings", SETTINGS_FIELDS)
        fz = self.mapping(m.get("fuzzy"), "settings.fuzzy", FUZZY_FIELDS)
        d = FuzzySettings()
        intents = d.intents
        if "intents" in fz:
            named = self.texts(fz["intents"], "settings.fuzzy.intents")
            for value, line in named:
                if value not in ("opt_out", "opt_out_all", "opt_in", "help"):
                    self.fail(line, f"settings.fuzzy.intents: '{value}' cannot be fuzzy-matched "
                              "(choose from opt_out, opt_out_all, opt_in, help)")
            intents = frozenset(v for v, _ in named)
        max_edits = d.max_edits
        if "max_edits" in fz:
            table = self.mapping(fz["max_edits"], "settings.fuzzy.max_edits", None)
            rows = sorted((self.integer(Text(k, getattr(k, "line", table.line)), "a keyword length in settings.fuzzy.max_edits", 1, 1, 100),
                           self.integer(v, "settings.fuzzy.max_edits", 0, 0, 3)) for k, v in table.items())
            max_edits = tuple(rows) or d.max_edits
        fuzzy = FuzzySettings(
            enabled=self.boolean(fz.get("enabled"), "settings.fuzzy.enabled", d.enabled),
            intents=intents,
            min_score=float(self.integer(fz.get("min_score"), "settings.fuzzy.min_score",
                                         int(d.min_score), 0, 100)),
            max_edits=max_edits,
            typo_model_below=self.integer(fz.get("typo_model_below"),
                                          "settings.fuzzy.typo_model_below", d.typo_model_below, 0, 100),
            drop_letter_from=self.integer(fz.get("drop_letter_from"),
                                          "settings.fuzzy.drop_letter_from", d.drop_letter_from, 2, 100),
        )
        s = Settings()
        return Settings(
            fuzzy=fuzzy,
            max_message_chars=self.integer(m.get("max_message_chars"), "settings.max_message_chars",
                                           s.max_message_chars, 160, 100_000),
            guard_window=self.integer(m.get("guard_window"), "settings.guard_window", s.guard_window, 0, 10),
            max_courtesy_words=self.integer(m.get("max_courtesy_words"), "settings.max_courtesy_words",
                                            s.max_courtesy_words, 1, 50),
        )

    def reply(self, node: Node, where: str) -> ReplyText | None:
        if isinstance(node, Map):
            self.mapping(node, where, ("text", "max_segments"))
            text = self.text(node.get("text"), f"{where}.text", node.line)
            segs = self.integer(node.get("max_segments"), f"{where}.max_segments", 1, 1, 10)
            return ReplyText(text, node.get("text", node).line, segs) if text else None
        text = self.text(node, where, getattr(node, "line", 0))
        return ReplyText(text, node.line, 1) if text else None

    def replies(self, node: Node | None, where: str) -> dict[str, ReplyText]:
        m = self.mapping(node, where, REPLY_KINDS)
        out: dict[str, ReplyText] = {}
        for kind, value in m.items():
            r = self.reply(value, f"{where}.{kind}")
            if r is not None:
                out[str(kind)] = r
        return out

    def language(self, code: Text, node: Node) -> Language:
        where = f"languages.{code}"
        m = self.mapping(node, where, LANGUAGE_FIELDS)
        lang = Language(code=str(code), line=code.line)
        lang.name = self.text(m.get("name"), f"{where}.name", code.line, required=False) or str(code)
        for intent in SECTIONS:
            if intent not in m:
                continue
            im = self.mapping(m[intent], f"{where}.{intent}", INTENT_FIELDS[intent])
            for value, line in self.texts(im.get("keywords"), f"{where}.{intent}.keywords"):
                lang.keywords.append(Entry(value, line, intent, lang.code))
            for value, line in self.texts(im.get("phrases"), f"{where}.{intent}.phrases"):
                lang.phrases.append(Entry(value, line, intent, lang.code))
        for name in WORD_LISTS:
            setattr(lang, name, self.texts(m.get(name), f"{where}.{name}"))
        lang.inflections = self.inflections(m.get("inflections"), f"{where}.inflections")
        lang.replies = self.replies(m.get("replies"), f"{where}.replies")
        lang.rates = self.text(m.get("rates"), f"{where}.rates", code.line, required=False) or ""
        lang.rates_line = getattr(m.get("rates"), "line", code.line)
        lang.frequency = self.text(m.get("frequency"), f"{where}.frequency", code.line, required=False) or ""
        lang.reviewed = self.boolean(m.get("reviewed"), f"{where}.reviewed", True)
        return lang

    def inflections(self, node: Node | None, where: str) -> list[tuple[str, str, int]]:
        """keyword: [inflected forms]; each form then counts as that keyword in the request tier."""
        table = self.mapping(node, where, None)
        return [(str(keyword), form, line) for keyword, forms in table.items()
                for form, line in self.texts(forms, f"{where}.{keyword}")]

    def sender(self, key: Text, node: Node, default: Sender | None) -> Sender:
        where = "senders.default" if default is None else f"senders.{key}"
        m = self.mapping(node, where, SENDER_FIELDS)
        required = default is None

        def field(name: str, fallback: str) -> str:
            value = self.text(m.get(name), f"{where}.{name}", key.line, required=required or name in m)
            return value if value is not None else fallback

        sender = Sender(
            key=str(key), line=key.line,
            brand=field("brand", default.brand if default else ""),
            contact=field("contact", default.contact if default else ""),
            language=field("language", default.language if default else "en"),
        )
        sender.language_line = getattr(m.get("language"), "line", key.line)
        sender.frequency = self.frequency(m.get("frequency"), f"{where}.frequency",
                                          default.frequency if default else {})
        country = self.text(m.get("country"), f"{where}.country", key.line, required=False)
        if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
            self.fail(m["country"].line, f"{where}.country must be a two-letter ISO country code such as CA")
            country = None
        sender.country = country.upper() if country else (default.country if default else None)
        per_lang = self.mapping(m.get("replies"), f"{where}.replies", None)
        for code, value in per_lang.items():
            sender.replies[str(code)] = self.replies(value, f"{where}.replies.{code}")
        return sender

    def frequency(self, node: Node | None, where: str, fallback: dict[str, str]) -> dict[str, str]:
        """A brand's message frequency: one text for every language, or {language code: text}."""
        if node is None:
            return fallback
        if isinstance(node, Map):
            return {str(code): text for code, value in node.items()
                    if (text := self.text(value, f"{where}.{code}", node.line)) is not None}
        text = self.text(node, where, getattr(node, "line", 0))
        return {"": text} if text is not None else fallback

    def reasons(self, node: Node | None) -> list[Reason]:
        if node is None:
            return []
        if not isinstance(node, Seq):
            self.fail(node.line, "reasons must be a list of {id, label}")
            return []
        out: list[Reason] = []
        for item in node:
            m = self.mapping(item, "a reason", ("id", "label"))
            rid = self.text(m.get("id"), "reason id", item.line)
            if rid is not None and rid not in REASON_IDS:
                self.fail(m["id"].line, f"unknown reason id '{rid}' (expected one of: {', '.join(REASON_IDS)})")
            labels = self.mapping(m.get("label"), f"reason {rid} label", None)
            texts = {str(k): self.text(v, f"reason {rid} label {k}", item.line) or "" for k, v in labels.items()}
            if rid is not None:
                out.append(Reason(rid, texts))
        return out

    def examples(self, node: Node | None) -> list[Example]:
        m = self.mapping(node, "examples", EXAMPLE_FIELDS)
        return [Example(str(intent), text, line) for intent, value in m.items()
                for text, line in self.texts(value, f"examples.{intent}")]

    def read(self, root: Node, version: str) -> RuleFile:
        top = self.mapping(root, "the file", TOP_FIELDS)
        senders_node = self.mapping(top.get("senders"), "senders", None)
        default_key = next((k for k in senders_node if k == "default"), None)
        if default_key is None:
            self.fail(getattr(senders_node, "line", 1), "senders.default (the default brand) is missing")
            default = Sender("default", 1, "", "", "en")
        else:
            default = self.sender(default_key, senders_node[default_key], None)  # type: ignore[arg-type]
        senders = {str(k): self.sender(k, v, default) for k, v in senders_node.items() if k != "default"}  # type: ignore[arg-type]
        langs_node = self.mapping(top.get("languages"), "languages", None)
        if not langs_node:
            self.fail(getattr(root, "line", 1), "languages is missing or empty")
        languages = {str(code): self.language(code, node) for code, node in langs_node.items()}  # type: ignore[arg-type]
        return RuleFile(self.path, version, self.settings(top.get("settings")), default, senders,
                        languages, self.reasons(top.get("reasons")), self.examples(top.get("examples")),
                        self.brands(top.get("brands")))

    def brands(self, node: Node | None) -> Brands:
        """brands: {id: {senders: [...], reach: number|brand|account, account_from: YYYY-MM-DD, name}}."""
        found: dict[str, Brand] = {}
        of_sender: dict[str, str] = {}
        for key, value in self.mapping(node, "brands", None).items():
            where = f"brands.{key}"
            m = self.mapping(value, where, BRAND_FIELDS)
            senders = self.texts(m.get("senders"), f"{where}.senders")
            if not senders:
                self.fail(key.line, f"{where}.senders must list at least one sender")  # type: ignore[attr-defined]
            for sender, line in senders:
                if sender in of_sender:
                    self.fail(line, f"sender {sender} is in brands {of_sender[sender]} and {key}: one brand per sender")
                of_sender.setdefault(sender, str(key))
            reach = self.text(m.get("reach"), f"{where}.reach", key.line, required=False) or DEFAULT_REACH  # type: ignore[attr-defined]
            if reach not in REACHES:
                self.fail(m["reach"].line, f"{where}.reach must be one of {', '.join(REACHES)}, not '{reach}'")
            day = self.text(m.get("account_from"), f"{where}.account_from", key.line, required=False)  # type: ignore[attr-defined]
            try:
                account_from = date.fromisoformat(day) if day else None
            except ValueError:
                self.fail(m["account_from"].line, f"{where}.account_from must be a date such as 2027-01-31, not '{day}'")
                account_from = None
            found[str(key)] = Brand(str(key), key.line, tuple(s for s, _ in senders), reach, account_from,  # type: ignore[attr-defined]
                                   self.text(m.get("name"), f"{where}.name", key.line, required=False) or "")  # type: ignore[attr-defined]
        return Brands(found, of_sender)
