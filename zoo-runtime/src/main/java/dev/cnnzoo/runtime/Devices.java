package dev.cnnzoo.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtProvider;
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

    /** Devices whose CUDA execution provider started once already (checking loads CUDA's libraries). */
    private static final java.util.Set<Integer> STARTED = new java.util.HashSet<>();

    /**
     * {@code device}, once it is known to run here: for CUDA, {@link #requireCuda()}. Commands call
     * this before any work, so a missing GPU is one clear line, not a failure halfway through.
     */
    public static Device usable(Device device) {
        if (device == Device.CUDA) {
            requireCuda();
        }
        return device;
    }

    /** Fails with a message saying how to get CUDA when this build lacks it, or when CUDA does not start on device 0. */
    public static void requireCuda() {
        requireCuda(0);
    }

    /**
     * Fails with a message saying how to get CUDA when this build lacks it, or when its execution
     * provider does not start on {@code deviceId} (no GPU, no driver, CUDA libraries missing): a
     * command checks this before doing any work.
     */
    public static synchronized void requireCuda(int deviceId) {
        if (!cudaAvailable()) {
            throw new DeviceUnavailableException(Device.CUDA, deviceId, DeviceUnavailableException.Reason.NOT_IN_BUILD,
                    providers().toString(), null);
        }
        if (STARTED.contains(deviceId)) {
            return;
        }
        OrtEnvironment.getEnvironment();        // the provider logs through the environment's logger
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.addCUDA(deviceId);
            STARTED.add(deviceId);
        } catch (OrtException e) {
            throw cudaDidNotStart(deviceId, e);
        }
    }

    static DeviceUnavailableException cudaDidNotStart(int deviceId, Exception e) {
        return new DeviceUnavailableException(Device.CUDA, deviceId, DeviceUnavailableException.Reason.DID_NOT_START,
                String.valueOf(e.getMessage()).strip(), e);
    }
}
