"""Response validation against the spec with openapi-core: the judge in tests and `--strict`."""

from __future__ import annotations

import copy
import functools
from typing import Any

from flask import Request, Response
from openapi_core import OpenAPI
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse

from sandbox.spec import Spec


class OffSpecResponse(Exception):
    """A handler answered with a status, header or body the spec does not allow."""


class ResponseJudge:
    """Validates responses of spec operations; built once per app."""

    def __init__(self, spec: Spec) -> None:
        raw: dict[str, Any] = copy.deepcopy(spec.raw)
        # Any host: the sandbox may run on any port, the test client on `localhost`.
        raw["servers"] = [{"url": spec.base_path}]
        self.openapi = OpenAPI.from_dict(raw)

    def check(self, request: Request, response: Response) -> None:
        """Raise OffSpecResponse with openapi-core's reasons if the response is off-spec."""
        result = self.openapi.unmarshal_response(
            FlaskOpenAPIRequest(request), WerkzeugOpenAPIResponse(response)
        )
        if result.errors:
            reasons = []
            for error in result.errors:
                reasons.append(f"{type(error).__name__}: {error}")
                reasons += [f"  {e}" for e in getattr(error, "schema_errors", ())]
            raise OffSpecResponse(
                f"{request.method} {request.path} answered {response.status_code} off-spec:\n"
                + "\n".join(reasons)
            )


@functools.cache
def judge_for(spec: Spec) -> ResponseJudge:
    """One judge per spec and process (building one takes a second)."""
    return ResponseJudge(spec)
