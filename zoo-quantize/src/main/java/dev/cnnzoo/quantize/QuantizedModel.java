package dev.cnnzoo.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;

/** A quantized model in QDQ form and the report of how it was made. */
public record QuantizedModel(ModelProto model, QuantizationReport report) {
    /** Writes the model to {@code file} atomically: a failed write leaves no part of it. */
    public void write(Path file) throws IOException {
        if (model.getSerializedSize() < 0) {            // protobuf's int size overflowed: 2 GiB or more
            throw new ZooException("the quantized model is 2 GiB or more, beyond what one protobuf message holds");
        }
        AtomicFile.write(file, model::writeTo);
    }
}
