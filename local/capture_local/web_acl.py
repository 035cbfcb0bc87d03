"""The template's flood protection (an AWS WAF web ACL with a rate-based rule per client address)
as the local stack applies it: with `FloodRateLimit` set, an address over the limit within the
window gets the rule's own custom response, before the API or any function sees the request.

AWS WAF counts over a sliding window and acts within seconds of an address crossing the rate; here
it acts at the request that crosses it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from capture_local.exchanges import Response
from capture_local.template import Template, TemplateError, resolve


def _holds(condition: Any, refs: Mapping[str, str], conditions: Mapping[str, Any], where: str) -> bool:
    """A template condition's value, for the functions a flood condition uses (Not, Equals, Ref)."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((function, argument),) = condition.items()
        if function == "Fn::Not":
            return not _holds(argument[0], refs, conditions, where)
        if function == "Fn::Equals":
            left, right = (resolve(value, refs, where) for value in argument)
            return left == right
        if function == "Condition":
            return _holds(conditions[argument], refs, conditions, where)
    raise TemplateError(f"{where}: the condition {condition!r} is not emulated locally")


@dataclass
class FloodRule:
    """An address may make `limit` requests in `window_s` seconds; past that, `answer`."""

    limit: int
    window_s: float
    answer: Response
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refuses(self, address: str) -> Response | None:
        """The rule's answer if this request takes `address` over its rate, else None."""
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault(address, deque())
            while seen and seen[0] <= now - self.window_s:
                seen.popleft()
            seen.append(now)
            return self.answer if len(seen) > self.limit else None

    @classmethod
    def from_template(cls, template: Template, refs: Mapping[str, str]) -> FloodRule | None:
        """The template's rate-based rule, if its web ACL exists with these parameters (`refs`)."""
        conditions = template.document.get("Conditions") or {}
        for logical_id in template.logical_ids_of_type("AWS::WAFv2::WebACL"):
            where = logical_id
            condition = template.resources[logical_id].get("Condition")
            if condition is not None and not _holds({"Condition": condition}, refs, conditions, where):
                continue
            properties = template.properties(logical_id)
            bodies = properties.get("CustomResponseBodies") or {}
            for rule in properties.get("Rules") or []:
                statement = (rule.get("Statement") or {}).get("RateBasedStatement")
                custom = ((rule.get("Action") or {}).get("Block") or {}).get("CustomResponse")
                if statement is None or custom is None:
                    continue
                if statement.get("AggregateKeyType") != "IP":
                    raise TemplateError(f"{where}: only rate-based rules by IP are emulated locally")
                body = bodies[custom["CustomResponseBodyKey"]]
                content_type = {"APPLICATION_JSON": "application/json", "TEXT_PLAIN": "text/plain"}
                headers = [("Content-Type", content_type.get(body["ContentType"], "text/html"))]
                headers += [
                    (header["Name"], resolve(header["Value"], refs, where))
                    for header in custom.get("ResponseHeaders") or []
                ]
                answer = Response(int(custom["ResponseCode"]), headers, str(body["Content"]).encode())
                limit = int(resolve(statement["Limit"], refs, where))
                window = float(resolve(statement.get("EvaluationWindowSec", 300), refs, where))
                return cls(limit, window, answer)
        return None
