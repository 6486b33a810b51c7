package dev.cnnzoo.runtime;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.OnnxFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The graph ONNX Runtime actually runs for a model: the model after its graph optimisations
 * (fusions, constant folding, the QDQ groups turned into integer kernels), as the runtime writes it
 * with {@code SessionOptions.setOptimizedModelFilePath}. What tells whether a quantized model's
 * QuantizeLinear/DequantizeLinear pairs were fused or are left to run on their own.
 *
 * @param nodes the optimised graph's nodes (op types in ONNX Runtime's domains, e.g. com.microsoft's QLinearAdd)
 */
public record OptimizedGraph(List<NodeProto> nodes) {
    /** Opens {@code model} with {@code options} and reads back the graph the session optimised it into. */
    public static OptimizedGraph of(Path model, RuntimeOptions options) {
        if (!Files.isRegularFile(model)) {
            throw new ZooException("model file " + model + " does not exist");
        }
        Path dump = null;
        try {
            dump = Files.createTempFile("zoo-optimized-", ".onnx");
            try (OrtSession.SessionOptions so = InferenceSession.sessionOptions(options)) {
                so.setOptimizedModelFilePath(dump.toString());
                // ONNX Runtime warns that a dump at its highest level may hold hardware-specific nodes: that is the point here.
                so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
                OrtEnvironment.getEnvironment().createSession(model.toString(), so).close();
            }
            ModelProto optimized = OnnxFiles.read(dump);
            return new OptimizedGraph(optimized.getGraph().getNodeList());
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime cannot load " + model + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ZooException("cannot write ONNX Runtime's optimised graph of " + model + ": " + e.getMessage(), e);
        } finally {
            if (dump != null) {
                try {
                    Files.deleteIfExists(dump);
                } catch (IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }

    /** How many nodes of each op type the optimised graph has, by name. */
    public Map<String, Integer> opCounts() {
        Map<String, Integer> m = new TreeMap<>();
        nodes.forEach(n -> m.merge(n.getOpType(), 1, Integer::sum));
        return m;
    }

    public int count(String opType) {
        return opCounts().getOrDefault(opType, 0);
    }
}
