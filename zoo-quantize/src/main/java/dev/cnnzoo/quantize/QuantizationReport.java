package dev.cnnzoo.quantize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.onnx.quantize.QdqRewrite;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a quantization did: the calibration (method, samples, data), the quantized nodes by op, the
 * nodes left in float and why. Recorded as JSON in the quantized model's
 * {@code metadata_props["zoo.quantization"]}.
 *
 * @param percentile the percentile of {@link CalibrationMethod#PERCENTILE}, else null
 * @param preparation how the float model was rewritten first, each rewrite keeping its function ("batch norms folded into
 *                    convolutions" → 53)
 * @param reducedRange weights in 7 bits (±63) rather than 8
 */
public record QuantizationReport(String model, CalibrationMethod method, Double percentile, int samples, String data,
        Map<String, Integer> quantizedOps, List<QdqRewrite.Fp32Node> fp32Nodes, Map<String, Integer> preparation, boolean reducedRange) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public QuantizationReport {
        quantizedOps = Collections.unmodifiableMap(new TreeMap<>(quantizedOps));
        fp32Nodes = List.copyOf(fp32Nodes);
        preparation = Collections.unmodifiableMap(new TreeMap<>(preparation));
    }

    /** Nodes left in float because the quantizer does not know their op. */
    public List<QdqRewrite.Fp32Node> unknownOps() {
        return fp32Nodes.stream().filter(QdqRewrite.Fp32Node::unknown).toList();
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "QDQ");
        m.put("activations", "uint8, asymmetric, per tensor");
        m.put("weights", reducedRange ? "int8 in 7 bits (±63), symmetric, per output channel" : "int8, symmetric, per output channel");
        m.put("bias", "int32 at input scale × weight scale");
        Map<String, Object> calibration = new LinkedHashMap<>();
        calibration.put("method", method.id());
        if (percentile != null) {
            calibration.put("percentile", percentile);
        }
        calibration.put("samples", samples);
        calibration.put("data", data);
        m.put("calibration", calibration);
        m.put("prepared", preparation);
        m.put("quantized", quantizedOps);
        List<Map<String, Object>> fp32 = new ArrayList<>();
        for (QdqRewrite.Fp32Node n : fp32Nodes) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("node", n.name());
            e.put("op", n.op());
            e.put("reason", n.reason());
            fp32.add(e);
        }
        m.put("fp32", fp32);
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
