"""The error envelope and the request id: probes of their own, then every response of the run.

Probes provoke each documented error class (404 on an unknown id or path, 405 on a
method a path lacks, 400 on malformed JSON, 415 on a non-JSON body); the passive pass
then checks every exchange the run recorded, whichever rule sent it.
"""

from __future__ import annotations

import re

from contracts.context import Context, Rule
from contracts.exchange import Exchange
from contracts.factory import expand, unique
from contracts.outcome import Verdict
from contracts.rules.sampling import one_per_tag, subject_of
from contracts.spec import METHODS, Spec

RULES = (
    Rule(
        "envelope.shape",
        "Every non-2xx response is an application/json {code, message, details?, request_id} "
        "envelope whose code is the one the spec gives its status.",
    ),
    Rule(
        "envelope.status",
        "An unknown path or id is 404, a method a path lacks is 405 with Allow, malformed JSON "
        "is 400 and a non-JSON body is 415.",
    ),
    Rule(
        "envelope.request-id",
        "Every response carries X-Request-Id, and an error body's request_id equals it.",
    ),
)
ENVELOPE_KEYS = {"code", "message", "details", "request_id"}
NO_SUCH_PATH = "/contracts-no-such-path"


def envelope_problems(spec: Spec, exchange: Exchange) -> list[str]:
    """Why `exchange` is not a valid error envelope (empty list: it is one)."""
    content_type = exchange.header("Content-Type") or ""
    if not content_type.startswith("application/json"):
        return [f"Content-Type {content_type or 'missing'}, not application/json"]
    body = exchange.json()
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    problems = [f"unexpected field {key!r}" for key in body if key not in ENVELOPE_KEYS]
    expected_code = spec.error_codes.get(exchange.status)
    if expected_code and body.get("code") != expected_code:
        problems.append(f"code {body.get('code')!r}, expected {expected_code!r}")
    if not isinstance(body.get("message"), str) or not body.get("message"):
        problems.append("message missing or not a non-empty string")
    if not isinstance(body.get("request_id"), str):
        problems.append("request_id missing or not a string")
    details = body.get("details")
    if details is not None and not (
        isinstance(details, list)
        and all(
            isinstance(d, dict)
            and isinstance(d.get("field"), str)
            and isinstance(d.get("error"), str)
            and set(d) <= {"field", "error", "received"}
            for d in details
        )
    ):
        problems.append("details is not a list of {field, error, received?}")
    return problems


def request_id_problem(exchange: Exchange) -> str | None:
    """Why the request id of `exchange` is wrong, or None."""
    header = exchange.header("X-Request-Id")
    if not header:
        return "no X-Request-Id header"
    if not exchange.ok:
        body = exchange.json()
        if isinstance(body, dict) and body.get("request_id") != header:
            return f"request_id {body.get('request_id')!r} but X-Request-Id {header!r}"
    return None


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    """Send the probes, then judge every exchange the run has recorded so far."""
    probe(ctx, verdicts.get("envelope.status") or Verdict("envelope.status"))
    shape, request_id = verdicts.get("envelope.shape"), verdicts.get("envelope.request-id")
    for exchange in ctx.recorder.snapshot():
        subject = subject_of(ctx.spec, exchange)
        if request_id is not None:
            problem = request_id_problem(exchange)
            request_id.expect(
                problem is None, subject, "X-Request-Id, repeated as request_id", exchange, problem
            )
        if shape is not None and not exchange.ok and exchange.status:
            problems = envelope_problems(ctx.spec, exchange)
            shape.expect(
                not problems,
                subject,
                f"the error envelope for {exchange.status}",
                exchange,
                "; ".join(problems) or None,
            )


def probe(ctx: Context, verdict: Verdict) -> None:
    """Provoke 404, 405, 400 and 415 answers and check their statuses."""
    client, spec = ctx.main.client, ctx.spec
    operations = spec.contract if ctx.profile.probe_all else one_per_tag(spec.contract)
    answer = client.request("GET", NO_SUCH_PATH)
    verdict.expect(answer.status == 404, f"GET {NO_SUCH_PATH}", "404 for an unknown path", answer)
    for op in operations:
        unknown = {name: unique("x") for name in op.path_parameters}
        if unknown and op.method == "get" and op.documents(404):
            answer = client.request("GET", expand(op.path, unknown), operation_id=op.operation_id)
            verdict.expect(answer.status == 404, op.label, "404 for an unknown id", answer)
        if op.body_schema is None or op.path_parameters:
            continue
        json_type = {"Content-Type": "application/json"}
        answer = client.request(
            op.method, op.path, data=b'{"broken": ', headers=json_type, operation_id=op.operation_id
        )
        verdict.expect(answer.status == 400, op.label, "400 for malformed JSON", answer)
        text_type = {"Content-Type": "text/plain"}
        answer = client.request(
            op.method, op.path, data=b"plain text", headers=text_type, operation_id=op.operation_id
        )
        verdict.expect(answer.status == 415, op.label, "415 for a text/plain body", answer)
    for path, item in spec.document["paths"].items():
        present = [m for m in METHODS if m in item and not item[m].get("x-sandbox-only")]
        missing = [m for m in METHODS if m not in item]
        if not present or not missing:
            continue
        concrete = expand(path, {name: unique("x") for name in re.findall(r"{(\w+)}", path)})
        if _ambiguous(spec, concrete, missing[0]):
            continue
        answer = client.request(missing[0], concrete)
        allowed = {m.strip().lower() for m in (answer.header("Allow") or "").split(",")}
        verdict.expect(
            answer.status == 405 and set(present) <= allowed,
            f"{missing[0].upper()} {path}",
            f"405 with Allow listing {', '.join(m.upper() for m in present)}",
            answer,
            f"{answer.status}, Allow: {answer.header('Allow')}",
        )


def _ambiguous(spec: Spec, concrete: str, method: str) -> bool:
    """True when a path template also matches `concrete` and has `method`."""
    for path, item in spec.document["paths"].items():
        pattern = "^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$"
        if method in item and re.match(pattern, concrete):
            return True
    return False
