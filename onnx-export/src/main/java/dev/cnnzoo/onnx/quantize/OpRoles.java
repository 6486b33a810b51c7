package dev.cnnzoo.onnx.quantize;

import java.util.Map;
import java.util.Set;

/**
 * What the quantizer does with each ONNX operator, chosen by what ONNX Runtime's CPU provider
 * fuses from the QDQ form (its {@code QDQSelectorActionTransformer}): DequantizeLinear → op →
 * QuantizeLinear groups become {@code QLinearConv}, {@code QGemm}, {@code QLinearMatMul} (or
 * {@code MatMulIntegerToFloat}), {@code QLinearAdd}, {@code QLinearMul}, {@code QLinearConcat},
 * {@code QLinearAveragePool}, {@code QLinearGlobalAveragePool}, {@code QLinearSigmoid},
 * {@code QLinearLeakyRelu}; the data-movement ops run on the uint8 tensors themselves.
 */
enum OpRoles {
    /** Multiplies by constant weights: int8 per channel, int32 bias, uint8 activations in and out. */
    WEIGHTED,
    /** Integer arithmetic on uint8 activations only (every input and the output quantized). */
    ARITHMETIC,
    /** Moves or selects values without changing them: runs on uint8, the output keeps its input's scale. */
    PASS_THROUGH,
    /** Stays in float between DequantizeLinear and QuantizeLinear. */
    FP32;

    private static final Set<String> WEIGHTED_OPS = Set.of("Conv", "Gemm", "MatMul");
    private static final Set<String> ARITHMETIC_OPS = Set.of("Add", "Mul", "Concat", "AveragePool", "GlobalAveragePool", "Sigmoid",
            "LeakyRelu");
    /** ONNX Runtime drops DQ/Q around these (its DropQDQNodesRules); ONNX defines them on uint8. */
    private static final Set<String> PASS_THROUGH_OPS = Set.of("MaxPool", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose",
            "Identity", "Gather", "Slice", "Expand", "Tile");

    private static final String CHEAP = "cheap elementwise or shape work with no integer kernel in ONNX Runtime: runs in float between "
            + "DequantizeLinear and QuantizeLinear";
    /** Operators the quantizer knows and leaves in float on purpose, and why. */
    private static final Map<String, String> FP32_REASONS = Map.ofEntries(
            Map.entry("Softmax", "turns logits into probabilities: kept in float for accuracy, and too cheap to gain from integers"),
            Map.entry("LogSoftmax", "turns logits into log-probabilities: kept in float for accuracy, and too cheap to gain from integers"),
            Map.entry("LRN", "ONNX Runtime has no integer local response normalisation"),
            Map.entry("Tanh", "ONNX Runtime has no integer tanh"),
            Map.entry("BatchNormalization", "does not follow a convolution it could fold into; ONNX Runtime has no integer batch norm"),
            Map.entry("InstanceNormalization", "ONNX Runtime has no integer instance norm"),
            Map.entry("GlobalMaxPool", "ONNX Runtime has no integer global max pooling"),
            Map.entry("Relu", "its input has other readers, so the ReLU cannot fold into a quantization; " + CHEAP),
            Map.entry("Clip", CHEAP), Map.entry("Pad", CHEAP), Map.entry("Sub", CHEAP), Map.entry("Div", CHEAP), Map.entry("Neg", CHEAP),
            Map.entry("Abs", CHEAP), Map.entry("Exp", CHEAP), Map.entry("Log", CHEAP), Map.entry("Sqrt", CHEAP), Map.entry("Pow", CHEAP),
            Map.entry("Reciprocal", CHEAP), Map.entry("Erf", CHEAP), Map.entry("ReduceSum", CHEAP), Map.entry("ReduceMean", CHEAP),
            Map.entry("ReduceMax", CHEAP), Map.entry("ReduceMin", CHEAP), Map.entry("ReduceSumSquare", CHEAP), Map.entry("Shape", CHEAP),
            Map.entry("Cast", CHEAP), Map.entry("Dropout", CHEAP), Map.entry("Constant", CHEAP), Map.entry("ArgMax", CHEAP),
            Map.entry("Split", CHEAP), Map.entry("Where", CHEAP), Map.entry("Equal", CHEAP), Map.entry("HardSigmoid", CHEAP),
            Map.entry("Softplus", CHEAP), Map.entry("Elu", CHEAP), Map.entry("Selu", CHEAP), Map.entry("PRelu", CHEAP));

    /** The role of an operator in the default domain; {@link #FP32} for every other, known or not. */
    static OpRoles of(String op, String domain) {
        if (!domain.isEmpty() && !domain.equals("ai.onnx")) {
            return FP32;
        }
        if (WEIGHTED_OPS.contains(op)) {
            return WEIGHTED;
        }
        if (ARITHMETIC_OPS.contains(op)) {
            return ARITHMETIC;
        }
        return PASS_THROUGH_OPS.contains(op) ? PASS_THROUGH : FP32;
    }

    /** Why a known operator stays in float; null for one the quantizer does not know. */
    static String fp32Reason(String op, String domain) {
        return domain.isEmpty() || domain.equals("ai.onnx") ? FP32_REASONS.get(op) : null;
    }

    /** Operators that mark a model as quantized already. */
    static boolean isQuantizedOp(String op) {
        return op.equals("QuantizeLinear") || op.equals("DequantizeLinear") || op.equals("DynamicQuantizeLinear") || op.startsWith("QLinear")
                || op.equals("ConvInteger") || op.equals("MatMulInteger") || op.equals("QGemm") || op.equals("MatMulIntegerToFloat");
    }
}
