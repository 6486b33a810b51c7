package dev.cnnzoo.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.cnnzoo.api.ZooException;
import java.util.EnumSet;

/** What the ONNX Runtime build on the class path can run on. */
public final class Devices {
    private Devices() {
    }

    public static EnumSet<OrtProvider> providers() {
        return OrtEnvironment.getAvailableProviders();
    }

    public static boolean cudaAvailable() {
        return providers().contains(OrtProvider.CUDA);
    }

    /** Fails with a message saying how to get CUDA when this build lacks it. */
    public static void requireCuda() {
        if (!cudaAvailable()) {
            throw new ZooException("--device cuda needs ONNX Runtime's CUDA build, but the one on the class path offers only "
                    + providers() + ". Rebuild with `mvn -Pcuda package` (artifact onnxruntime_gpu) on a machine with an NVIDIA GPU, "
                    + "or use --device cpu.");
        }
    }
}
