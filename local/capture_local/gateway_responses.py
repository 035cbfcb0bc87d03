"""The answers API Gateway gives itself (body too large, method refused, integration failure),
rendered from the template's AWS::ApiGateway::GatewayResponse resources as API Gateway renders
them, so local errors look like deployed ones."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from capture_local.exchanges import Headers, Response, header
from capture_local.template import Template, TemplateError

_REQUEST_HEADER = "method.request.header."
# A value with one of these would end the header (CR, LF) or corrupt it: it is never reflected.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class GatewayResponses:
    customisations: Mapping[str, Mapping[str, Any]]  # response type -> its resource's properties

    @classmethod
    def from_template(cls, template: Template) -> GatewayResponses:
        customisations = {}
        for logical_id in template.logical_ids_of_type("AWS::ApiGateway::GatewayResponse"):
            properties = template.properties(logical_id)
            # Header mappings are static values in quotes ("'true'") or request headers.
            for name, value in (properties.get("ResponseParameters") or {}).items():
                if not re.fullmatch(rf"'.*'|{re.escape(_REQUEST_HEADER)}.+", str(value)):
                    raise TemplateError(f"{logical_id}: the mapping {name}: {value} is not emulated locally")
            customisations[str(properties["ResponseType"])] = properties
        return cls(customisations)

    def render(self, response_type: str, status: int, message: str, request: Headers = ()) -> Response:
        """API Gateway's answer of `response_type` (default status `status`, text `message`)."""
        # A type the template does not customise takes its group's customisation, as in API Gateway.
        group = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        custom = self.customisations.get(response_type) or self.customisations.get(group) or {}
        templates = custom.get("ResponseTemplates") or {"application/json": json.dumps({"message": message})}
        # `messageString` is the message as a quoted JSON string, `message` the bare text.
        body = templates["application/json"].replace("$context.error.messageString", json.dumps(message))
        headers = [("Content-Type", "application/json")]
        for name, mapping in (custom.get("ResponseParameters") or {}).items():
            value = header(request, mapping.removeprefix(_REQUEST_HEADER))
            value = value if mapping.startswith(_REQUEST_HEADER) else mapping[1:-1]
            if value is not None and not _CONTROL.search(value):  # a request header it lacks is omitted
                headers.append((name.removeprefix("gatewayresponse.header."), value))
        body = body.replace("$context.error.message", message)
        return Response(int(custom.get("StatusCode", status)), headers, body.encode())
