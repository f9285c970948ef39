"""`dosewise scan` (screen JSON Lines or one text) and `dosewise eval` (score a labelled set)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dosewise.models import Verdict
    from dosewise.screening.detector import Detector


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `scan` and `eval` subcommands."""
    scan = sub.add_parser(
        "scan",
        help="screen messages for sourcing: JSON Lines on stdin, or one --text",
        description='Reads {"id", "text"} JSON Lines on stdin and writes one verdict line per input.',
    )
    scan.add_argument("--text", help="explain the verdict on one message in readable form")
    _detector_options(scan)
    scan.set_defaults(func=run_scan)

    ev = sub.add_parser(
        "eval",
        help="score the detector on a labelled JSON Lines file",
        description="Prints the per-kind table and precision, recall, F1 and evasive recall.",
    )
    ev.add_argument("file", type=Path, help='labelled set: {"id", "text", "label", "kind"} per line')
    ev.add_argument("--show-errors", action="store_true", help="list every false positive and negative")
    _detector_options(ev)
    ev.set_defaults(func=run_eval)


def _detector_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules", action="append", type=Path, default=[], metavar="PATH", help="extra rule pack (repeatable)"
    )
    parser.add_argument("--threshold", type=float, default=None, help="flag threshold in [0, 1]")


def _detector(args: argparse.Namespace) -> Detector:
    # Imported here so that other subcommands do not pay for compiling the rule pack.
    from dosewise.screening.detector import DEFAULT_FLAG_THRESHOLD, Detector, default_detector

    if not args.rules and args.threshold is None:
        return default_detector()
    threshold = DEFAULT_FLAG_THRESHOLD if args.threshold is None else args.threshold
    return Detector.build(extra_packs=tuple(args.rules), flag_threshold=threshold)


def verdict_json(item_id: Any, verdict: Verdict) -> dict[str, Any]:
    """The JSON object `scan` writes for one message."""
    return {
        "id": item_id,
        "flagged": verdict.flagged,
        "score": verdict.score,
        "category": verdict.category.value if verdict.category else None,
        "reasons": [
            {"rule": r.rule, "signal": r.signal, "span": list(r.span), "match": r.match} for r in verdict.reasons
        ],
    }


def scan_lines(detector: Detector, lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """One output object per input line; a bad line yields an error object and the scan goes on."""
    for raw in lines:
        try:
            item = json.loads(raw.decode("utf-8", errors="replace"))
        except ValueError as exc:
            yield {"id": None, "error": f"not valid JSON: {exc}"}
            continue
        if not isinstance(item, dict):
            yield {"id": None, "error": "each line must be a JSON object"}
            continue
        item_id, text = item.get("id"), item.get("text")
        if not isinstance(text, str):
            yield {"id": item_id, "error": "'text' must be a string"}
            continue
        yield verdict_json(item_id, detector.screen(text))


def write_stream(out: IO[bytes], rows: Iterable[dict[str, Any]]) -> None:
    """Write each row as one JSON line and flush it, so a pipe sees every verdict as it is made."""
    for row in rows:
        # ASCII escapes keep lone surrogates from the input writable.
        out.write(json.dumps(row).encode("ascii") + b"\n")
        out.flush()


def explain(text: str, verdict: Verdict) -> str:
    """A readable explanation of one verdict: the decision, the score and each rule with its span."""
    state = "FLAGGED" if verdict.flagged else "not flagged"
    category = f" ({verdict.category.value})" if verdict.category else ""
    lines = [f"{state}{category}  score={verdict.score:.3f}"]
    if not verdict.reasons:
        lines.append("  no rule matched")
    for r in verdict.reasons:
        lines.append(f"  {r.rule:28} {r.signal:15} [{r.span[0]}:{r.span[1]}] {r.match!r}")
    return "\n".join(lines)


def run_scan(args: argparse.Namespace) -> int:
    """Screen `--text` (readable) or stdin JSON Lines (one verdict line per input line)."""
    detector = _detector(args)
    if args.text is not None:
        print(explain(args.text, detector.screen(args.text, explain=True)))
        return 0
    # readline (not iteration over a read-ahead buffer) keeps memory bounded and latency per line.
    write_stream(sys.stdout.buffer, scan_lines(detector, iter(sys.stdin.buffer.readline, b"")))
    return 0


def _is_evasive(item: dict[str, Any]) -> bool:
    kind = str(item.get("kind", ""))
    return "evasive" in kind or "obfusc" in kind


def run_eval(args: argparse.Namespace) -> int:
    """Score the detector on a labelled file with the definitions of shared/eval/score.py."""
    detector = _detector(args)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    tp = fp = fn = tn = ev_tp = ev_n = 0
    errors: list[str] = []
    with args.file.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            item = json.loads(line)
            if item["label"] == "ambiguous":
                continue
            y = item["label"] == "sourcing"
            p = detector.screen(item["text"]).flagged
            tp += y and p
            fp += p and not y
            fn += y and not p
            tn += not y and not p
            if y and _is_evasive(item):
                ev_n += 1
                ev_tp += p
            key = (item["label"], item.get("kind", ""))
            counts[key][0] += y == p
            counts[key][1] += 1
            if y != p:
                errors.append(f"{'FN' if y else 'FP'} {item['id']} [{item.get('kind', '')}] {item['text'][:160]!r}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    evasive_recall = ev_tp / ev_n if ev_n else 1.0
    print(f"{'label':10} {'kind':34} right/total")
    for (label, kind), (right, total) in sorted(counts.items()):
        print(f"{label:10} {kind:34} {right}/{total}")
    if args.show_errors:
        print("\n".join(errors))
    print(
        f"precision={precision:.3f} recall={recall:.3f} f1={f1:.3f} "
        f"evasive_recall={evasive_recall:.3f} n={tp + fp + fn + tn} fp={fp} fn={fn}"
    )
    return 0
