"""The answers API Gateway gives itself (payload too large, no route, integration failure), rendered
from the template's AWS::ApiGateway::GatewayResponse resources, so local errors look like deployed ones."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from capture_local.template import Template

GATEWAY_RESPONSE_TYPE = "AWS::ApiGateway::GatewayResponse"
_HEADER_PREFIX = "gatewayresponse.header."


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class _Customisation:
    status: int | None
    headers: Mapping[str, str]
    json_template: str | None


def _customisations(template: Template) -> dict[str, _Customisation]:
    result = {}
    for logical_id in template.logical_ids_of_type(GATEWAY_RESPONSE_TYPE):
        properties = template.properties(logical_id)
        # Header values are mapping expressions; static ones are quoted: "'*'".
        headers = {
            name.removeprefix(_HEADER_PREFIX): str(value).strip("'")
            for name, value in (properties.get("ResponseParameters") or {}).items()
            if name.startswith(_HEADER_PREFIX)
        }
        status = properties.get("StatusCode")
        result[properties["ResponseType"]] = _Customisation(
            status=int(status) if status is not None else None,
            headers=headers,
            json_template=(properties.get("ResponseTemplates") or {}).get("application/json"),
        )
    return result


@dataclass(frozen=True)
class GatewayResponses:
    customisations: Mapping[str, _Customisation]

    @classmethod
    def from_template(cls, template: Template) -> GatewayResponses:
        return cls(_customisations(template))

    def answer(self, response_type: str, status: int, message: str) -> GatewayAnswer:
        """API Gateway's own answer of `response_type` (default status `status`, text `message`)."""
        # A type the template does not customise takes its group's customisation, as in API Gateway.
        group = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
        custom = self.customisations.get(response_type) or self.customisations.get(group)
        if custom is None or custom.json_template is None:
            body = json.dumps({"message": message})
        else:
            # `messageString` is the message as a quoted JSON string, `message` the bare text.
            body = custom.json_template.replace("$context.error.messageString", json.dumps(message)).replace(
                "$context.error.message", message
            )
        headers = {"Content-Type": "application/json", **(custom.headers if custom else {})}
        return GatewayAnswer(
            status=custom.status if custom and custom.status else status, headers=headers, body=body.encode()
        )
