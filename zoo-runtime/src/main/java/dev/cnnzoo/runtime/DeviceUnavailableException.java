package dev.cnnzoo.runtime;

import dev.cnnzoo.api.ZooException;

/** A device asked for cannot run here: this ONNX Runtime build lacks it, or it did not start. */
public final class DeviceUnavailableException extends ZooException {
    /** Why. */
    public enum Reason {
        /** The ONNX Runtime jar on the class path has no execution provider for the device. */
        NOT_IN_BUILD,
        /** The execution provider is there but did not start (no GPU, no driver, libraries missing). */
        DID_NOT_START
    }

    private final Device device;
    private final int deviceId;
    private final Reason reason;
    private final String detail;

    DeviceUnavailableException(Device device, int deviceId, Reason reason, String detail, Throwable cause) {
        super(message(device, deviceId, reason, detail), cause);
        this.device = device;
        this.deviceId = deviceId;
        this.reason = reason;
        this.detail = detail;
    }

    private static String message(Device device, int deviceId, Reason reason, String detail) {
        return switch (reason) {
            case NOT_IN_BUILD -> device.name() + " needs ONNX Runtime's CUDA build, but the one on the class path offers only " + detail
                    + ". Rebuild with `mvn -Pcuda package` (artifact onnxruntime_gpu) on a machine with an NVIDIA GPU, or run on the CPU.";
            case DID_NOT_START -> "ONNX Runtime's CUDA execution provider did not start on device " + deviceId + " (" + detail
                    + "); is an NVIDIA GPU with its driver and CUDA 12's libraries present? The CPU runs without one.";
        };
    }

    public Device device() {
        return device;
    }

    public int deviceId() {
        return deviceId;
    }

    public Reason reason() {
        return reason;
    }

    /** The providers the build offers (not in the build), or ONNX Runtime's message (did not start). */
    public String detail() {
        return detail;
    }
}
