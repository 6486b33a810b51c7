package dev.cnnzoo.graph;

/** Element types a graph value can have; the codes are ONNX's {@code TensorProto.DataType}. */
public enum DType {
    FLOAT(1, 4),
    UINT8(2, 1),
    INT32(6, 4),
    INT64(7, 8),
    BOOL(9, 1),
    FLOAT16(10, 2),
    DOUBLE(11, 8),
    BFLOAT16(16, 2);

    private final int onnxCode;
    private final int bytes;

    DType(int onnxCode, int bytes) {
        this.onnxCode = onnxCode;
        this.bytes = bytes;
    }

    public int onnxCode() {
        return onnxCode;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    public static DType fromOnnxCode(int code) {
        for (DType t : values()) {
            if (t.onnxCode == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported ONNX element type " + code);
    }
}
