/* COnnxProto: protobuf-c messages for Graft's subset of ONNX (formats/onnx.proto).
 * Generated code; regenerate with scripts/regen-proto.sh, never edit by hand. */
#ifndef CONNXPROTO_H
#define CONNXPROTO_H
#include "onnx.pb-c.h"
#endif
