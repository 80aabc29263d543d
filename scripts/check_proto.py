#!/usr/bin/env python3
"""Checks formats/onnx.proto against the `onnx` Python package's own descriptors.

For every message and enum declared in our proto, every field must exist in ONNX's message
of the same name with the same number, type, label, type name, oneof membership and packing;
every enum value must have the same number. ONNX fields we leave out must be listed in
OMITTED below (so a new ONNX field is a conscious decision, not silent drift).

Our proto is compiled to a FileDescriptorSet with `protoc-c -o` (protoc-c embeds protoc).
Exit 0 when they agree, 1 on any mismatch (one line each), 2 if a tool is missing.
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ONNX messages and fields Graft does not read or write, by full name.
OMITTED_MESSAGES = {
    "onnx.IntIntListEntryProto", "onnx.NodeDeviceConfigurationProto", "onnx.ShardingSpecProto",
    "onnx.ShardedDimProto", "onnx.SimpleShardedDimProto", "onnx.TrainingInfoProto",
    "onnx.DeviceConfigurationProto",
}
OMITTED_FIELDS = {
    "onnx.NodeProto.device_configurations",
    "onnx.ModelProto.training_info",
    "onnx.ModelProto.configuration",
}
OMITTED_ENUMS = {"onnx.Version", "onnx.OperatorStatus"}


def fail_tool(msg):
    print("check_proto: " + msg, file=sys.stderr)
    sys.exit(2)


try:
    from google.protobuf import descriptor_pb2
    from onnx import onnx_ml_pb2
except ImportError as e:  # pragma: no cover
    fail_tool("needs the onnx package (use .venv/bin/python): %s" % e)


def collect(fdp):
    """Maps full names to (kind, proto) for messages and enums, recursively."""
    out = {}

    def walk_msg(prefix, m):
        full = prefix + "." + m.name
        out[full] = ("message", m)
        for e in m.enum_type:
            out[full + "." + e.name] = ("enum", e)
        for n in m.nested_type:
            walk_msg(full, n)

    pkg = "." + fdp.package if fdp.package else ""
    for m in fdp.message_type:
        walk_msg(pkg, m)
    for e in fdp.enum_type:
        out[pkg + "." + e.name] = ("enum", e)
    return {k.lstrip("."): v for k, v in out.items()}


def field_sig(m, f):
    label = descriptor_pb2.FieldDescriptorProto.Label.Name(f.label)
    ftype = descriptor_pb2.FieldDescriptorProto.Type.Name(f.type)
    oneof = m.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None
    packed = f.options.packed if f.options.HasField("packed") else None
    return {"number": f.number, "label": label, "type": ftype, "type_name": f.type_name,
            "oneof": oneof, "packed": packed, "default": f.default_value or None}


def main():
    theirs_fdp = descriptor_pb2.FileDescriptorProto.FromString(onnx_ml_pb2.DESCRIPTOR.serialized_pb)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ours.pb")
        try:
            subprocess.run(["protoc-c", "-o" + out, "-I" + os.path.join(ROOT, "formats"),
                            os.path.join(ROOT, "formats", "onnx.proto")], check=True)
        except FileNotFoundError:
            fail_tool("protoc-c not found (apt install protobuf-c-compiler)")
        except subprocess.CalledProcessError as e:
            print("check_proto: protoc-c failed on formats/onnx.proto (%s)" % e, file=sys.stderr)
            return 1
        with open(out, "rb") as fh:
            ours_set = descriptor_pb2.FileDescriptorSet.FromString(fh.read())
    ours_fdp = ours_set.file[0]
    ours, theirs = collect(ours_fdp), collect(theirs_fdp)
    problems = []
    if ours_fdp.package != theirs_fdp.package:
        problems.append("package is %r; onnx uses %r" % (ours_fdp.package, theirs_fdp.package))
    if (ours_fdp.syntax or "proto2") != (theirs_fdp.syntax or "proto2"):
        problems.append("syntax is %r; onnx uses %r" % (ours_fdp.syntax, theirs_fdp.syntax))
    checked = 0
    for name, (kind, ours_d) in sorted(ours.items()):
        if name not in theirs:
            problems.append("%s %s does not exist in onnx" % (kind, name))
            continue
        tkind, theirs_d = theirs[name]
        if tkind != kind:
            problems.append("%s is a %s here and a %s in onnx" % (name, kind, tkind))
            continue
        if kind == "enum":
            tv = {v.name: v.number for v in theirs_d.value}
            ov = {v.name: v.number for v in ours_d.value}
            for vn, num in ov.items():
                if vn not in tv:
                    problems.append("enum value %s.%s does not exist in onnx" % (name, vn))
                elif tv[vn] != num:
                    problems.append("enum value %s.%s is %d; onnx has %d" % (name, vn, num, tv[vn]))
                checked += 1
            for vn in tv:
                if vn not in ov:
                    problems.append("enum value %s.%s from onnx is missing" % (name, vn))
            continue
        tf = {f.name: field_sig(theirs_d, f) for f in theirs_d.field}
        of = {f.name: field_sig(ours_d, f) for f in ours_d.field}
        for fname, sig in of.items():
            if fname not in tf:
                problems.append("field %s.%s does not exist in onnx" % (name, fname))
                continue
            for key, val in sig.items():
                if tf[fname][key] != val:
                    problems.append("field %s.%s: %s is %r; onnx has %r" % (name, fname, key, val, tf[fname][key]))
            checked += 1
        for fname in tf:
            if fname not in of and "%s.%s" % (name, fname) not in OMITTED_FIELDS:
                problems.append("field %s.%s (number %d) from onnx is missing and not listed as omitted"
                                % (name, fname, tf[fname]["number"]))
    for name, (kind, _) in sorted(theirs.items()):
        if name in ours:
            continue
        # Nested types of an omitted message are omitted with it.
        if any(name == m or name.startswith(m + ".") for m in OMITTED_MESSAGES | OMITTED_ENUMS):
            continue
        problems.append("%s %s from onnx is missing and not listed as omitted" % (kind, name))
    for p in problems:
        print("check_proto: " + p)
    if problems:
        print("check_proto: %d mismatch(es) between formats/onnx.proto and onnx %s" % (len(problems), __import__("onnx").__version__))
        return 1
    print("check_proto: %d fields and enum values match onnx %s" % (checked, __import__("onnx").__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
