"""The benchmark's verdict, from the results alone (``bench/results.json``'s dict): one row per
page (queries and CPU at each scale, server time, throughput as a share of the bare endpoint
in each HTTP set-up), which targets were missed, and the same table in Markdown for the
README.

Everything here reads numbers already measured, so a test can hand it a results dict and know
exactly what it will say (``missed``), without timing anything.
"""

from __future__ import annotations

import statistics

# CPU per request may grow this much from scale 1 to 5 and still count as flat (timings on a
# shared machine wobble; the query counts must be equal).
CPU_GROWTH = 1.5
CPU_SLACK_MS = 2.0


def target_scale(results: dict) -> str:
    """The scale the targets are held at: 1, or the largest measured if 1 was not."""
    scales = results.get("scales", [])
    return "1" if "1" in scales else (scales[-1] if scales else "1")


def http_label(run: dict) -> str:
    name = "PostgreSQL" if run["database"] == "postgresql" else "SQLite"
    return f"{name}, {run['workers']} workers"


def _share(results: dict, run: dict, key: str) -> float | None:
    """A page's share of the bare endpoint in one HTTP set-up: the median of its paired
    measurement when it had one (``bench.loadtest.needs_pairing``), else the first pass's."""
    loads = run.get("loads", {})
    load = loads.get(key)
    if load is not None and load.get("paired_shares"):
        return statistics.median(load["paired_shares"])
    bare = (loads.get("bare") or {}).get("requests_per_second") or 0
    if load is None or not bare:
        return None
    return load["requests_per_second"] / bare


def page_verdicts(results: dict) -> list[dict]:
    """For every page: its numbers and the list of targets it missed (sentences)."""
    scales = results.get("scales", [])
    at = target_scale(results)
    pages = results.get("pages", {})
    http = results.get("http", {})
    verdicts = []
    for key, info in results.get("page_info", {}).items():
        label = info["label"]
        timings = {scale: pages.get(scale, {}).get(key) for scale in scales}
        main = timings.get(at)
        missed: list[str] = []
        if pages and key != "bare":
            for scale, timing in timings.items():
                if timing is None:
                    missed.append(f"{label}: not measured at scale {scale}")
                elif timing.get("crashed"):
                    missed.append(f"{label}: the process crashed at scale {scale}")
                elif timing["status"] != timing.get("expect", 200):
                    missed.append(f"{label}: answered {timing['status']} at scale {scale}, "
                                  f"not {timing.get('expect', 200)}")
            timings = {s: None if t and t.get("crashed") else t for s, t in timings.items()}
            counts = {scale: t["queries"] for scale, t in timings.items() if t}
            varies = [scale for scale, t in timings.items() if t and t["queries_vary"]]
            if len(set(counts.values())) > 1:
                missed.append(f"{label}: queries differ between scales ("
                              + ", ".join(f"{n} at {s}" for s, n in counts.items()) + ")")
            if varies:
                missed.append(f"{label}: query count varies between requests at scale "
                              + ", ".join(varies))
            target = info.get("p95_target_ms")
            if target is not None and main is not None and main["p95_ms"] >= target:
                missed.append(f"{label}: p95 {main['p95_ms']:.1f} ms in process at scale {at},"
                              f" target < {target} ms")
            if "1" in timings and "5" in timings and timings["1"] and timings["5"]:
                one, five = timings["1"]["cpu_median_ms"], timings["5"]["cpu_median_ms"]
                if five > max(one * CPU_GROWTH, one + CPU_SLACK_MS):
                    missed.append(f"{label}: CPU grows from scale 1 to 5 ({one:.1f} → "
                                  f"{five:.1f} ms)")
        shares = {}
        for name, run in http.items():
            share = _share(results, run, key)
            shares[name] = share
            wanted = info.get("share_target")
            if wanted is None:
                continue
            if share is None:
                missed.append(f"{label}: no throughput measured ({http_label(run)})")
            elif share < wanted:
                pairs = len(run["loads"][key].get("paired_shares") or [])
                how = f", the median of {pairs} paired runs" if pairs else ""
                missed.append(f"{label}: {share:.0%} of bare ({http_label(run)}{how}), "
                              f"target >= {wanted:.0%}, short by {wanted - share:.0%}")
            else:
                load = run["loads"][key]
                if load["bad_responses"] or load["socket_errors"]:
                    missed.append(f"{label}: {load['bad_responses']} bad responses, "
                                  f"{load['socket_errors']} socket errors ({http_label(run)})")
        verdicts.append({"key": key, "label": label, "kind": info["kind"],
                         "timings": timings, "shares": shares, "missed": missed})
    return verdicts


def missed(results: dict, section_rows: list[tuple] = ()) -> list[str]:
    """Every target missed: per page, then any other section's row marked NO, then any
    section that failed to run."""
    out = [line for verdict in page_verdicts(results) for line in verdict["missed"]]
    out += [row[0].lstrip("\x00") for row in section_rows if row[4] == "NO"
            and not row[0].endswith(": FAILED")]
    out += [f"{name}: failed to run ({error.strip().splitlines()[-1][:80]})"
            for name, error in results.get("errors", {}).items()]
    return out


def _cell_timings(timings: dict, field: str, digits: int) -> str:
    values = [t[field] if t else None for t in timings.values()]
    return " / ".join("-" if v is None else (f"{v:.{digits}f}" if digits else str(v))
                      for v in values)


def page_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the page table."""
    scales = results.get("scales", [])
    at = target_scale(results)
    http = results.get("http", {})
    header = ["page", "kind", f"queries ({' / '.join(scales)})",
              f"CPU ms ({' / '.join(scales)})", f"ms median / p95 ({at})", "p95 target"]
    header += [f"{http_label(run)}: req/s (share)" for run in http.values()]
    header += ["share target", "met"]
    rows = []
    for verdict in page_verdicts(results):
        info = results["page_info"][verdict["key"]]
        main = verdict["timings"].get(at)
        row = [verdict["label"], verdict["kind"],
               _cell_timings(verdict["timings"], "queries", 0),
               _cell_timings(verdict["timings"], "cpu_median_ms", 1),
               f"{main['median_ms']:.1f} / {main['p95_ms']:.1f}" if main else "-",
               f"< {info['p95_target_ms']}" if info.get("p95_target_ms") else "-"]
        for name, run in http.items():
            load = run.get("loads", {}).get(verdict["key"])
            share = verdict["shares"].get(name)
            row.append("-" if load is None else f"{load['requests_per_second']:.0f}"
                       + ("" if share is None or verdict["key"] == "bare"
                          else f" ({share:.0%}, paired)" if load.get("paired_shares")
                          else f" ({share:.0%})"))
        wanted = info.get("share_target")
        row.append(f">= {wanted:.0%}" if wanted is not None else "ceiling")
        row.append("-" if verdict["key"] == "bare" else ("NO" if verdict["missed"] else "yes"))
        rows.append(row)
    return header, rows


def render_pages(results: dict) -> str:
    """The page table as text for the terminal."""
    header, rows = page_table(results)
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
           + " |", line]
    kind = None
    for row in rows:
        if kind is not None and row[1] != kind:
            out.append(line)
        kind = row[1]
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                   + " |")
    out.append(line)
    return "\n".join(out)


def kind_summary(results: dict) -> tuple[list[str], list[list[str]]]:
    """One row per kind of page (public, learner, staff): how many pages met every target,
    the range of shares of the bare endpoint in each HTTP set-up, and of query counts."""
    http = results.get("http", {})
    at = target_scale(results)
    header = ["pages", "met"] + [f"{http_label(run)}: share of bare" for run in http.values()]
    header += [f"queries at {at}", "CPU ms at " + at]
    verdicts = [v for v in page_verdicts(results) if v["key"] != "bare"]
    rows = []
    for kind in ("public", "learner", "staff"):
        group = [v for v in verdicts if v["kind"] == kind]
        if not group:
            continue
        row = [f"{kind} ({len(group)})", f"{sum(not v['missed'] for v in group)} of {len(group)}"]
        for name in http:
            shares = [v["shares"][name] for v in group if v["shares"].get(name) is not None]
            row.append(f"{min(shares):.0%}–{max(shares):.0%}" if shares else "-")
        for field, digits in (("queries", 0), ("cpu_median_ms", 1)):
            values = [v["timings"][at][field] for v in group if v["timings"].get(at)]
            row.append(f"{min(values):.{digits}f}–{max(values):.{digits}f}" if values else "-")
        rows.append(row)
    return header, rows


def render_markdown(results: dict, problems: list[str]) -> str:
    """In Markdown for the README: a line per kind of page, what was missed (``missed``),
    then the table of every page."""
    summary_header, summary = kind_summary(results)
    header, rows = page_table(results)
    meta = results.get("meta", {})
    load = meta.get("load_average_start")
    out = [f"Measured {meta.get('started', '?')}, {meta.get('seconds', '?')} s, load average "
           + (f"{load[0]:.1f} at the start" if load else "?")
           + (f", {meta['load_average_end'][0]:.1f} at the end"
              if meta.get("load_average_end") else "") + ".", "",
           "| " + " | ".join(summary_header) + " |", "|" + "---|" * len(summary_header)]
    out += ["| " + " | ".join(row) + " |" for row in summary]
    out += ["", "Missed: " + ("none." if not problems else "")]
    out += [f"- {line}" for line in problems]
    out += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out) + "\n"
