package dev.cnnzoo.onnx;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a graph is written as ONNX.
 *
 * @param opset                 the default-domain opset, {@value OnnxExporter#MIN_OPSET} to {@value OnnxExporter#MAX_OPSET}
 * @param inferenceForm         drop dropout and (unless {@code auxiliary}) auxiliary outputs
 * @param auxiliary             keep auxiliary classifier outputs in the inference form
 * @param weightsAsInputs       parameters and state become graph inputs instead of initializers (training graphs)
 * @param externalDataThreshold initializer bytes above which weights go to a side file {@code <model>.data};
 *                              protobuf cannot serialise a message of 2 GiB or more
 * @param metadata              {@code metadata_props} entries
 */
public record ExportOptions(int opset, boolean inferenceForm, boolean auxiliary, boolean weightsAsInputs,
        long externalDataThreshold, Map<String, String> metadata, String docString) {

    /** Protobuf's hard limit is 2 GiB; leave room for the graph itself. */
    public static final long DEFAULT_EXTERNAL_THRESHOLD = 1_800_000_000L;

    public ExportOptions {
        metadata = Map.copyOf(metadata);
    }

    /** Opset 17, inference form, weights as initializers. */
    public static ExportOptions defaults() {
        return new ExportOptions(OnnxExporter.DEFAULT_OPSET, true, false, false, DEFAULT_EXTERNAL_THRESHOLD, Map.of(), "");
    }

    public ExportOptions opset(int v) {
        return new ExportOptions(v, inferenceForm, auxiliary, weightsAsInputs, externalDataThreshold, metadata, docString);
    }

    /** Write the graph as built: dropout and auxiliary outputs kept (the training form). */
    public ExportOptions asBuilt() {
        return new ExportOptions(opset, false, true, weightsAsInputs, externalDataThreshold, metadata, docString);
    }

    public ExportOptions auxiliary(boolean keep) {
        return new ExportOptions(opset, inferenceForm, keep, weightsAsInputs, externalDataThreshold, metadata, docString);
    }

    public ExportOptions weightsAsInputs(boolean v) {
        return new ExportOptions(opset, inferenceForm, auxiliary, v, externalDataThreshold, metadata, docString);
    }

    public ExportOptions externalDataThreshold(long bytes) {
        return new ExportOptions(opset, inferenceForm, auxiliary, weightsAsInputs, bytes, metadata, docString);
    }

    public ExportOptions metadata(Map<String, String> extra) {
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.putAll(extra);
        return new ExportOptions(opset, inferenceForm, auxiliary, weightsAsInputs, externalDataThreshold, m, docString);
    }

    public ExportOptions docString(String doc) {
        return new ExportOptions(opset, inferenceForm, auxiliary, weightsAsInputs, externalDataThreshold, metadata, doc);
    }
}
