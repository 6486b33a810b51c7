package dev.cnnzoo.runtime;

/**
 * Session settings.
 *
 * @param threads    intra-op threads; 0 lets ONNX Runtime choose (one per physical core)
 * @param deviceId   the CUDA device ordinal
 * @param optimize   ONNX Runtime's graph optimisations (all levels) on
 */
public record RuntimeOptions(Device device, int threads, int deviceId, boolean optimize) {
    public RuntimeOptions {
        if (threads < 0) {
            throw new dev.cnnzoo.api.ZooException("the thread count must be 0 (ONNX Runtime chooses) or more, got " + threads);
        }
    }

    public static RuntimeOptions cpu() {
        return new RuntimeOptions(Device.CPU, 0, 0, true);
    }

    public static RuntimeOptions cpu(int threads) {
        return new RuntimeOptions(Device.CPU, threads, 0, true);
    }

    public RuntimeOptions device(Device d) {
        return new RuntimeOptions(d, threads, deviceId, optimize);
    }

    public RuntimeOptions threads(int n) {
        return new RuntimeOptions(device, n, deviceId, optimize);
    }

    public RuntimeOptions optimize(boolean on) {
        return new RuntimeOptions(device, threads, deviceId, on);
    }
}
