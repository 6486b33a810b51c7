/**
 * ONNX Runtime sessions on the CPU and CUDA; image decoding and torchvision's transforms,
 * prediction, benchmarking, and weights from other tools' files.
 */
module dev.cnnzoo.runtime {
    requires transitive dev.cnnzoo.api;
    requires transitive dev.cnnzoo.onnx;
    // InferenceSession hands out native ONNX Runtime tensors (runNative, nativeTensor).
    requires transitive com.microsoft.onnxruntime;
    // ImageFiles.convert takes a decoded BufferedImage.
    requires transitive java.desktop;
    // bench.Isolation starts a JVM with this one's options.
    requires java.management;
    // PyTorch checkpoints (a pickle reader under an allowlist) and Keras HDF5 files; both are
    // automatic modules (pickle's jar names none, so its module is "pickle").
    requires pickle;
    requires io.jhdf;

    exports dev.cnnzoo.runtime;
    exports dev.cnnzoo.runtime.bench;
    exports dev.cnnzoo.runtime.image;
    exports dev.cnnzoo.runtime.interchange;
    exports dev.cnnzoo.runtime.predict;
}
