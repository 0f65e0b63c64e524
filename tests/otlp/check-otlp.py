#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that every line of FILE is an OTLP/JSON TracesData document (see README.md).

Usage: check-otlp.py FILE ("-" = stdin). Prints one line per span:
    traceId spanId parentSpanId|- kind statusCode name
Exit status: 0 valid (at least one span), 1 invalid, 77 python3-protobuf or protoc missing.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOS = ["opentelemetry/proto/common/v1/common.proto",
          "opentelemetry/proto/resource/v1/resource.proto",
          "opentelemetry/proto/trace/v1/trace.proto"]

try:
    from google.protobuf import json_format
except ImportError:
    # A python3 of its own (pyenv, venv) may come first in PATH: Debian's has the module.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("SKIP: python3-protobuf is not installed (make deps)")
    sys.exit(77)


class Invalid(Exception):
    pass


HEX_LEN = {"traceId": 32, "spanId": 16, "parentSpanId": 16}
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def check_keys(obj, where):
    """OTLP/JSON keys are lowerCamelCase only (json_format would also take snake_case)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not CAMEL.match(k):
                raise Invalid(f"{where}: key {k!r} is not lowerCamelCase")
            check_keys(v, f"{where}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            check_keys(v, f"{where}[{i}]")


def check_u64_string(v, where):
    if not isinstance(v, str) or not re.fullmatch(r"[0-9]+", v) or int(v) >= 1 << 64:
        raise Invalid(f"{where}: {v!r} is not a 64-bit value as a decimal string")
    return int(v)


def check_attributes(attrs, where):
    for i, kv in enumerate(attrs or []):
        val = kv.get("value", {})
        if "intValue" in val:
            v = val["intValue"]
            if not isinstance(v, str) or not re.fullmatch(r"-?[0-9]+", v):
                raise Invalid(f"{where}[{i}]: intValue {v!r} is not a decimal string")


def check_span(span, where):
    """Checks the OTLP deviations from proto3 JSON; ids become base64 for json_format."""
    out = {}
    for field, n in HEX_LEN.items():
        v = span.get(field)
        if v is None or (field == "parentSpanId" and v == ""):
            if field != "parentSpanId":
                raise Invalid(f"{where}: no {field}")
            continue
        if not isinstance(v, str) or not re.fullmatch(r"[0-9a-fA-F]{%d}" % n, v):
            raise Invalid(f"{where}: {field} {v!r} is not {n} hex digits")
        if int(v, 16) == 0:
            raise Invalid(f"{where}: {field} is all zeros (invalid)")
        out[field] = v.lower()
        span[field] = base64.b64encode(bytes.fromhex(v)).decode()
    if not span.get("name"):
        raise Invalid(f"{where}: no name")
    for field in ("kind",):
        if field in span and not isinstance(span[field], int):
            raise Invalid(f"{where}: {field} {span[field]!r} must be an integer")
    status = span.get("status", {})
    if "code" in status and not isinstance(status["code"], int):
        raise Invalid(f"{where}: status.code {status['code']!r} must be an integer")
    start = check_u64_string(span.get("startTimeUnixNano"), where + ".startTimeUnixNano")
    end = check_u64_string(span.get("endTimeUnixNano"), where + ".endTimeUnixNano")
    if end < start:
        raise Invalid(f"{where}: ends before it starts")
    check_attributes(span.get("attributes"), where + ".attributes")
    return "%s %s %s %d %d %s" % (out["traceId"], out["spanId"], out.get("parentSpanId", "-"),
                                  span.get("kind", 0), status.get("code", 0), span["name"])


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    protoc = shutil.which("protoc")
    if not protoc:
        print("SKIP: protoc is not installed (make deps: protobuf-compiler)")
        return 77
    with tempfile.TemporaryDirectory(prefix="check-otlp.") as gen:
        subprocess.run([protoc, "-I", HERE, "--python_out", gen] + PROTOS, check=True)
        sys.path.insert(0, gen)
        from opentelemetry.proto.trace.v1 import trace_pb2

        f = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1], encoding="utf-8")
        nspans = 0
        lines = []
        try:
            for lineno, line in enumerate(f, 1):
                where = f"line {lineno}"
                doc = json.loads(line)
                check_keys(doc, where)
                for r, rs in enumerate(doc.get("resourceSpans", [])):
                    check_attributes(rs.get("resource", {}).get("attributes"), f"{where} resource")
                    for s, ss in enumerate(rs.get("scopeSpans", [])):
                        for i, span in enumerate(ss.get("spans", [])):
                            lines.append(check_span(span, f"{where} span {r}.{s}.{i}"))
                            nspans += 1
                json_format.Parse(json.dumps(doc), trace_pb2.TracesData(),
                                  ignore_unknown_fields=False)
        except (Invalid, ValueError, json_format.ParseError) as e:
            print(f"INVALID: {where}: {e}", file=sys.stderr)
            return 1
    if nspans == 0:
        print("INVALID: no span", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
