/**
 * INT8 quantization: calibration of a float ONNX model in ONNX Runtime over a zoo dataset, then
 * onnx-export's QDQ rewrite with the ranges found.
 */
module dev.cnnzoo.quantize {
    // Calibration data is whatever zoo train reads; the training module brings the runtime, the
    // exporter (with its protobuf classes) and the API with it.
    requires transitive dev.cnnzoo.training;
    requires com.fasterxml.jackson.databind;

    exports dev.cnnzoo.quantize;
}
