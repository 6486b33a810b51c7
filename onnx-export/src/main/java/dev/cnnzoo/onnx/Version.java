package dev.cnnzoo.onnx;

/** The zoo's version, from the jar manifest when packaged. */
final class Version {
    private Version() {
    }

    static String get() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }
}
