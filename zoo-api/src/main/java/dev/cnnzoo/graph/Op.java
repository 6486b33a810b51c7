package dev.cnnzoo.graph;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The operators the zoo writes: each constant is one operator of ONNX's default domain
 * ({@code ai.onnx}), in the form opset 13 defines it, named in its ONNX spelling by
 * {@link #opType()}. The vocabulary is closed: {@link GraphBuilder} emits only these, and every one
 * has a shape rule (the shape inference switches over all of them, so a constant without a rule
 * does not compile). It holds what the graph language, the family builders and the training
 * graphs (gradients, losses, optimizer updates) emit, and the operators that have a gradient rule.
 * Code that matches on operators keys on these constants ({@code switch}, {@code EnumMap}); only
 * the ONNX protobuf carries the strings.
 */
public enum Op {
    // ---- element-wise, one input
    ABS("Abs"),
    EXP("Exp"),
    /** max(0, min(1, α·x + β)); with α the largest float, ReLU's backward mask [y > 0] in one pass. */
    HARD_SIGMOID("HardSigmoid"),
    LOG("Log"),
    NEG("Neg"),
    RECIPROCAL("Reciprocal"),
    RELU("Relu"),
    SIGMOID("Sigmoid"),
    SIGN("Sign"),
    SQRT("Sqrt"),
    TANH("Tanh"),
    CAST("Cast"),
    IDENTITY("Identity"),
    /** True where the input is NaN (the training step's check that its forward pass ran). */
    IS_NAN("IsNaN"),

    // ---- element-wise with NumPy broadcasting
    ADD("Add"),
    SUB("Sub"),
    MUL("Mul"),
    DIV("Div"),
    POW("Pow"),
    /** Variadic: the sum of any number of inputs. */
    SUM("Sum"),
    EQUAL("Equal"),
    /** Element-wise choice: the second input where the first (a condition) holds, else the third. */
    WHERE("Where"),

    // ---- convolution and pooling
    CONV("Conv"),
    CONV_TRANSPOSE("ConvTranspose"),
    MAX_POOL("MaxPool"),
    AVERAGE_POOL("AveragePool"),
    GLOBAL_AVERAGE_POOL("GlobalAveragePool"),
    GLOBAL_MAX_POOL("GlobalMaxPool"),
    MAX_UNPOOL("MaxUnpool"),

    // ---- normalisation and regularisation
    BATCH_NORMALIZATION("BatchNormalization"),
    LRN("LRN"),
    DROPOUT("Dropout"),

    // ---- products, softmax, reductions
    GEMM("Gemm"),
    MAT_MUL("MatMul"),
    SOFTMAX("Softmax"),
    LOG_SOFTMAX("LogSoftmax"),
    REDUCE_SUM("ReduceSum", 13),
    REDUCE_MEAN("ReduceMean", 18),
    REDUCE_SUM_SQUARE("ReduceSumSquare", 18),

    // ---- moving values around
    CONCAT("Concat"),
    SPLIT("Split"),
    FLATTEN("Flatten"),
    RESHAPE("Reshape"),
    SQUEEZE("Squeeze", 13),
    UNSQUEEZE("Unsqueeze", 13),
    TRANSPOSE("Transpose"),
    PAD("Pad"),
    SLICE("Slice"),
    GATHER("Gather"),
    EXPAND("Expand"),
    SCATTER_ND("ScatterND"),

    // ---- shapes and made-up tensors
    SHAPE("Shape"),
    CONSTANT_OF_SHAPE("ConstantOfShape"),
    ONE_HOT("OneHot");

    private static final Map<String, Op> BY_TYPE = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(Op::opType, Function.identity()));

    private final String opType;
    private final int axesInputSince;

    Op(String opType) {
        this(opType, 0);
    }

    Op(String opType, int axesInputSince) {
        this.opType = opType;
        this.axesInputSince = axesInputSince;
    }

    /** The ONNX spelling, the {@code op_type} of a {@code NodeProto}: {@code "MaxPool"}. */
    public String opType() {
        return opType;
    }

    /**
     * The first opset in which the operator takes its {@code axes} as an input instead of an
     * attribute (13 for ReduceSum, Squeeze and Unsqueeze, 18 for the other reductions), or 0 for an
     * operator without axes. The graph language writes the opset-13 form, so an exporter targeting
     * a later opset moves an {@code axes} attribute into an input from this opset on.
     */
    public int axesInputSince() {
        return axesInputSince;
    }

    /** The operator of this ONNX {@code op_type}, if the zoo's vocabulary has it (as for a node read from another tool's file). */
    public static Optional<Op> find(String opType) {
        return Optional.ofNullable(BY_TYPE.get(opType));
    }

    /**
     * The operator of this ONNX {@code op_type}.
     *
     * @throws IllegalArgumentException when the vocabulary lacks it
     */
    public static Op of(String opType) {
        Op op = BY_TYPE.get(opType);
        if (op == null) {
            throw new IllegalArgumentException("no operator '" + opType + "' in the graph language (dev.cnnzoo.graph.Op lists them)");
        }
        return op;
    }

    @Override
    public String toString() {
        return opType;
    }
}
