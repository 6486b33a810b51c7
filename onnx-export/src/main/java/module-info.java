/**
 * Graph to ONNX: the zoo's graphs written as standard ONNX models (opsets 13 to 21, dynamic batch,
 * zoo metadata, external data past protobuf's 2 GB), ONNX files read back, and the INT8 QDQ rewrite.
 */
module dev.cnnzoo.onnx {
    requires transitive dev.cnnzoo.api;
    // OnnxExporter.toProto returns tribuo's generated ModelProto, a protobuf message.
    requires transitive org.tribuo.util.onnx;
    requires transitive com.google.protobuf;

    exports dev.cnnzoo.onnx;
    exports dev.cnnzoo.onnx.quantize;
}
