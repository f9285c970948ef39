"""`dosewise scan` (screen JSON Lines or one text) and `dosewise eval` (score a labelled set)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dosewise.errors import InputError

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
    parser.add_argument("--threshold", type=_fraction, default=None, help="flag threshold in [0, 1]")


def _fraction(value: str) -> float:
    """Parse a threshold; argparse turns the ValueError into a usage error with exit status 2."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {value!r}") from None
    # Written as a range test so that NaN (which compares false with everything) is rejected too.
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def _detector(args: argparse.Namespace) -> Detector:
    if getattr(args, "config", None):
        # scan and eval screen with the default rules plus --rules; an explicitly given config would be ignored
        # silently, and the reader would believe its policy had been applied.
        raise InputError(
            f"--config is not used by `dosewise {args.command}`; give rule packs with --rules and --threshold"
        )
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


def read_labelled(path: Path) -> Iterator[dict[str, Any]]:
    """The items of a labelled JSON Lines file; a missing file or a bad line raises InputError naming it."""
    try:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    yield _labelled_item(line, path, number)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _labelled_item(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        # exc.lineno would be 1 (one line is parsed at a time): the file's line number is the useful one.
        raise InputError(f"{path}:{number}: not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(item, dict):
        raise InputError(f"{path}:{number}: each line must be a JSON object")
    # Checked up front so that a malformed line is named, not reported as a KeyError traceback.
    for key in ("text", "label"):
        if key not in item:
            raise InputError(f"{path}:{number}: missing {key!r}")
    if not isinstance(item["text"], str):
        raise InputError(f"{path}:{number}: 'text' must be a string")
    return item


def run_eval(args: argparse.Namespace) -> int:
    """Score the detector on a labelled file with the definitions of shared/eval/score.py."""
    detector = _detector(args)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    tp = fp = fn = tn = ev_tp = ev_n = 0
    errors: list[str] = []
    for item in read_labelled(args.file):
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
            errors.append(f"{'FN' if y else 'FP'} {item.get('id')} [{item.get('kind', '')}] {item['text'][:160]!r}")
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
